// Adaptive models inside the decision service, on a real Engine: decisions explore with Thompson
// sampling and log the probability they showed each action; responses teach the models once per
// decision and action; silence becomes `ignored` after the timeout; models survive a restart and
// refuse a corrupt import; the uplift report compares target and control; learning.yaml errors
// point at file:line:column.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/rng.h"
#include "common/time_format.h"
#include "decide/decision_service.h"
#include "decide/service_fixture_test.h"
#include "schema/config.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicies = R"(
channels:
  app: {top_k: 1}
arbitration: {min_priority: 0, value_must_cover_cost: false}
)";

constexpr const char* kCatalog = R"(
issues:
  Sales:
    groups:
      A:
        actions:
          - {id: X1, name: x1, value: 10, propensity: 0.05, treatments: {app: {title: x1}}}
      B:
        actions:
          - {id: X2, name: x2, value: 10, propensity: 0.05, treatments: {app: {title: x2}}}
      C:
        actions:
          - {id: X3, name: x3, value: 10, propensity: 0.05, treatments: {app: {title: x3}}}
)";

constexpr const char* kLearning = R"(
predictors:
  - profile.plan_type
  - agg.data_mb(30d)
models: {kind: naive_bayes, prior_responses: 5}
exploration: {method: thompson, probability_samples: 32, seed: 7}
responses: {timeout: 7d}
uplift: {horizon: 30d, revenue: spend_eur, churn: churned}
)";

rapidjson::Document Parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  return d;
}

class LearningTest : public ServiceFixture {
 protected:
  void SetUp() override {
    CreateWorkspace(
        "kairos-learning-",
        {{"policies.yaml", kPolicies}, {"catalog.yaml", kCatalog}, {"learning.yaml", kLearning}});
    std::string events;
    for (int i = 0; i < 100; ++i) {
      events += R"({"event_id":"m)" + std::to_string(i) + R"(","subscriber_id":"s)" +
                std::to_string(i) +
                R"(","type":"subscriber","ts":"2026-03-01T00:00:00Z","plan_type":")" +
                (i % 2 ? "prepaid" : "postpaid") + "\"}\n";
    }
    ASSERT_TRUE(engine_->IngestNdjson(events).rejected.empty());
  }
  // Decides for `sub` on app; returns the shown action id ("" for none) and its decision id,
  // and the probability the policy showed it with in `*probability`.
  std::pair<std::string, std::string> Decide(const std::string& sub,
                                             double* probability = nullptr) {
    auto out = service_->Decide(R"({"subscriber_id":")" + sub + R"(","channel":"app"})");
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok() || out->decision.actions.empty())
      return {"", out.ok() ? out->decision.decision_id : ""};
    if (probability != nullptr) *probability = out->decision.actions[0].probability;
    return {service_->decisioning()->catalog.actions[out->decision.actions[0].action].id,
            out->decision.decision_id};
  }
  Status Respond(const std::string& decision, const std::string& action, const char* outcome) {
    ResponseRequest r{decision, action, outcome, ""};
    return service_->Respond(r).status();
  }
  int64_t Responses(const std::string& model) {
    auto j = service_->ModelJson(model);
    if (!j.ok()) return -1;
    return Parse(*j)["responses"].GetInt64();
  }
};

TEST_F(LearningTest, ThompsonSamplingLearnsWhichActionCustomersAccept) {
  // True acceptance: X1 3%, X2 30%, X3 8%, same value: the models must find X2.
  const std::map<std::string, double> rate = {{"X1", 0.03}, {"X2", 0.30}, {"X3", 0.08}};
  Rng rng(5);
  int x2_late = 0, late = 0;
  // The logged probabilities make the log usable for off-policy evaluation: the IPS estimate of
  // "always show X" from this exploring log must recover X's true acceptance rate.
  std::map<std::string, double> ips;
  const int n = 900;
  for (int i = 0; i < n; ++i) {
    clock_.Advance(60000);
    double p = 0;
    auto [action, decision] = Decide("s" + std::to_string(i % 100), &p);
    ASSERT_FALSE(action.empty());
    ASSERT_GT(p, 0);
    ASSERT_LE(p, 1);
    if (i >= 600) {
      ++late;
      x2_late += action == "X2";
    }
    const bool accepted = rng.Bernoulli(rate.at(action));
    ips[action] += accepted / p / n;
    ASSERT_TRUE(Respond(decision, action, accepted ? "accepted" : "rejected").ok());
  }
  EXPECT_GT(x2_late, late * 0.7) << x2_late << " of " << late;
  std::printf(
      "IPS from the exploring log: X1 %.3f (true 0.03), X2 %.3f (true 0.30), X3 %.3f (true 0.08)\n",
      ips["X1"], ips["X2"], ips["X3"]);
  EXPECT_NEAR(ips["X2"], 0.30, 0.06);
  EXPECT_GT(ips["X2"], ips["X1"]);
  EXPECT_GT(ips["X2"], ips["X3"]);
  EXPECT_EQ(service_->Stats().model_updates, 900);
  EXPECT_GT(Responses("X2/app"), Responses("X1/app"));
  const auto models = Parse(service_->ModelsJson());
  ASSERT_EQ(models["models"].Size(), 3u);
  // The decision record logs the probability the policy showed the action with: strictly
  // between 0 and 1 while it explores, and the predictors the decision read.
  auto [action, decision] = Decide("s1");
  auto record = service_->DecisionRecord(decision);
  ASSERT_TRUE(record.ok());
  const auto doc = Parse(*record);
  const double p = doc["actions"][0]["probability"].GetDouble();
  EXPECT_GT(p, 0);
  EXPECT_LE(p, 1);
  EXPECT_STREQ(doc["predictors"]["profile.plan_type"].GetString(), "prepaid");
  EXPECT_TRUE(doc["predictors"]["agg.data_mb(30d)"].IsNumber());
}

