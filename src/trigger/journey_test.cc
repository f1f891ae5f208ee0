// Journeys: triggers.yaml `journeys:` validation, the durable store, and the runner against a real
// Engine + DecisionService on a temporary workspace with a manual clock — steps at their times,
// re-decisions, stops (response, exit_when, max_duration), the entry gate, restarts, and crash
// safety with SIGKILL between a step's decision, its delivery and the store's move.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "common/hash.h"
#include "decide/history.h"
#include "decide/service_fixture_test.h"
#include "schema/config.h"
#include "schema/yaml_util.h"
#include "trigger/journey_config.h"
#include "trigger/journey_runner.h"
#include "trigger/journey_store.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicies = R"(
channels:
  push: {outbound: true, top_k: 1}
  email: {outbound: true, top_k: 1}
  sms: {outbound: true, top_k: 1}
  app: {top_k: 3}
arbitration: {min_priority: 0}
)";

// Without a scope O1 wins (higher value); the journeys below may offer Loyalty only (L1).
constexpr const char* kCatalog = R"(
issues:
  Retention:
    groups:
      Loyalty:
        actions:
          - {id: L1, name: l1, value: 5, propensity: 0.2, treatments: {push: {title: l1}, email: {title: l1}, sms: {text: l1}}}
      Other:
        actions:
          - {id: O1, name: o1, value: 50, propensity: 0.5, treatments: {push: {title: o1}, email: {title: o1}, sms: {text: o1}}}
)";

constexpr const char* kTriggers = R"(journeys:
  winback:
    entry: "profile.plan_type == 'postpaid'"
    exit_when: "agg.purchases(30d) >= 1"
    groups: [Loyalty]
    steps:
      - {channel: push, wait: 2d}
      - {channel: email, wait: 3d}
      - {channel: sms, wait: 5d}
  inbound:
    steps:
      - {channel: app, wait: 1d}
      - {channel: push}
  short:
    max_duration: 3d
    steps:
      - {channel: push, wait: 2d}
      - {channel: email, wait: 2d}
      - {channel: sms, wait: 2d}
)";

Result<std::vector<JourneyDef>> Parse(std::string_view text, const Decisioning& d) {
  KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, "triggers.yaml"));
  return ParseJourneys(text, "triggers.yaml", root["journeys"], d);
}

// ---- configuration -----------------------------------------------------------------------------

class JourneyConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    auto d = Decisioning::Parse(kPolicies, kCatalog, *schema);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    d_ = *d;
  }
  // The error of parsing `yaml` (which must fail).
  std::string Error(const std::string& yaml) {
    auto r = Parse(yaml, *d_);
    EXPECT_FALSE(r.ok()) << yaml;
    return r.ok() ? "" : r.status().message();
  }
  std::shared_ptr<const Decisioning> d_;
};

