// Unit tests of the decision pipeline's parts; whole decisions are covered by the scenario files
// in tests/decisions/.
#include <gtest/gtest.h>

#include <random>

#include "common/base64.h"
#include "common/hash.h"
#include "decide/control_group.h"
#include "decide/exploration.h"
#include "decide/history.h"
#include "decide/volume_ledger.h"

namespace kairos {
namespace {

Interaction At(TimestampMs ts, const char* action, InteractionKind kind, const char* channel = "sms",
               const char* group = "G") {
  Interaction x;
  x.ts = ts;
  x.action = HistoryKey(action);
  x.group = HistoryKey(group);
  x.issue = HistoryKey("I");
  x.channel = HistoryKey(channel);
  x.kind = kind;
  return x;
}

TEST(History, CountsByTargetWindowAndKind) {
  Profile p;
  p.interactions = {At(100, "A", InteractionKind::kImpression), At(200, "B", InteractionKind::kImpression, "email"),
                    At(300, "A", InteractionKind::kAccepted), At(400, "A", InteractionKind::kImpression, "app"),
                    At(500, "A", InteractionKind::kIgnored)};
  const HistoryTarget a{TargetScope::kAction, HistoryKey("A")};
  const HistoryTarget g{TargetScope::kGroup, HistoryKey("G")};
  EXPECT_EQ(CountImpressions(p, a, 0), 2);
  EXPECT_EQ(CountImpressions(p, a, 101), 1);
  EXPECT_EQ(CountImpressions(p, g, 0), 3);
  EXPECT_EQ(CountResponses(p, a, 0), 1) << "ignored is not a response";
  EXPECT_EQ(CountOutcomes(p, a, Outcome::kIgnored, 0), 1);
  EXPECT_EQ(LastImpression(p, a), 400);
  EXPECT_EQ(LastResponse(p, a), 300);
  EXPECT_EQ(LastResponse(p, {TargetScope::kAction, HistoryKey("B")}), -1);
  EXPECT_EQ(CountChannelImpressions(p, HistoryKey("sms"), 0), 1);
  EXPECT_EQ(CountChannelImpressions(p, 0, 0), 3);
  // Suppression counts impressions after the latest real response only.
  const UnansweredRun run = UnansweredImpressions(p, a, 0);
  EXPECT_EQ(run.impressions, 1);
  EXPECT_EQ(run.last, 400);
  EXPECT_EQ(UnansweredImpressions(p, g, 0).impressions, 1);
}

TEST(ControlGroup, ShareIsRespectedAndMembershipIsStableWithinAPeriod) {
  ControlGroupConfig c;
  c.share = 0.1;
  c.period_ms = 30LL * 86400000;
  const TimestampMs t = 1'780'000'000'000;
  int members = 0, changed = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string sub = "s" + std::to_string(i);
    const bool in = InControlGroup(c, sub, t);
    members += in;
    EXPECT_EQ(in, InControlGroup(c, sub, t + 1000)) << "same period, same answer";
    changed += in != InControlGroup(c, sub, t + 40LL * 86400000);
  }
  // Binomial(20000, 0.1): sd ≈ 42; 5 sd either side.
  EXPECT_NEAR(members, 2000, 215);
  EXPECT_GT(changed, 2 * 1500) << "membership is re-drawn each period";
  c.share = 0;
  EXPECT_FALSE(InControlGroup(c, "s1", t));
}

TEST(VolumeLedger, NeverExceedsDailyVolumeOrBudgetAndResetsEachDay) {
  Action a;
  a.id = "A";
  a.cost = 2.5;
  a.daily_volume = {3, kUnlimited};
  a.daily_volume_total = 4;
  a.daily_budget = {-1, 5.0};
  VolumeLedger ledger;
  int sms = 0, app = 0;
  for (int i = 0; i < 10; ++i) sms += ledger.TryReserve(a, 0, "sms", 100, true);
  EXPECT_EQ(sms, 3);
  for (int i = 0; i < 10; ++i) app += ledger.TryReserve(a, 1, "app", 100, true);
  EXPECT_EQ(app, 1) << "total of 4 a day (and a budget of 5 EUR allows 2 on app)";
  ledger.Release(a, "sms", 100);
  EXPECT_TRUE(ledger.TryReserve(a, 1, "app", 100, false));
  EXPECT_TRUE(ledger.TryReserve(a, 1, "app", 100, true));
  EXPECT_FALSE(ledger.TryReserve(a, 1, "app", 100, true)) << "budget: 2 × 2.5 EUR used";
  EXPECT_TRUE(ledger.TryReserve(a, 0, "sms", 101, true)) << "a new day";
  EXPECT_EQ(ledger.Used("A", "sms", 101).impressions, 1);
}

// The probabilities a Thompson policy shows each arm with, estimated by re-runs: two equal arms
// for one slot share it; an arm far below the rest is never shown (and left out of the re-runs);
// with per_group 1, two arms of one group never fill two slots; the probabilities of a full
// decision add up to its room.
TEST(Exploration, ChoiceProbabilitiesMatchTheRandomizedPolicy) {
  auto arm = [](int action, int group, double p, double sd) {
    ScoredArm a;
    a.action = action;
    a.group = group;
    a.estimate.logit = std::log(p / (1 - p));
    a.estimate.sd = sd;
    a.rest = 10;
    a.value = 10;
    return a;
  };
  learn::ExplorationConfig thompson;
  thompson.method = learn::ExplorationMethod::kThompson;
  thompson.probability_samples = 20000;
  ArbitrationConfig arbitration;
  arbitration.value_must_cover_cost = false;
  std::vector<ScoredArm> arms = {arm(0, 0, 0.10, 0.5), arm(1, 1, 0.10, 0.5), arm(2, 2, 0.0001, 0.1)};
  arms[0].chosen = true;
  Rng rng(3);
  std::vector<double> p = ChoiceProbabilities(thompson, arbitration, arms, 1, rng);
  EXPECT_NEAR(p[0], 0.5, 0.02);
  EXPECT_NEAR(p[1], 0.5, 0.02);
  EXPECT_EQ(p[2], 0);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-9);
  // Two slots, arms 0 and 1 in one group (per_group 1): one of them and arm 3 are shown.
  arms = {arm(0, 0, 0.10, 0.5), arm(1, 0, 0.10, 0.5), arm(3, 1, 0.05, 0.5)};
  arms[0].chosen = arms[2].chosen = true;
  p = ChoiceProbabilities(thompson, arbitration, arms, 2, rng);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-9);
  EXPECT_NEAR(p[2], 1.0, 1e-9);
  // ε-greedy with ε = 0.3 over three arms for one slot: the best gets 0.7 + 0.3/3.
  learn::ExplorationConfig eps;
  eps.method = learn::ExplorationMethod::kEpsilonGreedy;
  eps.epsilon = 0.3;
  eps.probability_samples = 20000;
  arms = {arm(0, 0, 0.3, 0.5), arm(1, 1, 0.2, 0.5), arm(2, 2, 0.1, 0.5)};
  arms[0].chosen = true;
  p = ChoiceProbabilities(eps, arbitration, arms, 1, rng);
  EXPECT_NEAR(p[0], 0.8, 0.015);
  EXPECT_NEAR(p[1], 0.1, 0.015);
  EXPECT_NEAR(p[2], 0.1, 0.015);
}

TEST(Base64, RoundTripsAnyBytesAndRejectsGarbage) {
  std::mt19937 rng(7);
  for (int n = 0; n < 64; ++n) {
    std::string in(static_cast<size_t>(n), '\0');
    for (char& c : in) c = static_cast<char>(rng());
    std::string enc, dec;
    AppendBase64(in, &enc);
    EXPECT_EQ(enc.size(), (in.size() + 2) / 3 * 4);
    ASSERT_TRUE(DecodeBase64(enc, &dec));
    EXPECT_EQ(dec, in);
  }
  std::string out;
  EXPECT_TRUE(DecodeBase64("Zm9vYg==", &out));
  EXPECT_EQ(out, "foob");
  EXPECT_FALSE(DecodeBase64("Zm9v!g==", &out));
  EXPECT_FALSE(DecodeBase64("Zm9", &out));
  EXPECT_FALSE(DecodeBase64("Z=9v", &out));
}

}  // namespace
}  // namespace kairos
