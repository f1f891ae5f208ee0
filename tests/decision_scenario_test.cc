// Data-driven decision scenarios: each tests/decisions/*.yaml gives a catalog, policies, events,
// and a list of steps (decide, respond, reload) with what must come out of each.
//
//   now: 2026-03-11T12:00:00Z
//   policies: |   (policies.yaml text; optional)
//   catalog: |    (catalog.yaml text)
//   demo: true    (instead: the demo operator's policies and catalog, as `kairos init --demo`)
//   learning: |   (learning.yaml text; optional: without it the models are off)
//   events: |     (NDJSON ingested first)
//   steps:
//     - decide: {subscriber_id: s1, channel: sms, explain: true}   # the request body
//       at: 2026-03-11T22:30:00Z                                   # optional: move the clock
//       expect:
//         actions: [DATA_1GB]                 # chosen action ids, in order
//         no_action_reason: null              # or a reason
//         control_group: false
//         candidates:                         # per action id (explain): stage, and optionally
//           DATA_5GB: {stage: eligibility, reason: "substring", values: {profile.plan_type: '"postpaid"'}}
//     - respond: {decision: 0, action_id: DATA_1GB, outcome: accepted}  # decision: index of a decide step
//       expect: {recorded: true}
//     - decide: {subscriber_id: nobody, channel: sms}
//       expect: {error: not_found}            # error kind (and optionally field: /channel)
//     - repeat: 5                             # optional on decide: the same request N times
//       expect_total_actions: 1               # … and how many actions they showed together
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "catalog/catalog.h"
#include "common/time_format.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "schema/workspace.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(KAIROS_SOURCE_DIR) / "tests" / "decisions")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// YAML (a request written as a flow map) → JSON text.
void ToJson(const YAML::Node& n, std::string* out) {
  if (n.IsMap()) {
    out->push_back('{');
    bool first = true;
    for (const auto& kv : n) {
      if (!first) out->push_back(',');
      first = false;
      out->append("\"" + kv.first.as<std::string>() + "\":");
      ToJson(kv.second, out);
    }
    out->push_back('}');
  } else if (n.IsSequence()) {
    out->push_back('[');
    for (size_t i = 0; i < n.size(); ++i) {
      if (i) out->push_back(',');
      ToJson(n[i], out);
    }
    out->push_back(']');
  } else if (n.IsNull()) {
    out->append("null");
  } else {
    const std::string& s = n.Scalar();
    const bool plain = n.Tag() != "!";  // quoted scalars have the "!" tag
    if (plain && (s == "true" || s == "false" || s == "null")) {
      out->append(s);
      return;
    }
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    if (plain && !s.empty() && end == s.c_str() + s.size()) {
      out->append(s);
      return;
    }
    out->push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
  }
}

std::string Str(simdjson::dom::element e) {
  if (e.is_string()) return std::string(e.get_string().value());
  return simdjson::to_string(e);
}

class DecisionScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(DecisionScenario, DecidesAsExpected) {
  const YAML::Node spec = YAML::LoadFile(GetParam());
  const fs::path dir = fs::temp_directory_path() /
                       ("kairos-decisions-" + std::to_string(::getpid()) + "-" + fs::path(GetParam()).stem().string());
  fs::remove_all(dir);
  ASSERT_TRUE(Workspace::Init(dir.string()).ok());
  const bool demo = spec["demo"] && spec["demo"].as<bool>();
  for (const char* file : {"policies", "catalog"}) {
    const bool policies = std::string_view(file) == "policies";
    std::string text = policies ? std::string(demo ? DemoPoliciesYaml() : DefaultPoliciesYaml())
                                : std::string(demo ? DemoCatalogYaml() : DefaultCatalogYaml());
    if (spec[file]) text = spec[file].as<std::string>();
    std::ofstream(dir / (std::string(file) + ".yaml")) << text;
  }
  if (spec["learning"]) std::ofstream(dir / "learning.yaml") << spec["learning"].as<std::string>();
  auto ws = Workspace::Load(dir.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto decisioning = Decisioning::Load(dir.string(), ws->schema);
  ASSERT_TRUE(decisioning.ok()) << decisioning.status().ToString();
  ManualClock clock(*ParseRfc3339(spec["now"].as<std::string>()));
  {
    auto engine = Engine::Open(*ws, &clock);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    if (spec["events"]) {
      const IngestResult r = (*engine)->IngestNdjson(spec["events"].as<std::string>());
      ASSERT_TRUE(r.rejected.empty()) << "events line " << r.rejected[0].line << ": " << r.rejected[0].error;
    }
    DecisionService service(engine->get(), &clock, *decisioning);
    ASSERT_TRUE(service.Start().ok());
    std::vector<std::string> decision_ids;  // by step index ("" for non-decide steps)
    simdjson::dom::parser parser;
    int step_no = 0;
    for (const YAML::Node& step : spec["steps"]) {
      const std::string where = fs::path(GetParam()).filename().string() + " step " + std::to_string(step_no++);
      if (step["at"]) clock.Set(*ParseRfc3339(step["at"].as<std::string>()));
      const YAML::Node expect = step["expect"];
      auto expect_error = [&](const Status& s) {
        ASSERT_FALSE(s.ok()) << where << ": expected error " << expect["error"].as<std::string>();
        EXPECT_EQ(ErrorCodeName(s.code()), expect["error"].as<std::string>()) << where << ": " << s.ToString();
        if (expect["field"]) {
          EXPECT_EQ(s.field(), expect["field"].as<std::string>()) << where;
        }
      };
      if (step["decide"]) {
        std::string body;
        ToJson(step["decide"], &body);
        const int repeat = step["repeat"] ? step["repeat"].as<int>() : 1;
        int64_t total_actions = 0;
        Result<DecideOutcome> out = Status(ErrorCode::kInternal, "not run");
        for (int i = 0; i < repeat; ++i) {
          out = service.Decide(body);
          if (out.ok()) total_actions += static_cast<int64_t>(out->decision.actions.size());
        }
        decision_ids.push_back(out.ok() ? out->decision.decision_id : "");
        if (step["expect_total_actions"]) {
          EXPECT_EQ(total_actions, step["expect_total_actions"].as<int64_t>()) << where;
        }
        if (!expect) continue;
        if (expect["error"]) {
          expect_error(out.ok() ? Status::Ok() : out.status());
          continue;
        }
        ASSERT_TRUE(out.ok()) << where << ": " << out.status().ToString();
        simdjson::dom::element doc = parser.parse(out->json);
        if (expect["actions"]) {
          std::vector<std::string> got, want;
          for (auto a : doc["actions"].get_array()) got.emplace_back(std::string(a["action_id"].get_string().value()));
          for (const auto& a : expect["actions"]) want.push_back(a.as<std::string>());
          EXPECT_EQ(got, want) << where << ": " << out->json;
        }
        if (expect["no_action_reason"]) {
          EXPECT_EQ(Str(doc["no_action_reason"]), expect["no_action_reason"].as<std::string>()) << where;
        }
        if (expect["control_group"]) {
          EXPECT_EQ(doc["control_group"].get_bool().value(), expect["control_group"].as<bool>()) << where;
        }
        if (expect["treatment"]) {
          EXPECT_EQ(Str(doc["actions"].at(0)["treatment"]), expect["treatment"].as<std::string>()) << where;
        }
        for (const auto& c : expect["candidates"]) {
          const std::string id = c.first.as<std::string>();
          simdjson::dom::element found;
          bool have = false;
          for (auto cand : doc["explanation"]["candidates"].get_array()) {
            if (std::string(cand["action_id"].get_string().value()) == id) {
              found = cand;
              have = true;
            }
          }
          ASSERT_TRUE(have) << where << ": no candidate " << id << " in " << out->json;
          EXPECT_EQ(Str(found["stage"]), c.second["stage"].as<std::string>()) << where << " " << id << ": "
                                                                               << simdjson::to_string(found);
          if (c.second["reason"]) {
            EXPECT_NE(Str(found["reason"]).find(c.second["reason"].as<std::string>()), std::string::npos)
                << where << " " << id << ": " << simdjson::to_string(found);
          }
          for (const auto& v : c.second["values"]) {
            simdjson::dom::element got;
            ASSERT_FALSE(found["values"][v.first.as<std::string>()].get(got))
                << where << " " << id << ": no value " << v.first << " in " << simdjson::to_string(found);
            EXPECT_EQ(Str(got), v.second.as<std::string>()) << where << " " << id;
          }
          for (const char* fig : {"priority", "propensity", "model_propensity", "probability", "value",
                                  "context_weight", "levers"}) {
            if (!c.second[fig]) continue;
            EXPECT_NEAR(found[fig].get_double().value(), c.second[fig].as<double>(), 1e-6) << where << " " << id << " " << fig;
          }
        }
      } else if (step["respond"]) {
        YAML::Node req = YAML::Clone(step["respond"]);
        if (req["decision"]) {
          req["decision_id"] = decision_ids.at(req["decision"].as<size_t>());
          req.remove("decision");
        }
        std::string body;
        ToJson(req, &body);
        decision_ids.push_back("");
        auto out = service.Respond(body);
        if (expect && expect["error"]) {
          expect_error(out.ok() ? Status::Ok() : out.status());
          continue;
        }
        ASSERT_TRUE(out.ok()) << where << ": " << out.status().ToString();
        if (expect && expect["recorded"]) {
          EXPECT_EQ(out->recorded, expect["recorded"].as<bool>()) << where;
        }
      } else if (step["replay"]) {
        decision_ids.push_back("");
        auto out = service.Replay(decision_ids.at(step["replay"].as<size_t>()));
        ASSERT_TRUE(out.ok()) << where << ": " << out.status().ToString();
        simdjson::dom::element doc = parser.parse(*out);
        EXPECT_TRUE(doc["identical"].get_bool().value()) << where << ": " << *out;
      } else {
        FAIL() << where << ": a step needs decide, respond or replay";
      }
    }
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Files, DecisionScenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const auto& info) { return fs::path(info.param).stem().string(); });

}  // namespace
}  // namespace kairos
