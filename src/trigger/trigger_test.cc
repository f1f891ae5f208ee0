// triggers.yaml parsing (every error names file:line:column) and the TriggerRunner against a
// real engine, decision service and outbound dispatcher. Scenario files for the demo triggers:
// tests/triggers/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/time_format.h"
#include "decide/decision_service.h"
#include "schema/config.h"
#include "schema/workspace.h"
#include "trigger/automation.h"
#include "trigger/trigger_runner.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const Decisioning> Demo() {
  static const auto d = [] {
    auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    EXPECT_TRUE(schema.ok()) << schema.status().ToString();
    auto dec = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), *schema);
    EXPECT_TRUE(dec.ok()) << dec.status().ToString();
    return *dec;
  }();
  return d;
}

TEST(TriggerConfig, TheDemoTriggersLoad) {
  auto set = TriggerSet::Parse(DemoTriggersYaml(), "triggers.yaml", Demo(), "/ws");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_GE((*set)->triggers.size(), 8u);
  EXPECT_EQ((*set)->journeys.size(), 2u);
  EXPECT_EQ((*set)->outbound.at("sms").path, "/ws/outbound/sms.ndjson");
  const TriggerDef& data = (*set)->triggers[0];
  EXPECT_EQ(data.name, "data_running_out");
  ASSERT_TRUE(data.sizing.has_value());
  ASSERT_EQ(data.sizing->packages.size(), 4u);
  EXPECT_LT(data.sizing->packages[0].size, data.sizing->packages[1].size);
  EXPECT_EQ(data.debounce_ms, 3 * 86400000LL);
  const std::vector<bool> watched = (*set)->WatchedEventTypes();
  EXPECT_TRUE(watched[static_cast<size_t>(Demo()->schema->EventTypeIndex("usage"))]);
  EXPECT_FALSE(watched[static_cast<size_t>(Demo()->schema->EventTypeIndex("churn"))]);
}

TEST(TriggerConfig, AnEmptyFileHasNoTriggers) {
  auto set = TriggerSet::Parse("", "triggers.yaml", Demo(), "/ws");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE((*set)->triggers.empty());
}

struct BadCase {
  const char* yaml;
  const char* want;  // substring of the message, with file:line:column
};

TEST(TriggerConfig, ErrorsPointAtTheLine) {
  const BadCase cases[] = {
      {"triggers:\n  t: {event: usag, channel: sms}\n", "triggers.yaml:2:14: trigger t: unknown event type \"usag\""},
      {"triggers:\n  t: {event: usage, where: {knd: data}, channel: sms}\n", "triggers.yaml:2:29: trigger t: event type usage has no field \"knd\""},
      {"triggers:\n  t: {event: usage, where: {kind: video}, channel: sms}\n", "\"video\" is not a value of kind"},
      {"triggers:\n  t: {event: usage, when: \"agg.data_mb(7d)\", channel: sms}\n", "triggers.yaml:2:27: trigger t.when has type number; expected bool"},
      {"triggers:\n  t: {event: usage, when: \"agg.data_mb(7d) > \", channel: sms}\n", "triggers.yaml:2:"},
      {"triggers:\n  t:\n    event: usage\n    when: \"action.value > 1\"\n    channel: sms\n", "triggers.yaml:4:11: trigger t.when reads action.value, which belongs to an action"},
      {"triggers:\n  t: {event: usage}\n", "trigger t needs either channel"},
      {"triggers:\n  t: {event: usage, channel: sms, journey: j}\n", "trigger t needs either channel"},
      {"triggers:\n  t: {event: usage, channel: fax}\n", "triggers.yaml:2:30: trigger t: unknown channel \"fax\""},
      {"triggers:\n  t: {event: usage, journey: nope}\n", "unknown journey \"nope\" (journeys: none)"},
      {"triggers:\n  t: {event: usage, channel: sms, actions: [DATA_2GB]}\n", "trigger t: unknown action \"DATA_2GB\""},
      {"triggers:\n  t: {event: usage, channel: sms, groups: [Nope]}\n", "trigger t: unknown group \"Nope\""},
      {"triggers:\n  t: {event: usage, channel: sms, wen: x}\n", "wen"},
      {"triggers:\n  t: {event: decision, channel: sms}\n", "written by Kairos itself"},
      {"triggers:\n  t: {event: usage, channel: sms, debounce: soon}\n", "triggers.yaml:2:"},
      {"triggers:\n  t:\n    event: usage\n    channel: sms\n    size: {need: \"1\", packages: {CONTENT_MUSIC: 1}}\n",
       "action CONTENT_MUSIC has no treatment for channel sms"},
      {"triggers:\n  t:\n    event: usage\n    channel: sms\n    size: {need: \"profile.plan_type\", packages: {DATA_1GB: 1}}\n",
       "size.need has type string; expected a number"},
      {"triggers:\n  t:\n    event: usage\n    channel: sms\n    size: {need: \"1\", packages: {DATA_1GB: -1}}\n",
       "a package size must be positive"},
      {"outbound:\n  fax: {file: {path: x}}\n", "triggers.yaml:2:3: outbound.fax: unknown channel \"fax\""},
      {"outbound:\n  sms: {webhook: {url: \"ftp://x\"}}\n", "webhook.url must start with http://"},
      {"outbound:\n  sms: {smtp: {url: x}}\n", "unknown adapter \"smtp\""},
      {"outbound:\n  sms: {webhook: {url: \"http://x\", max_attempts: 0}}\n", "max_attempts must be between 1 and 100"},
      {"triggers: [1, 2]\n", "triggers must be a mapping"},
      {"trigers: {}\n", "trigers"},
      {"triggers:\n  t: {event: usage, channel: sms\n", "triggers.yaml:"},
  };
  for (const BadCase& c : cases) {
    auto set = TriggerSet::Parse(c.yaml, "triggers.yaml", Demo(), "/ws");
    ASSERT_FALSE(set.ok()) << c.yaml;
    EXPECT_NE(set.status().message().find(c.want), std::string::npos)
        << c.yaml << " -> " << set.status().message();
  }
}

