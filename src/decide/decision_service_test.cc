// DecisionService against a real Engine on a temporary store: concurrency (caps are never
// exceeded), durability of the decision log and of impressions across a restart, volume counts
// rebuilt at start-up, reload that keeps the running catalog on error.
#include "decide/decision_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/hash.h"
#include "common/time_format.h"
#include "decide/history.h"
#include "decide/service_fixture_test.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicies = R"(
channels:
  sms: {outbound: true, consent: sms, top_k: 1}
  app: {top_k: 3}
consent_attribute: consents
caps:
  - {channel: sms, max: 2, window: 7d}
  - {channel: all, max: 5, window: 7d}
arbitration: {min_priority: 0}
)";

constexpr const char* kCatalog = R"(
issues:
  Sales:
    groups:
      A:
        actions:
          - {id: A1, name: a1, value: 5, propensity: 0.2, treatments: {sms: {text: a1}, app: {title: a1}}}
          - {id: A2, name: a2, value: 4, propensity: 0.2, treatments: {sms: {text: a2}, app: {title: a2}}}
      B:
        actions:
          - {id: B1, name: b1, value: 3, propensity: 0.2, daily_volume: {app: 7}, treatments: {app: {title: b1}}}
      C:
        actions:
          - {id: C1, name: c1, value: 2, propensity: 0.2, treatments: {app: {title: c1}, sms: {text: c1}}}
)";

class DecisionServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    CreateWorkspace("kairos-decision-service-", {{"policies.yaml", kPolicies}, {"catalog.yaml", kCatalog}});
    std::string events;
    for (int i = 0; i < 20; ++i) {
      events += R"({"event_id":"m)" + std::to_string(i) + R"(","subscriber_id":"s)" + std::to_string(i) +
                R"(","type":"subscriber","ts":"2026-03-01T00:00:00Z","plan_type":"prepaid","consents":{"sms":true}})" "\n";
    }
    ASSERT_TRUE(engine_->IngestNdjson(events).rejected.empty());
  }
  static std::string Request(const std::string& sub, const char* channel) {
    return R"({"subscriber_id":")" + sub + R"(","channel":")" + channel + R"("})";
  }
};

TEST_F(DecisionServiceTest, ConcurrentDecisionsNeverExceedACap) {
  // 4 threads × 25 decisions (sms and app) for the same 10 subscribers: the sms cap (2 a week)
  // and the overall cap (5 a week) must hold for each of them, and the daily volume of B1 (7 a
  // day on app) across all of them (each subscriber's first app decision wants B1: demand 10).
  std::atomic<int> sms_shown{0}, b1_shown{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string sub = "s" + std::to_string(i % 10);
        auto out = service_->Decide(Request(sub, (i + t) % 2 ? "sms" : "app"));
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        for (const ChosenAction& c : out->decision.actions) {
          const std::string& id = service_->decisioning()->catalog.actions[c.action].id;
          if (out->decision.channel == 0) ++sms_shown;
          if (id == "B1") ++b1_shown;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(sms_shown.load(), 10 * 2);
  EXPECT_EQ(b1_shown.load(), 7) << "daily volume of B1 is 7 and there was demand for more";
  // Every profile agrees: at most 2 SMS and 5 impressions overall in the week.
  for (int i = 0; i < 10; ++i) {
    Profile p;
    ASSERT_TRUE(engine_->ReadProfile("s" + std::to_string(i), &p).ok());
    EXPECT_LE(CountChannelImpressions(p, HistoryKey("sms"), 0), 2);
    EXPECT_LE(CountChannelImpressions(p, 0, 0), 5);
  }
}

TEST_F(DecisionServiceTest, DecisionsAndVolumesSurviveARestart) {
  auto first = service_->Decide(Request("s1", "app"));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->decision.actions.size(), 3u);
  int b1 = 0;
  for (int i = 2; i < 20; ++i) {
    auto out = service_->Decide(Request("s" + std::to_string(i), "app"));
    ASSERT_TRUE(out.ok());
    for (const ChosenAction& c : out->decision.actions) b1 += service_->decisioning()->catalog.actions[c.action].id == "B1";
  }
  Restart();
  // The log, the impressions and today's volume of B1 are back.
  auto record = service_->DecisionRecord(first->decision.decision_id);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_NE(record->find("\"A1\""), std::string::npos);
  Profile p;
  ASSERT_TRUE(engine_->ReadProfile("s1", &p).ok());
  EXPECT_EQ(CountChannelImpressions(p, HistoryKey("app"), 0), 3);
  auto again = service_->Decide(R"({"subscriber_id":"s0","channel":"app","explain":true})");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(b1 + 1, 7) << "B1's daily volume of 7 was used up before the restart";
  EXPECT_NE(again->json.find("\"stage\":\"volume\""), std::string::npos) << again->json;
  // A response to the decision made before the restart is recorded once.
  const std::string response = R"({"decision_id":")" + first->decision.decision_id + R"(","action_id":"A1","outcome":"accepted"})";
  auto r1 = service_->Respond(response);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_TRUE(r1->recorded);
  auto r2 = service_->Respond(response);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->recorded);
  // The replay of the logged decision on its snapshot gives the same actions.
  auto replay = service_->Replay(first->decision.decision_id);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_NE(replay->find("\"identical\":true"), std::string::npos) << *replay;
}

