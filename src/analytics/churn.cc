#include "analytics/churn.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/file_util.h"
#include "common/rng.h"

namespace kairos::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kMissingFloat = std::numeric_limits<float>::quiet_NaN();
constexpr std::string_view kFormat = "kairos-churn-model";
constexpr int kVersion = 1;
// Categories travel to XGBoost as floats, exact only below 2^24.
constexpr size_t kMaxCategories = size_t{1} << 24;

// ---- XGBoost handles ---------------------------------------------------------------------
// Every handle is owned by a unique_ptr whose deleter frees it, so that no early return leaks
// one; every return code is checked and XGBGetLastError() becomes the Status message.

struct DMatrixFree {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixFree>;
using BoosterPtr = std::unique_ptr<void, BoosterFree>;

// XGBoost's message without its timestamp, source location and stack trace, so that it fits
// the one-line errors the CLI prints: "[10:00:00] ./src/x.cc:407: Expecting ...\nStack trace..."
// → "Expecting ...".
std::string XgbMessage() {
  std::string_view m = XGBGetLastError();
  m = m.substr(0, m.find('\n'));
  if (!m.empty() && m.front() == '[') {
    const size_t close = m.find("] ");
    if (close != std::string_view::npos) m.remove_prefix(close + 2);
  }
  const size_t colon = m.find(": ");
  if (colon != std::string_view::npos) {
    const std::string_view location = m.substr(0, colon);
    const size_t last = location.rfind(':');
    if (last != std::string_view::npos && last + 1 < location.size() &&
        std::all_of(location.begin() + static_cast<std::ptrdiff_t>(last) + 1, location.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      m.remove_prefix(colon + 2);
    }
  }
  return std::string(m);
}

Status Xgb(int rc, std::string_view what, ErrorCode code = ErrorCode::kInternal) {
  if (rc == 0) return Status::Ok();
  return Status(code, "XGBoost " + std::string(what) + ": " + XgbMessage());
}

double Sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string JoinQuoted(const std::vector<std::string>& values, size_t limit = 10) {
  std::string out;
  for (size_t i = 0; i < values.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += "\"" + values[i] + "\"";
  }
  if (values.size() > limit) out += ", ... (" + std::to_string(values.size()) + " values)";
  return out;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CategoryIndex = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// XGBoost's columns for our features: a categorical feature is one column (native) or one per
// category (one-hot); a numeric feature is one column.
struct Layout {
  std::vector<int> offset;  // first XGBoost column of each feature
  std::vector<int> width;
  int columns = 0;
  std::vector<std::string> types;  // per XGBoost column: "q" or "c"
};

Layout MakeLayout(const std::vector<ChurnFeature>& features, CategoricalEncoding encoding) {
  Layout l;
  for (const ChurnFeature& f : features) {
    const bool onehot =
        f.kind == ColumnKind::kCategorical && encoding == CategoricalEncoding::kOneHot;
    const int width = onehot ? static_cast<int>(f.categories.size()) : 1;
    l.offset.push_back(l.columns);
    l.width.push_back(width);
    l.columns += width;
    for (int i = 0; i < width; ++i) {
      l.types.push_back(f.kind == ColumnKind::kCategorical && !onehot ? "c" : "q");
    }
  }
  return l;
}

// A dense row-major float matrix, NaN = missing: what XGBoost reads.
struct Matrix {
  int64_t rows = 0;
  int cols = 0;
  std::vector<float> values;
  const float* row(int64_t r) const { return values.data() + r * cols; }
};

Matrix Gather(const Matrix& m, const std::vector<int64_t>& rows) {
  Matrix out;
  out.rows = static_cast<int64_t>(rows.size());
  out.cols = m.cols;
  out.values.resize(static_cast<size_t>(out.rows) * m.cols);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(m.row(rows[i]), m.cols, out.values.data() + i * m.cols);
  }
  return out;
}

Result<DMatrixPtr> MakeDMatrix(const Matrix& m, const Layout& layout, const float* labels,
                               int nthread) {
  void* raw = nullptr;
  KAIROS_RETURN_IF_ERROR(
      Xgb(XGDMatrixCreateFromMat_omp(m.values.data(), m.rows, m.cols, kMissingFloat, &raw, nthread),
          "creating a matrix"));
  DMatrixPtr d(raw);
  std::vector<const char*> types;
  for (const std::string& t : layout.types) types.push_back(t.c_str());
  KAIROS_RETURN_IF_ERROR(
      Xgb(XGDMatrixSetStrFeatureInfo(d.get(), "feature_type", types.data(), types.size()),
          "setting feature types"));
  if (labels != nullptr) {
    KAIROS_RETURN_IF_ERROR(
        Xgb(XGDMatrixSetFloatInfo(d.get(), "label", labels, m.rows), "setting labels"));
  }
  return d;
}

// The parameters every booster of a training shares.
std::vector<std::pair<std::string, std::string>> BoosterParams(const ChurnOptions& o,
                                                               uint64_t seed) {
  return {{"objective", "binary:logistic"},
          {"eval_metric", "logloss"},
          {"tree_method", "hist"},
          {"max_depth", std::to_string(o.max_depth)},
          {"eta", FormatNumber(o.eta)},
          {"min_child_weight", FormatNumber(o.min_child_weight)},
          {"subsample", FormatNumber(o.subsample)},
          {"colsample_bytree", FormatNumber(o.colsample_bytree)},
          {"lambda", FormatNumber(o.lambda)},
          {"alpha", FormatNumber(o.alpha)},
          {"gamma", FormatNumber(o.gamma)},
          {"max_bin", std::to_string(o.max_bin)},
          {"max_cat_to_onehot", std::to_string(o.max_cat_to_onehot)},
          {"nthread", "1"},  // parallel jobs instead (RunJobs)
          // XGBoost's seed is an int; fold the 64-bit seed into its range.
          {"seed", std::to_string(static_cast<int32_t>(seed & 0x7fffffff))},
          {"verbosity", "0"}};
}

Result<BoosterPtr> NewBooster(const std::vector<void*>& cache,
                              const std::vector<std::pair<std::string, std::string>>& params) {
  void* raw = nullptr;
  KAIROS_RETURN_IF_ERROR(
      Xgb(XGBoosterCreate(cache.data(), cache.size(), &raw), "creating a booster"));
  BoosterPtr b(raw);
  for (const auto& [k, v] : params) {
    KAIROS_RETURN_IF_ERROR(Xgb(XGBoosterSetParam(b.get(), k.c_str(), v.c_str()), "parameter " + k));
  }
  return b;
}

Status Boost(void* booster, void* train, int from, int to) {
  for (int i = from; i < to; ++i) {
    KAIROS_RETURN_IF_ERROR(Xgb(XGBoosterUpdateOneIter(booster, i, train), "boosting"));
  }
  return Status::Ok();
}

// type: 1 = margin, 2 = SHAP contributions. iteration_end 0 = every tree. The result is copied
// out of XGBoost's thread-local buffer before the next call.
Result<std::vector<float>> Predict(void* booster, void* dmatrix, int type, int iteration_end) {
  const std::string config = "{\"type\":" + std::to_string(type) +
                             ",\"training\":false,\"iteration_begin\":0,\"iteration_end\":" +
                             std::to_string(iteration_end) + ",\"strict_shape\":false}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  KAIROS_RETURN_IF_ERROR(
      Xgb(XGBoosterPredictFromDMatrix(booster, dmatrix, config.c_str(), &shape, &dim, &out),
          "predicting"));
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(out, out + n);
}

// Runs the jobs on up to `threads` threads (each job trains its own single-threaded boosters)
// and returns the first failure in job order. Why not XGBoost's own OpenMP threads: on shared
// cores its barriers spin while a neighbour holds the other core; two threads ran 5× slower than
// one here (docs/churn.md). Independent jobs need no barrier.
Status RunJobs(const std::vector<std::function<Status()>>& jobs, int threads) {
  std::vector<Status> results(jobs.size());
  std::atomic<size_t> next{0};
  const auto worker = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) results[i] = jobs[i]();
  };
  const size_t extra = std::min(jobs.size(), static_cast<size_t>(std::max(threads, 1))) - 1;
  std::vector<std::thread> pool;
  for (size_t t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (Status& s : results) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Boosts up to max_rounds trees, stopping when the validation log loss has not improved for
// `patience` rounds; returns the number of trees at the best log loss.
Result<int> BoostWithEarlyStopping(void* booster, void* train, void* valid, int max_rounds,
                                   int patience) {
  double best = std::numeric_limits<double>::infinity();
  int best_rounds = 1;
  const char* names[] = {"valid"};
  for (int i = 0; i < max_rounds; ++i) {
    KAIROS_RETURN_IF_ERROR(Xgb(XGBoosterUpdateOneIter(booster, i, train), "boosting"));
    const char* eval = nullptr;
    void* sets[] = {valid};
    KAIROS_RETURN_IF_ERROR(
        Xgb(XGBoosterEvalOneIter(booster, i, sets, names, 1, &eval), "evaluating"));
    // "[i]\tvalid-logloss:0.4123"
    const std::string_view text(eval);
    const size_t colon = text.rfind(':');
    double loss = kNaN;
    if (colon != std::string_view::npos) {
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), loss);
    }
    if (!std::isfinite(loss))
      return Internal("XGBoost evaluation not understood: " + std::string(text));
    if (loss < best - 1e-9) {
      best = loss;
      best_rounds = i + 1;
    } else if (i + 1 - best_rounds >= patience) {
      break;
    }
  }
  return best_rounds;
}

}  // namespace