// The runner against the real parts: events in through the engine, decisions recorded,
// deliveries written by a file sink.
class TriggerRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kairos-trigger-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
    std::ofstream(dir_ / "policies.yaml") << DemoPoliciesYaml();
    std::ofstream(dir_ / "catalog.yaml") << DemoCatalogYaml();
    auto ws = Workspace::Load(dir_.string());
    ASSERT_TRUE(ws.ok());
    ws_ = *ws;
    auto engine = Engine::Open(ws_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    auto d = Decisioning::Load(dir_.string(), ws_.schema);
    ASSERT_TRUE(d.ok());
    d_ = *d;
    service_ = std::make_unique<DecisionService>(engine_.get(), &clock_, d_);
    ASSERT_TRUE(service_->Start().ok());
    auto dispatcher = channel::Dispatcher::Open((dir_ / "outbox").string(), &clock_, 1);
    ASSERT_TRUE(dispatcher.ok());
    dispatcher_ = std::move(*dispatcher);
  }
  void TearDown() override {
    runner_.reset();
    dispatcher_.reset();
    service_.reset();
    engine_.reset();
    fs::remove_all(dir_);
  }
  void Start(std::string_view triggers_yaml, TriggerRunner::Options options = {}) {
    auto set = TriggerSet::Parse(triggers_yaml, "triggers.yaml", d_, dir_.string());
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    runner_ = std::make_unique<TriggerRunner>(engine_.get(), service_.get(), dispatcher_.get(), nullptr, &clock_, options);
    const Status s = runner_->SetTriggers(*set);
    ASSERT_TRUE(s.ok()) << s.ToString();
    runner_->Start();
    dispatcher_->Start(1);
  }
  void Write(const char* name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::vector<std::string> Lines(const char* file) {
    std::vector<std::string> out;
    for (int i = 0; i < 300 && dispatcher_->Stats().Total().pending > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::ifstream in(dir_ / file);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
  }

  fs::path dir_;
  Workspace ws_;
  ManualClock clock_{*ParseRfc3339("2026-03-11T10:00:00Z")};
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<const Decisioning> d_;
  std::unique_ptr<DecisionService> service_;
  std::unique_ptr<channel::Dispatcher> dispatcher_;
  std::unique_ptr<TriggerRunner> runner_;
};

constexpr const char* kSubscriber =
    R"({"event_id":"m1","subscriber_id":"s1","type":"subscriber","ts":"2026-03-01T00:00:00Z","plan_type":"prepaid","timezone":"Europe/Berlin","consents":{"sms":true,"push":true}})";

TEST_F(TriggerRunnerTest, DecidesRecordsAndDeliversOnceWithItsOrigin) {
  ASSERT_EQ(engine_->IngestNdjson(kSubscriber).accepted, 1);
  Start(R"(triggers:
  streak:
    event: topup
    when: "agg.topups(90d) >= 3"
    channel: sms
    debounce: 30d
    actions: [LOY_PREPAID_STREAK]
outbound:
  sms: {file: {path: out/sms.ndjson}}
)");
  const std::string topups =
      R"({"event_id":"t1","subscriber_id":"s1","type":"topup","ts":"2026-03-02T10:00:00Z","amount_eur":10}
{"event_id":"t2","subscriber_id":"s1","type":"topup","ts":"2026-03-05T10:00:00Z","amount_eur":10}
{"event_id":"t3","subscriber_id":"s1","type":"topup","ts":"2026-03-11T09:00:00Z","amount_eur":10}
{"event_id":"t3","subscriber_id":"s1","type":"topup","ts":"2026-03-11T09:00:00Z","amount_eur":10})";
  const IngestResult r = engine_->IngestNdjson(topups);
  EXPECT_EQ(r.accepted, 3);
  EXPECT_EQ(r.duplicates, 1) << "a duplicate event is not applied, so it cannot fire";
  runner_->Drain();
  const auto lines = Lines("out/sms.ndjson");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"action_id\":\"LOY_PREPAID_STREAK\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"trigger\":\"streak\""), std::string::npos) << lines[0];
  const TriggerStats s = runner_->Stats();
  ASSERT_EQ(s.by_trigger.size(), 1u);
  // The three top-ups came in one batch: each is evaluated on the profile after the batch, so
  // the first fires and the others are debounced.
  EXPECT_EQ(s.by_trigger[0].second.fired, 1);
  EXPECT_EQ(s.by_trigger[0].second.debounced, 2);
  EXPECT_EQ(s.deliveries, 1);
  // The decision is in the log with the trigger as its origin, and in the history (a cap).
  int logged = 0;
  ASSERT_TRUE(engine_->ForEachDecision("", [&](const StoredDecision& d) {
    ++logged;
    EXPECT_NE(d.record.find("\"origin\":{\"trigger\":\"streak\""), std::string::npos);
    return true;
  }).ok());
  EXPECT_EQ(logged, 1);
  // Delivering the logged decision again (a journey step re-run after a crash) is idempotent.
  std::string id;
  (void)engine_->ForEachDecision("", [&](const StoredDecision& d) {
    id = d.decision_id;
    return false;
  });
  ASSERT_TRUE(runner_->Deliver(id).ok());
  EXPECT_EQ(Lines("out/sms.ndjson").size(), 1u);
  EXPECT_NE(runner_->TriggersJson().find("\"fired\":1"), std::string::npos) << runner_->TriggersJson();
}