TEST_F(JourneyConfigTest, ParsesStepsScopeAndDefaults) {
  auto r = Parse(kTriggers, *d_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  const JourneyDef& j = (*r)[0];
  EXPECT_EQ(j.name, "winback");
  EXPECT_EQ(j.line, 2);
  ASSERT_EQ(j.steps.size(), 3u);
  EXPECT_EQ(j.steps[1].channel, "email");
  EXPECT_EQ(j.steps[1].channel_index, 1);
  EXPECT_EQ(j.steps[1].wait_ms, 3 * kMsPerDay);
  EXPECT_EQ(j.steps[2].line, 9);
  EXPECT_EQ(j.TotalWaitMs(), 10 * kMsPerDay);
  ASSERT_NE(j.entry, nullptr);
  ASSERT_NE(j.exit_when, nullptr);
  EXPECT_EQ(j.exit_when_text, "agg.purchases(30d) >= 1");
  EXPECT_EQ(j.stop_on, (std::vector<Outcome>{Outcome::kAccepted, Outcome::kConverted}));
  ASSERT_EQ(j.scope.allowed.size(), 2u);
  EXPECT_EQ(j.scope.allowed[0], 1);  // L1
  EXPECT_EQ(j.scope.allowed[1], 0);  // O1
  const JourneyDef& inbound = (*r)[1];
  EXPECT_TRUE(inbound.scope.allowed.empty());
  EXPECT_EQ(inbound.entry, nullptr);
  EXPECT_EQ(inbound.steps[1].wait_ms, 0);
  EXPECT_EQ((*r)[2].max_duration_ms, 3 * kMsPerDay);
  // No journeys at all.
  auto none = Parse("triggers: {}\n", *d_);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(JourneyConfigTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    std::string yaml;
    std::string expect;  // a prefix with the position, then a part of the message
    std::string message;
  };
  const std::vector<Case> cases = {
      {"journeys:\n  j:\n    steps:\n      - {channel: fax, wait: 1d}\n", "triggers.yaml:4:", 
       "journey j: step 1: unknown channel \"fax\" (channels: push, email, sms, app)"},
      {"journeys:\n  j:\n    steps:\n      - {channel: push, wait: 2 days}\n", "triggers.yaml:4:",
       "journey j: step 1: wait: invalid duration \"2 days\""},
      {"journeys:\n  j:\n    steps:\n      - {channel: push, wait: -1d}\n", "triggers.yaml:4:",
       "journey j: step 1: wait: invalid duration"},
      {"journeys:\n  j:\n    entry: \"agg.purchases(30d)\"\n    steps: [{channel: push}]\n", "triggers.yaml:3:",
       "journey j: entry has type number; expected bool"},
      {"journeys:\n  j:\n    exit_when: \"action.value > 1\"\n    steps: [{channel: push}]\n", "triggers.yaml:3:",
       "journey j: exit_when reads action.value, which belongs to an action"},
      {"journeys:\n  j:\n    entry: \"profile.nope > 1\"\n    steps: [{channel: push}]\n", "triggers.yaml:3:",
       "journey j: entry:"},
      {"journeys:\n  j:\n    steps: []\n", "triggers.yaml:3:", "journey j has no steps"},
      {"journeys:\n  j:\n    entry: \"true\"\n", "triggers.yaml:2:", "journey j has no steps"},
      {"journeys:\n  j:\n    stop_on: [bought]\n    steps: [{channel: push}]\n", "triggers.yaml:3:",
       "journey j: stop_on: unknown outcome \"bought\" (known: accepted, rejected, clicked, converted, ignored)"},
      {"journeys:\n  j:\n    steps:\n      - {channel: push, wiat: 1d}\n", "triggers.yaml:4:",
       "unknown key \"wiat\" in journey j: step 1"},
      {"journeys:\n  j:\n    stpes: [{channel: push}]\n", "triggers.yaml:3:", "unknown key \"stpes\" in journey j"},
      {"journeys:\n  j:\n    max_duration: 0d\n    steps: [{channel: push}]\n", "triggers.yaml:3:",
       "journey j: max_duration must be more than 0"},
      {"journeys:\n  j:\n    groups: [Nope]\n    steps: [{channel: push}]\n", "triggers.yaml:3:",
       "unknown group \"Nope\""},
      {"journeys:\n  j:\n    steps:\n      - {wait: 1d}\n", "triggers.yaml:4:", "journey j: step 1 needs a channel"},
      {"journeys:\n  \"bad name\":\n    steps: [{channel: push}]\n", "triggers.yaml:2:", "journey name \"bad name\""},
      {"journeys:\n  j:\n    steps: [{channel: push}]\n  j:\n    steps: [{channel: push}]\n", "triggers.yaml:",
       "j"},
      {"journeys: [a, b]\n", "triggers.yaml:1:", "journeys must be a mapping"},
  };
  for (const Case& c : cases) {
    const std::string e = Error(c.yaml);
    EXPECT_EQ(e.rfind(c.expect, 0), 0u) << c.yaml << "\n→ " << e;
    EXPECT_NE(e.find(c.message), std::string::npos) << c.yaml << "\n→ " << e;
  }
  // Position of an expression error: the column of the offending name inside the quotes.
  EXPECT_EQ(Error("journeys:\n  j:\n    entry: \"profile.nope > 1\"\n    steps: [{channel: push}]\n")
                .rfind("triggers.yaml:3:13:", 0),
            0u);
  // At most 20 steps.
  std::string many = "journeys:\n  j:\n    steps:\n";
  for (int i = 0; i < 21; ++i) many += "      - {channel: push, wait: 1d}\n";
  EXPECT_NE(Error(many).find("at most 20 steps, got 21"), std::string::npos);
}

TEST(JourneyDemoConfigTest, TheDocumentedExampleParsesAgainstTheDemoCatalog) {
  auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
  ASSERT_TRUE(schema.ok());
  auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), *schema);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const std::string yaml = R"(journeys:
  second_purchase:
    entry: "clv.expected_12m > 20"
    exit_when: "agg.purchases(30d) >= 2"
    stop_on: [accepted, converted]
    groups: [SecondPurchase]
    max_duration: 14d
    steps:
      - {channel: push, wait: 2d}
      - {channel: email, wait: 3d}
      - {channel: sms, wait: 5d}
  churn_guard:
    exit_when: "agg.churned != null"
    steps: [{channel: email}]
)";
  auto r = Parse(yaml, **d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].max_duration_ms, 14 * kMsPerDay);
  EXPECT_FALSE((*r)[0].scope.allowed.empty());
}

