#include "learn/adaptive_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kairos::learn {

namespace {

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

constexpr int kNumericCodes = 2 * kNumericHalfRange + 1;
constexpr uint32_t kStandardizeAfter = 200;  // logistic: freeze mean/sd of a numeric predictor
constexpr int kMinSymbolEvidence = 5;        // responses a symbol needs for a bin of its own
constexpr int kPositivesPerBin = 8;

// A bin as a classifier sees it: its score (log-likelihood ratio) and its counts.
struct ScoredGroup {
  float score;
  double pos, neg;
};

// AUC of a classifier that gives every member of a group the group's score.
double GroupAuc(std::vector<ScoredGroup>& groups) {
  std::sort(groups.begin(), groups.end(),
            [](const ScoredGroup& x, const ScoredGroup& y) { return x.score < y.score; });
  double pos = 0, neg = 0, area = 0, neg_below = 0;
  for (size_t i = 0; i < groups.size();) {
    // Equal scores are ties, whichever group they come from.
    size_t j = i;
    double gp = 0, gn = 0;
    while (j < groups.size() && groups[j].score == groups[i].score) {
      gp += groups[j].pos;
      gn += groups[j].neg;
      ++j;
    }
    area += gp * (neg_below + 0.5 * gn);
    neg_below += gn;
    pos += gp;
    neg += gn;
    i = j;
  }
  return pos > 0 && neg > 0 ? area / (pos * neg) : 0.5;
}

// One-example Laplace step of a Gaussian logistic model: given the logit's prior mean and
// variance, the posterior mode of the logit and the curvature there.
void LaplaceStep(double mean, double var, bool positive, double* g, double* h) {
  const double y = positive ? 1 : 0;
  double s = mean;
  // Newton on s = mean + var·(y - sigmoid(s)); converges quadratically, 4 steps reach 1e-12 for
  // the variances a model ever has.
  for (int it = 0; it < 4; ++it) {
    const double p = Sigmoid(s);
    const double f = s - mean + var * (p - y);
    const double fp = 1 + var * p * (1 - p);
    s -= f / fp;
  }
  const double p = Sigmoid(s);
  *g = y - p;        // the weights move by g · x / precision
  *h = p * (1 - p);  // the precisions grow by h · x²
}

}  // namespace

const char* ModelKindName(ModelKind k) {
  return k == ModelKind::kNaiveBayes ? "naive_bayes" : "bayes_logistic";
}

std::optional<ModelKind> ParseModelKind(std::string_view name) {
  if (name == "naive_bayes") return ModelKind::kNaiveBayes;
  if (name == "bayes_logistic") return ModelKind::kBayesLogistic;
  return std::nullopt;
}

int NumericCode(double v) {
  if (!std::isfinite(v)) return kMissingCode;
  const double c = std::round(16.0 * std::asinh(v));
  return static_cast<int>(std::clamp(c, -double(kNumericHalfRange), double(kNumericHalfRange))) +
         kNumericHalfRange;
}

double Logit(double p) {
  p = std::clamp(p, 1e-6, 1 - 1e-6);
  return std::log(p / (1 - p));
}

AdaptiveModel::AdaptiveModel(ModelSettings settings, const std::vector<PredictorSpec>* predictors)
    : settings_(settings),
      specs_(predictors),
      predictors_(predictors->size()),
      hist_pos_(kHistBins, 0),
      hist_neg_(kHistBins, 0),
      hist_psum_(kHistBins, 0) {
  Reconfigure(settings);
}

void AdaptiveModel::Reconfigure(const ModelSettings& s) {
  settings_ = s;
  settings_.prior_propensity = std::clamp(s.prior_propensity, 1e-4, 1 - 1e-4);
  settings_.prior_responses = std::max(0.0, s.prior_responses);
  settings_.max_bins = std::clamp(s.max_bins, 2, 64);
  if (!b0_init_) {
    b0_mean_ = Logit(settings_.prior_propensity);
    // The prior's weight in pseudo-responses sets the intercept's precision: n·p·(1-p).
    b0_prec_ = std::max(1e-3, settings_.prior_responses * settings_.prior_propensity *
                                  (1 - settings_.prior_propensity));
    b0_init_ = true;
  }
  for (size_t i = 0; i < predictors_.size(); ++i) {
    Predictor& p = predictors_[i];
    if (p.w_mean.empty()) {
      p.w_mean.assign(2, 0);
      p.w_prec.assign(2, 1);
    }
  }
  updates_since_refresh_ = 0;
  Refresh();
}