// ---- Pure helpers ------------------------------------------------------------------------

double Auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<std::pair<double, int>> v;
  v.reserve(scores.size());
  for (size_t i = 0; i < scores.size() && i < labels.size(); ++i) {
    if ((labels[i] == 0 || labels[i] == 1) && !std::isnan(scores[i])) {
      v.emplace_back(scores[i], labels[i]);
    }
  }
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].first == v[i].first) ++j;
    const double mid_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j
    for (size_t t = i; t < j; ++t) {
      if (v[t].second == 1) {
        positives += 1;
        rank_sum += mid_rank;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(v.size()) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

std::vector<int> StratifiedFolds(const std::vector<int>& labels, int k, uint64_t seed) {
  std::vector<int> fold(labels.size(), -1);
  if (k < 1) return fold;
  std::vector<int64_t> by_class[2];
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == 0 || labels[i] == 1) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  }
  Rng rng(seed);
  // Positives first, then negatives continuing the round-robin, so that fold sizes also differ
  // by at most one overall.
  int64_t dealt = 0;
  for (int cls : {1, 0}) {
    auto& idx = by_class[cls];
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.Below(i)]);
    for (int64_t r : idx) fold[r] = static_cast<int>(dealt++ % k);
  }
  return fold;
}

double PlattScaling::Probability(double margin) const { return Sigmoid(a * margin + b); }

