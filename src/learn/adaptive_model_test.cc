#include "learn/adaptive_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "common/crc32c.h"
#include "common/rng.h"
#include "learn/exploration.h"
#include "learn/model_store.h"

namespace kairos::learn {
namespace {

double Sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// AUC of scores against labels (ties count half).
double Auc(const std::vector<double>& score, const std::vector<int>& label) {
  std::vector<size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  double pos = 0, neg = 0, area = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    double gp = 0, gn = 0;
    while (j < idx.size() && score[idx[j]] == score[idx[i]]) {
      (label[idx[j]] ? gp : gn) += 1;
      ++j;
    }
    area += gp * (neg + 0.5 * gn);
    pos += gp;
    neg += gn;
    i = j;
  }
  return area / (pos * neg);
}

// A synthetic world with known response probabilities: a usage figure (log-normal in a latent
// u that drives the response), a plan with its own effect, a pure-noise number, and 10% of the
// usage figures missing.
struct Example {
  std::vector<PredictorValue> values;
  double p = 0;
};
const std::vector<PredictorSpec> kSpecs = {
    {"agg.data_mb(30d)", true}, {"profile.plan_id", false}, {"profile.noise", true}};

Example Draw(Rng& rng) {
  static const char* kPlans[] = {"S", "M", "L", "XL"};
  static const double kEffect[] = {-0.7, 0.0, 0.5, 0.9};
  Example e;
  const double u = rng.Normal();
  const int plan = static_cast<int>(rng.Below(4));
  e.p = Sigmoid(-2.6 + 1.1 * u + kEffect[plan]);
  PredictorValue usage, plan_v, noise;
  if (!rng.Bernoulli(0.1)) usage = {false, true, 2000 * std::exp(0.8 * u), ""};
  plan_v = {false, false, 0, kPlans[plan]};
  noise = {false, true, rng.Normal(100, 30), ""};
  e.values = {usage, plan_v, noise};
  return e;
}

// Teaches `models` (in turn) `n` responses drawn from the synthetic world.
void Teach(ModelStore& store, const std::vector<ModelStore::Entry*>& models, int n, uint64_t seed) {
  Rng rng(seed);
  EncodedPredictors enc;
  auto lock = store.Lock();
  for (int i = 0; i < n; ++i) {
    Example e = Draw(rng);
    store.Encode(e.values, &enc);
    store.Update(models[static_cast<size_t>(i) % models.size()], enc, rng.Bernoulli(e.p));
  }
}

void TrainAndCheck(ModelKind kind) {
  ModelStore store(kSpecs);
  ModelSettings s;
  s.kind = kind;
  s.prior_propensity = 0.05;
  ModelStore::Entry* m = store.Bind("DATA_5GB/sms", s);
  Rng rng(7);
  EncodedPredictors enc;
  auto lock = store.Lock();
  for (int i = 0; i < 40000; ++i) {
    Example e = Draw(rng);
    store.Encode(e.values, &enc);
    store.Update(m, enc, rng.Bernoulli(e.p));
  }
  std::vector<double> model_scores, true_scores;
  std::vector<int> labels;
  double predicted = 0, observed = 0;
  for (int i = 0; i < 20000; ++i) {
    Example e = Draw(rng);
    store.Encode(e.values, &enc);
    const double p = store.Score(m, enc).propensity();
    const int y = rng.Bernoulli(e.p);
    model_scores.push_back(p);
    true_scores.push_back(e.p);
    labels.push_back(y);
    predicted += p;
    observed += y;
  }
  const double achievable = Auc(true_scores, labels);
  const double got = Auc(model_scores, labels);
  SCOPED_TRACE(ModelKindName(kind));
  std::printf("%s: held-out AUC %.4f, achievable %.4f, predicted/observed %.3f\n",
              ModelKindName(kind), got, achievable, predicted / observed);
  EXPECT_GT(achievable, 0.7);
  EXPECT_GT(got, achievable - 0.025) << "achievable " << achievable;
  // Calibrated on average (within 10% of the observed rate).
  EXPECT_NEAR(predicted / observed, 1.0, 0.1);

  auto health = store.HealthOf("DATA_5GB/sms");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->health.responses, 40000);
  EXPECT_GT(health->health.positives, 2000);
  // Prequential AUC sees the early, unlearned responses too, so it is a little lower.
  EXPECT_GT(health->health.auc, achievable - 0.05);
  // Predictors: usage first, plan second, the noise left out.
  ASSERT_EQ(health->health.predictors.size(), 3u);
  EXPECT_EQ(health->health.predictors[0].name, "agg.data_mb(30d)");
  EXPECT_EQ(health->health.predictors[1].name, "profile.plan_id");
  EXPECT_TRUE(health->health.predictors[0].active);
  EXPECT_FALSE(health->health.predictors[2].active) << health->health.predictors[2].auc;
  EXPECT_GE(health->health.predictors[0].bins, 5);
  EXPECT_TRUE(health->health.flags.empty()) << health->health.flags[0];
  // Calibration buckets: observed rises with predicted.
  const auto& cal = health->health.calibration;
  ASSERT_GE(cal.size(), 5u);
  EXPECT_LT(cal.front().observed, cal.back().observed);
}

