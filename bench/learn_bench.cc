// Adaptive models at decision speed (Google Benchmark):
//   Score/NB, Score/LR      encode one request's 30 predictors and score 100 action models
//                           (the target: < 30 µs per decision on one core)
//   ScoreThompson           the same with a Thompson draw per action
//   Update/NB, Update/LR    one response into one model, predictors already encoded
//                           (target: ≥ 1M responses/s on one core)
//   EncodeAndUpdate         the same from raw predictor values
// Run with --benchmark_repetitions=5 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/rng.h"
#include "learn/exploration.h"
#include "learn/model_store.h"

namespace kairos::learn {
namespace {

constexpr int kPredictors = 30;
constexpr int kNumeric = 20;
constexpr int kActions = 100;

std::vector<PredictorSpec> Specs() {
  std::vector<PredictorSpec> s;
  for (int i = 0; i < kPredictors; ++i) s.push_back({"p" + std::to_string(i), i < kNumeric});
  return s;
}

// A request: 20 numbers (usage-like, log-normal), 10 symbols (5-12 levels), 5% missing.
std::vector<PredictorValue> Request(Rng& rng) {
  std::vector<PredictorValue> v(kPredictors);
  for (int i = 0; i < kPredictors; ++i) {
    if (rng.Bernoulli(0.05)) continue;
    v[i].missing = false;
    v[i].numeric = i < kNumeric;
    if (v[i].numeric)
      v[i].num = rng.LogNormal(4 + 0.1 * i, 1.0);
    else
      v[i].str = "level" + std::to_string(rng.Below(5 + i % 8));
  }
  return v;
}

struct World {
  ModelStore store{Specs()};
  std::vector<ModelStore::Entry*> models;
  std::vector<EncodedPredictors> requests;
  std::vector<std::vector<PredictorValue>> raw;

  explicit World(ModelKind kind) {
    Rng rng(1);
    for (int i = 0; i < 1024; ++i) raw.push_back(Request(rng));
    requests.resize(raw.size());
    ModelSettings s;
    s.kind = kind;
    // Bind takes the store exclusively: before the shared lock below.
    for (int a = 0; a < kActions; ++a)
      models.push_back(store.Bind("A" + std::to_string(a) + "/app", s));
    auto lock = store.Lock();
    for (size_t i = 0; i < raw.size(); ++i) store.Encode(raw[i], &requests[i]);
    for (int a = 0; a < kActions; ++a) {
      for (int r = 0; r < 2000; ++r)
        store.Update(models[a], requests[rng.Below(requests.size())], rng.Bernoulli(0.05));
    }
  }
};

void Score(benchmark::State& state, ModelKind kind, bool thompson) {
  World w(kind);
  Rng rng(2);
  EncodedPredictors enc;
  size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    auto lock = w.store.Lock();
    w.store.Encode(w.raw[i++ & 1023], &enc);
    for (ModelStore::Entry* m : w.models) {
      const Estimate e = w.store.Score(m, enc);
      sink += thompson ? ThompsonDraw(e, rng) : e.propensity();
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("decisions (100 models x 30 predictors)");
}

void Update(benchmark::State& state, ModelKind kind, bool encode) {
  World w(kind);
  Rng rng(3);
  EncodedPredictors enc;
  size_t i = 0;
  ModelStore::Entry* m = w.models[0];
  for (auto _ : state) {
    auto lock = w.store.Lock();
    const size_t k = i++ & 1023;
    if (encode) {
      w.store.Encode(w.raw[k], &enc);
      w.store.Update(m, enc, (k & 15) == 0);
    } else {
      w.store.Update(m, w.requests[k], (k & 15) == 0);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("responses");
}

BENCHMARK_CAPTURE(Score, NB, ModelKind::kNaiveBayes, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(Score, LR, ModelKind::kBayesLogistic, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(Score, ThompsonNB, ModelKind::kNaiveBayes, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(Update, NB, ModelKind::kNaiveBayes, false);
BENCHMARK_CAPTURE(Update, LR, ModelKind::kBayesLogistic, false);
BENCHMARK_CAPTURE(Update, EncodeAndUpdateNB, ModelKind::kNaiveBayes, true);

}  // namespace
}  // namespace kairos::learn

BENCHMARK_MAIN();