PlattScaling FitPlatt(const std::vector<double>& margins, const std::vector<int>& labels) {
  double n_pos = 0, n_neg = 0;
  for (size_t i = 0; i < labels.size() && i < margins.size(); ++i) {
    if (labels[i] == 1) n_pos += 1;
    if (labels[i] == 0) n_neg += 1;
  }
  PlattScaling p;
  if (n_pos == 0 || n_neg == 0) return p;
  const double t_pos = (n_pos + 1) / (n_pos + 2);
  const double t_neg = 1 / (n_neg + 2);
  const auto loss = [&](double a, double b) {
    double l = 0;
    for (size_t i = 0; i < margins.size() && i < labels.size(); ++i) {
      if (labels[i] != 0 && labels[i] != 1) continue;
      const double t = labels[i] == 1 ? t_pos : t_neg;
      const double z = a * margins[i] + b;
      // -[t log σ(z) + (1-t) log(1-σ(z))] = log(1+e^z) - t z, computed without overflow.
      l += (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - t * z;
    }
    return l;
  };
  double current = loss(p.a, p.b);
  for (int iter = 0; iter < 100; ++iter) {
    double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (size_t i = 0; i < margins.size() && i < labels.size(); ++i) {
      if (labels[i] != 0 && labels[i] != 1) continue;
      const double t = labels[i] == 1 ? t_pos : t_neg;
      const double m = margins[i];
      const double q = Sigmoid(p.a * m + p.b);
      const double w = q * (1 - q);
      ga += (q - t) * m;
      gb += q - t;
      haa += w * m * m;
      hab += w * m;
      hbb += w;
    }
    // A tiny ridge keeps the 2×2 Newton system solvable when margins are all equal.
    haa += 1e-12;
    hbb += 1e-12;
    const double det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const double da = (hbb * ga - hab * gb) / det;
    const double db = (haa * gb - hab * ga) / det;
    double step = 1;
    bool improved = false;
    while (step > 1e-10) {
      const double na = p.a - step * da, nb = p.b - step * db;
      const double l = loss(na, nb);
      if (l <= current) {
        improved = current - l > 1e-12 * (1 + std::abs(current));
        p.a = na;
        p.b = nb;
        current = l;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return p;
}

// ---- Labels ------------------------------------------------------------------------------

Result<ChurnLabels> LabelsFromColumn(const Column& target, std::string_view positive) {
  ChurnLabels out;
  out.labels.assign(static_cast<size_t>(target.size()), -1);
  // The distinct values in order of first use, as text, and each row's value index.
  std::vector<std::string> values;
  std::vector<int32_t> value_of_row(out.labels.size(), -1);
  if (target.kind == ColumnKind::kCategorical) {
    std::vector<int32_t> index(target.categories.size(), -1);
    for (size_t r = 0; r < target.codes.size(); ++r) {
      const int32_t c = target.codes[r];
      if (c == Column::kMissingCode) continue;
      if (index[c] < 0) {
        index[c] = static_cast<int32_t>(values.size());
        values.push_back(target.categories[c]);
      }
      value_of_row[r] = index[c];
    }
  } else {
    std::unordered_map<double, int32_t> index;
    for (size_t r = 0; r < target.numbers.size(); ++r) {
      const double v = target.numbers[r];
      if (std::isnan(v)) continue;
      auto [it, fresh] = index.emplace(v, static_cast<int32_t>(values.size()));
      if (fresh) values.push_back(FormatNumber(v));
      value_of_row[r] = it->second;
    }
  }
  if (values.empty()) {
    return InvalidArgument("target column \"" + target.name + "\" has no value", target.name);
  }
  int32_t positive_index = -1;
  if (!positive.empty()) {
    double wanted;
    const bool numeric = target.kind == ColumnKind::kNumeric && ParseNumber(positive, &wanted);
    const std::string key = numeric ? FormatNumber(wanted) : std::string(positive);
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] == key) positive_index = static_cast<int32_t>(i);
    }
    if (positive_index < 0) {
      return InvalidArgument("no row has " + target.name + " = \"" + std::string(positive) +
                                 "\" (values: " + JoinQuoted(values) + ")",
                             target.name);
    }
  } else {
    static constexpr std::string_view kChurnWords[] = {"yes", "true", "1", "churn", "churned", "y"};
    if (values.size() == 2) {
      for (size_t i = 0; i < 2; ++i) {
        const std::string v = Lower(values[i]);
        if (std::find(std::begin(kChurnWords), std::end(kChurnWords), v) != std::end(kChurnWords)) {
          positive_index = positive_index < 0 ? static_cast<int32_t>(i) : -2;
        }
      }
    }
    if (positive_index < 0) {
      return InvalidArgument("say which value of target column \"" + target.name +
                                 "\" means churn (values: " + JoinQuoted(values) + ")",
                             target.name);
    }
  }
  out.positive = values[positive_index];
  for (size_t i = 0; i < values.size(); ++i) {
    if (static_cast<int32_t>(i) != positive_index) out.negatives.push_back(values[i]);
  }
  for (size_t r = 0; r < out.labels.size(); ++r) {
    if (value_of_row[r] < 0) {
      ++out.missing;
      continue;
    }
    out.labels[r] = value_of_row[r] == positive_index ? 1 : 0;
  }
  return out;
}

// ---- The model ---------------------------------------------------------------------------

struct ChurnModel::Impl {
  std::vector<ChurnFeature> features;
  std::vector<CategoryIndex> category_index;  // per feature: category → code (categorical)
  Layout layout;
  CategoricalEncoding encoding = CategoricalEncoding::kNative;
  std::string target;
  std::string positive;
  PlattScaling platt;
  int rounds = 0;
  std::string training_json = "{}";  // the training summary kept in the file
  BoosterPtr booster;
  // XGBoost's prediction buffers are per booster and thread; one call at a time keeps the
  // model safe to share between threads without relying on that.
  mutable std::mutex mu;

  void Index() {
    layout = MakeLayout(features, encoding);
    category_index.assign(features.size(), {});
    for (size_t f = 0; f < features.size(); ++f) {
      const auto& cats = features[f].categories;
      for (size_t c = 0; c < cats.size(); ++c) {
        category_index[f].emplace(cats[c], static_cast<int32_t>(c));
      }
    }
  }

  // Scoring runs on one thread: callers (a server, a batch) parallelise across requests, and an
  // OpenMP pool per call costs more than it saves for a handful of rows.
  Status ForScoring() {
    return Xgb(XGBoosterSetParam(booster.get(), "nthread", "1"), "parameter nthread");
  }

  // Encodes rows [begin, end) of `table` into XGBoost's columns. Unknown categories become
  // missing and are recorded in `scores` when given.
  Result<Matrix> Encode(const Table& table, int64_t begin, int64_t end, ChurnScores* scores) const;
};

namespace {

constexpr int32_t kUnknownCode = -2;

// How a table column feeds a model feature.
struct Binding {
  const Column* column = nullptr;
  std::vector<int32_t> code_map;   // categorical → categorical: table code → model code
  std::vector<double> number_map;  // categorical → numeric: table code → number
};

}  // namespace

Result<Matrix> ChurnModel::Impl::Encode(const Table& table, int64_t begin, int64_t end,
                                        ChurnScores* scores) const {
  std::vector<Binding> bindings(features.size());
  for (size_t f = 0; f < features.size(); ++f) {
    const ChurnFeature& feature = features[f];
    const auto i = table.Find(feature.name);
    if (!i) {
      const std::string where = table.source().empty() ? "the table" : table.source();
      return InvalidArgument("model feature \"" + feature.name + "\" is not a column of " + where +
                                 " (columns: " + table.ColumnNames() + ")",
                             feature.name);
    }
    Binding& b = bindings[f];
    b.column = &table.column(*i);
    if (b.column->kind != ColumnKind::kCategorical) continue;
    const auto& cats = b.column->categories;
    if (feature.kind == ColumnKind::kCategorical) {
      b.code_map.resize(cats.size());
      for (size_t c = 0; c < cats.size(); ++c) {
        const auto it = category_index[f].find(cats[c]);
        b.code_map[c] = it == category_index[f].end() ? kUnknownCode : it->second;
      }
    } else {
      // A numeric feature read as text: every category used in the rows must be a number.
      b.number_map.assign(cats.size(), kNaN);
      std::vector<bool> bad(cats.size(), false);
      for (size_t c = 0; c < cats.size(); ++c) bad[c] = !ParseNumber(cats[c], &b.number_map[c]);
      for (int64_t r = begin; r < end; ++r) {
        const int32_t code = b.column->codes[r];
        if (code != Column::kMissingCode && bad[code]) {
          return InvalidArgument(table.RowLocation(r) + ": column \"" + feature.name + "\": \"" +
                                     cats[code] +
                                     "\" is not a number (the model's feature is numeric)",
                                 feature.name);
        }
      }
    }
  }

  Matrix m;
  m.rows = end - begin;
  m.cols = layout.columns;
  // One-hot columns are 0 unless their category is present; everything else starts missing.
  m.values.assign(static_cast<size_t>(m.rows) * m.cols, kMissingFloat);
  if (scores != nullptr) scores->unknown.assign(static_cast<size_t>(m.rows), {});
  for (size_t f = 0; f < features.size(); ++f) {
    const ChurnFeature& feature = features[f];
    const Binding& b = bindings[f];
    const int offset = layout.offset[f];
    const bool onehot =
        feature.kind == ColumnKind::kCategorical && encoding == CategoricalEncoding::kOneHot;
    int64_t unknown = 0;
    for (int64_t r = begin; r < end; ++r) {
      float* row = m.values.data() + (r - begin) * m.cols;
      if (feature.kind == ColumnKind::kNumeric) {
        const double v =
            b.column->kind == ColumnKind::kNumeric
                ? b.column->numbers[r]
                : (b.column->codes[r] == Column::kMissingCode ? kNaN
                                                              : b.number_map[b.column->codes[r]]);
        row[offset] = static_cast<float>(v);
        continue;
      }
      int32_t code = Column::kMissingCode;
      if (b.column->kind == ColumnKind::kCategorical) {
        const int32_t t = b.column->codes[r];
        if (t != Column::kMissingCode) code = b.code_map[t];
      } else if (!std::isnan(b.column->numbers[r])) {
        // A categorical feature read as numbers: match the number's text.
        const auto it = category_index[f].find(FormatNumber(b.column->numbers[r]));
        code = it == category_index[f].end() ? kUnknownCode : it->second;
      }
      if (code == kUnknownCode) {
        ++unknown;
        if (scores != nullptr) scores->unknown[r - begin].push_back(feature.name);
        code = Column::kMissingCode;
      }
      if (onehot) {
        std::fill_n(row + offset, layout.width[f], 0.0f);
        if (code >= 0) row[offset + code] = 1.0f;
      } else if (code >= 0) {
        row[offset] = static_cast<float>(code);
      }
    }
    if (unknown > 0 && scores != nullptr) scores->unknown_categories[feature.name] += unknown;
  }
  return m;
}

ChurnModel::ChurnModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChurnModel::ChurnModel(ChurnModel&&) noexcept = default;
ChurnModel& ChurnModel::operator=(ChurnModel&&) noexcept = default;
ChurnModel::~ChurnModel() = default;

const std::vector<ChurnFeature>& ChurnModel::features() const { return impl_->features; }
const std::string& ChurnModel::target() const { return impl_->target; }
const std::string& ChurnModel::positive() const { return impl_->positive; }
CategoricalEncoding ChurnModel::encoding() const { return impl_->encoding; }
const PlattScaling& ChurnModel::calibration() const { return impl_->platt; }
int ChurnModel::rounds() const { return impl_->rounds; }

Result<ChurnScores> ChurnModel::ScoreTable(const Table& table, int top_drivers, int64_t begin,
                                           int64_t end) const {
  if (end < 0) end = table.rows();
  if (begin < 0 || begin > end || end > table.rows()) {
    return InvalidArgument("rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                           ") are outside the table's " + std::to_string(table.rows()) + " rows");
  }
  ChurnScores scores;
  KAIROS_ASSIGN_OR_RETURN(const Matrix m, impl_->Encode(table, begin, end, &scores));
  const Impl& model = *impl_;
  const PlattScaling& platt = model.platt;
  std::vector<float> margins, contributions;
  {
    std::lock_guard lock(model.mu);
    KAIROS_ASSIGN_OR_RETURN(DMatrixPtr d, MakeDMatrix(m, model.layout, nullptr, 0));
    KAIROS_ASSIGN_OR_RETURN(margins, Predict(model.booster.get(), d.get(), 1, 0));
    if (top_drivers > 0) {
      KAIROS_ASSIGN_OR_RETURN(contributions, Predict(model.booster.get(), d.get(), 2, 0));
    }
  }
  if (margins.size() != static_cast<size_t>(m.rows)) {
    return Internal("XGBoost returned " + std::to_string(margins.size()) + " predictions for " +
                    std::to_string(m.rows) + " rows");
  }
  scores.probability.resize(margins.size());
  scores.margin.resize(margins.size());
  for (size_t i = 0; i < margins.size(); ++i) {
    scores.margin[i] = margins[i];
    scores.probability[i] = platt.Probability(margins[i]);
  }
  if (top_drivers <= 0) return scores;

  const size_t width = static_cast<size_t>(model.layout.columns) + 1;  // + bias
  if (contributions.size() != width * margins.size()) {
    return Internal("XGBoost returned " + std::to_string(contributions.size()) +
                    " contributions for " + std::to_string(m.rows) + " rows");
  }
  const size_t nfeat = model.features.size();
  std::vector<const Column*> columns(nfeat);
  for (size_t f = 0; f < nfeat; ++f)
    columns[f] = &table.column(*table.Find(model.features[f].name));
  scores.drivers.resize(margins.size());
  std::vector<std::pair<double, size_t>> per_feature(nfeat);
  for (size_t i = 0; i < margins.size(); ++i) {
    const float* c = contributions.data() + i * width;
    if (i == 0) scores.base_logit = platt.a * c[width - 1] + platt.b;
    for (size_t f = 0; f < nfeat; ++f) {
      double sum = 0;
      for (int j = 0; j < model.layout.width[f]; ++j) sum += c[model.layout.offset[f] + j];
      per_feature[f] = {platt.a * sum, f};
    }
    const size_t n = std::min(nfeat, static_cast<size_t>(top_drivers));
    std::partial_sort(per_feature.begin(), per_feature.begin() + static_cast<std::ptrdiff_t>(n),
                      per_feature.end(), [](const auto& x, const auto& y) {
                        return std::abs(x.first) > std::abs(y.first) ||
                               (std::abs(x.first) == std::abs(y.first) && x.second < y.second);
                      });
    auto& out = scores.drivers[i];
    out.reserve(n);
    for (size_t k = 0; k < n; ++k) {
      const size_t f = per_feature[k].second;
      out.push_back({model.features[f].name, columns[f]->CellText(begin + static_cast<int64_t>(i)),
                     per_feature[k].first});
    }
  }
  return scores;
}

Result<double> ChurnModel::Score(const Table& table, int64_t row) const {
  KAIROS_ASSIGN_OR_RETURN(const ChurnScores s, ScoreTable(table, 0, row, row + 1));
  return s.probability.at(0);
}

Result<std::vector<Driver>> ChurnModel::Drivers(const Table& table, int64_t row, int top_n) const {
  if (top_n <= 0) return std::vector<Driver>{};
  KAIROS_ASSIGN_OR_RETURN(ChurnScores s, ScoreTable(table, top_n, row, row + 1));
  return std::move(s.drivers.at(0));
}

// ---- Training ----------------------------------------------------------------------------

// Trains through the model's private parts (TrainChurn below).
struct ChurnTrainer {
  static Result<ChurnTraining> Train(const Table& table, const std::vector<int>& labels,
                                     const ChurnOptions& options);
};

namespace {

Status ValidateOptions(const ChurnOptions& o) {
  const auto bad = [](const std::string& what) {
    return InvalidArgument("churn options: " + what);
  };
  if (o.folds < 2 || o.folds > 20) return bad("folds must be 2..20");
  if (o.inner_folds < 2 || o.inner_folds > 20) return bad("inner_folds must be 2..20");
  if (o.max_rounds < 1) return bad("max_rounds must be >= 1");
  if (o.early_stopping_rounds < 1) return bad("early_stopping_rounds must be >= 1");
  if (o.max_depth < 1 || o.max_depth > 20) return bad("max_depth must be 1..20");
  if (!(o.eta > 0 && o.eta <= 1)) return bad("eta must be in (0, 1]");
  if (!(o.subsample > 0 && o.subsample <= 1)) return bad("subsample must be in (0, 1]");
  if (!(o.colsample_bytree > 0 && o.colsample_bytree <= 1)) {
    return bad("colsample_bytree must be in (0, 1]");
  }
  if (!(o.min_child_weight >= 0) || !(o.lambda >= 0) || !(o.alpha >= 0) || !(o.gamma >= 0)) {
    return bad("min_child_weight, lambda, alpha and gamma must be >= 0");
  }
  if (o.max_bin < 2) return bad("max_bin must be >= 2");
  if (o.max_cat_to_onehot < 1) return bad("max_cat_to_onehot must be >= 1");
  if (o.threads < 0) return bad("threads must be >= 0");
  return Status::Ok();
}

// Which columns can be features, judged on the used rows only.
void ChooseFeatures(const Table& table, const std::vector<int64_t>& used,
                    std::vector<ChurnFeature>* features, std::vector<DroppedFeature>* dropped) {
  for (const Column& col : table.columns()) {
    int64_t present = 0;
    bool varies = false;
    int64_t distinct = 0;
    if (col.kind == ColumnKind::kNumeric) {
      double first = kNaN;
      for (int64_t r : used) {
        const double v = col.numbers[r];
        if (std::isnan(v)) continue;
        if (present++ == 0)
          first = v;
        else if (v != first)
          varies = true;
      }
    } else {
      std::vector<bool> seen(col.categories.size(), false);
      for (int64_t r : used) {
        const int32_t c = col.codes[r];
        if (c == Column::kMissingCode) continue;
        ++present;
        if (!seen[c]) {
          seen[c] = true;
          ++distinct;
        }
      }
      varies = distinct > 1;
    }
    const int64_t n = static_cast<int64_t>(used.size());
    if (present == 0) {
      dropped->push_back({col.name, "all missing"});
    } else if (!varies && present == n) {
      dropped->push_back({col.name, "constant"});
    } else if (col.kind == ColumnKind::kCategorical && distinct == n && n >= 20) {
      dropped->push_back({col.name, "one value per row (an identifier?)"});
    } else if (col.kind == ColumnKind::kCategorical && col.categories.size() >= kMaxCategories) {
      dropped->push_back({col.name, "more than 2^24 categories"});
    } else {
      ChurnFeature f;
      f.name = col.name;
      f.kind = col.kind;
      f.categories = col.categories;
      features->push_back(std::move(f));
    }
  }
}

CalibrationReport Calibrate(const std::vector<double>& margins, const std::vector<int>& labels) {
  CalibrationReport r;
  r.platt = FitPlatt(margins, labels);
  const size_t n = margins.size();
  r.rows = static_cast<int64_t>(n);
  std::vector<std::pair<double, int>> calibrated(n);
  const auto clamp = [](double p) { return std::clamp(p, 1e-15, 1 - 1e-15); };
  for (size_t i = 0; i < n; ++i) {
    const double raw = Sigmoid(margins[i]);
    const double p = r.platt.Probability(margins[i]);
    const double y = labels[i];
    r.base_rate += y;
    r.mean_predicted += p;
    r.brier_raw += (raw - y) * (raw - y);
    r.brier += (p - y) * (p - y);
    r.log_loss_raw -= y * std::log(clamp(raw)) + (1 - y) * std::log(clamp(1 - raw));
    r.log_loss -= y * std::log(clamp(p)) + (1 - y) * std::log(clamp(1 - p));
    calibrated[i] = {p, labels[i]};
  }
  const double dn = static_cast<double>(n);
  for (double* v :
       {&r.base_rate, &r.mean_predicted, &r.brier_raw, &r.brier, &r.log_loss_raw, &r.log_loss}) {
    *v /= dn;
  }
  std::sort(calibrated.begin(), calibrated.end());
  constexpr size_t kBins = 10;
  for (size_t b = 0; b < kBins; ++b) {
    const size_t lo = n * b / kBins, hi = n * (b + 1) / kBins;
    if (hi <= lo) continue;
    CalibrationReport::Bin bin;
    bin.count = static_cast<int64_t>(hi - lo);
    for (size_t i = lo; i < hi; ++i) {
      bin.mean_predicted += calibrated[i].first;
      bin.observed += calibrated[i].second;
    }
    bin.mean_predicted /= static_cast<double>(bin.count);
    bin.observed /= static_cast<double>(bin.count);
    r.ece += static_cast<double>(bin.count) / dn * std::abs(bin.mean_predicted - bin.observed);
    r.reliability.push_back(bin);
  }
  return r;
}

// A number, or null when it is not finite (RapidJSON's writer would stop at NaN).
void Finite(rapidjson::Writer<rapidjson::StringBuffer>& w, double v) {
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

std::string TrainingJson(const ChurnReport& report, const ChurnOptions& o) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("rows");
  w.Int64(report.rows);
  w.Key("positives");
  w.Int64(report.positives);
  w.Key("folds");
  w.Int(o.folds);
  w.Key("cv_rows");
  w.Int64(report.cv_rows);
  w.Key("calibration_fitted_on");
  w.String(report.calibration.fitted_on.c_str());
  w.Key("auc");
  Finite(w, report.auc);
  w.Key("auc_folds");
  w.StartArray();
  for (double a : report.auc_folds) Finite(w, a);
  w.EndArray();
  if (!std::isnan(report.holdout_auc)) {
    w.Key("holdout_auc");
    w.Double(report.holdout_auc);
  }
  w.Key("rounds_folds");
  w.StartArray();
  for (int r : report.rounds_folds) w.Int(r);
  w.EndArray();
  w.Key("seed");
  w.Uint64(o.seed);
  w.Key("params");
  w.StartObject();
  for (const auto& [k, v] : BoosterParams(o, o.seed)) {
    if (k == "nthread" || k == "verbosity" || k == "seed") continue;
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  w.EndObject();
  w.EndObject();
  return sb.GetString();
}

}  // namespace

Result<ChurnTraining> TrainChurn(const Table& table, const std::vector<int>& labels,
                                 const ChurnOptions& options) {
  return ChurnTrainer::Train(table, labels, options);
}

Result<ChurnTraining> ChurnTrainer::Train(const Table& table, const std::vector<int>& labels,
                                          const ChurnOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  KAIROS_RETURN_IF_ERROR(ValidateOptions(options));
  if (static_cast<int64_t>(labels.size()) != table.rows()) {
    return InvalidArgument(std::to_string(labels.size()) + " labels for " +
                           std::to_string(table.rows()) + " rows");
  }
  ChurnReport report;
  std::vector<int64_t> used;
  std::vector<int> y;  // labels of the used rows
  for (int64_t r = 0; r < table.rows(); ++r) {
    const int l = labels[r];
    if (l == -1) {
      ++report.rows_dropped["missing target"];
      continue;
    }
    if (l != 0 && l != 1) {
      return InvalidArgument(table.RowLocation(r) + ": label " + std::to_string(l) +
                             " (expected 1, 0, or -1 for a missing target)");
    }
    used.push_back(r);
    y.push_back(l);
  }
  report.rows = static_cast<int64_t>(used.size());
  report.positives = std::count(y.begin(), y.end(), 1);
  const int64_t negatives = report.rows - report.positives;
  const std::string target = options.target.empty() ? "the target" : "\"" + options.target + "\"";
  if (report.rows == 0) return InvalidArgument("no row has a target value");
  if (report.positives == 0 || negatives == 0) {
    return InvalidArgument(
        "single class: all " + std::to_string(report.rows) + " rows of " + target + " are " +
            (report.positives == 0 ? "non-churners" : "churners") + "; a churn model needs both",
        options.target);
  }
  const int64_t min_class = int64_t{options.folds} * options.inner_folds;
  if (std::min(report.positives, negatives) < min_class) {
    return InvalidArgument(
        "too few " + std::string(report.positives < min_class ? "churners" : "non-churners") +
            " (" + std::to_string(std::min(report.positives, negatives)) + ") for " +
            std::to_string(options.folds) +
            "-fold cross-validation with early stopping: at least " + std::to_string(min_class) +
            " needed",
        options.target);
  }

  auto impl = std::make_unique<ChurnModel::Impl>();
  impl->encoding = options.categorical;
  impl->target = options.target;
  impl->positive = options.positive;
  ChooseFeatures(table, used, &impl->features, &report.dropped_features);
  if (impl->features.empty()) {
    std::string why;
    for (const auto& d : report.dropped_features) {
      why += (why.empty() ? "" : "; ") + d.name + ": " + d.reason;
    }
    return InvalidArgument("no usable feature" + (why.empty() ? std::string() : " (" + why + ")"));
  }
  impl->Index();
  report.features = static_cast<int>(impl->features.size());
  const Layout& layout = impl->layout;

  const int64_t n = report.rows;
  const bool large = options.large_rows > 0 && n > options.large_rows;
  ChurnOptions o = options;  // what this training actually uses
  if (large) {
    // On 1M rows eta 0.15 cut training from 158 s to 113 s (0.1) and 84 s (0.2), all at the
    // same hold-out log loss of the final model (docs/churn.md).
    o.eta = std::max(o.eta, 0.15);
    o.refit_folds = false;
  }
  if (o.threads == 0)
    o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  report.threads = o.threads;

  KAIROS_ASSIGN_OR_RETURN(Matrix all, impl->Encode(table, 0, table.rows(), nullptr));
  const Matrix x = Gather(all, used);
  all = Matrix();
  const std::vector<float> yf(y.begin(), y.end());
  // A DMatrix of some used rows (indices into x). Safe to call from several jobs at once: x and
  // yf are only read.
  const auto dmatrix = [&](const std::vector<int64_t>& rows) -> Result<DMatrixPtr> {
    const Matrix part = Gather(x, rows);
    std::vector<float> part_labels;
    part_labels.reserve(rows.size());
    for (int64_t r : rows) part_labels.push_back(yf[r]);
    return MakeDMatrix(part, layout, part_labels.data(), 1);
  };
  // Splits `rows` (indices into x) into a stratified 1/k hold-out and the rest.
  const auto split = [&](const std::vector<int64_t>& rows, int k, uint64_t seed,
                         std::vector<int64_t>* rest, std::vector<int64_t>* holdout) {
    std::vector<int> rows_y;
    rows_y.reserve(rows.size());
    for (int64_t i : rows) rows_y.push_back(y[i]);
    const std::vector<int> part = StratifiedFolds(rows_y, k, seed);
    for (size_t i = 0; i < rows.size(); ++i) (part[i] == 0 ? holdout : rest)->push_back(rows[i]);
  };

  // The rows cross-validated: all, or (large data) a stratified sample of large_rows of them.
  std::vector<int64_t> cv;
  if (large) {
    std::vector<int64_t> by_class[2];
    for (int64_t i = 0; i < n; ++i) by_class[y[i]].push_back(i);
    Rng rng(MixKey(o.seed, 0, 2));
    for (auto& idx : by_class) {
      // Proportional, but never fewer than the folds need of a rare class (the AUC does not
      // depend on the class ratio; the calibration is not fitted on these rows).
      const auto proportional = static_cast<size_t>(
          std::llround(static_cast<double>(idx.size()) * static_cast<double>(o.large_rows) /
                       static_cast<double>(n)));
      const size_t take =
          std::max(proportional, std::min(idx.size(), static_cast<size_t>(min_class)));
      for (size_t i = 0; i < take; ++i) std::swap(idx[i], idx[i + rng.Below(idx.size() - i)]);
      cv.insert(cv.end(), idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take));
    }
    std::sort(cv.begin(), cv.end());
  } else {
    cv.resize(static_cast<size_t>(n));
    std::iota(cv.begin(), cv.end(), int64_t{0});
  }
  report.cv_rows = static_cast<int64_t>(cv.size());
  std::vector<int> cv_y;
  for (int64_t i : cv) cv_y.push_back(y[i]);

  // Outer folds: each fold is scored by a model that never saw it, whose number of trees was
  // chosen on an inner hold-out of its own training part. One job per fold.
  const std::vector<int> fold = StratifiedFolds(cv_y, o.folds, o.seed);
  std::vector<double> oof(cv.size(), kNaN);
  report.auc_folds.assign(static_cast<size_t>(o.folds), kNaN);
  report.rounds_folds.assign(static_cast<size_t>(o.folds), 0);
  const auto fold_job = [&](int f) -> Status {
    std::vector<int64_t> train, test;
    std::vector<size_t> test_pos;  // positions in cv of the test rows
    for (size_t i = 0; i < cv.size(); ++i) {
      if (fold[i] == f) {
        test.push_back(cv[i]);
        test_pos.push_back(i);
      } else {
        train.push_back(cv[i]);
      }
    }
    std::vector<int64_t> inner_train, inner_valid;
    split(train, o.inner_folds, MixKey(o.seed, f, 1), &inner_train, &inner_valid);
    const auto params = BoosterParams(o, o.seed + static_cast<uint64_t>(f));
    int best = 0;
    BoosterPtr scorer;
    {
      KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dtrain, dmatrix(inner_train));
      KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dvalid, dmatrix(inner_valid));
      KAIROS_ASSIGN_OR_RETURN(BoosterPtr b, NewBooster({dtrain.get(), dvalid.get()}, params));
      KAIROS_ASSIGN_OR_RETURN(best, BoostWithEarlyStopping(b.get(), dtrain.get(), dvalid.get(),
                                                           o.max_rounds, o.early_stopping_rounds));
      if (!o.refit_folds) scorer = std::move(b);
    }
    if (o.refit_folds) {
      KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dtrain, dmatrix(train));
      KAIROS_ASSIGN_OR_RETURN(scorer, NewBooster({dtrain.get()}, params));
      KAIROS_RETURN_IF_ERROR(Boost(scorer.get(), dtrain.get(), 0, best));
    }
    KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dtest, dmatrix(test));
    KAIROS_ASSIGN_OR_RETURN(const std::vector<float> margin,
                            Predict(scorer.get(), dtest.get(), 1, best));
    std::vector<double> fold_scores(margin.begin(), margin.end());
    std::vector<int> fold_labels;
    for (size_t i = 0; i < test.size(); ++i) {
      oof[test_pos[i]] = margin[i];  // each fold writes its own rows
      fold_labels.push_back(y[test[i]]);
    }
    report.auc_folds[f] = Auc(fold_scores, fold_labels);
    report.rounds_folds[f] = best;
    return Status::Ok();
  };

  // Large data: the final model is all rows but a stratified 10% hold-out, which chooses the
  // number of trees (more rows support more trees than the sample's folds found) and then
  // calibrates the final model on its own out-of-sample margins. It does not depend on the
  // folds, so it runs beside them.
  const auto final_params = BoosterParams(o, o.seed);
  std::vector<int64_t> holdout;
  std::vector<double> holdout_margin;
  const auto large_final_job = [&]() -> Status {
    std::vector<int64_t> everything(static_cast<size_t>(n)), rest;
    std::iota(everything.begin(), everything.end(), int64_t{0});
    split(everything, 10, MixKey(o.seed, 0, 3), &rest, &holdout);
    KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dtrain, dmatrix(rest));
    KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dvalid, dmatrix(holdout));
    KAIROS_ASSIGN_OR_RETURN(BoosterPtr b, NewBooster({dtrain.get(), dvalid.get()}, final_params));
    KAIROS_ASSIGN_OR_RETURN(
        report.rounds, BoostWithEarlyStopping(b.get(), dtrain.get(), dvalid.get(), o.max_rounds,
                                              o.early_stopping_rounds));
    void* sliced = nullptr;
    KAIROS_RETURN_IF_ERROR(
        Xgb(XGBoosterSlice(b.get(), 0, report.rounds, 1, &sliced), "keeping the best trees"));
    impl->booster.reset(sliced);
    KAIROS_ASSIGN_OR_RETURN(const std::vector<float> margin,
                            Predict(impl->booster.get(), dvalid.get(), 1, 0));
    holdout_margin.assign(margin.begin(), margin.end());
    return Status::Ok();
  };

  // The biggest job first, so that it never starts last.
  std::vector<std::function<Status()>> jobs;
  if (large) jobs.push_back(large_final_job);
  for (int f = 0; f < o.folds; ++f) jobs.push_back([&fold_job, f] { return fold_job(f); });
  KAIROS_RETURN_IF_ERROR(RunJobs(jobs, o.threads));
  report.auc = Auc(oof, cv_y);
  report.oof_probability.assign(static_cast<size_t>(table.rows()), kNaN);

  if (!large) {
    // The final model: every used row, the median of the folds' tree counts.
    std::vector<int> rounds = report.rounds_folds;
    std::sort(rounds.begin(), rounds.end());
    const size_t mid = rounds.size() / 2;
    report.rounds = rounds.size() % 2 ? rounds[mid] : (rounds[mid - 1] + rounds[mid] + 1) / 2;
    KAIROS_ASSIGN_OR_RETURN(DMatrixPtr dall, MakeDMatrix(x, layout, yf.data(), 1));
    KAIROS_ASSIGN_OR_RETURN(impl->booster, NewBooster({dall.get()}, final_params));
    KAIROS_RETURN_IF_ERROR(Boost(impl->booster.get(), dall.get(), 0, report.rounds));
    // Platt scaling on the out-of-fold margins: honest scores, two parameters, monotone (the
    // AUC is unchanged) and affine in the log-odds, so SHAP contributions scale with it.
    report.calibration = Calibrate(oof, y);
    for (size_t i = 0; i < cv.size(); ++i) {
      report.oof_probability[used[cv[i]]] = report.calibration.platt.Probability(oof[i]);
    }
  } else {
    std::vector<int> holdout_y;
    for (int64_t i : holdout) holdout_y.push_back(y[i]);
    report.calibration = Calibrate(holdout_margin, holdout_y);
    report.calibration.fitted_on = "hold-out";
    report.holdout_auc = Auc(holdout_margin, holdout_y);
    for (size_t i = 0; i < holdout.size(); ++i) {
      report.oof_probability[used[holdout[i]]] =
          report.calibration.platt.Probability(holdout_margin[i]);
    }
  }
  impl->rounds = report.rounds;
  impl->platt = report.calibration.platt;
  KAIROS_RETURN_IF_ERROR(impl->ForScoring());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  impl->training_json = TrainingJson(report, o);
  return ChurnTraining{ChurnModel(std::move(impl)), std::move(report)};
}