TEST(AdaptiveModel, NaiveBayesConvergesToTheAchievableAuc) {
  TrainAndCheck(ModelKind::kNaiveBayes);
}
TEST(AdaptiveModel, BayesLogisticConvergesToTheAchievableAuc) {
  TrainAndCheck(ModelKind::kBayesLogistic);
}

TEST(AdaptiveModel, ANewModelGivesItsPriorAndIsUncertain) {
  for (ModelKind kind : {ModelKind::kNaiveBayes, ModelKind::kBayesLogistic}) {
    ModelStore store(kSpecs);
    ModelSettings s;
    s.kind = kind;
    s.prior_propensity = 0.08;
    ModelStore::Entry* m = store.Bind("X/app", s);
    auto lock = store.Lock();
    EncodedPredictors enc;
    Rng rng(1);
    store.Encode(Draw(rng).values, &enc);
    const Estimate e = store.Score(m, enc);
    EXPECT_NEAR(e.propensity(), 0.08, 1e-9);
    EXPECT_GT(e.sd, 0.5);
    auto h = store.HealthOf("X/app");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->health.auc, 0.5);
    EXPECT_EQ(h->health.flags.front(), "fewer than 200 positives");
  }
}

TEST(AdaptiveModel, NonFiniteAndWrongTypeValuesAreMissing) {
  ModelStore store(kSpecs);
  auto lock = store.Lock();
  EncodedPredictors enc;
  const double nan = std::nan("");
  std::vector<PredictorValue> v = {
      {false, true, nan, ""}, {false, true, 3, ""}, {false, true, INFINITY, ""}};
  store.Encode(v, &enc);
  EXPECT_EQ(enc.code, (std::vector<int32_t>{kMissingCode, kMissingCode, kMissingCode}));
  v = {{false, false, 0, "12"}, {false, false, 0, "L"}, {false, true, -1e300, ""}};
  store.Encode(v, &enc);
  EXPECT_EQ(enc.code[0], kMissingCode);  // a string where a number was declared
  EXPECT_EQ(enc.code[1], 1);
  EXPECT_EQ(enc.code[2], 0);  // clamped to the lowest micro-bin
  EXPECT_EQ(NumericCode(0), kNumericHalfRange);
  EXPECT_LT(NumericCode(-0.1), NumericCode(0.1));
}

TEST(AdaptiveModel, SymbolDictionaryOverflowsIntoOneCode) {
  ModelStore store({{"profile.device", false}});
  auto lock = store.Lock();
  EncodedPredictors enc;
  for (int i = 0; i < kMaxSymbols + 10; ++i) {
    std::vector<PredictorValue> v = {{false, false, 0, "device-" + std::to_string(i)}};
    store.Encode(v, &enc);
    EXPECT_EQ(enc.code[0], i < kMaxSymbols ? i + 1 : 0);
  }
}

TEST(ModelStore, SnapshotRoundTripGivesIdenticalScores) {
  ModelStore store(kSpecs);
  ModelSettings nb, lr;
  lr.kind = ModelKind::kBayesLogistic;
  ModelStore::Entry* a = store.Bind("A/sms", nb);
  ModelStore::Entry* b = store.Bind("B/app", lr);
  Teach(store, {b, a}, 3000, 3);
  Rng rng(3);
  EncodedPredictors enc;
  const std::string snap = store.Snapshot(1234);
  ModelStore copy(kSpecs);
  ModelStore::Entry* ca = copy.Bind("A/sms", nb);
  auto cursor = copy.Restore(snap);
  ASSERT_TRUE(cursor.ok()) << cursor.status().message();
  EXPECT_EQ(*cursor, 1234);
  auto lock1 = store.Lock();
  auto lock2 = copy.Lock();
  EncodedPredictors enc2;
  for (int i = 0; i < 50; ++i) {
    Example e = Draw(rng);
    store.Encode(e.values, &enc);
    copy.Encode(e.values, &enc2);
    EXPECT_EQ(enc.code, enc2.code);
    EXPECT_DOUBLE_EQ(store.Score(a, enc).logit, copy.Score(ca, enc2).logit);
  }
  EXPECT_EQ(copy.Health().size(), 2u);  // B came with the snapshot
  EXPECT_EQ(copy.HealthOf("B/app")->health.kind, ModelKind::kBayesLogistic);
}

