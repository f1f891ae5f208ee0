#include "analytics/churn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.h"

namespace kairos::analytics {
namespace {

using ::testing::HasSubstr;

constexpr char kTelco[] = KAIROS_SOURCE_DIR "/../shared/data/telco_churn/telco_customer_churn.csv";
constexpr char kMlc[] = KAIROS_SOURCE_DIR "/../shared/data/mlc_churn/mlc_churn.csv";

double Logit(double p) { return std::log(p / (1 - p)); }

// ---- Pure helpers ------------------------------------------------------------------------

TEST(Auc, HandComputed) {
  // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of the 4 pairs are ordered.
  EXPECT_DOUBLE_EQ(Auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  // Ties count one half: positive 0.5 ties both negatives (½ + ½), positive 0.9 beats both.
  EXPECT_DOUBLE_EQ(Auc({0.5, 0.5, 0.5, 0.9}, {0, 1, 0, 1}), 0.75);
  EXPECT_DOUBLE_EQ(Auc({1, 2, 3}, {0, 0, 1}), 1.0);
  EXPECT_DOUBLE_EQ(Auc({3, 2, 1}, {0, 0, 1}), 0.0);
  // Rows labelled -1 are ignored; a single class has no AUC.
  EXPECT_DOUBLE_EQ(Auc({0.1, 0.9, 0.5}, {0, 1, -1}), 1.0);
  EXPECT_TRUE(std::isnan(Auc({0.1, 0.2}, {1, 1})));
}

TEST(StratifiedFolds, KeepClassRatios) {
  std::vector<int> labels(1000, 0);
  for (int i = 0; i < 137; ++i) labels[i * 7] = 1;
  labels[3] = -1;  // a missing target gets no fold
  const std::vector<int> folds = StratifiedFolds(labels, 5, 7);
  int pos[5] = {}, all[5] = {};
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      EXPECT_EQ(folds[i], -1);
      continue;
    }
    ASSERT_GE(folds[i], 0);
    ASSERT_LT(folds[i], 5);
    ++all[folds[i]];
    pos[folds[i]] += labels[i];
  }
  for (int f = 0; f < 5; ++f) {
    EXPECT_TRUE(pos[f] == 27 || pos[f] == 28) << pos[f];  // 137 / 5
    EXPECT_TRUE(all[f] == 199 || all[f] == 200) << all[f];
  }
  EXPECT_EQ(StratifiedFolds(labels, 5, 7), folds);  // same seed, same folds
  EXPECT_NE(StratifiedFolds(labels, 5, 8), folds);
}

TEST(FitPlatt, RecoversSlopeAndIntercept) {
  Rng rng(3);
  std::vector<double> margins;
  std::vector<int> labels;
  for (int i = 0; i < 20000; ++i) {
    const double m = rng.Normal(0, 1.5);
    margins.push_back(m);
    labels.push_back(rng.Bernoulli(1 / (1 + std::exp(-(0.6 * m - 0.8)))) ? 1 : 0);
  }
  const PlattScaling p = FitPlatt(margins, labels);
  EXPECT_NEAR(p.a, 0.6, 0.05);
  EXPECT_NEAR(p.b, -0.8, 0.05);
  EXPECT_NEAR(p.Probability(0), 1 / (1 + std::exp(0.8)), 0.01);
}

TEST(LabelsFromColumn, InfersAndChecksThePositiveValue) {
  Table t;
  ASSERT_TRUE(t.AddCategoricalColumn("Churn", {"No", "Yes", "", "No"}).ok());
  ASSERT_TRUE(t.AddNumericColumn("flag", {0, 1, NAN, 1}).ok());
  ASSERT_TRUE(t.AddCategoricalColumn("status", {"a", "b", "c", "a"}).ok());
  auto inferred = LabelsFromColumn(t.column(0));
  ASSERT_TRUE(inferred.ok()) << inferred.status().ToString();
  EXPECT_EQ(inferred->positive, "Yes");
  EXPECT_EQ(inferred->labels, (std::vector<int>{0, 1, -1, 0}));
  EXPECT_EQ(inferred->missing, 1);
  auto numeric = LabelsFromColumn(t.column(1));
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->labels, (std::vector<int>{0, 1, -1, 1}));
  auto explicit_numeric = LabelsFromColumn(t.column(1), "1.0");
  ASSERT_TRUE(explicit_numeric.ok());
  EXPECT_EQ(explicit_numeric->positive, "1");
  auto wrong = LabelsFromColumn(t.column(0), "yes");  // case matters
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("\"No\", \"Yes\""));
  auto unclear = LabelsFromColumn(t.column(2));
  ASSERT_FALSE(unclear.ok());
  EXPECT_THAT(unclear.status().message(), HasSubstr("means churn"));
  auto three = LabelsFromColumn(t.column(2), "b");
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->labels, (std::vector<int>{0, 1, 0, 0}));
}