double AdaptiveModel::BaseLogit() const {
  const double k = settings_.prior_responses;
  const double n = static_cast<double>(positives_ + negatives_);
  return Logit((positives_ + k * settings_.prior_propensity) / std::max(n + k, 1e-9));
}

double AdaptiveModel::Evidence(const EncodedPredictors& in) const {
  double e = 0;
  for (size_t i = 0; i < predictors_.size(); ++i) {
    const Predictor& p = predictors_[i];
    if (!p.active) continue;
    const int code = in.code[i];
    if (code == kMissingCode) {
      e += p.missing_llr;
    } else if (!p.llr.empty()) {
      const int idx = std::clamp(code - p.llr_lo, 0, static_cast<int>(p.llr.size()) - 1);
      e += p.llr[idx];
    }
  }
  return e;
}

void AdaptiveModel::LogisticMoments(const EncodedPredictors& in, double* mean, double* var) const {
  double m = b0_mean_, v = 1.0 / b0_prec_;
  for (size_t i = 0; i < predictors_.size(); ++i) {
    const Predictor& p = predictors_[i];
    const int code = in.code[i];
    if ((*specs_)[i].numeric) {
      if (code == kMissingCode) {
        m += p.w_mean[1];
        v += 1.0 / p.w_prec[1];
      } else if (p.standardized) {
        const double x = std::clamp((in.x[i] - p.x_mean) / p.x_sd, -5.0f, 5.0f);
        m += p.w_mean[0] * x;
        v += x * x / p.w_prec[0];
      }
    } else {
      const size_t w = code == kMissingCode ? 0 : 1 + static_cast<size_t>(code);
      if (w < p.w_mean.size()) {
        m += p.w_mean[w];
        v += 1.0 / p.w_prec[w];
      } else {
        v += 1.0;  // an unseen symbol: the prior of its weight
      }
    }
  }
  *mean = m;
  *var = v;
}

Estimate AdaptiveModel::Score(const EncodedPredictors& in) const {
  Estimate e;
  const double n_eff = static_cast<double>(positives_ + negatives_) + settings_.prior_responses;
  if (settings_.kind == ModelKind::kNaiveBayes) {
    const double base = BaseLogit();
    const double ev = Evidence(in);
    e.logit = base + cal_mean_[0] + std::max(0.0, cal_mean_[1]) * ev;
    const double p = Sigmoid(base);
    e.sd = 1.0 / std::sqrt(std::max(n_eff, 1.0) * p * (1 - p));
  } else {
    double m, v;
    LogisticMoments(in, &m, &v);
    e.logit = m;
    e.sd = std::sqrt(v);
  }
  e.logit = std::clamp(e.logit, -20.0, 20.0);
  return e;
}

int AdaptiveModel::HistogramBin(double p) {
  const double z = Logit(p);
  return std::clamp(static_cast<int>(std::floor((z + 10.0) * 5.0)), 0, kHistBins - 1);
}

void AdaptiveModel::Count(Predictor& p, bool numeric, int code, bool positive) {
  if (code == kMissingCode) {
    ++(positive ? p.missing_pos : p.missing_neg);
    return;
  }
  int idx = code;
  if (numeric) {
    if (p.pos.empty()) {
      p.lo = code;
    } else if (code < p.lo) {
      // Grow downwards: new vectors (an insert at the front trips a GCC 12 false warning).
      const size_t grow = static_cast<size_t>(p.lo - code);
      for (std::vector<uint32_t>* v : {&p.pos, &p.neg}) {
        std::vector<uint32_t> wider(grow + v->size(), 0);
        std::copy(v->begin(), v->end(), wider.begin() + static_cast<std::ptrdiff_t>(grow));
        *v = std::move(wider);
      }
      p.lo = code;
    }
    idx = code - p.lo;
  }
  if (idx >= static_cast<int>(p.pos.size())) {
    p.pos.resize(idx + 1, 0);
    p.neg.resize(idx + 1, 0);
  }
  ++(positive ? p.pos[idx] : p.neg[idx]);
}

