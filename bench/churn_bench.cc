// Churn model training at scale (Google Benchmark): TrainChurn on a synthetic table of N rows ×
// 40 features (30 numeric, 10 categorical; missing values; a known churn-like signal), with
// threads = 2. Each iteration is one full training: 5-fold cross-validation with early stopping
// inside each training part, the refits, the final model and the calibration.
// Counters: auc (pooled out-of-fold; on a 200k-row sample above 200k rows), holdout_auc (large
// data: the final model on its 10% hold-out), bayes_auc (the AUC of the true churn log-odds:
// the ceiling), rounds (trees of the final model), cpu_s (process CPU seconds, all threads).
// The target: 1M rows in < 2 min.
//   churn_bench --benchmark_filter=TrainChurn/1000000 --benchmark_repetitions=3
//   churn_bench --benchmark_filter=TrainChurn/100000/     (a quick run)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analytics/churn.h"
#include "analytics/table.h"
#include "common/rng.h"

namespace kairos::analytics {
namespace {

constexpr int kNumeric = 30;
constexpr int kCategorical = 10;
constexpr int kLevels[kCategorical] = {3, 5, 8, 12, 20, 50, 4, 6, 10, 30};

struct Synthetic {
  Table table;
  std::vector<int> labels;
  double bayes_auc = 0;
  double base_rate = 0;
};

// A telecom-like world, 40 features: n0..n9 standard normal (e.g. usage trends), n10..n19
// log-normal (usage volumes), n20..n29 uniform 0..100 (n20 = tenure in months); c0..c9 with
// 3..50 levels (c0 = contract, 3 levels). The churn log-odds are built the way churn behaves:
// monotone and saturating effects, thresholds, one interaction, category effects and a missing
// value that means something; 20 of the 40 features are noise. Known signal: the Bayes AUC
// (the AUC of the true log-odds) is the ceiling any model can reach.
std::unique_ptr<Synthetic> Make(int64_t rows, uint64_t seed) {
  auto s = std::make_unique<Synthetic>();
  Rng rng(seed);
  std::vector<std::vector<double>> num(kNumeric, std::vector<double>(rows));
  std::vector<std::vector<int32_t>> cat(kCategorical, std::vector<int32_t>(rows));
  // Category effects, fixed per level; c0 is the contract; c5..c9 carry none.
  std::vector<std::vector<double>> effect(kCategorical);
  effect[0] = {0.9, -0.3, -1.2};  // month-to-month, one year, two years
  for (int c = 1; c < kCategorical; ++c) {
    for (int l = 0; l < kLevels[c]; ++l) effect[c].push_back(c < 5 ? rng.Normal(0, 0.4) : 0.0);
  }
  std::vector<double> logit(rows);
  s->labels.resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int j = 0; j < kNumeric; ++j) {
      if (j < 10)
        num[j][r] = rng.Normal();
      else if (j < 20)
        num[j][r] = rng.LogNormal(3 + 0.1 * j, 1.0);
      else
        num[j][r] = rng.Uniform(0, 100);
    }
    for (int c = 0; c < kCategorical; ++c) cat[c][r] = static_cast<int32_t>(rng.Below(kLevels[c]));
    double z = -1.3;
    z += 0.8 * std::tanh(num[0][r]);              // usage falling: saturating
    z += num[1][r] > 1.0 ? 0.8 : 0.0;             // many complaints: a threshold
    z -= 0.6 * std::log1p(num[20][r] / 12);       // tenure: long-standing customers stay
    z += 0.4 * (std::log(num[10][r]) - 4.0);      // spend
    z -= 0.3 * (std::log(num[11][r]) - 4.1);      // data volume
    z += cat[0][r] == 0 ? 0.5 * num[2][r] : 0.0;  // price sensitivity, month-to-month only
    for (int c = 0; c < kCategorical; ++c) z += effect[c][cat[c][r]];
    // 5% missing in five numeric features; a missing n5 (no data usage recorded) raises the risk.
    if (rng.Bernoulli(0.05)) {
      num[5][r] = NAN;
      z += 0.5;
    } else {
      z += 0.3 * num[5][r];
    }
    for (int j = 6; j < 10; ++j) {
      if (rng.Bernoulli(0.05)) num[j][r] = NAN;
    }
    // 2% missing categories.
    for (int c = 0; c < kCategorical; ++c) {
      if (rng.Bernoulli(0.02)) cat[c][r] = Column::kMissingCode;
    }
    logit[r] = z;
    s->labels[r] = rng.Bernoulli(1 / (1 + std::exp(-z))) ? 1 : 0;
    s->base_rate += s->labels[r];
  }
  s->base_rate /= static_cast<double>(rows);
  s->bayes_auc = Auc(logit, s->labels);
  for (int j = 0; j < kNumeric; ++j) {
    (void)s->table.AddNumericColumn("n" + std::to_string(j), std::move(num[j]));
  }
  for (int c = 0; c < kCategorical; ++c) {
    std::vector<std::string> names;
    for (int l = 0; l < kLevels[c]; ++l)
      names.push_back("c" + std::to_string(c) + "_" + std::to_string(l));
    (void)s->table.AddCategoricalColumn("c" + std::to_string(c), std::move(cat[c]), names);
  }
  return s;
}