// ---- A small synthetic world (fast) ------------------------------------------------------

struct Small {
  Table table;
  std::vector<int> labels;
};

// 1,500 rows: a numeric signal, a categorical signal, noise, a constant, an all-missing column
// and an id column.
Small MakeSmall(uint64_t seed) {
  Small s;
  Rng rng(seed);
  const int n = 1500;
  std::vector<double> x(n), noise(n), constant(n, 7), empty(n, NAN);
  std::vector<std::string> plan(n), id(n);
  const char* plans[] = {"prepaid", "postpaid", "family", "business", "student"};
  const double effect[] = {0.8, -0.5, -1.0, 0.2, 0.5};
  for (int i = 0; i < n; ++i) {
    x[i] = rng.Normal();
    noise[i] = rng.Uniform();
    const int p = static_cast<int>(rng.Below(5));
    plan[i] = rng.Bernoulli(0.03) ? "" : plans[p];
    id[i] = "c" + std::to_string(i);
    if (rng.Bernoulli(0.05)) x[i] = NAN;
    const double z = -1 + 1.2 * (std::isnan(x[i]) ? 1.0 : x[i]) + effect[p];
    s.labels.push_back(rng.Bernoulli(1 / (1 + std::exp(-z))) ? 1 : 0);
  }
  EXPECT_TRUE(s.table.AddNumericColumn("usage", x).ok());
  EXPECT_TRUE(s.table.AddCategoricalColumn("plan", plan).ok());
  EXPECT_TRUE(s.table.AddNumericColumn("noise", noise).ok());
  EXPECT_TRUE(s.table.AddNumericColumn("constant", constant).ok());
  EXPECT_TRUE(s.table.AddNumericColumn("empty", empty).ok());
  EXPECT_TRUE(s.table.AddCategoricalColumn("id", id).ok());
  return s;
}

ChurnOptions Fast() {
  ChurnOptions o;
  o.threads = 1;
  o.eta = 0.1;
  o.target = "churn";
  o.positive = "1";
  return o;
}

TEST(TrainChurn, DropsUselessColumnsAndMissingTargets) {
  Small s = MakeSmall(1);
  s.labels[10] = -1;
  s.labels[20] = -1;
  auto t = TrainChurn(s.table, s.labels, Fast());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const ChurnReport& r = t->report;
  EXPECT_EQ(r.rows, 1498);
  EXPECT_EQ(r.rows_dropped.at("missing target"), 2);
  EXPECT_EQ(r.features, 3);
  ASSERT_EQ(r.dropped_features.size(), 3u);
  EXPECT_EQ(r.dropped_features[0].name, "constant");
  EXPECT_EQ(r.dropped_features[0].reason, "constant");
  EXPECT_EQ(r.dropped_features[1].name, "empty");
  EXPECT_EQ(r.dropped_features[1].reason, "all missing");
  EXPECT_EQ(r.dropped_features[2].name, "id");
  EXPECT_THAT(r.dropped_features[2].reason, HasSubstr("identifier"));
  EXPECT_EQ(r.auc_folds.size(), 5u);
  EXPECT_GT(r.auc, 0.75);
  EXPECT_TRUE(std::isnan(r.oof_probability[10]));
  EXPECT_EQ(t->model.features().size(), 3u);
}