void AdaptiveModel::Update(const EncodedPredictors& in, bool positive) {
  // Prequential health: the model's estimate before it learns from this response.
  double predicted;
  if (settings_.kind == ModelKind::kNaiveBayes) {
    // Calibration of the summed evidence (before the counts change). Without evidence (no active
    // predictor, or bins that say nothing) there is nothing to calibrate: the base rate is the
    // estimate, and learning an intercept from such responses would count them twice.
    const double base = BaseLogit();
    const double ev = Evidence(in);
    predicted =
        Sigmoid(std::clamp(base + cal_mean_[0] + std::max(0.0, cal_mean_[1]) * ev, -20.0, 20.0));
    if (ev != 0) {
      const double mean = base + cal_mean_[0] + cal_mean_[1] * ev;
      const double var = 1.0 / cal_prec_[0] + ev * ev / cal_prec_[1];
      double g, h;
      LaplaceStep(mean, var, positive, &g, &h);
      cal_mean_[0] += g / cal_prec_[0];
      cal_mean_[1] += g * ev / cal_prec_[1];
      cal_prec_[0] += h;
      cal_prec_[1] += h * ev * ev;
    }
  } else {
    double m, v;
    LogisticMoments(in, &m, &v);
    predicted = Sigmoid(std::clamp(m, -20.0, 20.0));
    LogisticUpdate(in, m, v, positive);
  }
  const int hb = HistogramBin(predicted);
  ++(positive ? hist_pos_[hb] : hist_neg_[hb]);
  hist_psum_[hb] += predicted;

  // The counts feed naive Bayes and every model's predictor health.
  for (size_t i = 0; i < predictors_.size(); ++i) {
    Count(predictors_[i], (*specs_)[i].numeric, in.code[i], positive);
  }
  ++(positive ? positives_ : negatives_);
  // Bins and predictor selection are re-derived as evidence grows: often at first, then every
  // 1/16 of the responses so far (amortized cost stays constant).
  if (++updates_since_refresh_ >= std::max<int64_t>(16, responses() / 16)) Refresh();
}

void AdaptiveModel::LogisticUpdate(const EncodedPredictors& in, double m, double v, bool positive) {
  double g, h;
  LaplaceStep(m, v, positive, &g, &h);
  b0_mean_ += g / b0_prec_;
  b0_prec_ += h;
  for (size_t i = 0; i < predictors_.size(); ++i) {
    Predictor& p = predictors_[i];
    const int code = in.code[i];
    if ((*specs_)[i].numeric) {
      if (code == kMissingCode) {
        p.w_mean[1] += static_cast<float>(g / p.w_prec[1]);
        p.w_prec[1] += static_cast<float>(h);
        continue;
      }
      if (p.standardized) {
        const double x = std::clamp((in.x[i] - p.x_mean) / p.x_sd, -5.0f, 5.0f);
        p.w_mean[0] += static_cast<float>(g * x / p.w_prec[0]);
        p.w_prec[0] += static_cast<float>(h * x * x);
      } else {
        p.x_sum += in.x[i];
        p.x_sumsq += static_cast<double>(in.x[i]) * in.x[i];
        ++p.x_n;
        FreezeStandardization(p);
      }
    } else {
      const size_t w = code == kMissingCode ? 0 : 1 + static_cast<size_t>(code);
      if (w >= p.w_mean.size()) {
        p.w_mean.resize(w + 1, 0);
        p.w_prec.resize(w + 1, 1);
      }
      p.w_mean[w] += static_cast<float>(g / p.w_prec[w]);
      p.w_prec[w] += static_cast<float>(h);
    }
  }
}

