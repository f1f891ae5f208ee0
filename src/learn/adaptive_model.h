// Adaptive propensity models: one per action × channel (treatment), learning online from every
// response, in the style of adaptive decision managers.
//
// Predictors are the values of the workspace's declared predictor expressions at decision time
// (learning.yaml). A ModelStore turns them into codes once per request (PredictorEncoder):
//  * numeric values → one of 545 fixed micro-bins, round(16·asinh(v)) clamped to ±272: data-free
//    and identical in every environment, so an exported model means the same thing elsewhere;
//    relative resolution ~6% for large values, 1/16 near zero. NaN and ±inf are missing.
//  * symbols → ids of a per-predictor dictionary shared by every model (at most kMaxSymbols;
//    later symbols share the overflow id 0).
// Each model counts positives and negatives per micro-bin / symbol and, from those counts,
// periodically derives its own view:
//  * numeric predictors: equal-frequency bins over the micro-bins, as many as the evidence
//    supports (one per 8 positives up to max_bins), so bins refine as responses arrive;
//  * symbolic predictors: a bin per symbol with enough evidence, the rest in a residual bin;
//  * a missing-value bin for both;
//  * per predictor, its AUC as a single-predictor classifier; predictors below
//    min_predictor_auc are left out of scoring (automatic predictor selection).
// Kinds:
//  * naive Bayes: log-odds = logit(base rate) + Σ active predictors' log-likelihood ratios of
//    their bins (Laplace-smoothed), then a two-parameter online calibration (Bayesian logistic
//    on the summed evidence), because correlated predictors make raw naive Bayes overconfident;
//  * Bayesian logistic regression: a Gaussian over the weights with a diagonal precision,
//    updated per response by the exact one-example Laplace step (Chapelle & Li 2011, alg. 3, in
//    its online form). Numeric predictors enter as standardized asinh(v) (mean and sd frozen
//    after the first 200 values) plus a missing indicator; symbols one-hot.
// Only the model's own kind learns its parameters; the bin counts (and so predictor health)
// are kept for both. A model switched to another kind keeps its counts; a logistic one starts
// its weights from the prior.
// Both start from the action's prior propensity worth `prior_responses` pseudo-responses and
// give a mean and a spread on the log-odds scale (Thompson sampling draws from it).
//
// Health: every update first scores the example (prequential), so AUC and calibration are
// measured on responses the model had not yet seen.
//
// Thread-safety: an AdaptiveModel is not synchronized; ModelStore guards each with a mutex.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"

namespace kairos::learn {

enum class ModelKind : uint8_t { kNaiveBayes, kBayesLogistic };
const char* ModelKindName(ModelKind k);
std::optional<ModelKind> ParseModelKind(std::string_view name);

struct PredictorSpec {
  std::string name;  // the expression as declared ("agg.data_mb(30d)")
  bool numeric = true;
};

// One predictor's value at decision time.
struct PredictorValue {
  bool missing = true;
  bool numeric = true;
  double num = 0;
  std::string str;
};

inline constexpr int kMissingCode = -1;
inline constexpr int kNumericHalfRange = 272;
inline constexpr int kMaxSymbols = 256;

// Numeric micro-bin code in [0, 2·kNumericHalfRange], or kMissingCode.
int NumericCode(double v);

// A request's predictors as codes (per predictor: micro-bin, symbol id or kMissingCode) and,
// for numeric ones, asinh(v) (the logistic model's input).
struct EncodedPredictors {
  std::vector<int32_t> code;
  std::vector<float> x;
};

struct ModelSettings {
  ModelKind kind = ModelKind::kNaiveBayes;
  double prior_propensity = 0.02;
  double prior_responses = 20;      // the prior is worth this many responses
  double min_predictor_auc = 0.52;  // predictors below are not used for scoring
  int max_bins = 10;
};

// A propensity estimate: p = sigmoid(logit); `sd` is the spread of the log-odds (uncertainty).
struct Estimate {
  double logit = 0;
  double sd = 0;
  double propensity() const { return PropensityAt(0); }
  // The propensity `z` spreads away from the mean: sigmoid(logit + sd·z) (Thompson draws,
  // bounds of what a draw can reach).
  double PropensityAt(double z) const { return 1.0 / (1.0 + std::exp(-(logit + sd * z))); }
};

// Log-odds of p, with p clamped to [1e-6, 1 - 1e-6].
double Logit(double p);

struct PredictorHealth {
  std::string name;
  double auc = 0.5;  // 0.5–1
  int bins = 0;      // bins in use (missing bin included when seen)
  bool active = false;
};

struct CalibrationBucket {
  double predicted = 0, observed = 0;
  int64_t n = 0;
};

struct ModelHealth {
  ModelKind kind = ModelKind::kNaiveBayes;
  int64_t responses = 0, positives = 0;
  double auc = 0.5;           // prequential, 0.5–1 (0.5 until both classes were seen)
  double mean_predicted = 0;  // over all responses
  double observed_rate = 0;
  std::vector<CalibrationBucket> calibration;  // ~10 buckets of equal count, by predicted value
  std::vector<PredictorHealth> predictors;     // best first
  std::vector<std::string> flags;              // "fewer than 200 positives", ...
};

class AdaptiveModel {
 public:
  AdaptiveModel(ModelSettings settings, const std::vector<PredictorSpec>* predictors);

