#include "analytics/kmeans.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <thread>
#include <unordered_set>
#include <utility>

#include "common/file_util.h"

namespace kairos::analytics {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Rng streams of one fit, so that the sample, the silhouette sample and every (k, restart) job
// draw independent numbers whatever order the threads run them in.
constexpr uint64_t kStreamFitSample = 1;
constexpr uint64_t kStreamSilhouetteSample = 2;
constexpr uint64_t kStreamRestart = 1000;  // + restart index; the Rng index is k

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Runs fn(i) for i in [0, count) on up to `threads` threads, handing out indices one at a time
// (the jobs differ in cost: a k of 8 costs four times a k of 2). fn must only write to slots
// owned by its index, so results do not depend on the schedule.
template <typename Fn>
void ParallelFor(int64_t count, int threads, const Fn& fn) {
  const int workers = static_cast<int>(std::min<int64_t>(std::max(1, threads), count));
  if (workers <= 1) {
    for (int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  const auto work = [&] {
    for (int64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

// One feature value to standard deviations; missing (NaN) or infinite → 0, the mean. The same
// expression serves Fit, Assign and AssignAll so that they agree to the last bit.
inline double ZValue(double x, double mean, double sd) {
  return std::isfinite(x) ? (x - mean) / sd : 0.0;
}

inline double SquaredDistance(const double* a, const double* b, int d) {
  double s = 0;
  for (int j = 0; j < d; ++j) {
    const double diff = a[j] - b[j];
    s += diff * diff;
  }
  return s;
}

// Index of the nearest centroid (ties: the lower index) and its squared distance.
inline int32_t Nearest(const double* z, const double* centroids, int k, int d, double* best_d2) {
  int32_t best = 0;
  double best_s = kInf;
  for (int c = 0; c < k; ++c) {
    const double s = SquaredDistance(z, centroids + static_cast<size_t>(c) * d, d);
    if (s < best_s) {
      best_s = s;
      best = c;
    }
  }
  *best_d2 = best_s;
  return best;
}

// m of [0, n) uniformly without replacement, ascending (Knuth's selection sampling: one pass,
// no index array of n).
std::vector<int64_t> SampleIndices(int64_t n, int64_t m, Rng& rng) {
  std::vector<int64_t> out;
  if (m >= n) {
    out.resize(n);
    std::iota(out.begin(), out.end(), int64_t{0});
    return out;
  }
  out.reserve(m);
  for (int64_t t = 0; static_cast<int64_t>(out.size()) < m; ++t) {
    const int64_t needed = m - static_cast<int64_t>(out.size());
    if (static_cast<double>(n - t) * rng.Uniform() < static_cast<double>(needed)) out.push_back(t);
  }
  return out;
}

// Distinct rows of a row-major matrix, counted up to `limit`.
int64_t CountDistinctRows(std::span<const double> points, int d, int64_t limit) {
  const int64_t n = static_cast<int64_t>(points.size()) / d;
  const auto row = [&](int64_t i) { return points.data() + i * d; };
  const auto hash = [&](int64_t i) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int j = 0; j < d; ++j) {
      const double v = row(i)[j] + 0.0;  // -0 and +0 are the same point
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      uint64_t s = h ^ bits;
      h = SplitMix64Next(s);
    }
    return static_cast<size_t>(h);
  };
  const auto equal = [&](int64_t a, int64_t b) {
    for (int j = 0; j < d; ++j) {
      if (row(a)[j] != row(b)[j]) return false;
    }
    return true;
  };
  std::unordered_set<int64_t, decltype(hash), decltype(equal)> seen(64, hash, equal);
  for (int64_t i = 0; i < n && static_cast<int64_t>(seen.size()) < limit; ++i) seen.insert(i);
  return static_cast<int64_t>(seen.size());
}

// Silhouettes of several labellings of the same points in one pass over the pairs: the
// distances, which dominate the cost, are shared. labels[i * L + q] is point i's cluster in
// labelling q; ks[q] its cluster count. Returns s(i) of labelling q at [i * L + q]; each thread
// writes only its own points, so the values do not depend on the thread count.
std::vector<double> PointSilhouettes(std::span<const double> points, int d,
                                     const std::vector<int32_t>& labels, const std::vector<int>& ks,
                                     int threads) {
  const int64_t n = static_cast<int64_t>(points.size()) / d;
  const int L = static_cast<int>(ks.size());
  const int max_k = *std::max_element(ks.begin(), ks.end());
  std::vector<int64_t> counts(static_cast<size_t>(L) * max_k, 0);
  for (int64_t i = 0; i < n; ++i) {
    for (int q = 0; q < L; ++q) ++counts[static_cast<size_t>(q) * max_k + labels[i * L + q]];
  }
  std::vector<double> per_point(static_cast<size_t>(n) * L, 0.0);
  constexpr int64_t kChunk = 32;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  ParallelFor(chunks, threads, [&](int64_t chunk) {
    std::vector<double> sums(static_cast<size_t>(L) * max_k);
    const int64_t end = std::min(n, (chunk + 1) * kChunk);
    for (int64_t i = chunk * kChunk; i < end; ++i) {
      std::fill(sums.begin(), sums.end(), 0.0);
      const double* pi = points.data() + i * d;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const double dist = std::sqrt(SquaredDistance(pi, points.data() + j * d, d));
        const int32_t* lj = labels.data() + j * L;
        for (int q = 0; q < L; ++q) sums[static_cast<size_t>(q) * max_k + lj[q]] += dist;
      }
      for (int q = 0; q < L; ++q) {
        const double* s = sums.data() + static_cast<size_t>(q) * max_k;
        const int64_t* cnt = counts.data() + static_cast<size_t>(q) * max_k;
        const int32_t own = labels[i * L + q];
        if (cnt[own] <= 1) continue;  // a singleton's silhouette is 0 by convention
        const double a = s[own] / static_cast<double>(cnt[own] - 1);
        double b = kInf;
        for (int c = 0; c < ks[q]; ++c) {
          if (c != own && cnt[c] > 0) b = std::min(b, s[c] / static_cast<double>(cnt[c]));
        }
        if (b == kInf) continue;  // one cluster only
        const double den = std::max(a, b);
        if (den > 0) per_point[i * L + q] = (b - a) / den;
      }
    }
  });
  return per_point;
}

// Column means of an n × L row-major matrix, summed in row order.
std::vector<double> ColumnMeans(const std::vector<double>& values, int L) {
  const int64_t n = static_cast<int64_t>(values.size()) / L;
  std::vector<double> means(L, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int q = 0; q < L; ++q) means[q] += values[i * L + q];
  }
  for (double& m : means) m /= static_cast<double>(n);
  return means;
}

// Standard error of the mean of the paired per-point differences s(i, a) − s(i, b). Pairing on
// the same rows cancels most of the sampling noise: the level of a mean silhouette varies with
// the sample far more than the gap between two k.
double PairedStandardError(const std::vector<double>& per_point, int L, int a, int b) {
  const int64_t n = static_cast<int64_t>(per_point.size()) / L;
  if (n < 2) return 0;
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += per_point[i * L + a] - per_point[i * L + b];
  mean /= static_cast<double>(n);
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double diff = per_point[i * L + a] - per_point[i * L + b] - mean;
    ss += diff * diff;
  }
  return std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n));
}

