#include "learn/ope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "learn/bandit_log.h"

namespace kairos::learn {
namespace {

constexpr int kItems = 10;
constexpr int kPositions = 3;

// Known click probability of item a at position k: better items click more, lower slots less.
double Ctr(int a, int k) {
  static constexpr double kPositionFactor[kPositions] = {1.0, 0.7, 0.5};
  return (0.02 + 0.01 * a) * kPositionFactor[k];
}

// A synthetic log: position uniform over the slots, item drawn from logging[k][a] (the
// propensity), click ~ Bernoulli(Ctr). Lines are numbered as in a file with a header.
BanditLog MakeLog(const std::vector<std::vector<double>>& logging, int64_t n, uint64_t seed) {
  BanditLog log;
  log.source = "synthetic";
  for (int a = 0; a < kItems; ++a) {
    log.action_names.push_back(std::to_string(a));
    log.action_index.emplace(log.action_names.back(), a);
  }
  log.n_positions = kPositions;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> slot(0, kPositions - 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::discrete_distribution<int>> item;
  for (int k = 0; k < kPositions; ++k) item.emplace_back(logging[k].begin(), logging[k].end());
  for (int64_t i = 0; i < n; ++i) {
    const int k = slot(rng);
    const int a = item[k](rng);
    log.action.push_back(a);
    log.position.push_back(k);
    log.propensity.push_back(logging[k][a]);
    log.reward.push_back(u(rng) < Ctr(a, k) ? 1.0 : 0.0);
    log.line.push_back(i + 2);
  }
  return log;
}

std::vector<std::vector<double>> UniformLogging() {
  return std::vector<std::vector<double>>(kPositions, std::vector<double>(kItems, 1.0 / kItems));
}

// The exact value of a context-free policy when positions are uniform: (1/P) Σ_k Σ_a π q.
double Truth(const Policy& pi) {
  double v = 0;
  for (int k = 0; k < kPositions; ++k) {
    for (int a = 0; a < kItems; ++a) v += pi.at(a, k) * Ctr(a, k);
  }
  return v / kPositions;
}

// Standard error of the IPS mean: sd(w·r) / sqrt(n).
double IpsStandardError(const BanditLog& log, const Policy& pi) {
  double s = 0, s2 = 0;
  for (size_t i = 0; i < log.size(); ++i) {
    const double x = pi.at(log.action[i], log.position[i]) / log.propensity[i] * log.reward[i];
    s += x;
    s2 += x * x;
  }
  const double n = static_cast<double>(log.size());
  return std::sqrt((s2 / n - (s / n) * (s / n)) / n);
}

// Asserts every estimator within 4 standard errors of the truth and every 95% interval around
// it. DM and DR use the IPS standard error as their tolerance: with ~6.7k rows per cell the
// reward model is nearly unbiased (smoothing moves q̂ by < 0.2% of a rate) and no noisier than
// IPS, so this bound is conservative but still fails on any formula error of a few percent.
void ExpectNearTruth(const OpeReport& r, double truth, double se, const std::string& what) {
  for (auto [name, e] : {std::pair{"ips", r.ips}, {"snips", r.snips}, {"dm", r.dm}, {"dr", r.dr}}) {
    SCOPED_TRACE(what + " " + name);
    EXPECT_LT(std::abs(e.value - truth), 4 * se) << "estimate " << e.value << " truth " << truth;
    ASSERT_TRUE(e.ci95.has_value());
    EXPECT_LE(e.ci95->lo, truth);
    EXPECT_GE(e.ci95->hi, truth);
  }
  // The IPS interval's width matches the analytic standard error (2·1.96·SE) within 30%.
  const double width = r.ips.ci95->hi - r.ips.ci95->lo;
  EXPECT_NEAR(width / (2 * 1.96 * se), 1.0, 0.3) << what;
}

OpeOptions Options(int bootstrap, uint64_t seed = 1) {
  OpeOptions o;
  o.bootstrap = bootstrap;
  o.seed = seed;
  o.threads = 2;
  return o;
}

TEST(OpeSynthetic, UniformLoggingRecoversTopkAndDistPolicies) {
  const BanditLog log = MakeLog(UniformLogging(), 200'000, 42);

  auto topk = ParsePolicy("topk:9,8,7", log);
  ASSERT_TRUE(topk.ok()) << topk.status().ToString();
  const double topk_truth = Truth(*topk);
  EXPECT_NEAR(topk_truth, (0.11 + 0.10 * 0.7 + 0.09 * 0.5) / 3, 1e-12);
  auto r = Evaluate(log, *topk, Options(100));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectNearTruth(*r, topk_truth, IpsStandardError(log, *topk), "topk");
  // The logging policy's value is the mean click rate, far below the top items'.
  EXPECT_LT(r->on_policy, topk_truth - 0.02);

  // A dist policy: proportional to item at position 1, uniform over items 0..4 at position 2,
  // and only half the mass (the rest shows nothing) at position 3.
  std::string csv = "item,position,probability\n";
  for (int a = 0; a < kItems; ++a)
    csv += std::to_string(a) + ",1," + std::to_string((a + 1) / 55.0) + "\n";
  for (int a = 0; a < 5; ++a) csv += std::to_string(a) + ",2,0.2\n";
  for (int a = 0; a < kItems; ++a) csv += std::to_string(a) + ",3,0.05\n";
  auto dist = ParseDistCsv(csv, "dist.csv", log);
  ASSERT_TRUE(dist.ok()) << dist.status().ToString();
  EXPECT_DOUBLE_EQ(dist->at(4, 0), std::stod(std::to_string(5 / 55.0)));
  EXPECT_EQ(dist->at(7, 1), 0.0);
  const double dist_truth = Truth(*dist);
  r = Evaluate(log, *dist, Options(100, 7));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectNearTruth(*r, dist_truth, IpsStandardError(log, *dist), "dist");

  // Uniform target on a uniform log: every weight is exactly 1, so IPS is the logged mean.
  auto uniform = ParsePolicy("uniform", log);
  ASSERT_TRUE(uniform.ok());
  r = Evaluate(log, *uniform, Options(0));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->ips.value, r->on_policy);
  EXPECT_DOUBLE_EQ(r->snips.value, r->on_policy);
  EXPECT_FALSE(r->ips.ci95.has_value());
}

TEST(OpeSynthetic, NonUniformLoggingIsCorrectedByIps) {
  // The logging policy prefers the worst items: p0(a|k) ∝ (K - a)^2.
  std::vector<std::vector<double>> logging(kPositions, std::vector<double>(kItems));
  double z = 0;
  for (int a = 0; a < kItems; ++a) z += (kItems - a) * (kItems - a);
  for (auto& row : logging) {
    for (int a = 0; a < kItems; ++a) row[a] = (kItems - a) * (kItems - a) / z;
  }
  const BanditLog log = MakeLog(logging, 200'000, 9);
  auto uniform = ParsePolicy("uniform", log);
  ASSERT_TRUE(uniform.ok());
  const double truth = Truth(*uniform);
  const double se = IpsStandardError(log, *uniform);
  auto r = Evaluate(log, *uniform, Options(100, 3));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectNearTruth(*r, truth, se, "uniform target on skewed log");
  // The naive mean is biased by the logging policy's preference, by far more than the noise.
  EXPECT_GT(truth - r->on_policy, 10 * se) << "naive " << r->on_policy << " truth " << truth;
}

TEST(OpeBootstrap, SameSeedSameIntervalsOtherSeedOther) {
  const BanditLog log = MakeLog(UniformLogging(), 20'000, 5);
  auto pi = ParsePolicy("topk:3,1", log);
  ASSERT_TRUE(pi.ok());
  OpeOptions o = Options(50, 11);
  auto a = Evaluate(log, *pi, o);
  o.threads = 3;  // thread count must not matter
  auto b = Evaluate(log, *pi, o);
  o.seed = 12;
  auto c = Evaluate(log, *pi, o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  int differs = 0;
  for (auto [x, y, z] : {std::tuple{a->ips, b->ips, c->ips},
                         {a->snips, b->snips, c->snips},
                         {a->dm, b->dm, c->dm},
                         {a->dr, b->dr, c->dr}}) {
    EXPECT_EQ(x.value, y.value);
    EXPECT_EQ(x.ci95->lo, y.ci95->lo);
    EXPECT_EQ(x.ci95->hi, y.ci95->hi);
    EXPECT_EQ(x.value, z.value);  // the point estimate does not depend on the seed
    EXPECT_LE(x.ci95->lo, x.ci95->hi);
    // IPS values are multiples of 1/(p0·n), so one bound may coincide across seeds by chance;
    // the pair may not.
    EXPECT_TRUE(x.ci95->lo != z.ci95->lo || x.ci95->hi != z.ci95->hi);
    differs += (x.ci95->lo != z.ci95->lo) + (x.ci95->hi != z.ci95->hi);
  }
  EXPECT_GE(differs, 6);
}

// ---- The Open Bandit Dataset ------------------------------------------------------------------

const std::string kObd = KAIROS_SOURCE_DIR "/../shared/data/obd";

// The bts logging policy's action distribution, estimated by the empirical frequency of each
// (item, position) in the bts log: count(a, k) / count(k). (Averaging the logged propensities
// per item-position would be biased: an item is logged more often exactly when its propensity
// is high.) Written in the dist:FILE.csv form.
std::string BtsDistCsv(const BanditLog& bts) {
  std::map<std::pair<int, int>, double> count;
  std::vector<double> per_position(bts.n_positions, 0);
  for (size_t i = 0; i < bts.size(); ++i) {
    count[{bts.action[i], bts.position[i]}] += 1;
    per_position[bts.position[i]] += 1;
  }
  std::string csv = "item,position,probability\n";
  char buf[64];
  for (const auto& [cell, c] : count) {
    std::snprintf(buf, sizeof buf, "%s,%d,%.17g\n", bts.action_names[cell.first].c_str(),
                  cell.second + 1, c / per_position[cell.second]);
    csv += buf;
  }
  return csv;
}

TEST(OpeObd, OnPolicyMeansAndBtsFromRandomLogs) {
  if (!std::filesystem::is_directory(kObd)) GTEST_SKIP() << kObd << " missing";
  std::printf(
      "\nOBD: the bts logging policy (empirical item x position frequencies of bts/C/C.csv)\n"
      "evaluated on random/C/C.csv; truth = mean click of bts/C/C.csv; 200 bootstrap "
      "resamples, seed 1\n");
  std::printf("%-6s %-5s %9s %21s %8s\n", "camp.", "est.", "value", "95% interval", "rel.err");
  const std::map<std::string, std::pair<int, int>> clicks = {{"men", {46, 69}},
                                                             {"women", {46, 46}}};
  for (const auto& [campaign, expected] : clicks) {
    auto random = LoadLog(kObd + "/random/" + campaign + "/" + campaign + ".csv", LogFormat::kObd);
    auto bts = LoadLog(kObd + "/bts/" + campaign + "/" + campaign + ".csv", LogFormat::kObd);
    ASSERT_TRUE(random.ok()) << random.status().ToString();
    ASSERT_TRUE(bts.ok()) << bts.status().ToString();
    EXPECT_EQ(random->size(), 10000u);
    EXPECT_EQ(random->n_actions(), campaign == "men" ? 34 : 46);
    EXPECT_EQ(random->n_positions, 3);

    // On-policy means from SOURCE.md, exactly; uniform on the uniform log: w == 1, IPS == mean.
    auto uniform = ParsePolicy("uniform", *random);
    ASSERT_TRUE(uniform.ok());
    auto r = Evaluate(*random, *uniform, Options(0));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->on_policy, expected.first / 10000.0) << campaign;
    EXPECT_EQ(r->ips.value, r->on_policy) << campaign;
    auto bts_uniform = ParsePolicy("uniform", *bts);
    ASSERT_TRUE(bts_uniform.ok());
    auto rb = Evaluate(*bts, *bts_uniform, Options(0));
    ASSERT_TRUE(rb.ok()) << rb.status().ToString();
    const double truth = rb->on_policy;
    EXPECT_EQ(truth, expected.second / 10000.0) << campaign;

    auto pi = ParseDistCsv(BtsDistCsv(*bts), "bts_" + campaign + ".csv", *random);
    ASSERT_TRUE(pi.ok()) << pi.status().ToString();
    auto est = Evaluate(*random, *pi, Options(200, 1));
    ASSERT_TRUE(est.ok()) << est.status().ToString();
    std::printf("%-6s %-5s %9.6f %21s %8s\n", campaign.c_str(), "truth", truth, "(bts on-policy)",
                "");
    for (auto [name, e] :
         {std::pair{"ips", est->ips}, {"snips", est->snips}, {"dm", est->dm}, {"dr", est->dr}}) {
      EXPECT_TRUE(std::isfinite(e.value)) << name;
      EXPECT_GE(e.value, 0.0) << name;
      EXPECT_LE(e.value, 1.0) << name;
      ASSERT_TRUE(e.ci95.has_value());
      EXPECT_LE(e.ci95->lo, e.ci95->hi) << name;
      EXPECT_GE(e.ci95->lo, 0.0) << name;
      char interval[64];
      std::snprintf(interval, sizeof interval, "[%.6f, %.6f]", e.ci95->lo, e.ci95->hi);
      std::printf("%-6s %-5s %9.6f %21s %7.1f%%\n", campaign.c_str(), name, e.value, interval,
                  100 * std::abs(e.value - truth) / truth);
    }
  }
}

// ---- Bad input --------------------------------------------------------------------------------

const char* kHeader = ",timestamp,item_id,position,click,propensity_score\n";

Status EvaluateCsv(const std::string& text, const std::string& policy = "uniform") {
  auto log = ParseObdCsv(text, "t.csv");
  if (!log.ok()) return log.status();
  auto pi = ParsePolicy(policy, *log);
  if (!pi.ok()) return pi.status();
  auto r = Evaluate(*log, *pi, Options(0));
  return r.status();
}

void ExpectError(const Status& s, ErrorCode code, const std::string& where) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(where), std::string::npos) << s.message() << " lacks " << where;
}

TEST(OpeBadInput, Propensities) {
  const std::string ok_rows = std::string(kHeader) + "0,t,0,1,0,0.5\n1,t,1,1,1,0.5\n";
  EXPECT_TRUE(EvaluateCsv(ok_rows).ok());
  for (const char* bad : {"0", "-0.2", "", "nan", "inf", "1.5"}) {
    SCOPED_TRACE(bad);
    const std::string text = ok_rows + "2,t,1,2,1," + bad + "\n3,t,1,2,0,0\n";
    ExpectError(EvaluateCsv(text), ErrorCode::kInvalidArgument, "t.csv:4: propensity");
  }
  auto log = ParseKairosNdjson(
      "{\"decision_id\":\"d1\",\"action_id\":\"A\",\"propensity\":0.5,\"reward\":1}\n"
      "{\"decision_id\":\"d2\",\"action_id\":\"B\",\"reward\":0}\n",
      "t.ndjson");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto pi = ParsePolicy("uniform", *log);
  ASSERT_TRUE(pi.ok());
  ExpectError(Evaluate(*log, *pi, Options(10)).status(), ErrorCode::kInvalidArgument,
              "t.ndjson:2: propensity missing");
}

TEST(OpeBadInput, MalformedCsvAndEmptyLog) {
  const std::string h = kHeader;
  ExpectError(EvaluateCsv(h + "0,t,0,1,0,0.5\n1,t,1,1,0\n"), ErrorCode::kInvalidArgument,
              "t.csv:3: 5 columns, the header has 6");
  ExpectError(EvaluateCsv(h + "0,t,zero,1,0,0.5\n"), ErrorCode::kInvalidArgument,
              "t.csv:2: item_id");
  ExpectError(EvaluateCsv(h + "0,t,1,x,0,0.5\n"), ErrorCode::kInvalidArgument, "t.csv:2: position");
  ExpectError(EvaluateCsv(h + "0,t,1,1,yes,0.5\n"), ErrorCode::kInvalidArgument, "t.csv:2: click");
  ExpectError(EvaluateCsv(h + "0,t,1,1,0,abc\n"), ErrorCode::kInvalidArgument,
              "t.csv:2: propensity_score");
  ExpectError(EvaluateCsv(h + "0,t,1,0,0,0.5\n"), ErrorCode::kOutOfRange, "t.csv:2: position 0");
  const Status truncated = EvaluateCsv(h + "0,t,1,1,0,0.5\n1,t,1,1,0");
  ExpectError(truncated, ErrorCode::kInvalidArgument, "t.csv:3:");
  EXPECT_NE(truncated.message().find("truncated"), std::string::npos) << truncated.message();
  // A complete last line without its newline is fine.
  EXPECT_TRUE(EvaluateCsv(h + "0,t,1,1,0,0.5\n1,t,1,1,0,0.5").ok());
  ExpectError(EvaluateCsv(h), ErrorCode::kInvalidArgument, "t.csv: empty log");
  ExpectError(EvaluateCsv(""), ErrorCode::kInvalidArgument, "t.csv: empty log");
  ExpectError(EvaluateCsv(",item_id,click\n"), ErrorCode::kInvalidArgument,
              "t.csv:1: header has no column");
  ExpectError(ParseKairosNdjson("\n", "k.ndjson").status(), ErrorCode::kInvalidArgument,
              "k.ndjson: empty log");
  ExpectError(
      ParseKairosNdjson("{\"action_id\":\"A\",\"reward\":1,\"propensity\":0.5}\n{\"action_id\":",
                        "k.ndjson")
          .status(),
      ErrorCode::kInvalidArgument, "k.ndjson:2:");
  ExpectError(ParseKairosNdjson("{\"reward\":1,\"propensity\":0.5}\n", "k.ndjson").status(),
              ErrorCode::kInvalidArgument, "k.ndjson:1: missing \"action_id\"");
  ExpectError(LoadLog("/nonexistent/x.csv", LogFormat::kObd).status(), ErrorCode::kIoError,
              "cannot open /nonexistent/x.csv");
}

TEST(OpeBadInput, Policies) {
  const std::string text = std::string(kHeader) + "0,t,0,1,0,0.5\n1,t,3,2,1,0.5\n";
  auto log = ParseObdCsv(text, "t.csv");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->n_actions(), 4);  // max item_id + 1
  EXPECT_EQ(ParsePolicy("topk:4", *log).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ParsePolicy("topk:1,1", *log).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParsePolicy("topk:1,2,3", *log).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParsePolicy("best", *log).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParsePolicy("dist:/nonexistent.csv", *log).status().code(), ErrorCode::kIoError);
  auto topk = ParsePolicy("topk:3,0", *log);
  ASSERT_TRUE(topk.ok());
  EXPECT_EQ(topk->at(3, 0), 1.0);
  EXPECT_EQ(topk->at(0, 1), 1.0);
  EXPECT_EQ(topk->at(0, 0), 0.0);

  const std::string h = "item,position,probability\n";
  EXPECT_TRUE(ParseDistCsv(h + "0,1,0.5\n3,1,0.5\n", "d.csv", *log).ok());
  ExpectError(ParseDistCsv(h + "0,1,0.5\n9,1,0.5\n", "d.csv", *log).status(), ErrorCode::kNotFound,
              "d.csv:3: unknown item");
  for (const char* bad : {"-0.1", "1.5", "nan"}) {
    ExpectError(ParseDistCsv(h + "0,1," + bad + "\n", "d.csv", *log).status(),
                ErrorCode::kOutOfRange, "d.csv:2: probability");
  }
  ExpectError(ParseDistCsv(h + "0,1,x\n", "d.csv", *log).status(), ErrorCode::kInvalidArgument,
              "d.csv:2: probability");
  ExpectError(ParseDistCsv(h + "0,1,0.6\n1,1,0.6\n", "d.csv", *log).status(),
              ErrorCode::kOutOfRange, "d.csv:3: probabilities at position 1 sum to more than 1");
  ExpectError(ParseDistCsv(h + "0,3,0.6\n", "d.csv", *log).status(), ErrorCode::kOutOfRange,
              "d.csv:2: position 3");
  ExpectError(ParseDistCsv(h + "0,1\n", "d.csv", *log).status(), ErrorCode::kInvalidArgument,
              "d.csv:2: 2 columns");
  ExpectError(ParseDistCsv(h + "0,1,0.2\n0,1,0.2\n", "d.csv", *log).status(),
              ErrorCode::kInvalidArgument, "d.csv:3: duplicate");
  ExpectError(ParseDistCsv("a,b,c\n", "d.csv", *log).status(), ErrorCode::kInvalidArgument,
              "d.csv:1:");
}

TEST(OpeKairosFormat, StringIdsDefaultPositionAndTopk) {
  auto log = ParseKairosNdjson(
      "{\"decision_id\":\"d1\",\"action_id\":\"DATA_5GB\",\"position\":1,\"propensity\":0.8,"
      "\"reward\":1}\n"
      "\n"
      "{\"decision_id\":\"d2\",\"action_id\":\"ROAM_EU\",\"propensity\":0.2,\"reward\":0,"
      "\"context\":{\"page\":\"data\",\"tags\":[1,2]}}\n"
      "{\"action_id\":\"DATA_5GB\",\"position\":2,\"propensity\":0.5,\"reward\":true}\n",
      "k.ndjson");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->size(), 3u);
  EXPECT_EQ(log->n_positions, 2);
  EXPECT_EQ(log->action_names, (std::vector<std::string>{"DATA_5GB", "ROAM_EU"}));
  EXPECT_EQ(log->position[1], 0);  // default position 1
  EXPECT_EQ(log->line[2], 4);
  auto pi = ParsePolicy("topk:ROAM_EU,DATA_5GB", *log);
  ASSERT_TRUE(pi.ok()) << pi.status().ToString();
  auto r = Evaluate(*log, *pi, Options(0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Only row 3 matches π (DATA_5GB at position 2, p0 = 0.5, reward 1): IPS = (1/0.5)/3.
  EXPECT_DOUBLE_EQ(r->ips.value, 2.0 / 3);
  // Rows 2 and 3 have weight 1/0.2 and 1/0.5 with rewards 0 and 1: SNIPS = 2 / 7.
  EXPECT_DOUBLE_EQ(r->snips.value, 2.0 / 7);
  EXPECT_DOUBLE_EQ(r->on_policy, 2.0 / 3);
  EXPECT_EQ(ParsePolicy("topk:NOPE", *log).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace kairos::learn
