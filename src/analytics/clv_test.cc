#include "analytics/clv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace kairos::analytics {
namespace {

const std::string kCdnow = KAIROS_SOURCE_DIR "/../shared/data/cdnow";

// Relative agreement to 3 significant digits: |got − want| ≤ half a unit in the third digit.
void ExpectSig3(double got, double want, const char* what) {
  const double unit = std::pow(10.0, std::floor(std::log10(std::abs(want))) - 2);
  EXPECT_LE(std::abs(got - want), 0.5 * unit) << what << ": got " << got << ", want " << want;
}

// The papers' calibration: the 2,357-customer sample, 39 weeks from 1997-01-01.
const Summaries& SampleCalibration() {
  static const Summaries* s = [] {
    auto log = LoadTransactions(kCdnow + "/CDNOW_sample.txt", InputFormat::kCdnow);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    auto end = ParseDate("1997-09-30");
    EXPECT_TRUE(end.ok());
    auto sum = Summarize(*log, *end);
    EXPECT_TRUE(sum.ok()) << sum.status().ToString();
    return new Summaries(std::move(sum).value());  // NOLINT: test-lifetime singleton
  }();
  return *s;
}

TEST(ClvSummary, MatchesPublishedCdnowSummaryRowByRow) {
  const Summaries& s = SampleCalibration();
  ASSERT_EQ(s.customers.size(), 2357u);
  double sum_x = 0;
  int zero = 0;
  for (const auto& c : s.customers) {
    sum_x += c.x;
    zero += c.x == 0;
  }
  EXPECT_EQ(sum_x, 2457);
  EXPECT_EQ(zero, 1411);
  EXPECT_EQ(s.repeaters, 2357 - 1411);

  std::ifstream in(kCdnow + "/cdnow_customers_summary_with_transactions.csv");
  ASSERT_TRUE(in) << "missing cdnow_customers_summary_with_transactions.csv";
  std::ifstream in2(kCdnow + "/cdnow_customers_summary.csv");
  ASSERT_TRUE(in2);
  std::string line, line2;
  std::getline(in, line);
  std::getline(in2, line2);
  size_t i = 0;
  // Both files print 2 decimals: agreement within half a unit of the last printed digit.
  while (std::getline(in, line) && std::getline(in2, line2)) {
    ASSERT_LT(i, s.customers.size());
    const auto& c = s.customers[i++];
    std::replace(line.begin(), line.end(), ',', ' ');
    std::replace(line2.begin(), line2.end(), ',', ' ');
    std::istringstream f(line), f2(line2);
    int id, id2;
    double x, t_x, T, zbar, x2, t_x2, T2;
    f >> id >> x >> t_x >> T >> zbar;
    f2 >> id2 >> x2 >> t_x2 >> T2;
    ASSERT_EQ(id, std::stoi(c.id));
    ASSERT_EQ(id2, id);
    EXPECT_EQ(c.x, x) << "customer " << id;
    EXPECT_EQ(c.x, x2) << "customer " << id;
    EXPECT_NEAR(c.t_x, t_x, 0.005 + 1e-9) << "customer " << id;
    EXPECT_NEAR(c.t_x, t_x2, 0.005 + 1e-9) << "customer " << id;
    EXPECT_NEAR(c.T, T, 0.005 + 1e-9) << "customer " << id;
    EXPECT_NEAR(c.T, T2, 0.005 + 1e-9) << "customer " << id;
    EXPECT_NEAR(c.mean_spend, zbar, 0.005 + 1e-9) << "customer " << id;
  }
  EXPECT_EQ(i, 2357u);
}

TEST(ClvSummary, MasterFileGivesTheSameCohortShape) {
  auto log = LoadTransactions(kCdnow + "/CDNOW_master.txt", InputFormat::kCdnow);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->rows.size(), 69659u);
  auto s = Summarize(*log, *ParseDate("19970930"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->customers.size(), 23570u);
  EXPECT_EQ(s->return_rows, 0);
  for (const auto& c : s->customers) {
    ASSERT_LE(c.t_x, c.T);
    ASSERT_LE(c.T, 39.0);
  }
}

TEST(ClvModels, BgNbdReproducesFaderHardieLee2005) {
  auto fit = FitBgNbd(SampleCalibration().customers);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ExpectSig3(fit->params.r, 0.243, "r");
  ExpectSig3(fit->params.alpha, 4.414, "alpha");
  ExpectSig3(fit->params.a, 0.793, "a");
  ExpectSig3(fit->params.b, 2.426, "b");
  ExpectSig3(fit->log_likelihood, -9582.4, "LL");
  // The published parameters are (to rounding) a maximum: none of our fit's neighbours is better.
  EXPECT_GE(fit->log_likelihood,
            BgNbdLogLikelihood({0.243, 4.414, 0.793, 2.426}, SampleCalibration().customers));
}

TEST(ClvModels, ParetoNbdReproducesPublishedFit) {
  auto fit = FitParetoNbd(SampleCalibration().customers);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ExpectSig3(fit->params.r, 0.553, "r");
  ExpectSig3(fit->params.alpha, 10.578, "alpha");
  ExpectSig3(fit->params.s, 0.606, "s");
  ExpectSig3(fit->params.beta, 11.669, "beta");
  ExpectSig3(fit->log_likelihood, -9595.0, "LL");
}

TEST(ClvModels, GammaGammaReproducesFaderHardieLee2005Rfm) {
  auto fit = FitGammaGamma(SampleCalibration().customers);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->used + fit->left_out, 946);
  ExpectSig3(fit->params.p, 6.25, "p");
  ExpectSig3(fit->params.q, 3.74, "q");
  ExpectSig3(fit->params.gamma, 15.44, "gamma");
}