// The "kneedle" elbow: both axes scaled to [0, 1], the k farthest below the chord from the first
// to the last point (ties: the smaller k).
int ElbowK(const std::vector<KCandidate>& tried) {
  if (tried.size() < 3) return tried.front().k;
  const KCandidate& first = tried.front();
  const KCandidate& last = tried.back();
  const double span_k = last.k - first.k;
  const double span_i = first.inertia - last.inertia;
  if (!(span_i > 0)) return first.k;  // a flat or rising curve has no elbow
  int best_k = first.k;
  double best_gap = -kInf;
  for (const KCandidate& c : tried) {
    const double x = (c.k - first.k) / span_k;
    const double y = (c.inertia - last.inertia) / span_i;
    const double gap = (1.0 - x) - y;
    if (gap > best_gap) {
      best_gap = gap;
      best_k = c.k;
    }
  }
  return best_k;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

Status ValidateOptions(const KMeansOptions& o) {
  if (o.k < 0 || o.k == 1) {
    return InvalidArgument(
        "k must be at least 2 (or 0 to choose it in [k_min, k_max]), got " + std::to_string(o.k),
        "k");
  }
  if (o.k > kMaxK) {
    return InvalidArgument("k must be at most " + std::to_string(kMaxK), "k");
  }
  if (o.k == 0) {
    if (o.k_min < 2) {
      return InvalidArgument("k_min must be at least 2 (a silhouette needs two clusters), got " +
                                 std::to_string(o.k_min),
                             "k_min");
    }
    if (o.k_min > o.k_max) {
      return InvalidArgument("k_min (" + std::to_string(o.k_min) + ") is larger than k_max (" +
                                 std::to_string(o.k_max) + ")",
                             "k_max");
    }
    if (o.k_max > kMaxK) {
      return InvalidArgument("k_max must be at most " + std::to_string(kMaxK), "k_max");
    }
  }
  if (o.n_init < 1 || o.n_init > 1000) {
    return InvalidArgument("n_init must be in [1, 1000]", "n_init");
  }
  if (o.max_iter < 1 || o.max_iter > 100000) {
    return InvalidArgument("max_iter must be in [1, 100000]", "max_iter");
  }
  if (!std::isfinite(o.tolerance) || o.tolerance < 0) {
    return InvalidArgument("tolerance must be a finite number >= 0", "tolerance");
  }
  if (!std::isfinite(o.tie_standard_errors) || o.tie_standard_errors < 0) {
    return InvalidArgument("tie_standard_errors must be a finite number >= 0",
                           "tie_standard_errors");
  }
  if (o.fit_sample < 2) return InvalidArgument("fit_sample must be at least 2", "fit_sample");
  if (o.silhouette_sample < 2) {
    return InvalidArgument("silhouette_sample must be at least 2", "silhouette_sample");
  }
  if (o.threads < 1 || o.threads > 64) {
    return InvalidArgument("threads must be in [1, 64]", "threads");
  }
  return Status::Ok();
}

// ---- JSON --------------------------------------------------------------------------------

using JsonValue = rapidjson::Value;

template <typename Writer>
void WriteDouble(Writer& w, double v) {
  // Non-finite values cannot occur in a fitted model; null keeps the file valid JSON and Load
  // rejects it.
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

template <typename Writer>
void WriteString(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Reading with errors that name the file and the key.
class JsonReader {
 public:
  explicit JsonReader(std::string_view source) : source_(source) {}

  Status Error(std::string_view key, std::string_view what) const {
    return Corruption(source_ + ": " + Quoted(key) + ": " + std::string(what));
  }

  Result<const JsonValue*> Member(const JsonValue& obj, const char* name,
                                  std::string_view path) const {
    const auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) return Error(path, "missing");
    return &it->value;
  }

  Result<double> Number(const JsonValue& v, std::string_view path) const {
    if (!v.IsNumber() || !std::isfinite(v.GetDouble())) return Error(path, "expected a number");
    return v.GetDouble();
  }

  Result<int64_t> Integer(const JsonValue& v, std::string_view path, int64_t lo, int64_t hi) const {
    if (!v.IsInt64() || v.GetInt64() < lo || v.GetInt64() > hi) {
      return Error(
          path, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v.GetInt64();
  }

  Result<std::vector<double>> Numbers(const JsonValue& v, std::string_view path,
                                      size_t expected) const {
    if (!v.IsArray() || v.Size() != expected) {
      return Error(path, "expected an array of " + std::to_string(expected) + " numbers");
    }
    std::vector<double> out;
    out.reserve(expected);
    for (const JsonValue& e : v.GetArray()) {
      if (!e.IsNumber() || !std::isfinite(e.GetDouble())) {
        return Error(path, "expected an array of " + std::to_string(expected) + " numbers");
      }
      out.push_back(e.GetDouble());
    }
    return out;
  }

 private:
  std::string source_;
};

}  // namespace

// ---- Standardization ---------------------------------------------------------------------

void Standardizer::Transform(std::span<const double> row, std::span<double> z) const {
  const size_t d = mean.size();
  for (size_t j = 0; j < d; ++j) z[j] = ZValue(row[j], mean[j], sd[j]);
}

Result<Standardizer> FitStandardizer(const FeatureMatrix& data) {
  const int d = data.cols();
  if (d == 0) return InvalidArgument("no features (d = 0)");
  for (int j = 0; j < d; ++j) {
    if (data.names[j].empty()) {
      return InvalidArgument("feature " + std::to_string(j) + " has no name");
    }
    for (int i = 0; i < j; ++i) {
      if (data.names[i] == data.names[j]) {
        return InvalidArgument("feature " + Quoted(data.names[j]) + " appears twice");
      }
    }
  }
  if (data.values.size() % d != 0) {
    return InvalidArgument(std::to_string(data.values.size()) +
                           " values are not a whole number of rows of " + std::to_string(d));
  }
  const int64_t n = data.rows();
  if (n == 0) return InvalidArgument("no rows (n = 0)");

  std::vector<double> sum(d, 0.0);
  std::vector<int64_t> count(d, 0);
  for (int64_t i = 0; i < n; ++i) {
    const double* row = data.values.data() + i * d;
    for (int j = 0; j < d; ++j) {
      const double x = row[j];
      if (std::isnan(x)) continue;
      if (std::isinf(x)) {
        return InvalidArgument("row " + std::to_string(i + 1) + ", feature " +
                                   Quoted(data.names[j]) + ": infinite value",
                               data.names[j]);
      }
      sum[j] += x;
      ++count[j];
    }
  }
  Standardizer s;
  s.mean.resize(d);
  s.sd.resize(d);
  s.missing.resize(d);
  for (int j = 0; j < d; ++j) {
    if (count[j] == 0) {
      return InvalidArgument("feature " + Quoted(data.names[j]) + " has no value (all missing)",
                             data.names[j]);
    }
    s.mean[j] = sum[j] / static_cast<double>(count[j]);
    s.missing[j] = n - count[j];
  }
  // Second pass about the mean: the one-pass Σx² − n·mean² loses every digit for features such
  // as tenure in days whose spread is small against their size.
  std::vector<double> ss(d, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const double* row = data.values.data() + i * d;
    for (int j = 0; j < d; ++j) {
      if (std::isnan(row[j])) continue;
      const double diff = row[j] - s.mean[j];
      ss[j] += diff * diff;
    }
  }
  for (int j = 0; j < d; ++j) {
    const double sd = std::sqrt(ss[j] / static_cast<double>(count[j]));
    if (!std::isfinite(s.mean[j]) || !std::isfinite(sd)) {
      return InvalidArgument(
          "feature " + Quoted(data.names[j]) + ": values too large to standardize (overflow)",
          data.names[j]);
    }
    if (sd <= 1e-12 * std::max(1.0, std::abs(s.mean[j]))) {
      s.sd[j] = 1.0;
      s.constant_features.push_back(j);
    } else {
      s.sd[j] = sd;
    }
  }
  return s;
}

// ---- Building blocks ---------------------------------------------------------------------

std::vector<double> SeedCentroids(std::span<const double> points, int dims, int k, Seeding seeding,
                                  Rng& rng) {
  const int64_t n = static_cast<int64_t>(points.size()) / dims;
  std::vector<double> centroids;
  centroids.reserve(static_cast<size_t>(k) * dims);
  const auto add = [&](int64_t i) {
    centroids.insert(centroids.end(), points.begin() + i * dims, points.begin() + (i + 1) * dims);
  };
  if (seeding == Seeding::kRandom) {
    std::vector<int64_t> chosen;
    while (static_cast<int>(chosen.size()) < k) {
      const int64_t i = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n)));
      if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
    }
    for (const int64_t i : chosen) add(i);
    return centroids;
  }
  // D² sampling: the first centre uniformly, each next one with probability proportional to the
  // squared distance to the nearest centre chosen so far.
  add(static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n))));
  std::vector<double> d2(n);
  for (int64_t i = 0; i < n; ++i) {
    d2[i] = SquaredDistance(points.data() + i * dims, centroids.data(), dims);
  }
  for (int c = 1; c < k; ++c) {
    double total = 0;
    for (const double v : d2) total += v;
    int64_t pick = -1;
    if (total > 0) {
      const double target = rng.Uniform() * total;
      double cumulative = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (d2[i] <= 0) continue;
        cumulative += d2[i];
        pick = i;  // the last point with weight, should rounding leave the target unreached
        if (cumulative > target) break;
      }
    }
    // Every point sits on a centre (fewer distinct points than k): any point; Lloyd's
    // empty-cluster step then moves the duplicate centre.
    if (pick < 0) pick = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n)));
    add(pick);
    const double* centre = centroids.data() + static_cast<size_t>(c) * dims;
    for (int64_t i = 0; i < n; ++i) {
      d2[i] = std::min(d2[i], SquaredDistance(points.data() + i * dims, centre, dims));
    }
  }
  return centroids;
}

