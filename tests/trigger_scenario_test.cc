// Data-driven trigger scenarios: each tests/triggers/*.yaml ingests events into a demo workspace
// with triggers on (the real engine, decision service, journeys and outbound dispatcher writing
// NDJSON files) and says what must come out.
//
//   now: 2026-03-11T10:00:00Z
//   triggers: |      (triggers.yaml text; optional: the demo operator's by default)
//   history: |       (NDJSON ingested before the triggers are on)
//   steps:
//     - at: 2026-03-11T12:00:00Z          # optional: move the clock (journeys run what is due)
//       events: |                          # NDJSON ingested with the triggers on
//         {...}
//       expect:
//         fired: {data_running_out: 1}     # firings per trigger during this step
//         not_met: {usage_drop: 1}         # evaluations whose `when` did not hold
//         deliveries:                      # messages written by the outbound adapters in this step
//           - {channel: sms, subscriber_id: pre1, action_id: DATA_5GB, package: DATA_5GB, need: [3300, 4000]}
//         journeys: {pre1: [second_purchase]}   # active journeys per subscriber after the step
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>
#include <thread>

#include "catalog/catalog.h"
#include "channel/dispatcher.h"
#include "common/time_format.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "trigger/journey_runner.h"
#include "trigger/trigger_runner.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(KAIROS_SOURCE_DIR) / "tests" / "triggers")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Delivered {
  std::string id, channel, subscriber_id, action_id, package, journey;
  int64_t ts = 0;
  double need = -1;  // origin.sizing.need, when sized
};