  Estimate Score(const EncodedPredictors& in) const;
  // Learns from one response (positive = accepted / converted by default).
  void Update(const EncodedPredictors& in, bool positive);

  ModelHealth Health() const;
  const ModelSettings& settings() const { return settings_; }
  // Changes kind or prior after a reload; the counts and weights stay.
  void Reconfigure(const ModelSettings& s);
  int64_t responses() const { return positives_ + negatives_; }
  int64_t positives() const { return positives_; }
  // Moves to another predictor list: predictor i takes the state of old predictor from[i] (-1 or
  // a different type: starts empty). `specs` must outlive the model.
  void Remap(const std::vector<PredictorSpec>* specs, const std::vector<int>& from);

  // Re-derives bins, predictor AUCs and selection from the counts now (they are otherwise
  // re-derived as evidence grows). A snapshot does this first, so that the restored model
  // scores exactly like the running one.
  void Consolidate() { Refresh(); }

  void Encode(std::string* out) const;
  // Reads what Encode wrote for the same predictor list; false on any malformed input (the model
  // must then be discarded).
  bool Decode(Reader* in);

 private:
  struct Predictor {
    // Counts by code: numeric codes index [lo, lo + size); symbolic codes index directly.
    int lo = 0;
    std::vector<uint32_t> pos, neg;
    uint32_t missing_pos = 0, missing_neg = 0;
    // Derived by Refresh: log-likelihood ratio per code index, and for missing.
    std::vector<float> llr;
    int llr_lo = 0;
    float missing_llr = 0;
    double auc = 0.5;
    int bins = 0;
    bool active = false;
    // Logistic model: numeric: w[0] slope, w[1] missing; symbolic: w[0] missing, w[1 + id].
    std::vector<float> w_mean, w_prec;
    double x_sum = 0, x_sumsq = 0;
    uint32_t x_n = 0;
    float x_mean = 0, x_sd = 1;
    bool standardized = false;
  };

  double BaseLogit() const;
  double Evidence(const EncodedPredictors& in) const;  // Σ active llr (naive Bayes)
  void Count(Predictor& p, bool numeric, int code, bool positive);
  void Refresh();
  void RefreshPredictor(Predictor& p, bool numeric) const;
  // Logistic: mean and variance of the logit for one example, and the update given them.
  void LogisticMoments(const EncodedPredictors& in, double* mean, double* var) const;
  void LogisticUpdate(const EncodedPredictors& in, double mean, double var, bool positive);
  static int HistogramBin(double p);
  static void FreezeStandardization(Predictor& p);

  ModelSettings settings_;
  const std::vector<PredictorSpec>* specs_;
  std::vector<Predictor> predictors_;
  int64_t positives_ = 0, negatives_ = 0;
  int64_t updates_since_refresh_ = 0;
  // Naive Bayes calibration: logit = base + a + b·evidence, Gaussian over (a, b).
  double cal_mean_[2] = {0, 1}, cal_prec_[2] = {1, 1};
  // Logistic intercept.
  double b0_mean_ = 0, b0_prec_ = 1;
  bool b0_init_ = false;
  // Prequential health histogram over logit(predicted) in [-10, 5), 0.2 wide.
  static constexpr int kHistBins = 75;
  std::vector<uint32_t> hist_pos_, hist_neg_;
  std::vector<double> hist_psum_;
};

}  // namespace kairos::learn
