// Outbound delivery (Google Benchmark), src/channel:
//   Enqueue/fsync:F/threads:T  one Enqueue per call from T threads; F=1 fsync'd before it
//                            returns (group commit: one fsync per batch of concurrent callers),
//                            F=0 committed to the OS only; counters p50_us, p99_us
//   EnqueueBatch/N           N deliveries per call, one commit
//   FileSinkDelivery/N       N enqueued deliveries drained to an NDJSON file by the workers
//                            (batched write + fdatasync, outcomes committed in the background)
// The outbox lives under the system temp folder (same disk as the workspace here).
// Run with --benchmark_repetitions=3 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "channel/dispatcher.h"
#include "common/clock.h"

namespace kairos::channel {
namespace {

const std::string kPayload =
    R"({"decision_id":"d-0001","action":"bonus-5gb","treatment":"sms-short",)"
    R"("text":"Your 5 GB bonus is waiting: reply YES to accept","expires_at":1700003600000})";

std::string FreshDir(const std::string& name) {
  static std::atomic<int> n{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("kairos-channel-bench-" + std::to_string(::getpid()) + "-" + name + "-" +
                    std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

Delivery Make(const std::string& id) {
  Delivery d;
  d.id = id;
  d.channel = "sms";
  d.subscriber_id = "sub-" + id;
  d.created_ms = 1700000000000;
  d.payload = kPayload;
  return d;
}

std::unique_ptr<Dispatcher> OpenWithFile(const std::string& dir, const Clock* clock,
                                         bool fsync_each_enqueue = true) {
  DispatcherOptions options;
  options.fsync_each_enqueue = fsync_each_enqueue;
  auto d = Dispatcher::Open(dir + "/outbox", clock, 1, options);
  if (!d.ok()) return nullptr;
  AdapterConfig file;
  file.kind = AdapterKind::kFile;
  file.path = dir + "/sms.ndjson";
  if (!(*d)->Configure({{"sms", file}}).ok()) return nullptr;
  return std::move(d).value();
}

// One dispatcher shared by the threads of a BM_Enqueue run. Thread 0 sets it up before the
// loop and tears it down after it; the framework's barriers at loop start and end order that
// against the other threads.
struct Shared {
  SystemClock clock;
  std::string dir;
  std::unique_ptr<Dispatcher> dispatcher;
  std::vector<std::vector<double>> latencies_us;  // per thread
};
Shared* shared = nullptr;

void BM_Enqueue(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared = new Shared();
    shared->dir = FreshDir("enqueue");
    shared->dispatcher = OpenWithFile(shared->dir, &shared->clock, state.range(0) != 0);
    shared->latencies_us.resize(static_cast<size_t>(state.threads()));
    if (!shared->dispatcher) state.SkipWithError("cannot open the dispatcher");
  }
  const std::string prefix = "t" + std::to_string(state.thread_index()) + "-";
  int64_t i = 0;
  for (auto _ : state) {
    std::vector<double>& mine = shared->latencies_us[static_cast<size_t>(state.thread_index())];
    const auto t0 = std::chrono::steady_clock::now();
    auto r = shared->dispatcher->Enqueue(Make(prefix + std::to_string(i++)));
    const auto t1 = std::chrono::steady_clock::now();
    if (!r.ok() || !*r) state.SkipWithError("enqueue failed");
    mine.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    std::vector<double> all;
    for (const auto& v : shared->latencies_us) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    if (!all.empty()) {
      state.counters["p50_us"] = all[all.size() / 2];
      state.counters["p99_us"] = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    }
    shared->dispatcher.reset();
    std::filesystem::remove_all(shared->dir);
    delete shared;
    shared = nullptr;
  }
}
// Arg 1: fsync before returning (the default); arg 0: committed to the OS only, fsync'd by the
// writer every 100 ms (survives kill -9, not a power loss).
BENCHMARK(BM_Enqueue)
    ->ArgName("fsync")
    ->Arg(1)
    ->Arg(0)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->Threads(64)
    ->UseRealTime();

void BM_EnqueueBatch(benchmark::State& state) {
  SystemClock clock;
  const std::string dir = FreshDir("batch");
  auto d = OpenWithFile(dir, &clock);
  const int n = static_cast<int>(state.range(0));
  int64_t next = 0;
  std::vector<Delivery> batch(static_cast<size_t>(n));
  for (auto _ : state) {
    state.PauseTiming();
    for (int k = 0; k < n; ++k) batch[static_cast<size_t>(k)] = Make("b" + std::to_string(next++));
    state.ResumeTiming();
    auto r = d->EnqueueBatch(batch);
    if (!r.ok()) state.SkipWithError("enqueue batch failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
  d.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_EnqueueBatch)->Arg(16)->Arg(64)->Arg(256)->UseRealTime();

void BM_FileSinkDelivery(benchmark::State& state) {
  SystemClock clock;
  const int n = static_cast<int>(state.range(0));
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = FreshDir("file");
    auto d = OpenWithFile(dir, &clock);
    std::vector<Delivery> batch;
    for (int k = 0; k < n; ++k) batch.push_back(Make("f" + std::to_string(next++)));
    for (size_t k = 0; k < batch.size(); k += 1000) {
      const size_t end = std::min(batch.size(), k + 1000);
      if (!d->EnqueueBatch(std::span(batch).subspan(k, end - k)).ok()) {
        state.SkipWithError("enqueue failed");
      }
    }
    state.ResumeTiming();
    d->Start(2);
    while (d->Stats().channels.at("sms").delivered < n) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.PauseTiming();
    d.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_FileSinkDelivery)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace kairos::channel

BENCHMARK_MAIN();