// ---- store -------------------------------------------------------------------------------------

class JourneyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kairos-journey-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static JourneyInstance Instance(std::string sub, std::string journey, TimestampMs due) {
    JourneyInstance x;
    x.subscriber_id = std::move(sub);
    x.journey = std::move(journey);
    x.due_ms = x.step_ms = x.started_ms = due;
    x.origin = "t";
    return x;
  }
  fs::path dir_;
};

TEST_F(JourneyStoreTest, EncodingRoundTrips) {
  JourneyInstance x = Instance("s1", "j", 1773223200000);
  x.step = 2;
  x.step_ms = x.due_ms - 5000;
  x.attempts = 3;
  // Journey step ids are kept compactly, any other id as it is.
  x.decisions = {"d19cdc0f5a00-j0011aabb", "d0019ce00000-j12345678", "d19cdc0f5a00-0011aabb", "d19cdc0f5a00-jXYZ"};
  JourneyInstance y;
  ASSERT_TRUE(JourneyStore::Decode(x.Key(), JourneyStore::Encode(x), &y).ok());
  EXPECT_EQ(y.subscriber_id, "s1");
  EXPECT_EQ(y.journey, "j");
  EXPECT_EQ(y.step, 2);
  EXPECT_EQ(y.due_ms, x.due_ms);
  EXPECT_EQ(y.step_ms, x.step_ms);
  EXPECT_EQ(y.started_ms, x.started_ms);
  EXPECT_EQ(y.attempts, 3);
  EXPECT_EQ(y.origin, "t");
  EXPECT_EQ(y.decisions, x.decisions);
  std::string bytes = JourneyStore::Encode(x);
  bytes.pop_back();
  EXPECT_EQ(JourneyStore::Decode(x.Key(), bytes, &y).code(), ErrorCode::kCorruption);
  EXPECT_LT(JourneyStore::Encode(Instance("s1", "j", 1773223200000)).size(), 20u);
  JourneyInstance one = Instance("s1", "j", 1773223200000);
  one.decisions = {JourneyRunner::StepDecisionId(one, 0, one.due_ms + kMsPerDay)};
  EXPECT_LE(JourneyStore::Encode(one).size(), JourneyStore::Encode(Instance("s1", "j", 1773223200000)).size() + 10);
  ASSERT_TRUE(JourneyStore::Decode(one.Key(), JourneyStore::Encode(one), &y).ok());
  EXPECT_EQ(y.decisions, one.decisions);
}