// ---- The model file ----------------------------------------------------------------------

Result<std::string> ChurnModel::ToJson() const {
  const Impl& m = *impl_;
  std::string booster;
  {
    std::lock_guard lock(m.mu);
    bst_ulong len = 0;
    const char* data = nullptr;
    KAIROS_RETURN_IF_ERROR(
        Xgb(XGBoosterSaveModelToBuffer(m.booster.get(), "{\"format\":\"json\"}", &len, &data),
            "saving the booster"));
    booster.assign(data, len);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("format");
  w.String(kFormat.data(), static_cast<rapidjson::SizeType>(kFormat.size()));
  w.Key("version");
  w.Int(kVersion);
  w.Key("target");
  w.String(m.target.c_str(), static_cast<rapidjson::SizeType>(m.target.size()));
  w.Key("positive");
  w.String(m.positive.c_str(), static_cast<rapidjson::SizeType>(m.positive.size()));
  w.Key("categorical_encoding");
  w.String(m.encoding == CategoricalEncoding::kNative ? "native" : "one-hot");
  w.Key("features");
  w.StartArray();
  for (const ChurnFeature& f : m.features) {
    w.StartObject();
    w.Key("name");
    w.String(f.name.c_str(), static_cast<rapidjson::SizeType>(f.name.size()));
    w.Key("type");
    w.String(ColumnKindName(f.kind).data());
    if (f.kind == ColumnKind::kCategorical) {
      w.Key("categories");
      w.StartArray();
      for (const std::string& c : f.categories) {
        w.String(c.c_str(), static_cast<rapidjson::SizeType>(c.size()));
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("calibration");
  w.StartObject();
  w.Key("method");
  w.String("platt");
  w.Key("a");
  w.Double(m.platt.a);
  w.Key("b");
  w.Double(m.platt.b);
  w.EndObject();
  w.Key("rounds");
  w.Int(m.rounds);
  w.Key("training");
  w.RawValue(m.training_json.data(), m.training_json.size(), rapidjson::kObjectType);
  w.Key("booster");
  w.RawValue(booster.data(), booster.size(), rapidjson::kObjectType);
  w.EndObject();
  std::string out = sb.GetString();
  out += '\n';
  return out;
}

Status ChurnModel::Save(const std::string& path) const {
  KAIROS_ASSIGN_OR_RETURN(const std::string text, ToJson());
  // A crash never leaves half a model at `path`.
  return WriteFileAtomic(path, text);
}

namespace {

// Reads our part of the model file, naming the key that is wrong.
class ModelReader {
 public:
  explicit ModelReader(std::string_view source) : source_(source) {}

  Status Bad(const std::string& key, const std::string& what) const {
    return Corruption(source_ + ": \"" + key + "\" " + what + " (not a valid churn model file)");
  }
  Result<std::string> String(const rapidjson::Value& obj, const char* key,
                             const std::string& path) const {
    const auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return Bad(path, "is missing");
    if (!it->value.IsString()) return Bad(path, "is not a string");
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  Result<double> Number(const rapidjson::Value& obj, const char* key,
                        const std::string& path) const {
    const auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return Bad(path, "is missing");
    if (!it->value.IsNumber() || !std::isfinite(it->value.GetDouble())) {
      return Bad(path, "is not a finite number");
    }
    return it->value.GetDouble();
  }
  Result<const rapidjson::Value*> Member(const rapidjson::Value& obj, const char* key,
                                         const std::string& path, rapidjson::Type type) const {
    const auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return Bad(path, "is missing");
    if (it->value.GetType() != type && !(type == rapidjson::kFalseType && it->value.IsBool())) {
      static constexpr const char* kNames[] = {"null",     "a boolean", "a boolean", "an object",
                                               "an array", "a string",  "a number"};
      return Bad(path, std::string("is not ") + kNames[type]);
    }
    return &it->value;
  }

 private:
  std::string source_;
};

// Writes a parsed value back as text. NaN passes through: XGBoost writes it for the split
// condition of a categorical split.
Result<std::string> Serialize(const rapidjson::Value& v, const std::string& what) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                    rapidjson::CrtAllocator, rapidjson::kWriteNanAndInfFlag>
      w(sb);
  if (!v.Accept(w)) return Corruption(what + " cannot be written back as JSON");
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

Result<ChurnModel> ChurnModel::FromJson(std::string_view text, std::string_view source) {
  const std::string src(source);
  rapidjson::Document doc;
  // Full precision: the booster's split values and leaves go back to XGBoost unchanged.
  doc.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(text.data(),
                                                                                 text.size());
  if (doc.HasParseError()) {
    const size_t offset = doc.GetErrorOffset();
    const std::string_view before = text.substr(0, std::min(offset, text.size()));
    const int64_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const size_t nl = before.rfind('\n');
    const size_t column = offset - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
    std::string msg =
        src + ":" + std::to_string(line) + ":" + std::to_string(column) +
        ": not a valid churn model file: " + rapidjson::GetParseError_En(doc.GetParseError());
    if (offset + 1 >= text.size()) msg += " (the file ends early: truncated?)";
    return Corruption(msg);
  }
  if (!doc.IsObject())
    return Corruption(src + ": not a valid churn model file (not a JSON object)");
  const ModelReader rd(src);
  const auto format = rd.String(doc, "format", "format");
  if (!format.ok() || *format != kFormat) {
    return InvalidArgument(src + ": not a Kairos churn model (\"format\" is not \"" +
                           std::string(kFormat) + "\")");
  }
  KAIROS_ASSIGN_OR_RETURN(const double version, rd.Number(doc, "version", "version"));
  if (version != kVersion) {
    return InvalidArgument(src + ": churn model version " + FormatNumber(version) +
                           "; this kairos reads version " + std::to_string(kVersion));
  }
  auto impl = std::make_unique<Impl>();
  KAIROS_ASSIGN_OR_RETURN(impl->target, rd.String(doc, "target", "target"));
  KAIROS_ASSIGN_OR_RETURN(impl->positive, rd.String(doc, "positive", "positive"));
  KAIROS_ASSIGN_OR_RETURN(const std::string encoding,
                          rd.String(doc, "categorical_encoding", "categorical_encoding"));
  if (encoding == "native") {
    impl->encoding = CategoricalEncoding::kNative;
  } else if (encoding == "one-hot") {
    impl->encoding = CategoricalEncoding::kOneHot;
  } else {
    return rd.Bad("categorical_encoding", "is \"" + encoding + "\", not native or one-hot");
  }
  KAIROS_ASSIGN_OR_RETURN(const rapidjson::Value* features,
                          rd.Member(doc, "features", "features", rapidjson::kArrayType));
  if (features->Empty()) return rd.Bad("features", "is empty");
  for (rapidjson::SizeType i = 0; i < features->Size(); ++i) {
    const std::string path = "features[" + std::to_string(i) + "]";
    const rapidjson::Value& fv = (*features)[i];
    if (!fv.IsObject()) return rd.Bad(path, "is not an object");
    ChurnFeature f;
    KAIROS_ASSIGN_OR_RETURN(f.name, rd.String(fv, "name", path + ".name"));
    if (f.name.empty()) return rd.Bad(path + ".name", "is empty");
    for (const ChurnFeature& other : impl->features) {
      if (other.name == f.name) return rd.Bad(path + ".name", "repeats \"" + f.name + "\"");
    }
    KAIROS_ASSIGN_OR_RETURN(const std::string type, rd.String(fv, "type", path + ".type"));
    if (type == "numeric") {
      f.kind = ColumnKind::kNumeric;
    } else if (type == "categorical") {
      f.kind = ColumnKind::kCategorical;
      KAIROS_ASSIGN_OR_RETURN(
          const rapidjson::Value* cats,
          rd.Member(fv, "categories", path + ".categories", rapidjson::kArrayType));
      if (cats->Empty()) return rd.Bad(path + ".categories", "is empty");
      CategoryIndex seen;
      for (const auto& c : cats->GetArray()) {
        if (!c.IsString() || c.GetStringLength() == 0) {
          return rd.Bad(path + ".categories", "holds something other than a non-empty string");
        }
        std::string name(c.GetString(), c.GetStringLength());
        if (!seen.emplace(name, 0).second) {
          return rd.Bad(path + ".categories", "repeats \"" + name + "\"");
        }
        f.categories.push_back(std::move(name));
      }
    } else {
      return rd.Bad(path + ".type", "is \"" + type + "\", not numeric or categorical");
    }
    impl->features.push_back(std::move(f));
  }
  KAIROS_ASSIGN_OR_RETURN(const rapidjson::Value* calibration,
                          rd.Member(doc, "calibration", "calibration", rapidjson::kObjectType));
  KAIROS_ASSIGN_OR_RETURN(const std::string method,
                          rd.String(*calibration, "method", "calibration.method"));
  if (method != "platt") return rd.Bad("calibration.method", "is \"" + method + "\", not platt");
  KAIROS_ASSIGN_OR_RETURN(impl->platt.a, rd.Number(*calibration, "a", "calibration.a"));
  KAIROS_ASSIGN_OR_RETURN(impl->platt.b, rd.Number(*calibration, "b", "calibration.b"));
  KAIROS_ASSIGN_OR_RETURN(const double rounds, rd.Number(doc, "rounds", "rounds"));
  if (rounds < 1 || rounds != std::floor(rounds) || rounds > 1e7) {
    return rd.Bad("rounds", "is not a positive whole number");
  }
  impl->rounds = static_cast<int>(rounds);
  const auto training = doc.FindMember("training");
  if (training != doc.MemberEnd()) {
    if (!training->value.IsObject()) return rd.Bad("training", "is not an object");
    KAIROS_ASSIGN_OR_RETURN(impl->training_json,
                            Serialize(training->value, src + ": \"training\""));
  }
  KAIROS_ASSIGN_OR_RETURN(const rapidjson::Value* booster_json,
                          rd.Member(doc, "booster", "booster", rapidjson::kObjectType));
  impl->Index();

  KAIROS_ASSIGN_OR_RETURN(const std::string booster_text,
                          Serialize(*booster_json, src + ": \"booster\""));
  void* raw = nullptr;
  KAIROS_RETURN_IF_ERROR(Xgb(XGBoosterCreate(nullptr, 0, &raw), "creating a booster"));
  impl->booster.reset(raw);
  Status loaded = Xgb(
      XGBoosterLoadModelFromBuffer(impl->booster.get(), booster_text.data(), booster_text.size()),
      "loading the booster", ErrorCode::kCorruption);
  if (!loaded.ok()) return loaded.WithContext(src + ": \"booster\"");
  bst_ulong num_feature = 0;
  KAIROS_RETURN_IF_ERROR(
      Xgb(XGBoosterGetNumFeature(impl->booster.get(), &num_feature), "reading the booster"));
  if (num_feature != static_cast<bst_ulong>(impl->layout.columns)) {
    return rd.Bad("booster", "has " + std::to_string(num_feature) +
                                 " input columns, the features "
                                 "need " +
                                 std::to_string(impl->layout.columns));
  }
  int boosted = 0;
  KAIROS_RETURN_IF_ERROR(
      Xgb(XGBoosterBoostedRounds(impl->booster.get(), &boosted), "reading the booster"));
  if (boosted != impl->rounds) {
    return rd.Bad("booster", "has " + std::to_string(boosted) + " rounds, \"rounds\" says " +
                                 std::to_string(impl->rounds));
  }
  KAIROS_RETURN_IF_ERROR(impl->ForScoring());
  return ChurnModel(std::move(impl));
}

Result<ChurnModel> ChurnModel::Load(const std::string& path) {
  KAIROS_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  return FromJson(text, path);
}

}  // namespace kairos::analytics
