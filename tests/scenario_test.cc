// Data-driven scenarios: each tests/scenarios/*.yaml gives events in (NDJSON), the clock, and
// what must come out: the ingest summary and values in profiles addressed by JSON pointer.
//
//   now: 2026-03-11T00:00:00Z            # the server clock for ingest and evaluation
//   events: |                            # NDJSON, ingested as one batch (line numbers from 1)
//     {...}
//   ingest: {accepted: 3, duplicates: 1, rejected: [{line: 4, code: invalid_argument, field: /amount}]}
//   profiles:
//     s1: {/events_applied: 3, /aggregates/data_mb/7d: 185, /attributes/plan_type: postpaid}
//     nobody: not_found
// Numbers match within 1e-6 relative (or 1e-4 absolute); `null` matches JSON null.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>

#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(KAIROS_SOURCE_DIR) / "tests" / "scenarios")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

void ExpectMatches(const std::string& where, simdjson::dom::element actual, const YAML::Node& want) {
  const std::string& w = want.Scalar();
  if (w == "null" || w == "~") {
    EXPECT_TRUE(actual.is_null()) << where << ": want null, got " << simdjson::to_string(actual);
    return;
  }
  if (actual.is_number()) {
    const double got = actual.get_double().value();
    const double expected = want.as<double>();
    EXPECT_NEAR(got, expected, std::max(1e-4, std::abs(expected) * 1e-6)) << where;
    return;
  }
  if (actual.is_bool()) {
    EXPECT_EQ(actual.get_bool().value(), want.as<bool>()) << where;
    return;
  }
  if (actual.is_string()) {
    EXPECT_EQ(std::string(actual.get_string().value()), w) << where;
    return;
  }
  ADD_FAILURE() << where << ": cannot compare " << simdjson::to_string(actual) << " with " << w;
}

TEST_P(Scenario, ProducesTheExpectedProfiles) {
  const YAML::Node spec = YAML::LoadFile(GetParam());
  const fs::path dir = fs::temp_directory_path() /
                       ("kairos-scenario-" + std::to_string(::getpid()) + "-" + fs::path(GetParam()).stem().string());
  fs::remove_all(dir);
  ASSERT_TRUE(Workspace::Init(dir.string()).ok());
  auto ws = Workspace::Load(dir.string());
  ASSERT_TRUE(ws.ok());
  ManualClock clock(*ParseRfc3339(spec["now"].as<std::string>()));
  {
    auto engine = Engine::Open(*ws, &clock);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    const IngestResult r = (*engine)->IngestNdjson(spec["events"].as<std::string>());
    if (const YAML::Node ing = spec["ingest"]) {
      if (ing["accepted"]) {
        EXPECT_EQ(r.accepted, ing["accepted"].as<int64_t>()) << "accepted";
      }
      if (ing["duplicates"]) {
        EXPECT_EQ(r.duplicates, ing["duplicates"].as<int64_t>()) << "duplicates";
      }
      const YAML::Node rej = ing["rejected"];
      const size_t want_rejected = rej ? rej.size() : 0;
      EXPECT_EQ(r.rejected.size(), want_rejected) << "rejected";
      for (size_t i = 0; i < std::min(want_rejected, r.rejected.size()); ++i) {
        EXPECT_EQ(r.rejected[i].line, rej[i]["line"].as<int64_t>()) << "rejected[" << i << "]";
        EXPECT_EQ(ErrorCodeName(r.rejected[i].code), rej[i]["code"].as<std::string>())
            << "rejected[" << i << "]: " << r.rejected[i].error;
        if (rej[i]["field"]) {
          EXPECT_EQ(r.rejected[i].field, rej[i]["field"].as<std::string>());
        }
      }
    }
    simdjson::dom::parser parser;
    for (const auto& p : spec["profiles"]) {
      const std::string sub = p.first.as<std::string>();
      auto json = (*engine)->ProfileJson(sub, clock.Now());
      if (p.second.IsScalar()) {
        EXPECT_EQ(ErrorCodeName(json.status().code()), p.second.as<std::string>()) << sub;
        continue;
      }
      ASSERT_TRUE(json.ok()) << sub << ": " << json.status().ToString();
      simdjson::dom::element doc = parser.parse(*json);
      for (const auto& kv : p.second) {
        const std::string pointer = kv.first.as<std::string>();
        simdjson::dom::element actual;
        ASSERT_FALSE(doc.at_pointer(pointer).get(actual)) << sub << pointer << " missing in " << *json;
        ExpectMatches(sub + pointer, actual, kv.second);
      }
    }
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Files, Scenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const auto& info) { return fs::path(info.param).stem().string(); });

}  // namespace
}  // namespace kairos