LloydResult RunLloyd(std::span<const double> points, int dims, std::vector<double> initial,
                     int max_iter, double tolerance) {
  const int d = dims;
  const int64_t n = static_cast<int64_t>(points.size()) / d;
  const int k = static_cast<int>(initial.size() / d);
  LloydResult r;
  r.centroids = std::move(initial);
  r.labels.assign(n, -1);
  r.sizes.assign(k, 0);
  std::vector<double> d2(n, 0.0);
  std::vector<double> sums(static_cast<size_t>(k) * d);

  // One assignment step; returns the number of rows that changed cluster.
  const auto assign = [&] {
    int64_t changed = 0;
    std::fill(r.sizes.begin(), r.sizes.end(), 0);
    for (int64_t i = 0; i < n; ++i) {
      const int32_t c = Nearest(points.data() + i * d, r.centroids.data(), k, d, &d2[i]);
      changed += c != r.labels[i];
      r.labels[i] = c;
      ++r.sizes[c];
    }
    return changed;
  };

  bool labels_current = false;  // labels and d2 match the current centroids
  for (int it = 1; it <= max_iter; ++it) {
    r.iterations = it;
    const int64_t changed = assign();
    labels_current = true;
    if (it > 1 && changed == 0) {
      r.converged = true;  // the centroids are already the means of these labels
      break;
    }
    // An empty cluster takes the row farthest from its centroid: that row is the worst served,
    // and taking it from a cluster of two or more leaves no other cluster empty.
    for (int c = 0; c < k; ++c) {
      if (r.sizes[c] > 0) continue;
      int64_t far = -1;
      for (int64_t i = 0; i < n; ++i) {
        if (r.sizes[r.labels[i]] > 1 && d2[i] > 0 && (far < 0 || d2[i] > d2[far])) far = i;
      }
      if (far < 0) break;  // every row sits on its centroid: nothing to move
      --r.sizes[r.labels[far]];
      r.labels[far] = c;
      r.sizes[c] = 1;
      d2[far] = 0;
      ++r.empty_reseeds;
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      double* s = sums.data() + static_cast<size_t>(r.labels[i]) * d;
      const double* p = points.data() + i * d;
      for (int j = 0; j < d; ++j) s[j] += p[j];
    }
    double shift = 0;
    for (int c = 0; c < k; ++c) {
      if (r.sizes[c] == 0) continue;  // keeps its old position
      double* centre = r.centroids.data() + static_cast<size_t>(c) * d;
      const double* s = sums.data() + static_cast<size_t>(c) * d;
      for (int j = 0; j < d; ++j) {
        const double updated = s[j] / static_cast<double>(r.sizes[c]);
        shift += (updated - centre[j]) * (updated - centre[j]);
        centre[j] = updated;
      }
    }
    labels_current = false;
    if (shift <= tolerance) {
      r.converged = true;
      break;
    }
  }
  if (!labels_current) assign();
  r.inertia = 0;
  for (const double v : d2) r.inertia += v;
  return r;
}

