// journey_bench: 1M active journey instances with durable timers — the store's size, the
// process's memory, and the firing lag when all of them come due within a few seconds.
//
//   journey_bench [--instances N] [--spread S] [--threads T] [--batch B] [--dir PATH] [--nosync]
//
// What is measured: JourneyStore bulk entry (EnterMany, 4,096 per transaction), then
// JourneyRunner's background thread as in serve: Due() scans of the timers, per instance a step
// and one synced store transaction per batch moving state and timer (Apply). The step's
// decision and delivery are STUBS here (no Engine, no DecisionService: the stub "decides" with
// a hash and delivers nothing), so the figures are the timer machinery's, not a decision's —
// see bench/decide_bench.cc for those. Due times are spread uniformly over S seconds in a random
// order of subscribers; the clock is the system clock shifted so that the first timer comes
// due one second after the firing starts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/hash.h"
#include "schema/config.h"
#include "schema/yaml_util.h"
#include "trigger/journey_config.h"
#include "trigger/journey_runner.h"

namespace {

using namespace kairos;
namespace fs = std::filesystem;
using Clk = std::chrono::steady_clock;

double Seconds(Clk::time_point since) { return std::chrono::duration<double>(Clk::now() - since).count(); }

// kB of VmRSS, RssAnon, RssFile from /proc/self/status.
struct Rss {
  long total = 0, anon = 0, file = 0;
};
Rss ReadRss() {
  Rss r;
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    auto value = [&](const char* key, long* out) {
      if (line.rfind(key, 0) == 0) *out = std::atol(line.c_str() + std::strlen(key));
    };
    value("VmRSS:", &r.total);
    value("RssAnon:", &r.anon);
    value("RssFile:", &r.file);
  }
  return r;
}
void PrintRss(const char* when) {
  const Rss r = ReadRss();
  std::printf("  RSS %-34s %7.1f MB (anon %6.1f MB, file-mapped %6.1f MB)\n", when, r.total / 1024.0,
              r.anon / 1024.0, r.file / 1024.0);
}

// The system clock moved by a fixed offset.
class ShiftedClock final : public Clock {
 public:
  TimestampMs Now() const override { return system_.Now() + offset_.load(); }
  void SetOffset(int64_t ms) { offset_.store(ms); }

 private:
  SystemClock system_;
  std::atomic<int64_t> offset_{0};
};

}  // namespace