void AdaptiveModel::FreezeStandardization(Predictor& p) {
  if (p.standardized || p.x_n < kStandardizeAfter) return;
  const double mean = p.x_sum / p.x_n;
  const double var = std::max(0.0, p.x_sumsq / p.x_n - mean * mean);
  p.x_mean = static_cast<float>(mean);
  p.x_sd = static_cast<float>(var > 1e-12 ? std::sqrt(var) : 1.0);
  p.standardized = true;
}

void AdaptiveModel::Remap(const std::vector<PredictorSpec>* specs, const std::vector<int>& from) {
  std::vector<Predictor> next(specs->size());
  for (size_t i = 0; i < specs->size(); ++i) {
    if (from[i] >= 0 && (*specs_)[from[i]].numeric == (*specs)[i].numeric) {
      next[i] = std::move(predictors_[from[i]]);
    } else {
      next[i].w_mean.assign(2, 0);
      next[i].w_prec.assign(2, 1);
    }
  }
  predictors_ = std::move(next);
  specs_ = specs;
  Refresh();
}

void AdaptiveModel::RefreshPredictor(Predictor& p, bool numeric) const {
  const double total_pos = static_cast<double>(positives_);
  const double total_neg = static_cast<double>(negatives_);
  // Coarse groups: (pos, neg) and, per code index, the group it belongs to.
  std::vector<std::pair<double, double>> groups;
  std::vector<int> group_of;
  group_of.resize(p.pos.size());
  if (numeric) {
    double seen = 0;
    for (size_t i = 0; i < p.pos.size(); ++i) seen += p.pos[i] + p.neg[i];
    double seen_pos = 0;
    for (uint32_t x : p.pos) seen_pos += x;
    const int want =
        std::clamp(static_cast<int>(seen_pos / kPositivesPerBin), 1, settings_.max_bins);
    double cum = 0;
    int g = 0;
    groups.assign(1, {0, 0});
    for (size_t i = 0; i < p.pos.size(); ++i) {
      const double n = p.pos[i] + p.neg[i];
      if (n == 0) {
        group_of[i] = g;
        continue;
      }
      // Start a new bin when this one holds its equal share.
      if (cum >= (g + 1) * seen / want && g + 1 < want) {
        ++g;
        groups.push_back({0, 0});
      }
      group_of[i] = g;
      groups[g].first += p.pos[i];
      groups[g].second += p.neg[i];
      cum += n;
    }
  } else {
    groups.assign(1, {0, 0});  // group 0: residual
    for (size_t i = 0; i < p.pos.size(); ++i) {
      const double n = p.pos[i] + p.neg[i];
      if (i > 0 && n >= kMinSymbolEvidence) {
        group_of[i] = static_cast<int>(groups.size());
        groups.push_back({p.pos[i], p.neg[i]});
      } else {
        group_of[i] = 0;
        groups[0].first += p.pos[i];
        groups[0].second += p.neg[i];
      }
    }
  }
  const double k = static_cast<double>(groups.size()) + 1;  // Laplace over the bins + missing
  auto llr = [&](double pos, double neg) {
    return static_cast<float>(std::log((pos + 1) / (total_pos + k)) -
                              std::log((neg + 1) / (total_neg + k)));
  };
  std::vector<float> group_llr(groups.size());
  std::vector<ScoredGroup> scored;
  int used = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    group_llr[g] = llr(groups[g].first, groups[g].second);
    if (groups[g].first + groups[g].second > 0) {
      scored.push_back({group_llr[g], groups[g].first, groups[g].second});
      ++used;
    }
  }
  p.missing_llr = llr(p.missing_pos, p.missing_neg);
  if (p.missing_pos + p.missing_neg > 0) {
    scored.push_back({p.missing_llr, double(p.missing_pos), double(p.missing_neg)});
    ++used;
  }
  p.llr.resize(p.pos.size());
  for (size_t i = 0; i < p.pos.size(); ++i) p.llr[i] = group_llr[group_of[i]];
  p.llr_lo = numeric ? p.lo : 0;
  p.bins = used;
  p.auc = GroupAuc(scored);
  p.active = used >= 2 && p.auc >= settings_.min_predictor_auc;
}