const Synthetic& Data(int64_t rows) {
  // Built once per size and reused by every repetition (generation is not what we measure).
  static std::map<int64_t, std::unique_ptr<Synthetic>> cache;
  auto& slot = cache[rows];
  if (!slot) slot = Make(rows, 42);
  return *slot;
}

void BM_TrainChurn(benchmark::State& state) {
  const Synthetic& data = Data(state.range(0));
  ChurnOptions options;
  options.threads = 2;
  double auc = 0, holdout_auc = 0, rounds = 0, cpu = 0;
  for (auto _ : state) {
    // Process CPU time over all threads (Google Benchmark's CPU column is the main thread's
    // only): on shared cores the wall time depends on the neighbours, this does much less.
    const std::clock_t cpu_start = std::clock();
    auto trained = TrainChurn(data.table, data.labels, options);
    cpu += static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (!trained.ok()) {
      state.SkipWithError(trained.status().ToString().c_str());
      return;
    }
    auc = trained->report.auc;
    holdout_auc = trained->report.holdout_auc;
    rounds = trained->report.rounds;
    benchmark::DoNotOptimize(trained->model.rounds());
  }
  state.counters["auc"] = auc;
  if (!std::isnan(holdout_auc)) state.counters["holdout_auc"] = holdout_auc;
  state.counters["bayes_auc"] = data.bayes_auc;
  state.counters["base_rate"] = data.base_rate;
  state.counters["rounds"] = rounds;
  state.counters["cpu_s"] = cpu / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TrainChurn)
    ->Arg(100000)
    ->Arg(1000000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

// Scoring with drivers: 10,000 rows of the 100k table through the saved-and-loaded model path.
void BM_ScoreChurn(benchmark::State& state) {
  const Synthetic& data = Data(100000);
  // Trained once and deliberately never destroyed: a booster freed by a static destructor at
  // exit touches XGBoost's thread-local state after it is gone (churn.h).
  static ChurnModel* model = nullptr;
  if (model == nullptr) {
    ChurnOptions options;
    options.threads = 2;
    auto trained = TrainChurn(data.table, data.labels, options);
    if (!trained.ok()) {
      state.SkipWithError(trained.status().ToString().c_str());
      return;
    }
    model = std::make_unique<ChurnModel>(std::move(trained->model)).release();
  }
  const int top = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto scores = model->ScoreTable(data.table, top, 0, 10000);
    benchmark::DoNotOptimize(scores.ok());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_ScoreChurn)->Arg(0)->Arg(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kairos::analytics

BENCHMARK_MAIN();
