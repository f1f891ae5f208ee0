// Churn model (docs/churn.md): gradient-boosted trees (XGBoost 1.7 C API) on a feature Table,
// with stratified k-fold cross-validation (out-of-fold AUC), early stopping chosen inside each
// training part (never on the fold it is scored on), Platt calibration fitted on the
// out-of-fold scores, per-customer drivers from SHAP contributions, and one JSON model file.
//
// Errors are Status values; nothing throws. Training and scoring never abort on bad input: a
// single class, too few churners, no usable feature, a missing column or a non-numeric cell in a
// numeric feature are kInvalidArgument naming the column (and file:line when the table came from
// a file); an unknown category at scoring time is scored as missing and counted.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/table.h"
#include "common/status.h"

namespace kairos::analytics {

// ---- Pure helpers ------------------------------------------------------------------------

// Area under the ROC curve: the probability that a random positive scores above a random
// negative, ties counting one half (Mann-Whitney U with mid-ranks). labels[i] is 1 (positive) or
// 0; rows with any other label are ignored. NaN when either class is absent.
double Auc(const std::vector<double>& scores, const std::vector<int>& labels);

// Stratified k-fold assignment: a fold in [0, k) for every row whose label is 0 or 1 (-1 for the
// others). The positives and the negatives are each shuffled with `seed` and dealt round-robin,
// so each class's count differs by at most one between folds. Same seed, same folds.
std::vector<int> StratifiedFolds(const std::vector<int>& labels, int k, uint64_t seed);

// Platt scaling: P(churn) = 1 / (1 + exp(-(a · margin + b))), margin = the booster's log-odds.
struct PlattScaling {
  double a = 1;
  double b = 0;
  double Probability(double margin) const;
  double Logit(double margin) const { return a * margin + b; }
};
// Fits a and b by Newton's method on (margin, label) pairs with Platt's (1999) smoothed targets
// (N₊+1)/(N₊+2) and 1/(N₋+2), which keep a and b finite on separable data.
PlattScaling FitPlatt(const std::vector<double>& margins, const std::vector<int>& labels);

// ---- Labels ------------------------------------------------------------------------------

struct ChurnLabels {
  std::vector<int> labels;             // per table row: 1 churn, 0 not, -1 missing target
  std::string positive;                // the target value that means churn
  std::vector<std::string> negatives;  // the other values seen
  int64_t missing = 0;                 // rows with a blank target
};

// Labels from a target column: rows equal to `positive` are 1 (a numeric column compares the
// number, so "1" matches 1.0), other non-missing rows 0, missing rows -1. With an empty
// `positive`, a column with exactly two values whose one reads as churn (yes, true, 1, churn,
// churned, y; any case) takes it as positive. kInvalidArgument naming the column and listing its
// values when `positive` is not among them, cannot be inferred, or the column has no value.
Result<ChurnLabels> LabelsFromColumn(const Column& target, std::string_view positive = {});

// ---- Training ----------------------------------------------------------------------------

enum class CategoricalEncoding {
  kNative,  // XGBoost's own categorical splits (feature type "c", tree_method hist)
  kOneHot,  // one 0/1 column per category
};

struct ChurnOptions {
  int folds = 5;      // stratified cross-validation folds, 2..20
  uint64_t seed = 1;  // folds, inner splits and XGBoost's row/column sampling
  // Trainings run at once (the folds; with large data also the final model), each booster on
  // one thread: XGBoost's OpenMP threads spin at barriers on shared cores (docs/churn.md).
  // 0 = every core. The result does not depend on it.
  int threads = 0;
  // Boosting. The defaults were chosen on Telco and MLC churn (docs/churn.md).
  int max_rounds = 2000;           // upper bound on trees
  int early_stopping_rounds = 50;  // stop when the inner validation log loss has not improved
  int inner_folds = 5;  // 1/inner_folds of each training part is held out for early stopping
  int max_depth = 4;
  double eta = 0.05;
  double min_child_weight = 5;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double lambda = 1;
  double alpha = 0;
  double gamma = 0;
  int max_bin = 256;
  CategoricalEncoding categorical = CategoricalEncoding::kNative;
  // Native: a feature with fewer categories than this splits one category against the rest;
  // more, and XGBoost partitions the categories into two sets.
  int max_cat_to_onehot = 64;
  // Refit each fold's model on its whole training part with the early-stopped number of trees
  // (true), or score the fold with the early-stopped model trained on the smaller inner part.
  bool refit_folds = true;
  // Large data: above this many used rows (0 = never), training changes regime so that 1M rows
  // train in minutes (docs/churn.md): the cross-validation runs on a stratified sample of
  // `large_rows` rows without refits; eta is at least 0.15; the final model trains on all rows
  // but a stratified 10% hold-out, which chooses its number of trees by early stopping and fits
  // the calibration on the final model's own out-of-sample scores.
  int64_t large_rows = 200000;
  // Recorded in the model file (what the model predicts).
  std::string target;
  std::string positive;
};

struct DroppedFeature {
  std::string name;
  std::string reason;  // "constant", "all missing", "one value per row (an identifier?)"
};

struct CalibrationReport {
  std::string method = "platt";
  PlattScaling platt;
  // On the out-of-fold predictions of the used rows:
  double base_rate = 0;       // share of churners
  double mean_predicted = 0;  // mean calibrated probability
  double brier_raw = 0;       // Brier score of the uncalibrated probabilities
  double brier = 0;           // ... and of the calibrated ones
  double log_loss_raw = 0;
  double log_loss = 0;
  double ece = 0;                         // expected calibration error over the reliability bins
  int64_t rows = 0;                       // rows the calibration was fitted and measured on
  std::string fitted_on = "out-of-fold";  // or "hold-out" (large data)
  struct Bin {
    int64_t count = 0;
    double mean_predicted = 0;
    double observed = 0;  // churn rate in the bin
  };
  std::vector<Bin> reliability;  // 10 equal-count bins of calibrated probability, ascending
};

struct ChurnReport {
  int64_t rows = 0;  // rows used (DESIGN.md §7)
  int64_t positives = 0;
  std::map<std::string, int64_t> rows_dropped;  // reason → rows ("missing target")
  int features = 0;                             // features used
  std::vector<DroppedFeature> dropped_features;
  int64_t cv_rows = 0;            // rows in the cross-validation (rows, or a sample of them)
  double auc = 0;                 // pooled out-of-fold AUC
  std::vector<double> auc_folds;  // AUC of each fold's held-out rows
  std::vector<int> rounds_folds;  // trees chosen by early stopping in each fold
  // Trees of the final model: the median of rounds_folds, or (large data) early-stopped on the
  // final model's hold-out.
  int rounds = 0;
  int threads = 0;  // trainings run at once
  // Large data only (NaN otherwise): the final model's AUC on its own 10% hold-out.
  double holdout_auc = std::numeric_limits<double>::quiet_NaN();
  CalibrationReport calibration;
  double seconds = 0;  // wall time of TrainChurn
  // Calibrated out-of-sample probability per table row: out-of-fold for every used row, or
  // (large data) the final model's on its hold-out rows; NaN elsewhere.
  std::vector<double> oof_probability;
};

// One feature's share of a customer's churn log-odds.
struct Driver {
  std::string feature;
  std::string value;    // the cell as text ("" when missing)
  double contribution;  // SHAP value in calibrated log-odds (× Platt a); > 0 raises the risk
};

struct ChurnFeature {
  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  std::vector<std::string> categories;  // kCategorical: the training dictionary
};

struct ChurnScores {
  std::vector<double> probability;  // calibrated P(churn) per row
  std::vector<double> margin;       // the booster's raw log-odds per row
  // Per row when drivers were requested: the top features by |contribution|, largest first.
  std::vector<std::vector<Driver>> drivers;
  // Calibrated log-odds of the average training customer: base_logit + Σ contributions over
  // all features = logit(probability).
  double base_logit = 0;
  // Per row: the features whose category the model never saw (scored as missing).
  std::vector<std::vector<std::string>> unknown;
  std::map<std::string, int64_t> unknown_categories;  // feature → cells
};

// A trained model. Destroy it before the program exits (not from a static or thread_local
// destructor): freeing an XGBoost booster during exit touches XGBoost's thread-local state after
// it is gone and crashes.
class ChurnModel {
 public:
  ChurnModel(ChurnModel&&) noexcept;
  ChurnModel& operator=(ChurnModel&&) noexcept;
  ~ChurnModel();

