// The cost of the API key check on every protected request (issue 8: authentication and rate
// limiting must cost < 5% of POST /v1/decide throughput). Google Benchmark, in process:
//   auth_bench [--benchmark_repetitions=3]
// Compare the ns per check with the per-request time of a decide (http_load --mode decide), and
// with the difference between `http_load --mode health` and `--mode whoami` over HTTP.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "server/api_keys.h"

namespace kairos {
namespace {

struct Fixture {
  Fixture() {
    dir = std::filesystem::temp_directory_path() / ("kairos-auth-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path = KeyFile::PathIn(dir.string());
    // A realistic key file: a few dozen keys of every role.
    for (int i = 0; i < 40; ++i) {
      auto created = KeyFile::Create(path, static_cast<Role>(i % 4), "", 0, 1);
      if (created.ok()) keys.push_back(created->key);
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string path;
  std::vector<std::string> keys;
};

Fixture& Keys() {
  static Fixture f;
  return f;
}

void BM_CheckKey(benchmark::State& state) {
  Authenticator auth(Keys().path, RateLimit{}, false);
  const std::string key = Keys().keys[3];  // an admin key
  for (auto _ : state) {
    AuthOutcome o = auth.Check(key, Access::kDecision);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_CheckKey)->Threads(1)->Threads(2);

void BM_CheckKeyRateLimited(benchmark::State& state) {
  // A limit far above the load: the bucket is taken and refilled on every request.
  Authenticator auth(Keys().path, RateLimit{1e9, 1e9}, false);
  const std::string key = Keys().keys[3];
  for (auto _ : state) {
    AuthOutcome o = auth.Check(key, Access::kDecision);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_CheckKeyRateLimited)->Threads(1)->Threads(2);

void BM_RefuseUnknownKey(benchmark::State& state) {
  Authenticator auth(Keys().path, RateLimit{}, false);
  const std::string key = "kai_0123456789ab_" + std::string(43, 'A');
  for (auto _ : state) {
    AuthOutcome o = auth.Check(key, Access::kDecision);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_RefuseUnknownKey);

}  // namespace
}  // namespace kairos

BENCHMARK_MAIN();