Result<double> MeanSilhouette(std::span<const double> points, int dims,
                              std::span<const int32_t> labels, int threads) {
  if (dims < 1) return InvalidArgument("dims must be at least 1");
  if (points.size() != labels.size() * static_cast<size_t>(dims)) {
    return InvalidArgument(std::to_string(points.size()) + " values for " +
                           std::to_string(labels.size()) + " labels of " + std::to_string(dims) +
                           " dimensions");
  }
  if (labels.size() < 2) return InvalidArgument("a silhouette needs at least 2 points");
  int32_t max_label = 0;
  for (const int32_t l : labels) {
    if (l < 0) return InvalidArgument("negative label " + std::to_string(l));
    max_label = std::max(max_label, l);
  }
  const std::vector<int32_t> copy(labels.begin(), labels.end());
  return ColumnMeans(PointSilhouettes(points, dims, copy, {max_label + 1}, threads), 1)[0];
}

Result<double> AdjustedRandIndex(std::span<const int32_t> a, std::span<const int32_t> b) {
  if (a.size() != b.size()) {
    return InvalidArgument("labellings of different lengths (" + std::to_string(a.size()) +
                           " and " + std::to_string(b.size()) + ")");
  }
  std::map<std::pair<int32_t, int32_t>, int64_t> joint;
  std::map<int32_t, int64_t> rows, cols;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] < 0 || b[i] < 0) return InvalidArgument("negative label at " + std::to_string(i));
    ++joint[{a[i], b[i]}];
    ++rows[a[i]];
    ++cols[b[i]];
  }
  if (a.size() < 2) return 1.0;
  const auto pairs = [](int64_t x) { return 0.5 * static_cast<double>(x) * (x - 1); };
  double index = 0, sum_a = 0, sum_b = 0;
  for (const auto& [key, count] : joint) index += pairs(count);
  for (const auto& [key, count] : rows) sum_a += pairs(count);
  for (const auto& [key, count] : cols) sum_b += pairs(count);
  const double expected = sum_a * sum_b / pairs(static_cast<int64_t>(a.size()));
  const double max_index = 0.5 * (sum_a + sum_b);
  // Equal only when both labellings are trivial in the same way (one cluster, or all
  // singletons): the same partition.
  if (max_index == expected) return 1.0;
  return (index - expected) / (max_index - expected);
}

// ---- Fitting -----------------------------------------------------------------------------