TEST_F(JourneyStoreTest, TimersComeDueInOrderAndMoveWithTheirState) {
  auto store = JourneyStore::Open(dir_.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  JourneyStore& s = **store;
  ASSERT_TRUE(*s.Enter(Instance("b", "j", 300)));
  ASSERT_TRUE(*s.Enter(Instance("a", "j", 200)));
  ASSERT_TRUE(*s.Enter(Instance("a", "k", 100)));
  EXPECT_FALSE(*s.Enter(Instance("a", "j", 50))) << "already in j";
  EXPECT_EQ(s.Enter(Instance("", "j", 50)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.Count(), 3);
  EXPECT_EQ(*s.NextDue(), 100);
  std::vector<JourneyInstance> due;
  ASSERT_TRUE(s.Due(250, 10, &due).ok());
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].journey, "k");
  EXPECT_EQ(due[1].journey, "j");
  EXPECT_EQ(due[1].due_ms, 200);
  // Advance a/j: the timer moves with it; a stale second advance is refused.
  ASSERT_TRUE(s.Advance(due[1], 1000, "d1").ok());
  EXPECT_EQ(s.Advance(due[1], 2000, "d1").code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(s.Finish(due[0]).ok());
  due.clear();
  ASSERT_TRUE(s.Due(999, 10, &due).ok());
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].subscriber_id, "b");
  auto a = s.ForSubscriber("a");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].step, 1);
  EXPECT_EQ((*a)[0].due_ms, 1000);
  EXPECT_EQ((*a)[0].step_ms, 1000);
  EXPECT_EQ((*a)[0].decisions, std::vector<std::string>{"d1"});
  EXPECT_TRUE(s.ForSubscriber("c")->empty());
  // A retry moves the timer, keeps the step and its time.
  JourneyUpdate retry;
  retry.kind = JourneyUpdate::Kind::kRetry;
  retry.key = (*a)[0].Key();
  retry.expect_step = 1;
  retry.expect_started_ms = 200;
  retry.due_ms = 5000;
  ASSERT_EQ(*s.Apply(std::span<const JourneyUpdate>(&retry, 1)), 0);
  auto got = s.Get("a", "j");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->due_ms, 5000);
  EXPECT_EQ((*got)->step_ms, 1000);
  EXPECT_EQ((*got)->attempts, 1);
  EXPECT_EQ(s.Count(), 2);
  // Reopened: the same.
  store->reset();
  auto again = JourneyStore::Open(dir_.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Count(), 2);
  EXPECT_EQ(*(*again)->NextDue(), 300);
}

// ---- runner ------------------------------------------------------------------------------------

// Counts deliver calls, and the deliveries an idempotent outbox (keyed by decision id) would make.
class Deliveries {
 public:
  Status Deliver(std::string_view id) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[std::string(id)];
    return Status::Ok();
  }
  int Calls(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.count(id) ? calls_[id] : 0;
  }
  size_t Distinct() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.size();
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> calls_;
};

struct LoggedDecision {
  std::string id, channel, actions, record;
};

class JourneyRunnerTest : public ServiceFixture {
 protected:
  void SetUp() override {
    CreateWorkspace("kairos-journey-", {{"policies.yaml", kPolicies}, {"catalog.yaml", kCatalog}});
    std::string events;
    for (int i = 0; i < 6; ++i) {
      events += R"({"event_id":"m)" + std::to_string(i) + R"(","subscriber_id":"s)" + std::to_string(i) +
                R"(","type":"subscriber","ts":"2026-03-01T00:00:00Z","plan_type":")" +
                (i == 5 ? "prepaid" : "postpaid") + R"("})" "\n";
    }
    ASSERT_TRUE(engine_->IngestNdjson(events).rejected.empty());
  }
  void TearDown() override {
    runner_.reset();
    ServiceFixture::TearDown();
  }
  std::string JourneyDir() const { return (dir_ / "journeys").string(); }
  void OpenRunner(JourneyRunnerOptions options = {}) {
    options.threads = 2;
    auto r = JourneyRunner::Open(JourneyDir(), engine_.get(), service_.get(), &clock_,
                                 [this](std::string_view id) { return deliveries_.Deliver(id); },
                                 std::move(options));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    runner_ = std::move(*r);
    const auto d = service_->decisioning();
    auto journeys = Parse(kTriggers, *d);
    ASSERT_TRUE(journeys.ok()) << journeys.status().ToString();
    runner_->SetJourneys(d, std::move(*journeys));
  }
  // Closes the runner, the service and the engine, and opens all three again.
  void RestartAll() {
    runner_.reset();
    Restart();
    OpenRunner();
  }
  int Run() {
    auto n = runner_->RunDue();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  std::vector<LoggedDecision> Decisions(const std::string& subscriber) {
    std::vector<LoggedDecision> out;
    EXPECT_TRUE(engine_
                    ->ForEachDecision("",
                                      [&](const StoredDecision& s) {
                                        if (s.subscriber_id == subscriber) {
                                          out.push_back({s.decision_id, s.channel, s.actions, s.record});
                                        }
                                        return true;
                                      })
                    .ok());
    return out;
  }
  void Respond(const std::string& decision, const std::string& outcome) {
    auto r = service_->Respond(R"({"decision_id":")" + decision + R"(","action_id":"L1","outcome":")" + outcome +
                               R"("})");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  Deliveries deliveries_;
  std::unique_ptr<JourneyRunner> runner_;
};

