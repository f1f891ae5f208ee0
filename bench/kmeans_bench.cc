// kmeans_bench: k-means at `kairos segment` scale (DESIGN.md §6: prints figures, not pass/fail).
//   kmeans_bench [--rows N] [--sample S] [--silhouette-sample S] [--k-min A] [--k-max B]
//                [--n-init R] [--tie-se X] [--threads T] [--runs R]
// 1. Generates N subscribers × 10 behavioural features in memory (6 latent segments, log-normal
//    usage, 1% missing cells), as `kairos segment` would read them from profiles.
// 2. FitKMeans over k in [A, B] on a sample of S rows (standardizer over all N rows, silhouettes
//    on a sub-sample), then with the chosen k alone.
// 3. AssignAll of the N rows on 1 and on T threads; the adjusted Rand index of the clusters
//    against the generator's segments.
// Each timing is the median of R runs. Target: fit + assign of 1M rows well under 10 s on 2 cores.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "analytics/kmeans.h"
#include "common/rng.h"

namespace {

using kairos::analytics::FeatureMatrix;
using kairos::analytics::KMeansModel;
using kairos::analytics::KMeansOptions;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Six segments of a mobile base; each feature is the segment's level times log-normal noise.
FeatureMatrix MakeSubscribers(int64_t n, uint64_t seed, std::vector<int32_t>* segment) {
  FeatureMatrix m;
  m.names = {"data_mb", "voice_min",   "sms",        "topups",      "arpu",
             "tickets", "tenure_days", "roaming_mb", "night_share", "app_sessions"};
  // Levels per segment: streamers, talkers, light prepaid, business travellers, teens, seniors.
  const std::vector<std::vector<double>> levels = {
      {12000, 150, 20, 0.5, 35, 0.3, 900, 50, 0.40, 120},
      {1500, 900, 60, 1.0, 30, 0.5, 2200, 10, 0.10, 30},
      {300, 60, 15, 3.0, 8, 0.1, 400, 0, 0.15, 10},
      {6000, 600, 10, 0.2, 70, 1.2, 3000, 2500, 0.05, 80},
      {8000, 40, 300, 2.5, 15, 0.2, 500, 5, 0.55, 200},
      {200, 300, 5, 0.8, 20, 0.8, 4000, 0, 0.02, 3}};
  const std::vector<double> shares = {0.22, 0.20, 0.25, 0.05, 0.15, 0.13};
  const size_t d = m.names.size();
  m.values.reserve(static_cast<size_t>(n) * d);
  kairos::Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    double u = rng.Uniform();
    size_t s = 0;
    while (s + 1 < shares.size() && u >= shares[s]) u -= shares[s++];
    segment->push_back(static_cast<int32_t>(s));
    for (size_t j = 0; j < d; ++j) {
      double v = levels[s][j] * rng.UnitLogNormal(0.4);
      if (j == 3 || j == 5) v = static_cast<double>(rng.Poisson(levels[s][j]));  // counts
      if (rng.Bernoulli(0.01)) v = std::numeric_limits<double>::quiet_NaN();
      m.values.push_back(v);
    }
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1'000'000;
  KMeansOptions options;
  options.fit_sample = 100'000;
  options.silhouette_sample = 4'000;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--rows") {
      rows = std::atoll(value);
    } else if (flag == "--sample") {
      options.fit_sample = std::atoll(value);
    } else if (flag == "--silhouette-sample") {
      options.silhouette_sample = std::atoll(value);
    } else if (flag == "--k-min") {
      options.k_min = std::atoi(value);
    } else if (flag == "--k-max") {
      options.k_max = std::atoi(value);
    } else if (flag == "--n-init") {
      options.n_init = std::atoi(value);
    } else if (flag == "--tie-se") {
      options.tie_standard_errors = std::atof(value);
    } else if (flag == "--threads") {
      options.threads = std::atoi(value);
    } else if (flag == "--runs") {
      runs = std::atoi(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  if (rows < 2 || runs < 1) {
    std::fprintf(stderr,
                 "usage: kmeans_bench [--rows N>1] [--sample S] [--silhouette-sample S] "
                 "[--k-min A] [--k-max B] [--n-init R] [--tie-se X] [--threads T] [--runs R>0]\n");
    return 1;
  }

  auto start = std::chrono::steady_clock::now();
  std::vector<int32_t> truth;
  const FeatureMatrix data = MakeSubscribers(rows, 1, &truth);
  std::printf("generated %lld rows x %d features in %.2f s\n", static_cast<long long>(rows),
              data.cols(), Seconds(start));

  std::vector<double> fit_range_s, fit_fixed_s, assign1_s, assignT_s;
  KMeansModel model;
  for (int r = 0; r < runs; ++r) {
    start = std::chrono::steady_clock::now();
    auto fit = kairos::analytics::FitKMeans(data, options);
    fit_range_s.push_back(Seconds(start));
    if (!fit.ok()) return std::fprintf(stderr, "%s\n", fit.status().ToString().c_str()), 1;
    model = std::move(fit).value();
  }
  KMeansOptions fixed = options;
  fixed.k = model.k;
  for (int r = 0; r < runs; ++r) {
    start = std::chrono::steady_clock::now();
    auto fit = kairos::analytics::FitKMeans(data, fixed);
    fit_fixed_s.push_back(Seconds(start));
    if (!fit.ok()) return std::fprintf(stderr, "%s\n", fit.status().ToString().c_str()), 1;
  }
  std::vector<int32_t> labels;
  for (int r = 0; r < runs; ++r) {
    start = std::chrono::steady_clock::now();
    auto one = kairos::analytics::AssignAll(model, data.values, 1);
    assign1_s.push_back(Seconds(start));
    start = std::chrono::steady_clock::now();
    auto many = kairos::analytics::AssignAll(model, data.values, options.threads);
    assignT_s.push_back(Seconds(start));
    if (!one.ok() || !many.ok() || *one != *many) {
      return std::fprintf(stderr, "AssignAll failed or disagrees across threads\n"), 1;
    }
    labels = std::move(one).value();
  }

  std::printf("\nk selection on %lld sample rows (silhouette on %lld), n_init %d:\n",
              static_cast<long long>(model.sample_rows),
              static_cast<long long>(model.silhouette_rows), options.n_init);
  std::printf("  %3s %14s %11s %6s\n", "k", "inertia", "silhouette", "iters");
  for (const auto& c : model.selection.tried) {
    std::printf("  %3d %14.1f %11.4f %6d\n", c.k, c.inertia, c.silhouette, c.iterations);
  }
  std::printf("  %s (elbow at k = %d)\n", model.selection.reason.c_str(), model.selection.elbow_k);

  std::vector<int64_t> sizes(model.k, 0);
  for (const int32_t l : labels) ++sizes[l];
  const auto profiles = kairos::analytics::Describe(model);
  std::printf("\nclusters of all %lld rows:\n", static_cast<long long>(rows));
  for (int c = 0; c < model.k; ++c) {
    std::printf("  %d %8lld %5.1f%%  %s: %s\n", c, static_cast<long long>(sizes[c]),
                100.0 * sizes[c] / rows, profiles[c].name.c_str(), profiles[c].description.c_str());
  }

  auto ari = kairos::analytics::AdjustedRandIndex(labels, truth);
  if (ari.ok())
    std::printf("  adjusted Rand index against the generator's 6 segments: %.3f\n", *ari);

  const double fit_s = Median(fit_range_s);
  const double assign_s = Median(assignT_s);
  std::printf("\ntimings (median of %d runs, %d threads):\n", runs, options.threads);
  std::printf("  fit, k in [%d, %d]:   %.2f s\n", options.k_min, options.k_max, fit_s);
  std::printf("  fit, k = %d only:      %.2f s\n", model.k, Median(fit_fixed_s));
  std::printf("  assign %lld rows, 1 thread:  %.3f s (%.1f ns/row)\n", static_cast<long long>(rows),
              Median(assign1_s), Median(assign1_s) / rows * 1e9);
  std::printf("  assign %lld rows, %d threads: %.3f s (%.1f ns/row)\n",
              static_cast<long long>(rows), options.threads, assign_s, assign_s / rows * 1e9);
  std::printf("  fit (range) + assign: %.2f s (target for kairos segment: < 10 s in all)\n",
              fit_s + assign_s);
  return 0;
}