TEST(TrainChurn, RejectsBadInput) {
  Small s = MakeSmall(2);
  std::vector<int> zeros(s.labels.size(), 0);
  auto single = TrainChurn(s.table, zeros, Fast());
  ASSERT_FALSE(single.ok());
  EXPECT_EQ(single.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(single.status().message(), HasSubstr("single class"));
  EXPECT_THAT(single.status().message(), HasSubstr("\"churn\""));

  std::vector<int> few = zeros;
  for (int i = 0; i < 10; ++i) few[i] = 1;
  auto too_few = TrainChurn(s.table, few, Fast());
  ASSERT_FALSE(too_few.ok());
  EXPECT_THAT(too_few.status().message(), HasSubstr("too few churners (10)"));

  auto short_labels = TrainChurn(s.table, {0, 1}, Fast());
  EXPECT_EQ(short_labels.status().code(), ErrorCode::kInvalidArgument);

  Table useless;
  ASSERT_TRUE(useless.AddNumericColumn("constant", std::vector<double>(s.labels.size(), 1)).ok());
  auto none = TrainChurn(useless, s.labels, Fast());
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no usable feature (constant: constant)"));

  ChurnOptions bad = Fast();
  bad.folds = 1;
  EXPECT_EQ(TrainChurn(s.table, s.labels, bad).status().code(), ErrorCode::kInvalidArgument);
}

TEST(TrainChurn, SameSeedSameModelWhateverTheThreads) {
  const Small s = MakeSmall(3);
  auto a = TrainChurn(s.table, s.labels, Fast());
  ChurnOptions two = Fast();
  two.threads = 2;
  auto b = TrainChurn(s.table, s.labels, two);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->report.auc, b->report.auc);
  EXPECT_EQ(a->report.rounds_folds, b->report.rounds_folds);
  EXPECT_EQ(*a->model.ToJson(), *b->model.ToJson());
}