TEST_F(JourneyRunnerTest, StepsRunAtTheirTimesAndReDecideEachTime) {
  OpenRunner();
  const TimestampMs t0 = clock_.Now();
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "lapsed_buyer"));
  EXPECT_EQ(runner_->Stats().active, 1);
  EXPECT_EQ(Run(), 1);  // step 1 at once
  auto json = runner_->SubscriberJson("s1");
  EXPECT_NE(json.find(R"("journey":"winback","step":1,"steps":3,"next_at":"2026-03-13T10:00:00Z","next_channel":"email","started_at":"2026-03-11T10:00:00Z","origin":"lapsed_buyer")"),
            std::string::npos)
      << json;
  clock_.Set(t0 + 2 * kMsPerDay - 1);
  EXPECT_EQ(Run(), 0) << "step 2 is not due before its wait";
  clock_.Set(t0 + 2 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  clock_.Set(t0 + 5 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(runner_->SubscriberJson("s1").find(R"("step":3,"steps":3,"next_at":"2026-03-21T10:00:00Z","next_channel":null)"),
            std::string::npos)
      << runner_->SubscriberJson("s1");
  clock_.Set(t0 + 10 * kMsPerDay - 1);
  EXPECT_EQ(Run(), 0);
  clock_.Set(t0 + 10 * kMsPerDay);
  EXPECT_EQ(Run(), 1);  // the last wait ends: completed
  EXPECT_EQ(runner_->SubscriberJson("s1"), R"({"subscriber_id":"s1","journeys":[]})");

  const auto logged = Decisions("s1");
  ASSERT_EQ(logged.size(), 3u);
  const char* channels[] = {"push", "email", "sms"};
  const TimestampMs times[] = {t0, t0 + 2 * kMsPerDay, t0 + 5 * kMsPerDay};
  for (int k = 0; k < 3; ++k) {
    const LoggedDecision& d = logged[static_cast<size_t>(k)];
    EXPECT_EQ(d.channel, channels[k]);
    EXPECT_EQ(d.actions, "L1:Loyalty:Retention") << "the journey's scope (O1 would win without it)";
    EXPECT_EQ(d.id.rfind(DecisionIdPrefix(times[k]) + "-j", 0), 0u) << d.id;
    EXPECT_NE(d.record.find(R"("origin":{"journey":"winback","step":)" + std::to_string(k + 1) +
                            R"(,"steps":3,"origin":"lapsed_buyer"})"),
              std::string::npos)
        << d.record;
    EXPECT_EQ(deliveries_.Calls(d.id), 1);
  }
  EXPECT_EQ(deliveries_.Distinct(), 3u);
  // Each step is in the interaction history: three impressions of L1.
  Profile p;
  ASSERT_TRUE(engine_->ReadProfile("s1", &p).ok());
  EXPECT_EQ(CountImpressions(p, HistoryTarget{TargetScope::kAction, HistoryKey("L1")}, 0), 3);
  const JourneyStats s = runner_->Stats();
  EXPECT_EQ(s.entered, 1);
  EXPECT_EQ(s.steps, 3);
  EXPECT_EQ(s.exits_completed, 1);
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.firings, 4);
  EXPECT_EQ(s.lag_max_ms, 0);
}