TEST_F(DecisionServiceTest, BadRequestsAreRefusedAndChangeNothing) {
  struct Case {
    std::string body;
    ErrorCode code;
    std::string field;
  } cases[] = {
      {"", ErrorCode::kInvalidArgument, ""},
      {"{", ErrorCode::kInvalidArgument, ""},
      {"[]", ErrorCode::kInvalidArgument, ""},
      {R"({"subscriber_id":"s1","channel":"app"} trailing)", ErrorCode::kInvalidArgument, ""},
      {"{\"subscriber_id\":\"s\xff\",\"channel\":\"app\"}", ErrorCode::kInvalidArgument, ""},
      {R"({"channel":"app"})", ErrorCode::kInvalidArgument, "/subscriber_id"},
      {R"({"subscriber_id":"s1"})", ErrorCode::kInvalidArgument, "/channel"},
      {R"({"subscriber_id":"s1","channel":"fax"})", ErrorCode::kInvalidArgument, "/channel"},
      {R"({"subscriber_id":7,"channel":"app"})", ErrorCode::kInvalidArgument, "/subscriber_id"},
      {R"({"subscriber_id":"s1","channel":"app","limit":0})", ErrorCode::kInvalidArgument, "/limit"},
      {R"({"subscriber_id":"s1","channel":"app","limit":"3"})", ErrorCode::kInvalidArgument, "/limit"},
      {R"({"subscriber_id":"s1","channel":"app","explain":"yes"})", ErrorCode::kInvalidArgument, "/explain"},
      {R"({"subscriber_id":"s1","channel":"app","context":{"page":"x"}})", ErrorCode::kInvalidArgument, "/context/page"},
      {R"({"subscriber_id":"s1","channel":"app","context":[]})", ErrorCode::kInvalidArgument, "/context"},
      {R"({"subscriber_id":"s1","channel":"app","colour":"red"})", ErrorCode::kInvalidArgument, "/colour"},
      {R"({"subscriber_id":"nobody","channel":"app"})", ErrorCode::kNotFound, ""},
  };
  for (const Case& c : cases) {
    auto out = service_->Decide(c.body);
    ASSERT_FALSE(out.ok()) << c.body;
    EXPECT_EQ(out.status().code(), c.code) << c.body << ": " << out.status().ToString();
    EXPECT_EQ(out.status().field(), c.field) << c.body;
  }
  auto fax = service_->Decide(R"({"subscriber_id":"s1","channel":"fax"})");
  EXPECT_NE(fax.status().message().find("channels: sms, app"), std::string::npos) << fax.status().message();
  Profile p;
  ASSERT_TRUE(engine_->ReadProfile("s1", &p).ok());
  EXPECT_TRUE(p.interactions.empty());

  auto ok = service_->Decide(Request("s1", "sms"));
  ASSERT_TRUE(ok.ok());
  const std::string id = ok->decision.decision_id;
  struct RCase {
    std::string body;
    ErrorCode code;
    std::string field;
  } responses[] = {
      {R"({"decision_id":"d000000000000-00000000","action_id":"A1","outcome":"accepted"})", ErrorCode::kNotFound, ""},
      {R"({"decision_id":")" + id + R"(","action_id":"C1","outcome":"accepted"})", ErrorCode::kInvalidArgument, "/action_id"},
      {R"({"decision_id":")" + id + R"(","action_id":"A1","outcome":"loved"})", ErrorCode::kInvalidArgument, "/outcome"},
      {R"({"decision_id":")" + id + R"(","action_id":"A1","outcome":"accepted","subscriber_id":"s2"})",
       ErrorCode::kInvalidArgument, "/decision_id"},
      {R"({"decision_id":")" + id + R"(","action_id":"A1"})", ErrorCode::kInvalidArgument, "/outcome"},
  };
  for (const RCase& c : responses) {
    auto out = service_->Respond(c.body);
    ASSERT_FALSE(out.ok()) << c.body;
    EXPECT_EQ(out.status().code(), c.code) << c.body << ": " << out.status().ToString();
    EXPECT_EQ(out.status().field(), c.field) << c.body;
  }
  ASSERT_TRUE(engine_->ReadProfile("s1", &p).ok());
  EXPECT_EQ(p.interactions.size(), 1u) << "only the impression; no response was recorded";
}

TEST_F(DecisionServiceTest, ReloadKeepsTheRunningCatalogOnError) {
  const std::string before = service_->decisioning()->version;
  Write("catalog.yaml", std::string(kCatalog) + "          - {id: A1, name: dup, value: 1, treatments: {app: {t: x}}}\n");
  Status s = service_->Reload(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("catalog.yaml:"), std::string::npos) << s.message();
  EXPECT_EQ(service_->decisioning()->version, before);
  EXPECT_TRUE(service_->Decide(Request("s1", "app")).ok());
  Write("catalog.yaml", std::string(kCatalog) + "          - {id: C2, name: c2, value: 1, treatments: {app: {t: x}}}\n");
  ASSERT_TRUE(service_->Reload(dir_.string()).ok());
  EXPECT_NE(service_->decisioning()->version, before);
  EXPECT_EQ(service_->decisioning()->catalog.actions.size(), 5u);
  EXPECT_EQ(service_->Stats().failed_reloads, 1);
  EXPECT_EQ(service_->Stats().reloads, 1);
}

}  // namespace
}  // namespace kairos