  const std::vector<ChurnFeature>& features() const;
  const std::string& target() const;
  const std::string& positive() const;
  CategoricalEncoding encoding() const;
  const PlattScaling& calibration() const;
  int rounds() const;

  // Scores rows [begin, end) of `table` (end < 0: to the last row). Columns are found by name;
  // extra columns are ignored. A model feature missing from the table, or a numeric feature
  // whose column holds a non-number, is kInvalidArgument naming the column (and file:line). A
  // categorical value the model never saw is scored as missing and reported in `unknown`.
  // top_drivers > 0 also computes each row's top drivers (SHAP; slower). Thread-safe.
  Result<ChurnScores> ScoreTable(const Table& table, int top_drivers = 0, int64_t begin = 0,
                                 int64_t end = -1) const;
  // One row: the calibrated churn probability, or its top drivers.
  Result<double> Score(const Table& table, int64_t row) const;
  Result<std::vector<Driver>> Drivers(const Table& table, int64_t row, int top_n) const;

  // One JSON document: our metadata (format version, target, features with their category
  // dictionaries, encoding, calibration, training summary) and the booster as XGBoost's JSON
  // model. kIoError when the file cannot be written.
  Result<std::string> ToJson() const;
  Status Save(const std::string& path) const;
  // kCorruption naming the source and what is wrong (invalid or truncated JSON with its line and
  // column, a missing or mistyped key, a booster XGBoost refuses or whose feature count differs)
  // and kInvalidArgument for another format or a newer version. kIoError when unreadable.
  static Result<ChurnModel> FromJson(std::string_view text, std::string_view source);
  static Result<ChurnModel> Load(const std::string& path);

 private:
  struct Impl;
  explicit ChurnModel(std::unique_ptr<Impl> impl);
  friend struct ChurnTrainer;
  std::unique_ptr<Impl> impl_;
};

struct ChurnTraining {
  ChurnModel model;
  ChurnReport report;
};

// Trains on the rows of `features` whose label is 0 or 1 (labels has one entry per row; -1 =
// missing target, counted in rows_dropped). Every column of `features` is a candidate: leave the
// target and ids out. Columns that are constant, all missing, or categorical with one value per
// row are dropped and listed. kInvalidArgument for: label count ≠ rows, a single class, fewer
// churners or non-churners than folds × inner_folds, no usable feature, invalid options.
// kInternal if XGBoost fails.
Result<ChurnTraining> TrainChurn(const Table& features, const std::vector<int>& labels,
                                 const ChurnOptions& options = {});

}  // namespace kairos::analytics
