// End-to-end store benchmark: generates a synthetic operator, bulk-ingests it through the Engine
// (parse + validate + aggregates + WAL fsync + LMDB), then measures store size per subscriber,
// memory, restart time and in-process profile reads. Prints its figures; not a pass/fail test.
//   store_bench --subscribers 1000000 --days 30 [--threads 2] [--partitions 2] [--reads 200000]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bulk_ingest.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "sim/generator.h"

namespace fs = std::filesystem;
using namespace kairos;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Bytes actually allocated on disk under `dir` (LMDB files are sparse).
int64_t DiskBytes(const fs::path& dir) {
  int64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st;
    if (e.is_regular_file() && ::stat(e.path().c_str(), &st) == 0) total += static_cast<int64_t>(st.st_blocks) * 512;
  }
  return total;
}

// "VmRSS" / "RssAnon" from /proc/self/status, in bytes.
int64_t ProcStatus(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(std::string(key).size() + 1)) * 1024;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t subscribers = 100000;
  int days = 30;
  int64_t reads = 100000;
  int threads = 2;
  int partitions = 2;
  std::string workdir = (fs::temp_directory_path() / "kairos-store-bench").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--subscribers") subscribers = std::stoll(argv[i + 1]);
    else if (a == "--days") days = std::stoi(argv[i + 1]);
    else if (a == "--reads") reads = std::stoll(argv[i + 1]);
    else if (a == "--workdir") workdir = argv[i + 1];
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--partitions") partitions = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: store_bench [--subscribers N] [--days D] [--reads R] [--threads T] [--partitions P] [--workdir DIR]\n");
      return 2;
    }
  }
  const fs::path gen = fs::path(workdir) / ("gen-" + std::to_string(subscribers) + "x" + std::to_string(days));
  const fs::path ws_dir = fs::path(workdir) / "ws";
  if (!fs::exists(gen / "events.ndjson")) {
    sim::GeneratorOptions o;
    o.subscribers = subscribers;
    o.days = days;
    o.seed = 1;
    o.out_dir = gen.string();
    const auto t = std::chrono::steady_clock::now();
    auto s = sim::Generate(o, nullptr);
    if (!s.ok()) {
      std::fprintf(stderr, "generate: %s\n", s.status().ToString().c_str());
      return 1;
    }
    std::printf("generate: %lld subscribers x %d days, %lld events in %.1f s\n",
                static_cast<long long>(subscribers), days, static_cast<long long>(s->events), Seconds(t));
  }
  fs::remove_all(ws_dir);
  if (Status s = Workspace::Init(ws_dir.string()); !s.ok()) return 1;
  auto ws = Workspace::Load(ws_dir.string());
  ws->config.store.partitions = partitions;
  SystemClock clock;

  // Bulk ingest, as `kairos ingest` does it: 16 MiB chunks of whole lines.
  int64_t events = 0;
  double ingest_s = 0;
  {
    auto engine = Engine::Open(*ws, &clock);
    if (!engine.ok()) {
      std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
      return 1;
    }
    const auto t = std::chrono::steady_clock::now();
    const bench::BulkIngestTotals totals = bench::BulkIngest(**engine, (gen / "events.ndjson").string(), threads);
    events = totals.events;
    const int64_t rejected = totals.rejected;
    (void)(*engine)->Checkpoint();
    ingest_s = Seconds(t);
    std::printf("bulk ingest (%d feeder threads, %d partitions): %lld events in %.2f s = %.0f events/s (rejected %lld)\n",
                threads, ws->config.store.partitions, static_cast<long long>(events), ingest_s, events / ingest_s,
                static_cast<long long>(rejected));
    const int64_t profiles = (*engine)->Stats().subscribers;
    const int64_t disk = DiskBytes(ws->StorePath());
    std::printf("store: %lld profiles, %.0f bytes on disk per subscriber (LMDB + WAL after checkpoint)\n",
                static_cast<long long>(profiles), static_cast<double>(disk) / std::max<int64_t>(1, profiles));
    std::printf("memory: VmRSS %.1f MiB, RssAnon %.1f MiB (%.0f anonymous bytes per subscriber)\n",
                ProcStatus("VmRSS:") / 1048576.0, ProcStatus("RssAnon:") / 1048576.0,
                static_cast<double>(ProcStatus("RssAnon:")) / std::max<int64_t>(1, profiles));
  }

  // Restart: open an existing store (clean shutdown, so no replay) and report the time.
  const auto t_open = std::chrono::steady_clock::now();
  auto engine = Engine::Open(*ws, &clock);
  const double open_s = Seconds(t_open);
  std::printf("restart: %.3f s to open a store of %lld subscribers\n", open_s,
              static_cast<long long>((*engine)->Stats().subscribers));

  // Profile reads: latency of each call, p50/p99.
  std::mt19937_64 rng(7);
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(reads));
  char id[32];
  const TimestampMs now = clock.Now();
  int64_t found = 0;
  for (int64_t i = 0; i < reads; ++i) {
    std::snprintf(id, sizeof id, "s%07lld", static_cast<long long>(rng() % subscribers + 1));
    const auto t = std::chrono::steady_clock::now();
    auto json = (*engine)->ProfileJson(id, now);
    lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
    found += json.ok();
  }
  std::sort(lat.begin(), lat.end());
  std::printf("profile read (in-process, decode + aggregates + forecasts + JSON): p50 %.1f us, p99 %.1f us, "
              "max %.1f us over %lld reads (%lld found)\n",
              lat[lat.size() / 2], lat[lat.size() * 99 / 100], lat.back(), static_cast<long long>(reads),
              static_cast<long long>(found));
  return 0;
}