TEST(ClvModels, HypergeometricSeriesAgreesWithClosedForms) {
  // 2F1(1, 1; 2; z) = −ln(1 − z)/z, also close to z = 1.
  for (double z : {0.1, 0.5, 0.9, 0.999}) {
    auto h = Hypergeometric2F1(1, 1, 2, z);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_NEAR(*h, -std::log1p(-z) / z, 1e-12 * std::abs(*h)) << z;
  }
  // 2F1(a, b; b; z) = (1 − z)^(−a).
  auto h = Hypergeometric2F1(0.7, 2.5, 2.5, 0.6);
  ASSERT_TRUE(h.ok());
  EXPECT_NEAR(*h, std::pow(0.4, -0.7), 1e-12);
  EXPECT_FALSE(Hypergeometric2F1(1, 1, 2, 1.0).ok());
}

// Independent check of the Pareto/NBD likelihood (2F1 series where its argument is small,
// Gauss-Legendre otherwise): the individual likelihood written as its defining integral over the
// death time, summed by a brute-force composite Simpson rule.
double ParetoLLBySimpson(const ParetoNbdParams& p, double x, double t_x, double T) {
  const double base =
      std::lgamma(p.r + x) - std::lgamma(p.r) + p.r * std::log(p.alpha) + p.s * std::log(p.beta);
  const double alive = std::pow(p.alpha + T, -(p.r + x)) * std::pow(p.beta + T, -p.s);
  auto f = [&](double y) {
    return p.s * std::pow(p.alpha + y, -(p.r + x)) * std::pow(p.beta + y, -(p.s + 1));
  };
  const int n = 200000;
  const double h = (T - t_x) / n;
  double sum = f(t_x) + f(T);
  for (int i = 1; i < n; ++i) sum += f(t_x + i * h) * (i % 2 ? 4 : 2);
  return base + std::log(alive + sum * h / 3);
}

TEST(ClvModels, ParetoLikelihoodMatchesItsDefiningIntegral) {
  const ParetoNbdParams params[] = {{0.553, 10.578, 0.606, 11.669},
                                    {0.5, 0.05, 0.6, 10},
                                    {2.0, 30, 0.3, 0.2},
                                    {0.5, 3, 1.0, 3},
                                    {1.2, 0.3, 2.0, 40}};
  const double histories[][3] = {{0, 0, 38.86}, {3, 10, 30}, {1, 0.5, 20}, {12, 38, 38.86}};
  for (const auto& p : params) {
    for (const auto& h : histories) {
      std::vector<CustomerSummary> one = {{"c", h[0], h[1], h[2], 10, 0}};
      const double want = ParetoLLBySimpson(p, h[0], h[1], h[2]);
      EXPECT_NEAR(ParetoNbdLogLikelihood(p, one), want, 1e-7 * (1 + std::abs(want)))
          << p.r << " " << p.alpha << " " << p.s << " " << p.beta << " x=" << h[0];
    }
  }
}