// Above large_rows: cross-validation on a stratified sample, the final model early-stopped on
// a 10% hold-out that also fits the calibration.
TEST(TrainChurn, LargeDataRegime) {
  const Small s = MakeSmall(7);
  ChurnOptions o = Fast();
  o.large_rows = 1000;
  auto t = TrainChurn(s.table, s.labels, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const ChurnReport& r = t->report;
  EXPECT_EQ(r.rows, 1500);
  EXPECT_NEAR(static_cast<double>(r.cv_rows), 1000, 1);
  EXPECT_EQ(r.auc_folds.size(), 5u);
  EXPECT_GT(r.auc, 0.75);
  EXPECT_EQ(r.calibration.fitted_on, "hold-out");
  EXPECT_EQ(r.calibration.rows, 150);
  EXPECT_GT(r.holdout_auc, 0.7);
  int64_t scored = 0;
  for (double p : r.oof_probability) scored += !std::isnan(p);
  EXPECT_EQ(scored, 150);
  EXPECT_EQ(t->model.rounds(), r.rounds);
  auto loaded = ChurnModel::FromJson(*t->model.ToJson(), "large.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded->Score(s.table, 0), *t->model.Score(s.table, 0));
  // The standard regime cross-validates every row.
  auto standard = TrainChurn(s.table, s.labels, Fast());
  ASSERT_TRUE(standard.ok());
  EXPECT_EQ(standard->report.cv_rows, 1500);
  EXPECT_EQ(standard->report.calibration.fitted_on, "out-of-fold");
  EXPECT_TRUE(std::isnan(standard->report.holdout_auc));
}

// SHAP contributions add up to the prediction, for both categorical encodings, and survive a
// save and load unchanged.
class EncodingTest : public ::testing::TestWithParam<CategoricalEncoding> {};

TEST_P(EncodingTest, ContributionsSumToTheMarginAndSaveLoadKeepsScores) {
  const Small s = MakeSmall(4);
  ChurnOptions o = Fast();
  o.categorical = GetParam();
  auto t = TrainChurn(s.table, s.labels, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const ChurnModel& model = t->model;
  const int nfeat = static_cast<int>(model.features().size());
  auto scores = model.ScoreTable(s.table, nfeat);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  const PlattScaling& platt = model.calibration();
  for (int64_t r = 0; r < 200; ++r) {
    double sum = scores->base_logit;
    for (const Driver& d : scores->drivers[r]) sum += d.contribution;
    EXPECT_NEAR(sum, Logit(scores->probability[r]), 1e-3) << "row " << r;
    EXPECT_NEAR(sum, platt.Logit(scores->margin[r]), 1e-3);
    // Largest first.
    for (size_t k = 1; k < scores->drivers[r].size(); ++k) {
      EXPECT_GE(std::abs(scores->drivers[r][k - 1].contribution),
                std::abs(scores->drivers[r][k].contribution));
    }
  }
  // The driver's value is the cell's text.
  const auto top = model.Drivers(s.table, 0, nfeat);
  ASSERT_TRUE(top.ok());
  for (const Driver& d : *top) {
    EXPECT_EQ(d.value, s.table.column(*s.table.Find(d.feature)).CellText(0));
  }

  auto json = model.ToJson();
  ASSERT_TRUE(json.ok());
  auto loaded = ChurnModel::FromJson(*json, "m.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->encoding(), GetParam());
  EXPECT_EQ(loaded->target(), "churn");
  EXPECT_EQ(loaded->rounds(), model.rounds());
  auto again = loaded->ScoreTable(s.table, 2);
  ASSERT_TRUE(again.ok());
  for (int64_t r = 0; r < s.table.rows(); ++r) {
    ASSERT_EQ(again->probability[r], scores->probability[r]) << "row " << r;
  }
  EXPECT_EQ(*loaded->ToJson(), *json);
}

INSTANTIATE_TEST_SUITE_P(Encodings, EncodingTest,
                         ::testing::Values(CategoricalEncoding::kNative,
                                           CategoricalEncoding::kOneHot));

TEST(ChurnModel, ScoringTablesThatDifferFromTraining) {
  const Small s = MakeSmall(5);
  auto t = TrainChurn(s.table, s.labels, Fast());
  ASSERT_TRUE(t.ok());
  const ChurnModel& model = t->model;

  // Unknown categories score as missing and are counted per feature and per row.
  Table other;
  ASSERT_TRUE(other.AddNumericColumn("usage", {0.5, 0.5, 0.5}).ok());
  ASSERT_TRUE(other.AddCategoricalColumn("plan", {"prepaid", "satellite", ""}).ok());
  ASSERT_TRUE(other.AddNumericColumn("noise", {0.1, 0.1, 0.1}).ok());
  auto scores = model.ScoreTable(other, 3);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ(scores->unknown_categories.at("plan"), 1);
  EXPECT_TRUE(scores->unknown[0].empty());
  EXPECT_EQ(scores->unknown[1], (std::vector<std::string>{"plan"}));
  EXPECT_EQ(scores->probability[1], scores->probability[2]);  // unknown = missing
  for (double p : scores->probability) EXPECT_TRUE(p > 0 && p < 1);

  // A categorical feature given as numbers, a numeric one given as text.
  Table swapped;
  ASSERT_TRUE(swapped.AddCategoricalColumn("usage", {"0.5", "", "0.5"}).ok());
  ASSERT_TRUE(swapped.AddCategoricalColumn("plan", {"prepaid", "satellite", ""}).ok());
  ASSERT_TRUE(swapped.AddNumericColumn("noise", {0.1, 0.1, 0.1}).ok());
  auto swapped_scores = model.ScoreTable(swapped);
  ASSERT_TRUE(swapped_scores.ok()) << swapped_scores.status().ToString();
  EXPECT_EQ(swapped_scores->probability[0], scores->probability[0]);

  Table text;
  ASSERT_TRUE(text.AddCategoricalColumn("usage", {"0.5", "lots", "1"}).ok());
  ASSERT_TRUE(text.AddCategoricalColumn("plan", {"prepaid", "prepaid", "prepaid"}).ok());
  ASSERT_TRUE(text.AddNumericColumn("noise", {0.1, 0.1, 0.1}).ok());
  auto bad = model.ScoreTable(text);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("row 2"));
  EXPECT_THAT(bad.status().message(), HasSubstr("\"usage\""));

  Table lacking;
  ASSERT_TRUE(lacking.AddNumericColumn("usage", {0.5}).ok());
  auto missing = model.Score(lacking, 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("\"plan\""));
  EXPECT_EQ(model.ScoreTable(other, 0, 2, 5).status().code(), ErrorCode::kInvalidArgument);
}

TEST(ChurnModel, LoadRejectsCorruptFiles) {
  const Small s = MakeSmall(6);
  auto t = TrainChurn(s.table, s.labels, Fast());
  ASSERT_TRUE(t.ok());
  const std::string json = *t->model.ToJson();

  auto truncated = ChurnModel::FromJson(json.substr(0, json.size() / 2), "m.json");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(truncated.status().message(), HasSubstr("m.json:1:"));
  EXPECT_THAT(truncated.status().message(), HasSubstr("truncated"));

  EXPECT_EQ(ChurnModel::FromJson("[1,2]", "m.json").status().code(), ErrorCode::kCorruption);
  auto other = ChurnModel::FromJson("{\"format\":\"something-else\"}", "m.json");
  EXPECT_EQ(other.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("not a Kairos churn model"));

  const auto replace = [&](const std::string& from, const std::string& to) {
    std::string s2 = json;
    const size_t at = s2.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s2.replace(at, from.size(), to);
  };
  auto newer = ChurnModel::FromJson(replace("\"version\":1", "\"version\":2"), "m.json");
  EXPECT_EQ(newer.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(newer.status().message(), HasSubstr("version 2"));
  auto no_type =
      ChurnModel::FromJson(replace("\"type\":\"numeric\"", "\"kind\":\"numeric\""), "m.json");
  EXPECT_EQ(no_type.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(no_type.status().message(), HasSubstr("\"features[0].type\" is missing"));
  // A feature fewer than the booster was trained with.
  auto fewer =
      ChurnModel::FromJson(replace("{\"name\":\"usage\",\"type\":\"numeric\"},", ""), "m.json");
  EXPECT_EQ(fewer.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(fewer.status().message(), HasSubstr("input columns"));
  // A tree count that disagrees with the booster.
  auto rounds = ChurnModel::FromJson(
      replace("\"rounds\":" + std::to_string(t->model.rounds()), "\"rounds\":100000"), "m.json");
  EXPECT_EQ(rounds.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(rounds.status().message(), HasSubstr("rounds"));
  auto broken_booster = ChurnModel::FromJson(replace("\"learner\":", "\"lerner\":"), "m.json");
  EXPECT_EQ(broken_booster.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(broken_booster.status().message(), HasSubstr("booster"));

  EXPECT_EQ(ChurnModel::Load("/nonexistent/model.json").status().code(), ErrorCode::kIoError);
  const std::string path = ::testing::TempDir() + "churn_model_test.json";
  ASSERT_TRUE(t->model.Save(path).ok());
  auto from_file = ChurnModel::Load(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  std::remove(path.c_str());
  EXPECT_EQ(t->model.Save("/nonexistent/dir/model.json").code(), ErrorCode::kIoError);
}

// ---- The published data sets -------------------------------------------------------------

struct Dataset {
  Table features;
  ChurnLabels labels;
  std::unique_ptr<ChurnTraining> trained;
};

std::unique_ptr<Dataset> TrainOn(const char* path, const char* target, const char* positive,
                                 const char* id) {
  auto d = std::make_unique<Dataset>();
  CsvTableOptions csv;
  if (id != nullptr) csv.categorical = {id};
  auto table = LoadCsvTable(path, csv);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  if (!table.ok()) return nullptr;
  d->features = std::move(*table);
  auto target_column = d->features.TakeColumn(target);
  EXPECT_TRUE(target_column.ok());
  if (id != nullptr) {
    EXPECT_TRUE(d->features.TakeColumn(id).ok());
  }
  auto labels = LabelsFromColumn(*target_column, positive);
  EXPECT_TRUE(labels.ok());
  d->labels = *labels;
  ChurnOptions o;
  o.threads = 1;  // small data: one thread is faster than two fighting over shared cores
  o.target = target;
  o.positive = positive;
  auto trained = TrainChurn(d->features, d->labels.labels, o);
  EXPECT_TRUE(trained.ok()) << trained.status().ToString();
  if (!trained.ok()) return nullptr;
  d->trained = std::make_unique<ChurnTraining>(std::move(*trained));
  return d;
}

class TelcoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { telco_ = TrainOn(kTelco, "Churn", "Yes", "customerID").release(); }
  static void TearDownTestSuite() {
    delete telco_;
    telco_ = nullptr;
  }
  static Dataset* telco_;
};
Dataset* TelcoTest::telco_ = nullptr;

TEST_F(TelcoTest, CrossValidatedAucAndCalibration) {
  ASSERT_NE(telco_, nullptr);
  const ChurnReport& r = telco_->trained->report;
  EXPECT_EQ(r.rows, 7043);
  EXPECT_EQ(r.positives, 1869);
  EXPECT_TRUE(r.rows_dropped.empty());
  EXPECT_EQ(r.features, 19);
  // Measured 0.8506 (folds 0.829–0.861); published well-tuned models reach 0.84–0.85.
  EXPECT_GT(r.auc, 0.845);
  ASSERT_EQ(r.auc_folds.size(), 5u);
  for (double a : r.auc_folds) EXPECT_GT(a, 0.82);
  // Calibration on the out-of-fold scores: the mean prediction is the churn rate, and the
  // reliability bins follow the diagonal.
  const CalibrationReport& c = r.calibration;
  EXPECT_NEAR(c.base_rate, 1869.0 / 7043, 1e-9);
  EXPECT_NEAR(c.mean_predicted, c.base_rate, 0.005);
  EXPECT_LT(c.ece, 0.02);
  EXPECT_LE(c.log_loss, c.log_loss_raw + 1e-9);
  ASSERT_EQ(c.reliability.size(), 10u);
  for (const auto& bin : c.reliability) EXPECT_NEAR(bin.observed, bin.mean_predicted, 0.06);
  EXPECT_LT(c.reliability.front().observed, 0.05);
  EXPECT_GT(c.reliability.back().observed, 0.6);
}

TEST_F(TelcoTest, DriversAndUnknownCategories) {
  ASSERT_NE(telco_, nullptr);
  const ChurnModel& model = telco_->trained->model;
  // A month-to-month fiber customer in their first month: high risk, and the drivers say why.
  auto scores = model.ScoreTable(telco_->features, 3);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_TRUE(scores->unknown_categories.empty());
  double sum = 0;
  for (double p : scores->probability) sum += p;
  EXPECT_NEAR(sum / 7043, 1869.0 / 7043, 0.02);  // in-sample, final model
  int64_t riskiest = 0;
  for (int64_t r = 0; r < 7043; ++r) {
    if (scores->probability[r] > scores->probability[riskiest]) riskiest = r;
  }
  std::vector<std::string> names;
  for (const Driver& d : scores->drivers[riskiest]) {
    EXPECT_GT(d.contribution, 0);
    names.push_back(d.feature);
  }
  EXPECT_THAT(names,
              ::testing::Contains(::testing::AnyOf("Contract", "tenure", "InternetService")));

  // The same rows with a payment method the model never saw: scored, counted, not a crash.
  Table changed;
  for (const Column& col : telco_->features.columns()) {
    if (col.name == "PaymentMethod") {
      std::vector<std::string> v;
      for (int64_t r = 0; r < 100; ++r) v.push_back(r % 2 ? "Bitcoin" : col.CellText(r));
      ASSERT_TRUE(changed.AddCategoricalColumn(col.name, v).ok());
    } else if (col.kind == ColumnKind::kNumeric) {
      ASSERT_TRUE(changed
                      .AddNumericColumn(col.name, std::vector<double>(col.numbers.begin(),
                                                                      col.numbers.begin() + 100))
                      .ok());
    } else {
      std::vector<std::string> v;
      for (int64_t r = 0; r < 100; ++r) v.push_back(col.CellText(r));
      ASSERT_TRUE(changed.AddCategoricalColumn(col.name, v).ok());
    }
  }
  auto changed_scores = model.ScoreTable(changed, 1);
  ASSERT_TRUE(changed_scores.ok()) << changed_scores.status().ToString();
  EXPECT_EQ(changed_scores->unknown_categories.at("PaymentMethod"), 50);
  for (int64_t r = 0; r < 100; r += 2) {
    EXPECT_EQ(changed_scores->probability[r], scores->probability[r]);
  }
  for (double p : changed_scores->probability) EXPECT_TRUE(p > 0 && p < 1);
}

TEST(MlcChurn, CrossValidatedAuc) {
  auto mlc = TrainOn(kMlc, "churn", "yes", nullptr);
  ASSERT_NE(mlc, nullptr);
  const ChurnReport& r = mlc->trained->report;
  EXPECT_EQ(r.rows, 5000);
  EXPECT_EQ(r.positives, 707);
  EXPECT_EQ(r.features, 19);
  // Measured 0.9257 (folds 0.910–0.964).
  EXPECT_GT(r.auc, 0.915);
  EXPECT_NEAR(r.calibration.mean_predicted, r.calibration.base_rate, 0.005);
  EXPECT_LT(r.calibration.ece, 0.03);
}

}  // namespace
}  // namespace kairos::analytics
