// Which catalog actions a trigger or journey may offer: `actions: [...]`, `groups: [...]` and
// `issues: [...]` of triggers.yaml, as the one-flag-per-action scope of a DecideRequest.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace kairos {

struct ActionScope {
  std::vector<uint8_t> allowed;  // one flag per catalog action; empty = every action
  std::string text;              // "actions DATA_1GB, DATA_3GB; groups DataAddOns" (explanations)
};

// Reads the `actions`, `groups` and `issues` lists of `spec` (any of them; none = every action).
// An unknown id is a file:line:column error naming the known ones' count and a few of them.
Result<ActionScope> ParseActionScope(std::string_view file, const YAML::Node& spec, const Catalog& catalog,
                                     const std::string& what);

}  // namespace kairos