TEST_F(JourneyRunnerTest, StopsOnAnAcceptedResponseButNotOnARejection) {
  OpenRunner();
  const TimestampMs t0 = clock_.Now();
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "t"));
  ASSERT_TRUE(*runner_->Enter("s2", "winback", "t"));
  EXPECT_EQ(Run(), 2);
  Respond(Decisions("s1")[0].id, "accepted");
  Respond(Decisions("s2")[0].id, "rejected");
  clock_.Set(t0 + 2 * kMsPerDay);
  EXPECT_EQ(Run(), 2);
  EXPECT_EQ(Decisions("s1").size(), 1u) << "no step after an accepted offer";
  EXPECT_EQ(Decisions("s2").size(), 2u) << "a rejection is not in stop_on: the chain goes on";
  EXPECT_EQ(runner_->Stats().exits_responded, 1);
  EXPECT_EQ(runner_->Stats().active, 1);
  // A conversion in the last wait ends it as responded, not completed.
  clock_.Set(t0 + 5 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  Respond(Decisions("s2")[2].id, "converted");
  clock_.Set(t0 + 10 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  EXPECT_EQ(runner_->Stats().exits_responded, 2);
  EXPECT_EQ(runner_->Stats().exits_completed, 0);
}

TEST_F(JourneyRunnerTest, StopsWhenTheExitConditionHolds) {
  OpenRunner();
  const TimestampMs t0 = clock_.Now();
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "t"));
  EXPECT_EQ(Run(), 1);
  clock_.Set(t0 + kMsPerDay);
  ASSERT_TRUE(engine_
                  ->IngestJson(R"({"event_id":"p1","subscriber_id":"s1","type":"purchase","ts":")" +
                               FormatRfc3339(clock_.Now()) + R"(","product":"x","category":"addon","price_eur":5})")
                  .ok());
  clock_.Set(t0 + 2 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  EXPECT_EQ(Decisions("s1").size(), 1u);
  EXPECT_EQ(runner_->Stats().exits_condition, 1);
  EXPECT_EQ(runner_->Stats().active, 0);
}

