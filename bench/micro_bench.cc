// Google Benchmark micro-benchmarks of the per-event hot path: parse + validate, apply to a
// profile, encode/decode, and profile JSON. Run: build/release/bench/micro_bench
#include <benchmark/benchmark.h>

#include "common/hash.h"
#include "common/time_format.h"
#include "profile/profile.h"
#include "profile/profile_json.h"
#include "schema/config.h"
#include "schema/event.h"

namespace kairos {
namespace {

std::shared_ptr<const Schema> DefaultSchema() {
  static auto schema = *Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
  return schema;
}

const char kUsage[] =
    R"({"event_id":"e0000001-0001","subscriber_id":"s0000001","type":"usage","ts":"2026-01-01T10:00:00Z","kind":"data","amount":312.25,"roaming":false})";

void BM_ParseEvent(benchmark::State& state) {
  EventParser parser(DefaultSchema());
  Event e;
  for (auto _ : state) {
    Status s = parser.Parse(kUsage, &e);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseEvent);

// A month of history, then one more event applied and the profile re-encoded: what the writer
// does per touched subscriber.
Profile MonthOfHistory(const Schema& schema) {
  EventParser parser(DefaultSchema());
  Profile p = Profile::Empty(schema);
  Event e;
  for (int d = 0; d < 30; ++d) {
    for (const char* kind : {"data", "voice"}) {
      const std::string ts = FormatRfc3339(*ParseRfc3339("2026-01-01T10:00:00Z") + d * kMsPerDay);
      const std::string json = std::string(R"({"event_id":"h)") + kind + std::to_string(d) +
                               R"(","subscriber_id":"s","type":"usage","ts":")" + ts + R"(","kind":")" + kind +
                               R"(","amount":100})";
      (void)parser.Parse(json, &e);
      ApplyEvent(schema, e, StableHash64(e.event_id), 72 * kMsPerHour, &p);
    }
  }
  return p;
}

void BM_DecodeApplyEncode(benchmark::State& state) {
  const Schema& schema = *DefaultSchema();
  std::string bytes;
  EncodeProfile(schema, MonthOfHistory(schema), &bytes);
  EventParser parser(DefaultSchema());
  Event e;
  (void)parser.Parse(
      R"({"event_id":"new","subscriber_id":"s","type":"usage","ts":"2026-01-30T20:00:00Z","kind":"data","amount":5})", &e);
  const uint64_t h = StableHash64(e.event_id);
  Profile p;
  std::string out;
  for (auto _ : state) {
    (void)DecodeProfile(schema, bytes, &p);
    ApplyEvent(schema, e, h, 72 * kMsPerHour, &p);
    EncodeProfile(schema, p, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["profile_bytes"] = static_cast<double>(out.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeApplyEncode);

void BM_ProfileJson(benchmark::State& state) {
  const Schema& schema = *DefaultSchema();
  const Profile p = MonthOfHistory(schema);
  const TimestampMs now = *ParseRfc3339("2026-01-31T00:00:00Z");
  for (auto _ : state) {
    std::string json = ProfileToJson(schema, "s", p, now);
    benchmark::DoNotOptimize(json.data());
  }
}
BENCHMARK(BM_ProfileJson);

}  // namespace
}  // namespace kairos

BENCHMARK_MAIN();