TEST_F(TriggerRunnerTest, AFullQueueDropsAndCountsButNeverBlocksIngestion) {
  ASSERT_EQ(engine_->IngestNdjson(kSubscriber).accepted, 1);
  TriggerRunner::Options o;
  o.threads = 1;
  o.max_queue = 2;
  Start("triggers:\n  any: {event: topup, channel: sms, debounce: 1d}\n", o);
  std::string body;
  for (int i = 0; i < 200; ++i) {
    body += R"({"event_id":"t)" + std::to_string(i) +
            R"(","subscriber_id":"s1","type":"topup","ts":"2026-03-11T09:00:00Z","amount_eur":1})" + "\n";
  }
  EXPECT_EQ(engine_->IngestNdjson(body).accepted, 200);
  runner_->Drain();
  const TriggerStats s = runner_->Stats();
  EXPECT_GT(s.dropped, 0);
  const TriggerCounts& c = s.by_trigger[0].second;
  EXPECT_EQ(c.fired + c.debounced + s.dropped, 200) << "every applied event is evaluated or counted as dropped";
  EXPECT_EQ(c.fired, 1) << "debounced for a day";
}

TEST_F(TriggerRunnerTest, SizingPicksTheSmallestPackageThatCoversTheNeed) {
  ASSERT_EQ(engine_->IngestNdjson(kSubscriber).accepted, 1);
  // need is read from the profile: the last balance report of remaining data.
  Start(R"yaml(triggers:
  sized:
    event: balance
    channel: sms
    size:
      need: "coalesce(profile.data_remaining_mb, 0)"
      packages: {DATA_1GB: 1024, DATA_3GB: 3072, DATA_5GB: 5120}
)yaml");
  auto decide_for = [&](int i, int remaining) {
    const std::string e = R"({"event_id":"b)" + std::to_string(i) + R"(","subscriber_id":"s1","type":"balance","ts":"2026-03-11T09:0)" +
                          std::to_string(i) + R"(:00Z","data_remaining_mb":)" + std::to_string(remaining) + "}";
    EXPECT_EQ(engine_->IngestNdjson(e).accepted, 1);
    runner_->Drain();
    // Decisions at the same clock time are in no particular order: find this event's.
    std::string record;
    (void)engine_->ForEachDecision("", [&](const StoredDecision& d) {
      if (d.record.find("\"event_id\":\"b" + std::to_string(i) + "\"") != std::string::npos) record = d.record;
      return true;
    });
    return record;
  };
  const std::string r1 = decide_for(1, 2000);
  EXPECT_NE(r1.find("\"package\":\"DATA_3GB\""), std::string::npos) << r1;
  EXPECT_NE(r1.find("smallest package covering the need of 2000"), std::string::npos) << r1;
  const std::string r2 = decide_for(2, 9000);
  EXPECT_NE(r2.find("\"package\":\"DATA_5GB\""), std::string::npos) << r2;
  EXPECT_NE(r2.find("no package covers the need of 9000"), std::string::npos) << r2;
}

}  // namespace
}  // namespace kairos

