// ope_bench: off-policy evaluation at scale (DESIGN.md §6: prints figures, not pass/fail).
//   ope_bench [--rows N] [--bootstrap B] [--threads T] [--parse-rows M]
// 1. Builds a synthetic log of N rows in memory (uniform logging over 50 items x 3 positions)
//    and times Evaluate (IPS, SNIPS, DM, DR + B bootstrap resamples on T threads) on it: the
//    issue's target is 10M logged decisions in under 30 s on 2 cores.
// 2. Writes M rows of the Kairos NDJSON log format to a temp file and times LoadLog on it.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "learn/bandit_log.h"
#include "learn/ope.h"

namespace {

using kairos::learn::BanditLog;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

constexpr int kItems = 50;
constexpr int kPositions = 3;

double Ctr(int a, int k) { return (0.005 + 0.001 * a) / (1 + k); }

BanditLog MakeLog(int64_t n, uint64_t seed) {
  BanditLog log;
  log.source = "synthetic";
  for (int a = 0; a < kItems; ++a) {
    log.action_names.push_back("ITEM_" + std::to_string(a));
    log.action_index.emplace(log.action_names.back(), a);
  }
  log.n_positions = kPositions;
  log.action.reserve(n);
  log.position.reserve(n);
  log.reward.reserve(n);
  log.propensity.reserve(n);
  log.line.reserve(n);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(rng() % kPositions);
    const int a = static_cast<int>(rng() % kItems);
    log.action.push_back(a);
    log.position.push_back(k);
    log.propensity.push_back(1.0 / kItems);
    log.reward.push_back(u(rng) < Ctr(a, k) ? 1.0 : 0.0);
    log.line.push_back(i + 1);
  }
  return log;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 10'000'000;
  int bootstrap = 20;
  int threads = 2;
  int64_t parse_rows = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--rows") {
      rows = std::atoll(value);
    } else if (flag == "--bootstrap") {
      bootstrap = std::atoi(value);
    } else if (flag == "--threads") {
      threads = std::atoi(value);
    } else if (flag == "--parse-rows") {
      parse_rows = std::atoll(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  if (rows < 1 || bootstrap < 0 || threads < 1 || parse_rows < 0) {
    std::fprintf(
        stderr,
        "usage: ope_bench [--rows N>0] [--bootstrap B>=0] [--threads T>0] [--parse-rows M>=0]\n");
    return 1;
  }

  auto start = std::chrono::steady_clock::now();
  const BanditLog log = MakeLog(rows, 1);
  std::printf("generated %lld rows in memory in %.2f s\n", static_cast<long long>(rows),
              Seconds(start));
  auto policy = kairos::learn::ParsePolicy("topk:ITEM_49,ITEM_48,ITEM_47", log);
  if (!policy.ok()) return std::fprintf(stderr, "%s\n", policy.status().ToString().c_str()), 1;
  kairos::learn::OpeOptions options;
  options.bootstrap = bootstrap;
  options.threads = threads;
  start = std::chrono::steady_clock::now();
  auto report = kairos::learn::Evaluate(log, *policy, options);
  const double eval_s = Seconds(start);
  if (!report.ok()) return std::fprintf(stderr, "%s\n", report.status().ToString().c_str()), 1;
  std::printf(
      "evaluate (ips, snips, dm, dr; %d bootstrap resamples; %d threads): %.2f s, %.2fM rows/s "
      "(rows x (1 + resamples) / s: %.1fM)\n",
      bootstrap, threads, eval_s, rows / eval_s / 1e6, rows * (1.0 + bootstrap) / eval_s / 1e6);
  std::printf("  ips %.6f [%.6f, %.6f]  dr %.6f\n", report->ips.value,
              report->ips.ci95 ? report->ips.ci95->lo : 0.0,
              report->ips.ci95 ? report->ips.ci95->hi : 0.0, report->dr.value);

  if (parse_rows > 0) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("ope_bench_" + std::to_string(::getpid()) + ".ndjson"))
                                 .string();
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return std::fprintf(stderr, "cannot write %s\n", path.c_str()), 1;
    for (int64_t i = 0; i < parse_rows; ++i) {
      std::fprintf(f,
                   "{\"decision_id\":\"d%08lld\",\"action_id\":\"%s\",\"position\":%d,"
                   "\"propensity\":0.02,\"reward\":%d}\n",
                   static_cast<long long>(i), log.action_names[log.action[i % rows]].c_str(),
                   log.position[i % rows] + 1, static_cast<int>(log.reward[i % rows]));
    }
    std::fclose(f);
    const auto bytes = std::filesystem::file_size(path);
    start = std::chrono::steady_clock::now();
    auto loaded = kairos::learn::LoadLog(path, kairos::learn::LogFormat::kKairos);
    const double load_s = Seconds(start);
    std::filesystem::remove(path);
    if (!loaded.ok()) return std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str()), 1;
    std::printf("load kairos NDJSON: %lld rows (%.1f MB) in %.2f s, %.2fM rows/s\n",
                static_cast<long long>(loaded->size()), bytes / 1e6, load_s,
                loaded->size() / load_s / 1e6);
  }
  return 0;
}