Result<KMeansModel> FitKMeans(const FeatureMatrix& data, const KMeansOptions& options) {
  KAIROS_RETURN_IF_ERROR(ValidateOptions(options));
  KAIROS_ASSIGN_OR_RETURN(Standardizer standardizer, FitStandardizer(data));
  const int d = data.cols();
  const int64_t n = data.rows();

  Rng sample_rng(options.seed, 0, kStreamFitSample);
  const std::vector<int64_t> sample = SampleIndices(n, options.fit_sample, sample_rng);
  const int64_t m = static_cast<int64_t>(sample.size());
  std::vector<double> z(static_cast<size_t>(m) * d);
  for (int64_t s = 0; s < m; ++s) {
    standardizer.Transform(std::span(data.values).subspan(sample[s] * d, d),
                           std::span(z).subspan(s * d, d));
  }

  int k_lo = options.k > 0 ? options.k : options.k_min;
  int k_hi = options.k > 0 ? options.k : options.k_max;
  const int64_t distinct = CountDistinctRows(z, d, k_hi);
  const std::string where =
      m < n ? "the fit sample (" + std::to_string(m) + " of " + std::to_string(n) + " rows)"
            : "the data";
  if (distinct < k_lo) {
    return InvalidArgument(std::string(options.k > 0 ? "k" : "k_min") + " = " +
                               std::to_string(k_lo) + " but " + where + " has only " +
                               std::to_string(distinct) +
                               " distinct rows (after standardization and imputing missing values)",
                           options.k > 0 ? "k" : "k_min");
  }
  std::string clip_note;
  if (k_hi > distinct) {
    clip_note = " The range was clipped to k <= " + std::to_string(distinct) + ": " + where +
                " has only " + std::to_string(distinct) + " distinct rows.";
    k_hi = static_cast<int>(distinct);
  }

  // Every (k, restart) is an independent job with its own Rng stream; large k first so the two
  // threads finish together.
  struct Job {
    int k;
    int restart;
  };
  std::vector<Job> jobs;
  for (int k = k_hi; k >= k_lo; --k) {
    for (int r = 0; r < options.n_init; ++r) jobs.push_back({k, r});
  }
  std::vector<LloydResult> results(jobs.size());
  ParallelFor(static_cast<int64_t>(jobs.size()), options.threads, [&](int64_t j) {
    Rng rng(options.seed, static_cast<uint64_t>(jobs[j].k), kStreamRestart + jobs[j].restart);
    results[j] = RunLloyd(z, d, SeedCentroids(z, d, jobs[j].k, options.seeding, rng),
                          options.max_iter, options.tolerance);
  });
  // The best restart per k: lowest inertia, ties to the earlier restart (jobs are in restart
  // order within a k).
  std::vector<int> ks;
  std::vector<size_t> best;
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (ks.empty() || ks.back() != jobs[j].k) {
      ks.push_back(jobs[j].k);
      best.push_back(j);
    } else if (results[j].inertia < results[best.back()].inertia) {
      best.back() = j;
    }
  }
  std::reverse(ks.begin(), ks.end());
  std::reverse(best.begin(), best.end());

  // Silhouettes on a sub-sample of the fit sample, all k in one pass over the pairs.
  Rng silhouette_rng(options.seed, 0, kStreamSilhouetteSample);
  const std::vector<int64_t> sub = SampleIndices(m, options.silhouette_sample, silhouette_rng);
  const int64_t s_rows = static_cast<int64_t>(sub.size());
  const int L = static_cast<int>(ks.size());
  std::vector<double> sz(static_cast<size_t>(s_rows) * d);
  std::vector<int32_t> s_labels(static_cast<size_t>(s_rows) * L);
  for (int64_t i = 0; i < s_rows; ++i) {
    std::copy_n(z.begin() + sub[i] * d, d, sz.begin() + i * d);
    for (int q = 0; q < L; ++q) s_labels[i * L + q] = results[best[q]].labels[sub[i]];
  }
  const std::vector<double> per_point = PointSilhouettes(sz, d, s_labels, ks, options.threads);
  const std::vector<double> silhouettes = ColumnMeans(per_point, L);

  KSelection selection;
  for (int q = 0; q < L; ++q) {
    const LloydResult& r = results[best[q]];
    selection.tried.push_back({ks[q], r.inertia, silhouettes[q], r.iterations});
  }
  selection.elbow_k = ElbowK(selection.tried);
  int chosen = 0;  // index into ks
  if (options.k > 0) {
    selection.reason = "k = " + std::to_string(options.k) + " was given.";
  } else if (options.criterion == KCriterion::kElbow) {
    chosen = static_cast<int>(std::find(ks.begin(), ks.end(), selection.elbow_k) - ks.begin());
    selection.reason = "k = " + std::to_string(selection.elbow_k) +
                       " is the elbow of the inertia curve (farthest below the line from k = " +
                       std::to_string(ks.front()) + " to k = " + std::to_string(ks.back()) + ").";
  } else {
    int top = 0;
    for (int q = 1; q < L; ++q) {
      if (silhouettes[q] > silhouettes[top]) top = q;
    }
    // The smallest k whose gap to the best is within tie_standard_errors standard errors.
    double se = 0;
    for (chosen = 0; chosen < top; ++chosen) {
      se = PairedStandardError(per_point, L, top, chosen);
      if (silhouettes[top] - silhouettes[chosen] <= options.tie_standard_errors * se) break;
    }
    const std::string rows_text = " on " + std::to_string(s_rows) + " rows";
    if (chosen == top) {
      selection.reason = "k = " + std::to_string(ks[top]) + " has the highest mean silhouette (" +
                         Fixed(silhouettes[top], 3) + rows_text + ").";
    } else {
      selection.reason = "k = " + std::to_string(ks[chosen]) + " has a mean silhouette (" +
                         Fixed(silhouettes[chosen], 4) + ") within " +
                         Fixed(options.tie_standard_errors, 1) + " standard errors (SE " +
                         Fixed(se, 4) + ") of the highest (" + Fixed(silhouettes[top], 4) +
                         " at k = " + std::to_string(ks[top]) + rows_text +
                         "); the smaller k is preferred as a tie.";
    }
  }
  if (L == 1 && options.k == 0) {
    selection.reason = "k = " + std::to_string(ks[0]) + " is the only k left to try.";
  }
  selection.reason += clip_note;
  selection.chosen_k = ks[chosen];

  // The chosen run, clusters renumbered by decreasing size (ties: by centroid).
  const LloydResult& run = results[best[chosen]];
  const int k = ks[chosen];
  std::vector<int> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (run.sizes[a] != run.sizes[b]) return run.sizes[a] > run.sizes[b];
    return std::lexicographical_compare(
        run.centroids.begin() + a * d, run.centroids.begin() + (a + 1) * d,
        run.centroids.begin() + b * d, run.centroids.begin() + (b + 1) * d);
  });

  KMeansModel model;
  model.features = data.names;
  model.k = k;
  model.centroids.reserve(static_cast<size_t>(k) * d);
  for (const int c : order) {
    model.centroids.insert(model.centroids.end(), run.centroids.begin() + c * d,
                           run.centroids.begin() + (c + 1) * d);
    model.sizes.push_back(run.sizes[c]);
  }
  model.centroids_original.resize(model.centroids.size());
  for (int c = 0; c < k; ++c) {
    for (int j = 0; j < d; ++j) {
      model.centroids_original[c * d + j] = standardizer.ToOriginal(j, model.centroids[c * d + j]);
    }
  }
  model.standardizer = std::move(standardizer);
  model.inertia = run.inertia;
  model.iterations = run.iterations;
  model.rows = n;
  model.sample_rows = m;
  model.silhouette_rows = s_rows;
  model.selection = std::move(selection);
  return model;
}