TEST_F(JourneyRunnerTest, EntryGateAndOneInstancePerSubscriberAndJourney) {
  OpenRunner();
  EXPECT_FALSE(*runner_->Enter("s5", "winback", "t")) << "prepaid: the entry condition fails";
  EXPECT_EQ(runner_->Stats().entry_refused, 1);
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "t"));
  EXPECT_FALSE(*runner_->Enter("s1", "winback", "t2")) << "already in it";
  EXPECT_TRUE(*runner_->Enter("s1", "inbound", "t2")) << "another journey is fine";
  EXPECT_TRUE(*runner_->Enter("s5", "inbound", "t")) << "no entry condition";
  EXPECT_EQ(runner_->Stats().already_active, 1);
  EXPECT_EQ(runner_->Enter("s1", "nope", "t").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(runner_->Enter("ghost", "winback", "t").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(runner_->Stats().entered, 3);
  EXPECT_EQ(runner_->Stats().active, 3);
  // After the journey ends the subscriber may enter again.
  ASSERT_TRUE(engine_->IngestJson(R"({"event_id":"p1","subscriber_id":"s1","type":"purchase","ts":"2026-03-11T10:00:00Z","product":"x","category":"addon","price_eur":5})").ok());
  EXPECT_EQ(Run(), 3);  // s1/winback ends on its exit condition before step 1
  EXPECT_EQ(runner_->Stats().exits_condition, 1);
  EXPECT_TRUE(*runner_->Enter("s1", "winback", "t3"));
}

TEST_F(JourneyRunnerTest, ADecisionWithoutActionsStillCountsAsAStep) {
  OpenRunner();
  const TimestampMs t0 = clock_.Now();
  ASSERT_TRUE(*runner_->Enter("s1", "inbound", "t"));
  EXPECT_EQ(Run(), 1);  // step 1 on app: no action has an app treatment
  ASSERT_EQ(Decisions("s1").size(), 1u);
  EXPECT_EQ(Decisions("s1")[0].actions, "");
  EXPECT_EQ(deliveries_.Distinct(), 0u) << "nothing to deliver";
  EXPECT_EQ(runner_->Stats().steps, 1);
  clock_.Set(t0 + kMsPerDay);
  EXPECT_EQ(Run(), 1);  // step 2 (push, no wait): then the journey is complete
  EXPECT_EQ(Decisions("s1").size(), 2u);
  EXPECT_EQ(deliveries_.Distinct(), 1u);
  EXPECT_EQ(runner_->Stats().exits_completed, 1);
}

TEST_F(JourneyRunnerTest, MaxDurationRemovedJourneysAndUnknownSubscribers) {
  OpenRunner();
  const TimestampMs t0 = clock_.Now();
  ASSERT_TRUE(*runner_->Enter("s1", "short", "t"));
  EXPECT_EQ(Run(), 1);
  clock_.Set(t0 + 2 * kMsPerDay);
  EXPECT_EQ(Run(), 1);  // short: step 2 at 2d
  clock_.Set(t0 + 4 * kMsPerDay);
  EXPECT_EQ(Run(), 1);  // short: step 3 would be at 4d, past max_duration 3d
  EXPECT_EQ(Decisions("s1").size(), 2u);
  EXPECT_EQ(runner_->Stats().exits_expired, 1);
  // A reload without `inbound`: its instance ends when it comes due.
  ASSERT_TRUE(*runner_->Enter("s2", "inbound", "t"));
  auto journeys = Parse(kTriggers, *service_->decisioning());
  ASSERT_TRUE(journeys.ok());
  journeys->erase(journeys->begin() + 1);
  runner_->SetJourneys(service_->decisioning(), std::move(*journeys));
  // A subscriber unknown to the engine (erased) ends "gone": entered straight into the store.
  JourneyInstance ghost;
  ghost.subscriber_id = "ghost";
  ghost.journey = "winback";
  ghost.due_ms = ghost.step_ms = ghost.started_ms = clock_.Now();
  ASSERT_TRUE(*runner_->store().Enter(ghost));
  EXPECT_EQ(Run(), 2);
  EXPECT_EQ(runner_->Stats().exits_other, 2);
  EXPECT_EQ(runner_->Stats().active, 0);
  EXPECT_EQ(Decisions("s2").size(), 0u);
}

TEST_F(JourneyRunnerTest, RestartBetweenStepsLosesNothing) {
  OpenRunner();
  const TimestampMs t0 = clock_.Now();
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "t"));
  RestartAll();  // entered, step 1 not run yet
  EXPECT_EQ(Run(), 1);
  RestartAll();
  clock_.Set(t0 + 2 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  RestartAll();
  EXPECT_EQ(Run(), 0) << "nothing runs twice";
  clock_.Set(t0 + 5 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  RestartAll();
  clock_.Set(t0 + 10 * kMsPerDay);
  EXPECT_EQ(Run(), 1);
  const auto logged = Decisions("s1");
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_EQ(logged[0].channel, "push");
  EXPECT_EQ(logged[1].channel, "email");
  EXPECT_EQ(logged[2].channel, "sms");
  for (const LoggedDecision& d : logged) EXPECT_EQ(deliveries_.Calls(d.id), 1);
  EXPECT_EQ(runner_->Stats().active, 0);
}

TEST_F(JourneyRunnerTest, BackgroundThreadFollowsAManualClock) {
  OpenRunner();
  runner_->Start();
  const TimestampMs t0 = clock_.Now();
  auto wait_for_steps = [&](int64_t n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (runner_->Stats().steps < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return runner_->Stats().steps;
  };
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "t"));
  EXPECT_EQ(wait_for_steps(1), 1) << "Enter wakes the thread: step 1 at once";
  clock_.Set(t0 + 2 * kMsPerDay);
  EXPECT_EQ(wait_for_steps(2), 2) << "noticed within 100 ms of real time";
  runner_->Stop();
  EXPECT_EQ(Decisions("s1").size(), 2u);
}

// ---- crash safety ------------------------------------------------------------------------------