int main(int argc, char** argv) {
  int64_t instances = 1000000;
  double spread_s = 20;
  int threads = 1;
  size_t batch = JourneyRunnerOptions().batch;
  bool sync = true;
  std::string dir = (fs::temp_directory_path() / ("kairos-journey-bench-" + std::to_string(::getpid()))).string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--instances") instances = std::atoll(next());
    else if (a == "--spread") spread_s = std::atof(next());
    else if (a == "--threads") threads = std::atoi(next());
    else if (a == "--batch") batch = static_cast<size_t>(std::atoll(next()));
    else if (a == "--dir") dir = next();
    else if (a == "--nosync") sync = false;
    else {
      std::fprintf(stderr,
                   "usage: journey_bench [--instances N] [--spread S] [--threads T] [--batch B] "
                   "[--dir PATH] [--nosync]\n");
      return 2;
    }
  }
  fs::remove_all(dir);

  // The demo catalog and one two-step journey (the second step far away: after firing, every
  // instance is still active, waiting for step 2).
  auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
  if (!schema.ok()) return 1;
  auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), *schema);
  if (!d.ok()) {
    std::fprintf(stderr, "demo catalog: %s\n", d.status().ToString().c_str());
    return 1;
  }
  const std::string yaml =
      "journeys:\n  bench:\n    steps:\n      - {channel: push, wait: 7d}\n      - {channel: email, wait: 7d}\n";
  auto root = ParseYaml(yaml, "bench.yaml");
  if (!root.ok()) return 1;
  auto journeys = ParseJourneys(yaml, "bench.yaml", (*root)["journeys"], **d);
  if (!journeys.ok()) {
    std::fprintf(stderr, "journeys: %s\n", journeys.status().ToString().c_str());
    return 1;
  }

  std::printf("journey_bench: %lld instances, timers spread over %.0f s, %d step thread(s), batch %zu, %s\n",
              static_cast<long long>(instances), spread_s, threads, batch,
              sync ? "synced commits (LMDB default)" : "MDB_NOSYNC");
  std::printf("  STUBS: the step's decide is a hash and its deliver a no-op (no Engine, no "
              "DecisionService): timer machinery only\n");
  PrintRss("at start");

  ShiftedClock clock;
  std::atomic<int64_t> decided{0};
  JourneyBackend backend;
  backend.read_profile = [](std::string_view, Profile*) { return Status::Ok(); };
  backend.find_decision = [](std::string_view) -> Result<bool> { return NotFound("stub"); };
  backend.decide = [&decided](const DecideRequest& req, const Decisioning&) -> Result<bool> {
    decided.fetch_add(1, std::memory_order_relaxed);
    return (StableHash64(req.decision_id) & 1) == 0;
  };
  backend.deliver = [](std::string_view) { return Status::Ok(); };
  JourneyRunnerOptions options;
  options.threads = threads;
  options.batch = batch;
  options.store.sync = sync;
  auto runner = JourneyRunner::Open(dir, &clock, std::move(backend), options);
  if (!runner.ok()) {
    std::fprintf(stderr, "open: %s\n", runner.status().ToString().c_str());
    return 1;
  }
  JourneyRunner& r = **runner;
  r.SetJourneys(*d, std::move(*journeys));

  // Bulk entry: due times uniform over the spread, subscribers in a random order.
  const TimestampMs base = 1893456000000;  // 2030-01-01: the clock is moved there below
  const int64_t spread_ms = static_cast<int64_t>(spread_s * 1000);
  std::vector<uint32_t> order(static_cast<size_t>(instances));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  auto t = Clk::now();
  std::vector<JourneyInstance> chunk;
  for (int64_t i = 0; i < instances;) {
    chunk.clear();
    for (; i < instances && chunk.size() < 4096; ++i) {
      JourneyInstance x;
      char id[16];
      std::snprintf(id, sizeof id, "s%08u", order[static_cast<size_t>(i)]);
      x.subscriber_id = id;
      x.journey = "bench";
      x.due_ms = x.step_ms = base + i * spread_ms / instances;
      x.started_ms = x.due_ms;
      x.origin = "bench_trigger";
      chunk.push_back(std::move(x));
    }
    auto added = r.store().EnterMany(chunk);
    if (!added.ok()) {
      std::fprintf(stderr, "enter: %s\n", added.status().ToString().c_str());
      return 1;
    }
  }
  const double insert_s = Seconds(t);
  std::printf("  entered %lld instances in %.1f s (%.0f/s, 4,096 per transaction)\n",
              static_cast<long long>(r.store().Count()), insert_s, static_cast<double>(instances) / insert_s);
  std::printf("  store file in use: %.1f MB (%.0f bytes per instance, instances + timers)\n",
              static_cast<double>(r.store().UsedBytes()) / 1048576.0,
              static_cast<double>(r.store().UsedBytes()) / static_cast<double>(instances));
  auto space = [&r, instances] {
    const JourneyStore::Space sp = r.store().SpaceUsed();
    std::printf("  pages: instances %.1f MB, timers %.1f MB (%.0f + %.0f bytes per instance)\n",
                static_cast<double>(sp.instance_pages * sp.page_size) / 1048576.0,
                static_cast<double>(sp.timer_pages * sp.page_size) / 1048576.0,
                static_cast<double>(sp.instance_pages * sp.page_size) / static_cast<double>(instances),
                static_cast<double>(sp.timer_pages * sp.page_size) / static_cast<double>(instances));
  };
  space();
  PrintRss("with 1M active (after entry)");

  // Fire: the first timer comes due 1 s from now.
  clock.SetOffset(base - 1000 - SystemClock().Now());
  t = Clk::now();
  r.Start();
  const double deadline_s = spread_s + 120;
  while (r.Stats().firings < instances && Seconds(t) < deadline_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r.Stop();
  const double fire_s = Seconds(t) - 1.0;
  const JourneyStats s = r.Stats();
  std::printf("  fired %lld timers (%lld steps, %lld stub decisions) in %.1f s after the first came due\n",
              static_cast<long long>(s.firings), static_cast<long long>(s.steps),
              static_cast<long long>(decided.load()), fire_s);
  std::printf("  firing lag (clock at the step - due time): p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              s.lag_p50_ms, s.lag_p99_ms, s.lag_max_ms);
  std::printf("  active after firing: %lld (all at step 2, due in 7 days)\n", static_cast<long long>(s.active));
  if (!s.last_error.empty()) std::printf("  last error: %s\n", s.last_error.c_str());
  space();
  PrintRss("after firing");
  runner->reset();
  fs::remove_all(dir);
  return 0;
}