// ---- Assignment --------------------------------------------------------------------------

namespace {

// Assigns rows [begin, end) of a row-major matrix; z is a scratch row of d values.
void AssignRange(const KMeansModel& model, const double* values, int64_t begin, int64_t end,
                 int32_t* out) {
  const int d = model.dims();
  const double* mean = model.standardizer.mean.data();
  const double* sd = model.standardizer.sd.data();
  std::vector<double> z(d);
  for (int64_t i = begin; i < end; ++i) {
    const double* row = values + i * d;
    for (int j = 0; j < d; ++j) z[j] = ZValue(row[j], mean[j], sd[j]);
    double unused;
    out[i] = Nearest(z.data(), model.centroids.data(), model.k, d, &unused);
  }
}

}  // namespace

Result<int32_t> Assign(const KMeansModel& model, std::span<const double> row) {
  if (row.size() != static_cast<size_t>(model.dims())) {
    return InvalidArgument("a row of " + std::to_string(row.size()) + " values for a model of " +
                           std::to_string(model.dims()) + " features");
  }
  int32_t out = 0;
  AssignRange(model, row.data(), 0, 1, &out);
  return out;
}

Result<std::vector<int32_t>> AssignAll(const KMeansModel& model, std::span<const double> values,
                                       int threads) {
  const int d = model.dims();
  if (d == 0 || values.size() % d != 0) {
    return InvalidArgument(std::to_string(values.size()) +
                           " values are not a whole number of rows of " + std::to_string(d));
  }
  if (threads < 1 || threads > 64) return InvalidArgument("threads must be in [1, 64]");
  const int64_t n = static_cast<int64_t>(values.size()) / d;
  std::vector<int32_t> out(n);
  // Contiguous blocks, one per thread: the work per row is the same.
  const int64_t blocks = std::min<int64_t>(threads, std::max<int64_t>(1, n / 4096));
  ParallelFor(blocks, threads, [&](int64_t b) {
    AssignRange(model, values.data(), n * b / blocks, n * (b + 1) / blocks, out.data());
  });
  return out;
}

// ---- Profiles ----------------------------------------------------------------------------

std::vector<ClusterProfile> Describe(const KMeansModel& model, double threshold) {
  const int d = model.dims();
  std::vector<ClusterProfile> profiles(model.k);
  const auto word = [](const Trait& t) {
    return std::string(t.z > 0 ? "high " : "low ") + t.feature;
  };
  for (int c = 0; c < model.k; ++c) {
    ClusterProfile& p = profiles[c];
    p.id = c;
    for (int j = 0; j < d; ++j) {
      const double z = model.centroids[static_cast<size_t>(c) * d + j];
      if (std::abs(z) >= threshold) p.traits.push_back({model.features[j], z});
    }
    std::stable_sort(p.traits.begin(), p.traits.end(),
                     [](const Trait& a, const Trait& b) { return std::abs(a.z) > std::abs(b.z); });
    // The strongest few: a profile an operator reads at a glance; `traits` keeps them all.
    constexpr size_t kDescribed = 4;
    for (size_t i = 0; i < p.traits.size() && i < kDescribed; ++i) {
      const Trait& t = p.traits[i];
      if (!p.description.empty()) p.description += ", ";
      char z_text[32];
      std::snprintf(z_text, sizeof z_text, "%+.1f", t.z);
      p.description += word(t) + " (" + z_text + " sd)";
    }
    if (p.traits.size() > kDescribed) {
      p.description += " and " + std::to_string(p.traits.size() - kDescribed) + " more";
    }
    if (p.traits.empty()) p.description = "average on every feature";
  }
  // Names: the top two traits, lengthened while two clusters share a name and one of them has
  // another trait to add; "#id" settles what is left (e.g. two "average" clusters).
  std::vector<size_t> used(model.k);
  const auto name_of = [&](int c) {
    if (used[c] == 0) return std::string("average");
    std::string name;
    for (size_t t = 0; t < used[c]; ++t) name += (t ? ", " : "") + word(profiles[c].traits[t]);
    return name;
  };
  for (int c = 0; c < model.k; ++c) used[c] = std::min<size_t>(2, profiles[c].traits.size());
  for (bool grew = true; grew;) {
    grew = false;
    std::vector<std::string> names(model.k);
    for (int c = 0; c < model.k; ++c) names[c] = name_of(c);
    for (int c = 0; c < model.k; ++c) {
      const bool clash = std::count(names.begin(), names.end(), names[c]) > 1;
      if (clash && used[c] < profiles[c].traits.size()) {
        ++used[c];
        grew = true;
      }
    }
  }
  std::vector<std::string> names(model.k);
  for (int c = 0; c < model.k; ++c) names[c] = name_of(c);
  for (int c = 0; c < model.k; ++c) {
    profiles[c].name = names[c];
    if (std::count(names.begin(), names.end(), names[c]) > 1) {
      profiles[c].name += " #" + std::to_string(c);
    }
  }
  return profiles;
}