// Every line the file sinks have written so far under <ws>/outbound.
std::vector<Delivered> ReadDeliveries(const fs::path& dir) {
  std::vector<Delivered> out;
  if (!fs::exists(dir)) return out;
  simdjson::dom::parser parser;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      simdjson::dom::element doc;
      if (parser.parse(line).get(doc)) continue;  // a line being written
      simdjson::dom::element p = doc["payload"];
      Delivered d;
      d.id = std::string(doc["id"].get_string().value());
      d.ts = doc["ts"].get_int64().value();
      d.channel = std::string(doc["channel"].get_string().value());
      d.subscriber_id = std::string(p["subscriber_id"].get_string().value());
      d.action_id = std::string(p["action_id"].get_string().value());
      std::string_view pkg, journey;
      if (!p["origin"]["sizing"]["package"].get(pkg)) d.package = std::string(pkg);
      double need = 0;
      if (!p["origin"]["sizing"]["need"].get(need)) d.need = need;
      if (!p["origin"]["journey"].get(journey)) d.journey = std::string(journey);
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::map<std::string, TriggerCounts> Counts(const TriggerRunner& r) {
  std::map<std::string, TriggerCounts> out;
  for (const auto& [name, c] : r.Stats().by_trigger) out[name] = c;
  return out;
}

class TriggerScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(TriggerScenario, ActsAsExpected) {
  const YAML::Node spec = YAML::LoadFile(GetParam());
  const std::string name = fs::path(GetParam()).filename().string();
  const fs::path dir = fs::temp_directory_path() / ("kairos-triggers-" + std::to_string(::getpid()) + "-" +
                                                    fs::path(GetParam()).stem().string());
  fs::remove_all(dir);
  ASSERT_TRUE(Workspace::Init(dir.string()).ok());
  std::ofstream(dir / "policies.yaml") << DemoPoliciesYaml();
  std::ofstream(dir / "catalog.yaml") << DemoCatalogYaml();
  std::ofstream(dir / "triggers.yaml") << (spec["triggers"] ? spec["triggers"].as<std::string>()
                                                            : std::string(DemoTriggersYaml()));
  auto ws = Workspace::Load(dir.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto decisioning = Decisioning::Load(dir.string(), ws->schema);
  ASSERT_TRUE(decisioning.ok()) << decisioning.status().ToString();
  auto triggers = TriggerSet::Load(dir.string(), *decisioning);
  ASSERT_TRUE(triggers.ok()) << triggers.status().ToString();
  ManualClock clock(*ParseRfc3339(spec["now"].as<std::string>()));

  auto engine = Engine::Open(*ws, &clock);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  if (spec["history"]) {
    const IngestResult r = (*engine)->IngestNdjson(spec["history"].as<std::string>());
    ASSERT_TRUE(r.rejected.empty()) << name << " history line " << r.rejected[0].line << ": " << r.rejected[0].error;
  }
  DecisionService service(engine->get(), &clock, *decisioning);
  ASSERT_TRUE(service.Start().ok());
  auto dispatcher = channel::Dispatcher::Open((dir / "outbox").string(), &clock, 7);
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().ToString();
  TriggerRunner* runner_ptr = nullptr;
  auto journeys = JourneyRunner::Open((dir / "journeys").string(), engine->get(), &service, &clock,
                                      [&](std::string_view id) { return runner_ptr->Deliver(id); });
  ASSERT_TRUE(journeys.ok()) << journeys.status().ToString();
  TriggerRunner runner(engine->get(), &service, dispatcher->get(), journeys->get(), &clock, {});
  runner_ptr = &runner;
  ASSERT_TRUE(runner.SetTriggers(*triggers).ok());
  runner.Start();
  (*dispatcher)->Start(1);

  std::set<std::string> seen_deliveries;  // delivery ids of earlier steps
  int step_no = 0;
  for (const YAML::Node& step : spec["steps"]) {
    const std::string where = name + " step " + std::to_string(step_no++);
    const auto before = Counts(runner);
    if (step["at"]) clock.Set(*ParseRfc3339(step["at"].as<std::string>()));
    ASSERT_TRUE((*journeys)->RunDue().ok()) << where;
    if (step["events"]) {
      const IngestResult r = (*engine)->IngestNdjson(step["events"].as<std::string>());
      ASSERT_TRUE(r.rejected.empty()) << where << " line " << r.rejected[0].line << ": " << r.rejected[0].error;
    }
    runner.Drain();
    ASSERT_TRUE((*journeys)->RunDue().ok()) << where;
    // Deliveries are asynchronous: wait until the outbox has nothing pending.
    for (int i = 0; i < 500 && (*dispatcher)->Stats().Total().pending > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const YAML::Node expect = step["expect"];
    const auto after = Counts(runner);
    std::vector<Delivered> fresh;
    for (Delivered& d : ReadDeliveries(dir / "outbound")) {
      if (seen_deliveries.insert(d.id).second) fresh.push_back(std::move(d));
    }
    std::sort(fresh.begin(), fresh.end(),
              [](const Delivered& a, const Delivered& b) { return std::tie(a.ts, a.channel) < std::tie(b.ts, b.channel); });
    if (!expect) continue;
    auto delta = [&](const std::string& trigger, int64_t TriggerCounts::*field) {
      const auto b = before.find(trigger);
      const auto a = after.find(trigger);
      return (a == after.end() ? 0 : a->second.*field) - (b == before.end() ? 0 : b->second.*field);
    };
    for (const auto& kv : expect["fired"]) {
      EXPECT_EQ(delta(kv.first.as<std::string>(), &TriggerCounts::fired), kv.second.as<int64_t>())
          << where << ": firings of " << kv.first.as<std::string>();
    }
    for (const auto& kv : expect["not_met"]) {
      EXPECT_EQ(delta(kv.first.as<std::string>(), &TriggerCounts::not_met), kv.second.as<int64_t>())
          << where << ": not met of " << kv.first.as<std::string>();
    }
    for (const auto& kv : expect["debounced"]) {
      EXPECT_EQ(delta(kv.first.as<std::string>(), &TriggerCounts::debounced), kv.second.as<int64_t>())
          << where << ": debounced of " << kv.first.as<std::string>();
    }
    if (expect["deliveries"]) {
      std::string got_all;
      for (const Delivered& d : fresh) got_all += d.channel + ":" + d.subscriber_id + ":" + d.action_id + ":" + d.journey + " ";
      ASSERT_EQ(fresh.size(), expect["deliveries"].size()) << where << ": delivered " << got_all;
      for (size_t i = 0; i < fresh.size(); ++i) {
        const YAML::Node want = expect["deliveries"][i];
        EXPECT_EQ(fresh[i].channel, want["channel"].as<std::string>()) << where << " delivery " << i << " (delivered " << got_all << ")";
        auto check = [&](const char* key, const std::string& got) {
          if (want[key]) {
            EXPECT_EQ(got, want[key].as<std::string>()) << where << " delivery " << i << " " << key << " (delivered " << got_all << ")";
          }
        };
        check("subscriber_id", fresh[i].subscriber_id);
        check("action_id", fresh[i].action_id);
        check("package", fresh[i].package);
        check("journey", fresh[i].journey);
        if (want["need"]) {  // [low, high]: the sized need, computed by hand in the scenario's comment
          EXPECT_GE(fresh[i].need, want["need"][0].as<double>()) << where << " delivery " << i;
          EXPECT_LE(fresh[i].need, want["need"][1].as<double>()) << where << " delivery " << i;
          std::printf("%s: sized need %.1f → %s\n", where.c_str(), fresh[i].need, fresh[i].package.c_str());
        }
      }
    }
    for (const auto& kv : expect["journeys"]) {
      const std::string json = (*journeys)->SubscriberJson(kv.first.as<std::string>());
      simdjson::dom::parser parser;
      simdjson::dom::element doc = parser.parse(json);
      std::vector<std::string> got, want;
      for (auto j : doc["journeys"].get_array()) got.emplace_back(std::string(j["journey"].get_string().value()));
      for (const auto& j : kv.second) want.push_back(j.as<std::string>());
      EXPECT_EQ(got, want) << where << ": " << json;
    }
  }
  runner.Stop();
  (*dispatcher)->Stop();
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);  // kept for a look when it failed
}

INSTANTIATE_TEST_SUITE_P(Files, TriggerScenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace kairos