TEST(ClvModels, PredictionsBehave) {
  const BgNbdParams bg{0.243, 4.414, 0.793, 2.426};
  // No repeat: alive by BG/NBD's assumption (drop-out happens only after a purchase).
  EXPECT_EQ(BgNbdProbabilityAlive(bg, 0, 0, 38.86), 1.0);
  // Many purchases long ago: probably gone; recent ones: probably alive.
  EXPECT_LT(BgNbdProbabilityAlive(bg, 5, 5, 38.86), 0.2);
  EXPECT_GT(BgNbdProbabilityAlive(bg, 5, 38, 38.86), 0.8);
  // Fader-Hardie-Lee 2005 Figure: ~1.45 expected repeat purchases by week 78 per new customer
  // (sales in the 39-week holdout ≈ 1359 for the 2,357 customers); check the monotone shape and
  // a plausible range rather than a digitized figure.
  auto e39 = BgNbdExpectedTransactions(bg, 39), e78 = BgNbdExpectedTransactions(bg, 78);
  ASSERT_TRUE(e39.ok() && e78.ok());
  EXPECT_GT(*e78, *e39);
  EXPECT_GT(*e39, 0.5);
  EXPECT_LT(*e78, 3.0);
  // Conditional expectation of a customer with x = 0 at T = 0 equals the unconditional one.
  auto c = BgNbdConditionalExpectedTransactions(bg, 0, 0, 0, 39);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(*c, *e39, 1e-9);
  const ParetoNbdParams pn{0.553, 10.578, 0.606, 11.669};
  auto pc = ParetoNbdConditionalExpectedTransactions(pn, 0, 0, 0, 39);
  auto pu = ParetoNbdExpectedTransactions(pn, 39);
  ASSERT_TRUE(pc.ok() && pu.ok());
  EXPECT_NEAR(*pc, *pu, 1e-9);
  EXPECT_GT(ParetoNbdProbabilityAlive(pn, 5, 38, 38.86),
            ParetoNbdProbabilityAlive(pn, 5, 5, 38.86));

  const GammaGammaParams gg{6.25, 3.74, 15.44};
  EXPECT_NEAR(GammaGammaExpectedSpend(gg, 0, 0), 6.25 * 15.44 / 2.74, 1e-9);
  // Shrinks the observed mean towards the population mean.
  const double e = GammaGammaExpectedSpend(gg, 2, 100);
  EXPECT_LT(e, 100);
  EXPECT_GT(e, 6.25 * 15.44 / 2.74);

  CustomerSummary cust{"c", 2, 30.43, 38.86, 22.35, 2};
  ClvOptions opt;
  auto clv = CustomerLifetimeValue(bg, gg, cust, opt);
  ASSERT_TRUE(clv.ok());
  EXPECT_GT(*clv, 0);
  opt.annual_discount_rate = 0;
  auto undiscounted = CustomerLifetimeValue(bg, gg, cust, opt);
  auto expected = BgNbdConditionalExpectedTransactions(bg, 2, 30.43, 38.86, 52);
  ASSERT_TRUE(undiscounted.ok() && expected.ok());
  EXPECT_NEAR(*undiscounted, *expected * GammaGammaExpectedSpend(gg, 2, 22.35), 1e-9);
  EXPECT_GT(*undiscounted, *clv);
  opt.margin = 1.5;
  EXPECT_EQ(CustomerLifetimeValue(bg, gg, cust, opt).status().code(), ErrorCode::kInvalidArgument);
}

// ---- Bad input -----------------------------------------------------------------------------

TEST(ClvInput, EmptyFileIsAnError) {
  auto log = ParseTransactions("", "empty.txt", InputFormat::kCdnow);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(log.status().message().find("empty.txt"), std::string::npos);
  EXPECT_FALSE(ParseTransactions("customer_id,date,amount\n", "h.csv", InputFormat::kCsv).ok());
}