TEST(ModelStore, CorruptSnapshotsAreRefusedAndChangeNothing) {
  ModelStore store(kSpecs);
  ModelStore::Entry* a = store.Bind("A/sms", {});
  Teach(store, {a}, 500, 5);
  const std::string good = store.Snapshot();
  const int64_t before = store.HealthOf("A/sms")->health.responses;
  std::vector<std::string> bad = {"", "KMDL", good.substr(0, good.size() / 2),
                                  "XXXX" + good.substr(4)};
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x10;
  bad.push_back(flipped);
  // A snapshot with the right checksum but garbage inside.
  std::string garbage = "KMDL";
  garbage.push_back(1);
  garbage += std::string(40, '\xff');
  uint32_t crc = Crc32c(0, garbage.data(), garbage.size());
  garbage.append(reinterpret_cast<const char*>(&crc), 4);
  bad.push_back(garbage);
  for (const std::string& b : bad) {
    auto r = store.Restore(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
    EXPECT_NE(r.status().message().find("model snapshot"), std::string::npos);
    EXPECT_EQ(store.HealthOf("A/sms")->health.responses, before);
  }
  EXPECT_TRUE(ModelStore::Validate(good).ok());
}

TEST(ModelStore, ReconfiguringPredictorsKeepsWhatWasLearnedByName) {
  ModelStore store(kSpecs);
  ModelStore::Entry* a = store.Bind("A/sms", {});
  Teach(store, {a}, 5000, 9);
  EncodedPredictors enc;
  const auto before = store.HealthOf("A/sms")->health;
  // Drop the noise, add a new one, swap the order.
  store.Configure({{"profile.plan_id", false}, {"agg.data_mb(30d)", true}, {"ctx.page", false}});
  const auto after = store.HealthOf("A/sms")->health;
  EXPECT_EQ(after.responses, before.responses);
  ASSERT_EQ(after.predictors.size(), 3u);
  EXPECT_EQ(after.predictors[0].name, "agg.data_mb(30d)");
  // Bins are re-derived from the same counts (the running model had last derived them a few
  // responses earlier).
  EXPECT_NEAR(after.predictors[0].auc, before.predictors[0].auc, 0.005);
  EXPECT_EQ(after.predictors[2].name, "ctx.page");
  EXPECT_EQ(after.predictors[2].bins, 0);
  // The plan dictionary followed its predictor: "S" keeps its code.
  auto lock = store.Lock();
  std::vector<PredictorValue> v = {
      {false, false, 0, "S"}, {true, true, 0, ""}, {true, false, 0, ""}};
  store.Encode(v, &enc);
  EXPECT_GE(enc.code[0], 1);
  EXPECT_LE(enc.code[0], 4);
}

// Thompson sampling on a five-armed Bernoulli bandit (intercept-only models): finds the best
// arm, and its regret stays far below that of choosing uniformly.
TEST(Exploration, ThompsonSamplingFindsTheBestArmWithBoundedRegret) {
  const std::vector<double> rates = {0.02, 0.03, 0.05, 0.04, 0.01};
  const double best = 0.05;
  ModelStore store;
  std::vector<ModelStore::Entry*> arms;
  for (size_t k = 0; k < rates.size(); ++k) {
    ModelSettings s;
    s.prior_propensity = 0.02;
    s.prior_responses = 2;
    arms.push_back(store.Bind("ARM" + std::to_string(k) + "/app", s));
  }
  Rng rng(11), env(12);
  EncodedPredictors none;
  auto lock = store.Lock();
  const int rounds = 20000;
  double regret = 0;
  int best_late = 0;
  for (int t = 0; t < rounds; ++t) {
    size_t chosen = 0;
    double top = -1;
    for (size_t k = 0; k < arms.size(); ++k) {
      const double draw = ThompsonDraw(store.Score(arms[k], none), rng);
      if (draw > top) top = draw, chosen = k;
    }
    regret += best - rates[chosen];
    if (t >= rounds - 5000 && chosen == 2) ++best_late;
    store.Update(arms[chosen], none, env.Bernoulli(rates[chosen]));
  }
  const double uniform_regret = rounds * (best - 0.03);
  std::printf("Thompson: regret %.1f (uniform %.1f), best arm %d of the last 5000\n", regret,
              uniform_regret, best_late);
  EXPECT_GT(best_late, 5000 * 0.7);
  EXPECT_LT(regret, 0.3 * uniform_regret) << "regret " << regret;
}

}  // namespace
}  // namespace kairos::learn