TEST_F(LearningTest, OneDecisionAndActionTeachOnceAndUnknownsAreRefused) {
  auto [action, decision] = Decide("s3");
  ASSERT_FALSE(action.empty());
  ASSERT_TRUE(Respond(decision, action, "accepted").ok());
  ASSERT_TRUE(Respond(decision, action, "converted").ok());  // the same positive, told twice
  ASSERT_TRUE(Respond(decision, action, "accepted").ok());   // a duplicate
  EXPECT_EQ(service_->Stats().model_updates, 1);
  EXPECT_EQ(Responses(action + "/app"), 1);
  // Unknown decision, an action it did not show: refused, nothing learned.
  EXPECT_EQ(Respond("d00000000000-0", action, "accepted").code(), ErrorCode::kNotFound);
  EXPECT_EQ(Respond(decision, "NOPE", "accepted").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(service_->Stats().model_updates, 1);
  EXPECT_EQ(service_->ModelJson("NOPE/app").status().code(), ErrorCode::kNotFound);
}

TEST_F(LearningTest, SilenceBecomesIgnoredAfterTheTimeout) {
  auto [a1, d1] = Decide("s1");
  auto [a2, d2] = Decide("s2");
  ASSERT_TRUE(Respond(d2, a2, "accepted").ok());
  clock_.Advance(6 * 86400000LL);
  EXPECT_EQ(*service_->SweepTimeouts(), 0);  // not yet
  clock_.Advance(2 * 86400000LL);
  EXPECT_EQ(*service_->SweepTimeouts(), 1);  // only the unanswered one
  EXPECT_EQ(*service_->SweepTimeouts(), 0);
  EXPECT_EQ(service_->Stats().timeouts, 1);
  EXPECT_EQ(service_->Stats().model_updates, 2);
  // The ignored response is in the history like any other.
  Profile p;
  ASSERT_TRUE(engine_->ReadProfile("s1", &p, nullptr).ok());
  EXPECT_EQ(p.interactions.back().kind, InteractionKind::kIgnored);
}

TEST_F(LearningTest, ModelsSurviveARestartAndRefuseACorruptImport) {
  Rng rng(2);
  for (int i = 0; i < 60; ++i) {
    auto [action, decision] = Decide("s" + std::to_string(i));
    ASSERT_TRUE(Respond(decision, action, rng.Bernoulli(0.3) ? "accepted" : "rejected").ok());
  }
  // (An export re-derives every model's bins from its counts, as the saved file will have them.)
  const std::string exported = service_->ExportModels();
  const std::string before = service_->ModelsJson();
  Restart();
  EXPECT_EQ(service_->ModelsJson(), before);
  std::string broken = exported;
  broken[broken.size() / 2] ^= 1;
  const Status s = service_->ImportModels(broken);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(service_->ModelsJson(), before);
  EXPECT_EQ(service_->ImportModels("not a snapshot").code(), ErrorCode::kCorruption);
  EXPECT_TRUE(service_->ImportModels(exported).ok());
  EXPECT_EQ(service_->ModelsJson(), before);
  // Learning turned off for a while (no learning.yaml): the model file is left alone, and the
  // models are back when learning.yaml is.
  std::filesystem::remove(dir_ / "learning.yaml");
  Restart();
  EXPECT_EQ(service_->ImportModels(exported).code(), ErrorCode::kFailedPrecondition);
  Restart();
  Write("learning.yaml", kLearning);
  Restart();
  EXPECT_EQ(service_->ModelsJson(), before);
}

TEST_F(LearningTest, ANewActionStartsFromItsGroupsResponseRate) {
  std::string learning = kLearning;
  learning.replace(learning.find("prior_responses: 5}"), 19,
                   "prior_responses: 5, cold_start: group}");
  Write("learning.yaml", learning);
  ASSERT_TRUE(service_->Reload(dir_.string()).ok());
  // Group A's X1 is accepted every time it is shown.
  int x1 = 0;
  for (int i = 0; i < 2000 && x1 < 60; ++i) {
    clock_.Advance(60000);
    auto [action, decision] = Decide("s" + std::to_string(i % 100));
    if (action != "X1") continue;
    ++x1;
    ASSERT_TRUE(Respond(decision, action, "accepted").ok());
  }
  ASSERT_EQ(x1, 60);
  // X4 joins group A (its own prior: 5%); X5 joins a group with no responses.
  std::string catalog = kCatalog;
  catalog.replace(catalog.find("      B:"), 0,
                  "          - {id: X4, name: x4, value: 10, propensity: 0.05, treatments: {app: "
                  "{title: x4}}}\n"
                  "      D:\n        actions:\n"
                  "          - {id: X5, name: x5, value: 10, propensity: 0.05, treatments: {app: "
                  "{title: x5}}}\n");
  Write("catalog.yaml", catalog);
  ASSERT_TRUE(service_->Reload(dir_.string()).ok());
  auto out =
      service_->Decide(R"({"subscriber_id":"s1","channel":"app","explain":true,"dry_run":true})");
  ASSERT_TRUE(out.ok());
  std::map<std::string, double> model_p;
  for (const CandidateTrace& t : out->decision.candidates) {
    model_p[service_->decisioning()->catalog.actions[t.action].id] = t.model_propensity;
  }
  EXPECT_GT(model_p["X4"], 0.8) << "X4 starts from group A's rate";
  EXPECT_NEAR(model_p["X5"], 0.05, 1e-6) << "X5's group has no evidence: its own prior";
}

TEST_F(LearningTest, UpliftComparesTargetWithControl) {
  Write("policies.yaml", std::string(kPolicies) + "control_group: {share: 0.5, salt: uplift}\n");
  ASSERT_TRUE(service_->Reload(dir_.string()).ok());
  const TimestampMs since = clock_.Now();
  int targeted = 0, accepted = 0;
  for (int i = 0; i < 100; ++i) {
    auto [action, decision] = Decide("s" + std::to_string(i));
    if (action.empty()) continue;  // control group
    ++targeted;
    if (i % 3 == 0) {
      ASSERT_TRUE(Respond(decision, action, "accepted").ok());
      ++accepted;
    }
  }
  ASSERT_GT(targeted, 20);
  ASSERT_LT(targeted, 80);
  auto report = service_->UpliftJson(since);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const auto doc = Parse(*report);
  const auto& overall = doc["overall"];
  EXPECT_EQ(overall["target"]["n"].GetInt(), targeted);
  EXPECT_EQ(overall["control"]["n"].GetInt(), 100 - targeted);
  EXPECT_NEAR(overall["target"]["acceptance"].GetDouble(), double(accepted) / targeted, 1e-6);
  EXPECT_EQ(overall["control"]["acceptance"].GetDouble(), 0);
  const auto& up = overall["uplift"]["acceptance"];
  EXPECT_NEAR(up["value"].GetDouble(), double(accepted) / targeted, 1e-6);
  EXPECT_LT(up["ci95"][0].GetDouble(), up["value"].GetDouble());
  EXPECT_TRUE(overall["uplift"]["revenue"].IsObject());
  EXPECT_EQ(doc["actions"].Size(), 3u);
}

TEST(LearningConfig, ErrorsPointAtTheFile) {
  auto parsed = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
  ASSERT_TRUE(parsed.ok());
  const std::shared_ptr<const Schema> schema = *parsed;
  struct Case {
    const char* yaml;
    const char* want;
  } cases[] = {
      {"predictors: [profile.nope]\n", "learning.yaml:1:14: predictor: unknown attribute"},
      {"predictors:\n  - action.value\n",
       "learning.yaml:2:5: predictor action.value reads action.value"},
      {"predictors: [profile.plan_type, profile.plan_type]\n",
       "learning.yaml:1:33: duplicate predictor"},
      {"models: {kind: forest}\n",
       "learning.yaml:1:16: models.kind: unknown model kind \"forest\""},
      {"models: {positive: [accepted], negative: [accepted]}\n", "both positive and negative"},
      {"models: {kinds: {NOPE: naive_bayes}}\n",
       "learning.yaml:1:18: models.kinds: unknown action NOPE"},
      {"exploration: {method: greedy}\n", "unknown method \"greedy\""},
      {"models: {cold_start: random}\n",
       "learning.yaml:1:22: models.cold_start must be prior or group"},
      {"exploration: {epsilon: 2}\n", "exploration.epsilon must be between 0 and 1"},
      {"uplift: {revenue: churned}\n", "must be a windowed sum or count"},
      {"uplift: {churn: spend_eur}\n", "must be a last_time aggregate"},
      {"snapshot_interval: 10ms\n", "snapshot_interval must be at least 1s"},
      {"predicters: []\n", "learning.yaml:1:1: unknown key"},
      {"predictors: [\n", "learning.yaml:"},
  };
  for (const Case& c : cases) {
    auto d = Decisioning::Parse(kPolicies, kCatalog, schema, c.yaml);
    ASSERT_FALSE(d.ok()) << c.yaml;
    EXPECT_NE(d.status().message().find(c.want), std::string::npos)
        << c.yaml << " → " << d.status().message();
  }
  auto ok = Decisioning::Parse(kPolicies, kCatalog, schema, kLearning);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_TRUE((*ok)->learning.enabled);
  EXPECT_EQ((*ok)->learning.predictors.size(), 2u);
  EXPECT_FALSE((*ok)->learning.predictors[0].numeric);
}

}  // namespace
}  // namespace kairos