// A step is killed (SIGKILL, as kill -9) in a child process at each point where a crash could
// duplicate or lose it: after its decision is logged, and after its delivery, before the store
// moves on. The parent reopens everything and runs the step again: one decision per step, the
// same decision id delivered (a deliver call after the crash point is a repeat the idempotent
// outbox absorbs: the test's outbox file keeps each id once), and nothing lost.
class JourneyCrashTest : public JourneyRunnerTest {
 protected:
  // Appends to calls.log on every call and to outbox.log when the id is not there yet (what the
  // real dispatcher's delivery ids do). Files, so that a killed child's calls are counted too.
  Status FileDeliver(std::string_view id) {
    std::ofstream(dir_ / "calls.log", std::ios::app) << id << "\n";
    if (Lines("outbox.log").count(std::string(id)) == 0) {
      std::ofstream(dir_ / "outbox.log", std::ios::app) << id << "\n";
    }
    return Status::Ok();
  }
  std::multiset<std::string> Lines(const char* name) {
    std::multiset<std::string> out;
    std::ifstream in(dir_ / name);
    for (std::string line; std::getline(in, line);) out.insert(line);
    return out;
  }
  void OpenWithHook(JourneyStepPoint point, int step) {
    JourneyRunnerOptions o;
    o.threads = 1;
    o.step_hook = [point, step](JourneyStepPoint p, const JourneyInstance& x, std::string_view) {
      if (p == point && x.step == step) ::kill(::getpid(), SIGKILL);
    };
    auto r = JourneyRunner::Open(JourneyDir(), engine_.get(), service_.get(), &clock_,
                                 [this](std::string_view id) { return FileDeliver(id); }, std::move(o));
    if (!r.ok()) ::_exit(2);
    runner_ = std::move(*r);
    auto journeys = Parse(kTriggers, *service_->decisioning());
    if (!journeys.ok()) ::_exit(3);
    runner_->SetJourneys(service_->decisioning(), std::move(*journeys));
  }
  void CloseAll() {
    runner_.reset();
    service_.reset();
    engine_.reset();
  }
  // Runs the due steps in a child that is killed at (point, step); returns when it is dead.
  void CrashChild(JourneyStepPoint point, int step) {
    CloseAll();  // the child opens its own engine (no threads cross a fork)
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Open();
      OpenWithHook(point, step);
      (void)runner_->RunDue();
      ::_exit(4);  // the hook did not fire
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited with " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    Open();
    OpenWithHook(point, -1);  // the hook never fires in the parent
  }
};

TEST_F(JourneyCrashTest, KilledBetweenDecisionDeliveryAndStoreNothingRepeatsNothingIsLost) {
  const TimestampMs t0 = clock_.Now();
  OpenWithHook(JourneyStepPoint::kDecided, -1);
  ASSERT_TRUE(*runner_->Enter("s1", "winback", "t"));
  ASSERT_TRUE(*runner_->Enter("s2", "winback", "t"));
  // Step 1: killed after s1's decision was logged, before its delivery.
  CrashChild(JourneyStepPoint::kDecided, 0);
  EXPECT_EQ(Decisions("s1").size(), 1u) << "the child decided before it died";
  EXPECT_EQ(Run(), 2);
  // Step 2: killed after the delivery, before the store moved on.
  clock_.Set(t0 + 2 * kMsPerDay);
  CrashChild(JourneyStepPoint::kDelivered, 1);
  EXPECT_EQ(Run(), 2);
  // Step 3: killed after the decision again.
  clock_.Set(t0 + 5 * kMsPerDay);
  CrashChild(JourneyStepPoint::kDecided, 2);
  EXPECT_EQ(Run(), 2);
  clock_.Set(t0 + 10 * kMsPerDay);
  EXPECT_EQ(Run(), 2);  // both complete
  EXPECT_EQ(runner_->Stats().active, 0);

  const auto calls = Lines("calls.log");
  const auto outbox = Lines("outbox.log");
  for (const char* sub : {"s1", "s2"}) {
    const auto logged = Decisions(sub);
    ASSERT_EQ(logged.size(), 3u) << "exactly one decision per step for " << sub;
    std::set<std::string> ids;
    for (size_t k = 0; k < logged.size(); ++k) {
      const LoggedDecision& d = logged[k];
      ids.insert(d.id);
      EXPECT_NE(d.record.find(R"("step":)" + std::to_string(k + 1)), std::string::npos) << d.record;
      EXPECT_EQ(outbox.count(d.id), 1u) << "delivered exactly once: " << d.id;
      // A crash before the delivery: one call. After it: the repeat the outbox absorbed.
      const bool killed_after_delivery = k == 1 && std::string(sub) == "s1";
      EXPECT_EQ(calls.count(d.id), killed_after_delivery ? 2u : 1u) << sub << " step " << k + 1;
    }
    EXPECT_EQ(ids.size(), 3u);
    Profile p;
    ASSERT_TRUE(engine_->ReadProfile(sub, &p).ok());
    EXPECT_EQ(CountImpressions(p, HistoryTarget{TargetScope::kAction, HistoryKey("L1")}, 0), 3)
        << "one impression per step in the interaction history";
  }
}

}  // namespace
}  // namespace kairos
