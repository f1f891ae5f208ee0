// Shared helpers of the Kairos fuzz targets: the default schema and the demo operator's
// decisioning, built once per process, and a check that aborts with a message (libFuzzer then
// saves the input that broke the invariant).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "catalog/catalog.h"
#include "schema/config.h"
#include "schema/schema.h"

namespace kairos::fuzz {

[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant broken: %s %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

#define KAIROS_FUZZ_CHECK(cond, detail) \
  do {                                  \
    if (!(cond)) ::kairos::fuzz::Fail(#cond, (detail)); \
  } while (0)

inline std::shared_ptr<const Schema> DefaultSchema() {
  static const std::shared_ptr<const Schema> schema = [] {
    auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    if (!s.ok()) Fail("default schema does not parse", s.status().message());
    return *s;
  }();
  return schema;
}

// The demo operator's policies and catalog (60 actions, context fields page/intent/roaming).
inline std::shared_ptr<const Decisioning> DemoDecisioning() {
  auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), DefaultSchema(),
                              DefaultLearningYaml());
  if (!d.ok()) Fail("demo catalog does not parse", d.status().message());
  return *d;
}

}  // namespace kairos::fuzz