namespace kairos {
namespace {

// The outbox does not fsync each delivery (the decision log is the durable record): a lost
// outbox — the worst a power loss can do to it — is rebuilt from the recent decisions at start,
// and a restart with the outbox intact delivers nothing twice.
TEST_F(TriggerRunnerTest, AutomationReconcilesTheOutboxFromTheDecisionLog) {
  ASSERT_EQ(engine_->IngestNdjson(kSubscriber).accepted, 1);
  Write("triggers.yaml", R"(triggers:
  streak: {event: topup, channel: sms, debounce: 1d, actions: [LOY_PREPAID_STREAK], when: "agg.topups(90d) >= 3"}
outbound:
  sms: {file: {path: out/sms.ndjson}}
)");
  dispatcher_.reset();  // the automation opens its own in the store folder
  auto open = [&] {
    auto a = Automation::Open(ws_, engine_.get(), service_.get(), &clock_);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    (*a)->Start();
    return std::move(*a);
  };
  auto lines = [&](Automation& a) {
    for (int i = 0; i < 300 && a.dispatcher().Stats().Total().pending > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<std::string> out;
    std::ifstream in(dir_ / "out/sms.ndjson");
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  {
    auto a = open();
    ASSERT_EQ(engine_->IngestNdjson(
                  R"({"event_id":"t1","subscriber_id":"s1","type":"topup","ts":"2026-03-01T09:00:00Z","amount_eur":10}
{"event_id":"t2","subscriber_id":"s1","type":"topup","ts":"2026-03-05T09:00:00Z","amount_eur":10}
{"event_id":"t3","subscriber_id":"s1","type":"topup","ts":"2026-03-11T09:00:00Z","amount_eur":10})")
                  .accepted,
              3);
    a->triggers().Drain();
    ASSERT_EQ(lines(*a).size(), 1u);
  }
  fs::remove_all(fs::path(ws_.StorePath()) / "outbox");
  fs::remove(dir_ / "out/sms.ndjson");
  {
    auto a = open();
    const auto again = lines(*a);
    ASSERT_EQ(again.size(), 1u) << "re-enqueued from the decision log";
    EXPECT_NE(again[0].find("LOY_PREPAID_STREAK"), std::string::npos);
  }
  {
    auto a = open();
    EXPECT_EQ(lines(*a).size(), 1u) << "the outbox remembers what it delivered";
  }
}

}  // namespace
}  // namespace kairos