void AdaptiveModel::Refresh() {
  for (size_t i = 0; i < predictors_.size(); ++i)
    RefreshPredictor(predictors_[i], (*specs_)[i].numeric);
  updates_since_refresh_ = 0;
}

ModelHealth AdaptiveModel::Health() const {
  ModelHealth h;
  h.kind = settings_.kind;
  h.positives = positives_;
  h.responses = positives_ + negatives_;
  double pos = 0, neg = 0, area = 0, psum = 0;
  for (int b = 0; b < kHistBins; ++b) {
    area += hist_pos_[b] * (neg + 0.5 * hist_neg_[b]);
    neg += hist_neg_[b];
    pos += hist_pos_[b];
    psum += hist_psum_[b];
  }
  h.auc = pos > 0 && neg > 0 ? area / (pos * neg) : 0.5;
  const double n = pos + neg;
  h.mean_predicted = n > 0 ? psum / n : 0;
  h.observed_rate = n > 0 ? pos / n : 0;
  // Calibration: consecutive histogram bins merged into ~10 buckets of equal count.
  if (n > 0) {
    CalibrationBucket cur;
    double cur_pos = 0, cur_psum = 0;
    for (int b = 0; b < kHistBins; ++b) {
      cur.n += hist_pos_[b] + hist_neg_[b];
      cur_pos += hist_pos_[b];
      cur_psum += hist_psum_[b];
      if (cur.n > 0 && (cur.n >= n / 10 || b == kHistBins - 1)) {
        cur.predicted = cur_psum / cur.n;
        cur.observed = cur_pos / cur.n;
        h.calibration.push_back(cur);
        cur = {};
        cur_pos = cur_psum = 0;
      }
    }
  }
  for (size_t i = 0; i < predictors_.size(); ++i) {
    h.predictors.push_back(
        {(*specs_)[i].name, predictors_[i].auc, predictors_[i].bins, predictors_[i].active});
  }
  std::stable_sort(
      h.predictors.begin(), h.predictors.end(),
      [](const PredictorHealth& a, const PredictorHealth& b) { return a.auc > b.auc; });
  if (h.positives < 200) h.flags.push_back("fewer than 200 positives");
  if (h.responses >= 1000 && h.positives > 0 && h.auc < 0.52) {
    h.flags.push_back("not learning: AUC stuck near 50");
  }
  if (!predictors_.empty() && h.positives >= 200 &&
      std::none_of(predictors_.begin(), predictors_.end(),
                   [](const Predictor& p) { return p.active; })) {
    h.flags.push_back("no active predictor");
  }
  return h;
}

// ---- encoding ---------------------------------------------------------------------------------

namespace {
void PutU32s(std::string* out, const std::vector<uint32_t>& v) {
  PutVarint(out, v.size());
  for (uint32_t x : v) PutVarint(out, x);
}
bool GetU32s(Reader* in, std::vector<uint32_t>* v, size_t max) {
  uint64_t n;
  if (!in->Varint(&n) || n > max) return false;
  v->resize(n);
  for (uint32_t& x : *v) {
    uint64_t u;
    if (!in->Varint(&u) || u > UINT32_MAX) return false;
    x = static_cast<uint32_t>(u);
  }
  return true;
}
void PutFloats(std::string* out, const std::vector<float>& v) {
  PutVarint(out, v.size());
  for (float x : v) PutFixed(out, x);
}
bool GetFloats(Reader* in, std::vector<float>* v, size_t max) {
  uint64_t n;
  if (!in->Varint(&n) || n > max) return false;
  v->resize(n);
  for (float& x : *v) {
    if (!in->Fixed(&x) || !std::isfinite(x)) return false;
  }
  return true;
}
bool GetFinite(Reader* in, double* v) { return in->Fixed(v) && std::isfinite(*v); }
}  // namespace