// ---- Persistence -------------------------------------------------------------------------

std::string KMeansModelToJson(const KMeansModel& model) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
  const int d = model.dims();
  const auto doubles = [&](const double* v, int count) {
    w.StartArray();
    for (int i = 0; i < count; ++i) WriteDouble(w, v[i]);
    w.EndArray();
  };
  w.StartObject();
  w.Key("format");
  w.String("kairos.kmeans");
  w.Key("version");
  w.Int(1);
  w.Key("features");
  w.StartArray();
  for (const std::string& f : model.features) WriteString(w, f);
  w.EndArray();
  w.Key("standardizer");
  w.StartObject();
  w.Key("mean");
  doubles(model.standardizer.mean.data(), d);
  w.Key("sd");
  doubles(model.standardizer.sd.data(), d);
  w.Key("constant");
  w.StartArray();
  for (const int j : model.standardizer.constant_features) WriteString(w, model.features[j]);
  w.EndArray();
  w.Key("missing");
  w.StartArray();
  for (const int64_t v : model.standardizer.missing) w.Int64(v);
  w.EndArray();
  w.EndObject();
  w.Key("k");
  w.Int(model.k);
  w.Key("centroids");
  w.StartArray();
  for (int c = 0; c < model.k; ++c) doubles(model.centroids.data() + static_cast<size_t>(c) * d, d);
  w.EndArray();
  w.Key("centroids_original");
  w.StartArray();
  for (int c = 0; c < model.k; ++c) {
    doubles(model.centroids_original.data() + static_cast<size_t>(c) * d, d);
  }
  w.EndArray();
  w.Key("sizes");
  w.StartArray();
  for (const int64_t v : model.sizes) w.Int64(v);
  w.EndArray();
  w.Key("inertia");
  WriteDouble(w, model.inertia);
  w.Key("iterations");
  w.Int(model.iterations);
  w.Key("rows");
  w.Int64(model.rows);
  w.Key("sample_rows");
  w.Int64(model.sample_rows);
  w.Key("silhouette_rows");
  w.Int64(model.silhouette_rows);
  w.Key("selection");
  w.StartObject();
  w.Key("chosen_k");
  w.Int(model.selection.chosen_k);
  w.Key("elbow_k");
  w.Int(model.selection.elbow_k);
  w.Key("reason");
  WriteString(w, model.selection.reason);
  w.Key("tried");
  w.StartArray();
  for (const KCandidate& c : model.selection.tried) {
    w.StartObject();
    w.Key("k");
    w.Int(c.k);
    w.Key("inertia");
    WriteDouble(w, c.inertia);
    w.Key("silhouette");
    WriteDouble(w, c.silhouette);
    w.Key("iterations");
    w.Int(c.iterations);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

Result<KMeansModel> KMeansModelFromJson(std::string_view text, std::string_view source) {
  rapidjson::Document doc;
  // Full precision: the default parser may be off by an ulp, and a loaded model must assign
  // exactly as the saved one.
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return Corruption(std::string(source) + ": not JSON (offset " +
                      std::to_string(doc.GetErrorOffset()) +
                      "): " + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  const JsonReader r(source);
  if (!doc.IsObject()) return r.Error("", "expected an object");
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* format, r.Member(doc, "format", "format"));
  if (!format->IsString() || std::string_view(format->GetString()) != "kairos.kmeans") {
    return r.Error("format", "expected \"kairos.kmeans\" (not a k-means model file)");
  }
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* version, r.Member(doc, "version", "version"));
  if (!version->IsInt() || version->GetInt() != 1) {
    return r.Error("version", "unsupported version (this build reads version 1)");
  }

  KMeansModel model;
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* features, r.Member(doc, "features", "features"));
  if (!features->IsArray() || features->Empty()) {
    return r.Error("features", "expected a non-empty array of names");
  }
  for (const JsonValue& f : features->GetArray()) {
    if (!f.IsString() || f.GetStringLength() == 0) {
      return r.Error("features", "expected non-empty strings");
    }
    std::string name(f.GetString(), f.GetStringLength());
    if (std::find(model.features.begin(), model.features.end(), name) != model.features.end()) {
      return r.Error("features", Quoted(name) + " appears twice");
    }
    model.features.push_back(std::move(name));
  }
  const int d = model.dims();

  KAIROS_ASSIGN_OR_RETURN(const JsonValue* st, r.Member(doc, "standardizer", "standardizer"));
  if (!st->IsObject()) return r.Error("standardizer", "expected an object");
  Standardizer& s = model.standardizer;
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* mean, r.Member(*st, "mean", "standardizer.mean"));
  KAIROS_ASSIGN_OR_RETURN(s.mean, r.Numbers(*mean, "standardizer.mean", d));
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* sd, r.Member(*st, "sd", "standardizer.sd"));
  KAIROS_ASSIGN_OR_RETURN(s.sd, r.Numbers(*sd, "standardizer.sd", d));
  for (const double v : s.sd) {
    if (v <= 0) return r.Error("standardizer.sd", "every sd must be > 0");
  }
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* constant,
                          r.Member(*st, "constant", "standardizer.constant"));
  if (!constant->IsArray()) return r.Error("standardizer.constant", "expected an array of names");
  for (const JsonValue& c : constant->GetArray()) {
    const auto it = c.IsString() ? std::find(model.features.begin(), model.features.end(),
                                             std::string_view(c.GetString(), c.GetStringLength()))
                                 : model.features.end();
    if (it == model.features.end()) {
      return r.Error("standardizer.constant", "expected names from \"features\"");
    }
    s.constant_features.push_back(static_cast<int>(it - model.features.begin()));
  }
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* missing,
                          r.Member(*st, "missing", "standardizer.missing"));
  if (!missing->IsArray() || missing->Size() != static_cast<rapidjson::SizeType>(d)) {
    return r.Error("standardizer.missing", "expected an array of " + std::to_string(d) + " counts");
  }
  for (const JsonValue& v : missing->GetArray()) {
    KAIROS_ASSIGN_OR_RETURN(const int64_t count,
                            r.Integer(v, "standardizer.missing", 0, INT64_MAX));
    s.missing.push_back(count);
  }

  KAIROS_ASSIGN_OR_RETURN(const JsonValue* k, r.Member(doc, "k", "k"));
  KAIROS_ASSIGN_OR_RETURN(const int64_t k_value, r.Integer(*k, "k", 1, kMaxK));
  model.k = static_cast<int>(k_value);
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* centroids, r.Member(doc, "centroids", "centroids"));
  if (!centroids->IsArray() || centroids->Size() != static_cast<rapidjson::SizeType>(model.k)) {
    return r.Error("centroids", "expected " + std::to_string(model.k) + " centroids");
  }
  for (const JsonValue& c : centroids->GetArray()) {
    KAIROS_ASSIGN_OR_RETURN(const std::vector<double> row, r.Numbers(c, "centroids", d));
    model.centroids.insert(model.centroids.end(), row.begin(), row.end());
  }
  model.centroids_original.resize(model.centroids.size());
  for (int c = 0; c < model.k; ++c) {
    for (int j = 0; j < d; ++j) {
      model.centroids_original[c * d + j] = s.ToOriginal(j, model.centroids[c * d + j]);
    }
  }
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* sizes, r.Member(doc, "sizes", "sizes"));
  if (!sizes->IsArray() || sizes->Size() != static_cast<rapidjson::SizeType>(model.k)) {
    return r.Error("sizes", "expected " + std::to_string(model.k) + " counts");
  }
  for (const JsonValue& v : sizes->GetArray()) {
    KAIROS_ASSIGN_OR_RETURN(const int64_t size, r.Integer(v, "sizes", 0, INT64_MAX));
    model.sizes.push_back(size);
  }
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* inertia, r.Member(doc, "inertia", "inertia"));
  KAIROS_ASSIGN_OR_RETURN(model.inertia, r.Number(*inertia, "inertia"));
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* iterations, r.Member(doc, "iterations", "iterations"));
  KAIROS_ASSIGN_OR_RETURN(const int64_t iters, r.Integer(*iterations, "iterations", 0, INT32_MAX));
  model.iterations = static_cast<int>(iters);
  for (const auto& [key, field] : {std::pair{"rows", &model.rows},
                                   {"sample_rows", &model.sample_rows},
                                   {"silhouette_rows", &model.silhouette_rows}}) {
    KAIROS_ASSIGN_OR_RETURN(const JsonValue* v, r.Member(doc, key, key));
    KAIROS_ASSIGN_OR_RETURN(*field, r.Integer(*v, key, 0, INT64_MAX));
  }

  KAIROS_ASSIGN_OR_RETURN(const JsonValue* sel, r.Member(doc, "selection", "selection"));
  if (!sel->IsObject()) return r.Error("selection", "expected an object");
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* chosen,
                          r.Member(*sel, "chosen_k", "selection.chosen_k"));
  KAIROS_ASSIGN_OR_RETURN(const int64_t chosen_k,
                          r.Integer(*chosen, "selection.chosen_k", model.k, model.k));
  model.selection.chosen_k = static_cast<int>(chosen_k);
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* elbow, r.Member(*sel, "elbow_k", "selection.elbow_k"));
  KAIROS_ASSIGN_OR_RETURN(const int64_t elbow_k, r.Integer(*elbow, "selection.elbow_k", 1, kMaxK));
  model.selection.elbow_k = static_cast<int>(elbow_k);
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* reason, r.Member(*sel, "reason", "selection.reason"));
  if (!reason->IsString()) return r.Error("selection.reason", "expected a string");
  model.selection.reason.assign(reason->GetString(), reason->GetStringLength());
  KAIROS_ASSIGN_OR_RETURN(const JsonValue* tried, r.Member(*sel, "tried", "selection.tried"));
  if (!tried->IsArray()) return r.Error("selection.tried", "expected an array");
  for (const JsonValue& t : tried->GetArray()) {
    if (!t.IsObject()) return r.Error("selection.tried", "expected objects");
    KCandidate c;
    KAIROS_ASSIGN_OR_RETURN(const JsonValue* tk, r.Member(t, "k", "selection.tried.k"));
    KAIROS_ASSIGN_OR_RETURN(const int64_t kk, r.Integer(*tk, "selection.tried.k", 1, kMaxK));
    c.k = static_cast<int>(kk);
    KAIROS_ASSIGN_OR_RETURN(const JsonValue* ti, r.Member(t, "inertia", "selection.tried.inertia"));
    KAIROS_ASSIGN_OR_RETURN(c.inertia, r.Number(*ti, "selection.tried.inertia"));
    KAIROS_ASSIGN_OR_RETURN(const JsonValue* ts,
                            r.Member(t, "silhouette", "selection.tried.silhouette"));
    KAIROS_ASSIGN_OR_RETURN(c.silhouette, r.Number(*ts, "selection.tried.silhouette"));
    KAIROS_ASSIGN_OR_RETURN(const JsonValue* tn,
                            r.Member(t, "iterations", "selection.tried.iterations"));
    KAIROS_ASSIGN_OR_RETURN(const int64_t it,
                            r.Integer(*tn, "selection.tried.iterations", 0, INT32_MAX));
    c.iterations = static_cast<int>(it);
    model.selection.tried.push_back(c);
  }
  return model;
}

Status SaveKMeansModel(const KMeansModel& model, const std::string& path) {
  return WriteFileAtomic(path, KMeansModelToJson(model));
}

Result<KMeansModel> LoadKMeansModel(const std::string& path) {
  KAIROS_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  return KMeansModelFromJson(text, path);
}

}  // namespace kairos::analytics