TEST(ClvInput, MalformedRowsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* where;
  };
  const Case cases[] = {
      {" 00001 19970101 1 11.77\n 00002 19970112 1\n", "f:2:"},        // field count
      {" 00001 19970101 1 11.77\n 00002 19970112 1 12.x\n", "f:2:"},   // bad number
      {" 00001 19970101 1 11.77\n 00002 19971312 1 12.00\n", "f:2:"},  // bad month
      {" 00001 19970101 1 11.77\n 00002 19970230 1 12.00\n", "f:2:"},  // no such day
      {" 00001 19970101 1 11.77\n 00002 1997011 1 12.00\n", "f:2:"},   // short date
      {" 00001 19970101 1 nan\n", "f:1:"},                             // not finite
      {" 00001 19970101 x 1.0\n", "f:1:"},                             // cds not a number
      {" 00001 19970101\r\n", "f:1:"},                                 // too few fields
  };
  for (const auto& c : cases) {
    auto log = ParseTransactions(c.text, "f", InputFormat::kCdnow);
    ASSERT_FALSE(log.ok()) << c.text;
    EXPECT_EQ(log.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(log.status().message().rfind(c.where, 0), 0u) << log.status().message();
  }
  auto csv = ParseTransactions("id,when,value\n1,1997-01-01,3\n", "c.csv", InputFormat::kCsv);
  ASSERT_FALSE(csv.ok());
  EXPECT_NE(csv.status().message().find("c.csv:1:"), std::string::npos);
  EXPECT_NE(csv.status().message().find("customer_id"), std::string::npos);
  auto csv2 =
      ParseTransactions("customer_id,date,amount\n1,1997-01-01\n", "c.csv", InputFormat::kCsv);
  ASSERT_FALSE(csv2.ok());
  EXPECT_NE(csv2.status().message().find("c.csv:2:"), std::string::npos);
}

TEST(ClvInput, OutOfOrderSameDayOneTransactionAndReturns) {
  // Customer a: rows out of order, two purchases on 1997-01-05 (one transaction of 30), a return
  // of 10 on 1997-01-05 netted into its spend; one transaction after the calibration end.
  const char* text =
      "customer_id,date,amount\n"
      "a,1997-01-05,10\n"
      "a,1997-01-01,5\n"
      "a,19970105,20\n"
      "a,1997-01-05,-10\n"
      "b,1997-01-08,7\n"
      "a,1997-03-01,99\n"
      "c,1997-02-01,-3\n"
      "d,1997-02-10,0\n";
  auto log = ParseTransactions(text, "t.csv", InputFormat::kCsv);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto s = Summarize(*log, *ParseDate("1997-01-15"));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->customers.size(), 2u);  // c has only a return, d starts after the end
  EXPECT_EQ(s->customers_after_end, 1);
  EXPECT_EQ(s->return_rows, 2);  // a's and c's
  EXPECT_EQ(s->repeaters, 1);
  const auto& a = s->customers[0];
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.x, 1);
  EXPECT_DOUBLE_EQ(a.t_x, 4 / 7.0);
  EXPECT_DOUBLE_EQ(a.T, 14 / 7.0);
  EXPECT_DOUBLE_EQ(a.mean_spend, 20);  // 10 + 20 − 10
  const auto& b = s->customers[1];     // one transaction: x = 0, a valid customer
  EXPECT_EQ(b.x, 0);
  EXPECT_EQ(b.t_x, 0);

  // Default calibration end: the last transaction day.
  auto all = Summarize(*log, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(FormatDate(all->calibration_end), "1997-03-01");
  EXPECT_EQ(all->customers.size(), 3u);

  // A calibration end before every first purchase.
  auto none = Summarize(*log, *ParseDate("1996-12-31"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidArgument);
}

TEST(ClvInput, UnidentifiableFitsFailCleanly) {
  std::vector<CustomerSummary> singles = {{"a", 0, 0, 10, 0, 0}, {"b", 0, 0, 5, 0, 0}};
  EXPECT_EQ(FitBgNbd(singles).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(FitParetoNbd(singles).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(FitGammaGamma(singles).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(FitBgNbd({}).status().code(), ErrorCode::kFailedPrecondition);
  // Repeaters whose returns cancel their spend are left out of Gamma-Gamma and counted.
  std::vector<CustomerSummary> spend = {
      {"a", 2, 3, 10, 12, 2}, {"b", 1, 2, 5, 0, 1}, {"c", 3, 4, 9, 20, 3}, {"d", 1, 1, 9, -4, 1}};
  auto gg = FitGammaGamma(spend);
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();
  EXPECT_EQ(gg->used, 2);
  EXPECT_EQ(gg->left_out, 2);
}

TEST(ClvInput, DatesParseBothWays) {
  EXPECT_EQ(*ParseDate("1970-01-01"), 0);
  EXPECT_EQ(*ParseDate("19970101"), *ParseDate("1997-01-01"));
  EXPECT_EQ(*ParseDate("1997-09-30") - *ParseDate("1997-01-01"), 272);
  EXPECT_TRUE(ParseDate("2000-02-29").ok());
  EXPECT_FALSE(ParseDate("1900-02-29").ok());
  EXPECT_FALSE(ParseDate("1997/01/01").ok());
  EXPECT_EQ(FormatDate(*ParseDate("2024-12-31")), "2024-12-31");
}

}  // namespace
}  // namespace kairos::analytics