void AdaptiveModel::Encode(std::string* out) const {
  PutVarint(out, static_cast<uint64_t>(positives_));
  PutVarint(out, static_cast<uint64_t>(negatives_));
  for (double x : {cal_mean_[0], cal_mean_[1], cal_prec_[0], cal_prec_[1], b0_mean_, b0_prec_})
    PutFixed(out, x);
  PutVarint(out, kHistBins);
  for (int b = 0; b < kHistBins; ++b) {
    PutVarint(out, hist_pos_[b]);
    PutVarint(out, hist_neg_[b]);
    PutFixed(out, hist_psum_[b]);
  }
  PutVarint(out, predictors_.size());
  for (const Predictor& p : predictors_) {
    PutSignedVarint(out, p.lo);
    PutU32s(out, p.pos);
    PutU32s(out, p.neg);
    PutVarint(out, p.missing_pos);
    PutVarint(out, p.missing_neg);
    PutFloats(out, p.w_mean);
    PutFloats(out, p.w_prec);
    PutFixed(out, p.x_sum);
    PutFixed(out, p.x_sumsq);
    PutVarint(out, p.x_n);
  }
}

bool AdaptiveModel::Decode(Reader* in) {
  uint64_t pos, neg, bins, npred;
  if (!in->Varint(&pos) || !in->Varint(&neg) || pos > (1ULL << 62) || neg > (1ULL << 62))
    return false;
  positives_ = static_cast<int64_t>(pos);
  negatives_ = static_cast<int64_t>(neg);
  double* doubles[] = {&cal_mean_[0], &cal_mean_[1], &cal_prec_[0],
                       &cal_prec_[1], &b0_mean_,     &b0_prec_};
  for (double* d : doubles) {
    if (!GetFinite(in, d)) return false;
  }
  if (cal_prec_[0] <= 0 || cal_prec_[1] <= 0 || b0_prec_ <= 0) return false;
  b0_init_ = true;
  if (!in->Varint(&bins) || bins != kHistBins) return false;
  for (int b = 0; b < kHistBins; ++b) {
    uint64_t hp, hn;
    if (!in->Varint(&hp) || !in->Varint(&hn) || hp > UINT32_MAX || hn > UINT32_MAX) return false;
    hist_pos_[b] = static_cast<uint32_t>(hp);
    hist_neg_[b] = static_cast<uint32_t>(hn);
    if (!GetFinite(in, &hist_psum_[b])) return false;
  }
  if (!in->Varint(&npred) || npred != predictors_.size()) return false;
  for (size_t i = 0; i < predictors_.size(); ++i) {
    Predictor& p = predictors_[i];
    int64_t lo;
    uint64_t mp, mn, xn;
    const size_t max_codes = (*specs_)[i].numeric ? kNumericCodes : kMaxSymbols + 1;
    if (!in->SignedVarint(&lo) || lo < 0 || lo >= kNumericCodes) return false;
    p.lo = static_cast<int>(lo);
    if (!GetU32s(in, &p.pos, max_codes) || !GetU32s(in, &p.neg, max_codes) ||
        p.pos.size() != p.neg.size()) {
      return false;
    }
    if ((*specs_)[i].numeric && p.lo + p.pos.size() > static_cast<size_t>(kNumericCodes))
      return false;
    if (!in->Varint(&mp) || !in->Varint(&mn) || mp > UINT32_MAX || mn > UINT32_MAX) return false;
    p.missing_pos = static_cast<uint32_t>(mp);
    p.missing_neg = static_cast<uint32_t>(mn);
    if (!GetFloats(in, &p.w_mean, kMaxSymbols + 2) || !GetFloats(in, &p.w_prec, kMaxSymbols + 2) ||
        p.w_mean.size() != p.w_prec.size() || p.w_mean.size() < 2) {
      return false;
    }
    for (float q : p.w_prec) {
      if (!(q > 0)) return false;
    }
    if (!GetFinite(in, &p.x_sum) || !GetFinite(in, &p.x_sumsq) || !in->Varint(&xn) ||
        xn > UINT32_MAX)
      return false;
    p.x_n = static_cast<uint32_t>(xn);
    p.standardized = false;
    FreezeStandardization(p);
  }
  Refresh();
  return true;
}

}  // namespace kairos::learn
