#include "learn/ope.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "common/rng.h"

namespace kairos::learn {
namespace {

// One row as the estimators see it: importance weight w = π(a,k)/p0, reward, (item, position)
// cell. 16 bytes so that a bootstrap draw (a random row) touches one cache line; the float
// reward is exact for clicks and only used by the resampling loop.
struct Row {
  double w;
  float r;
  int32_t cell;
};

// Per-(item, position) sums from which every estimator follows.
struct CellSums {
  std::vector<double> n, clicks, w, wr;
  explicit CellSums(size_t cells) : n(cells, 0), clicks(cells, 0), w(cells, 0), wr(cells, 0) {}
  void Add(const Row& row, double r) {
    n[row.cell] += 1;
    clicks[row.cell] += r;
    w[row.cell] += row.w;
    wr[row.cell] += row.w * r;
  }
};

struct Values {
  double ips, snips, dm, dr;
};

Values Estimate4(const CellSums& s, const Policy& pi, double smoothing) {
  const int32_t A = pi.n_actions;
  double total_n = 0, sum_w = 0, sum_wr = 0, sum_wq = 0, dm = 0, mass = 0;
  for (int32_t k = 0; k < pi.n_positions; ++k) {
    double n_k = 0, clicks_k = 0;
    for (int32_t a = 0; a < A; ++a) {
      const size_t c = static_cast<size_t>(k) * A + a;
      n_k += s.n[c];
      clicks_k += s.clicks[c];
    }
    if (n_k == 0) continue;  // no row at this position: it weighs nothing in any estimator
    const double rate_k = clicks_k / n_k;
    double v_k = 0;     // Σ_a π(a,k) q̂(a,k)
    double mass_k = 0;  // Σ_a π(a,k): below 1 when π sometimes shows nothing
    for (int32_t a = 0; a < A; ++a) {
      const size_t c = static_cast<size_t>(k) * A + a;
      const double q = (s.clicks[c] + smoothing * rate_k) / (s.n[c] + smoothing);
      v_k += pi.prob[c] * q;
      mass_k += pi.prob[c];
      sum_wq += s.w[c] * q;
      sum_w += s.w[c];
      sum_wr += s.wr[c];
    }
    dm += n_k * v_k;
    mass += n_k * mass_k;
    total_n += n_k;
  }
  Values v;
  v.ips = sum_wr / total_n;
  // Self-normalising divides by Σw, whose expectation is n times π's mean mass, not n, when π
  // leaves a position empty part of the time ("show nothing" is never logged); scaling by that
  // mass keeps SNIPS consistent for such policies and is the textbook form when the mass is 1.
  // With no weight at all (π never shows a logged item) SNIPS has no data; 0 matches IPS.
  v.snips = sum_w > 0 ? sum_wr / sum_w * (mass / total_n) : 0.0;
  v.dm = dm / total_n;
  v.dr = v.dm + (sum_wr - sum_wq) / total_n;
  return v;
}

// Percentile of sorted values with linear interpolation between order statistics.
double Percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Interval Ci95(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {Percentile(values, 0.025), Percentile(values, 0.975)};
}

}  // namespace

Status CheckPropensities(const BanditLog& log) {
  for (size_t i = 0; i < log.size(); ++i) {
    const double p = log.propensity[i];
    if (!(p > 0 && p <= 1)) {  // NaN (missing) fails too
      const std::string shown = std::isnan(p) ? "missing" : std::to_string(p);
      return InvalidArgument(log.Where(i) + ": propensity " + shown +
                                 " is not in (0, 1]; IPS, SNIPS and DR divide by it",
                             "propensity");
    }
  }
  return Status::Ok();
}

Result<OpeReport> Evaluate(const BanditLog& log, const Policy& pi, const OpeOptions& options) {
  if (log.size() == 0) return InvalidArgument(log.source + ": empty log");
  if (pi.n_actions != log.n_actions() || pi.n_positions != log.n_positions ||
      pi.prob.size() != static_cast<size_t>(pi.n_actions) * pi.n_positions) {
    return Internal("policy was not resolved against the log " + log.source);
  }
  if (options.bootstrap < 0) return InvalidArgument("--bootstrap must be >= 0");
  if (!(options.smoothing >= 0)) return InvalidArgument("reward-model smoothing must be >= 0");
  KAIROS_RETURN_IF_ERROR(CheckPropensities(log));

  const size_t n = log.size();
  const size_t cells = static_cast<size_t>(pi.n_actions) * pi.n_positions;
  std::vector<Row> rows(n);
  CellSums full(cells);
  double reward_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t cell = log.position[i] * pi.n_actions + log.action[i];
    rows[i] = {pi.prob[cell] / log.propensity[i], static_cast<float>(log.reward[i]), cell};
    full.Add(rows[i], log.reward[i]);
    reward_sum += log.reward[i];
  }
  const Values point = Estimate4(full, pi, options.smoothing);

  OpeReport report;
  report.n = static_cast<int64_t>(n);
  report.on_policy = reward_sum / static_cast<double>(n);
  report.ips.value = point.ips;
  report.snips.value = point.snips;
  report.dm.value = point.dm;
  report.dr.value = point.dr;
  if (options.bootstrap == 0) return report;

  // Replicate b depends only on (seed, b), so any thread count gives the same intervals.
  const int B = options.bootstrap;
  std::vector<Values> replicates(B);
  auto run = [&](int first, int step) {
    CellSums sums(cells);
    for (int b = first; b < B; b += step) {
      std::fill(sums.n.begin(), sums.n.end(), 0.0);
      std::fill(sums.clicks.begin(), sums.clicks.end(), 0.0);
      std::fill(sums.w.begin(), sums.w.end(), 0.0);
      std::fill(sums.wr.begin(), sums.wr.end(), 0.0);
      uint64_t mix = options.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(b);
      Rng rng(SplitMix64Next(mix));
      for (size_t i = 0; i < n; ++i) {
        const Row& row = rows[rng.Below(n)];
        sums.Add(row, row.r);
      }
      replicates[b] = Estimate4(sums, pi, options.smoothing);
    }
  };
  const int threads = std::clamp(options.threads, 1, B);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t, threads);
  run(0, threads);
  for (std::thread& t : pool) t.join();

  std::vector<double> v(B);
  auto interval = [&](double Values::*field) {
    for (int b = 0; b < B; ++b) v[b] = replicates[b].*field;
    return Ci95(v);
  };
  report.ips.ci95 = interval(&Values::ips);
  report.snips.ci95 = interval(&Values::snips);
  report.dm.ci95 = interval(&Values::dm);
  report.dr.ci95 = interval(&Values::dr);
  return report;
}

}  // namespace kairos::learn
