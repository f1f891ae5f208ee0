// The synthetic operator generator: months of event history for a realistic mobile operator
// (kairos generate), the latent truth behind it, and a live stream for demos.
//
// World model and every assumption: src/sim/README.md; the figures: sim/world_model.h.
// Everything is deterministic: same options (seed included) → byte-identical files, on any
// build of the same platform.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "sim/world_model.h"

namespace kairos::sim {

// 2026-01-01T00:00:00Z. A fixed default end, not "now", so that the same seed gives the same
// bytes tomorrow.
inline constexpr TimestampMs kDefaultEnd = 1767225600000;

struct GeneratorOptions {
  int64_t subscribers = 100000;  // 1 .. 99,999,999
  int days = 60;                 // days of history, 1 .. 3660
  uint64_t seed = 1;
  TimestampMs end = kDefaultEnd;  // history covers [end - days, end)
  std::string out_dir;            // created if missing
  WorldModel world;               // the figures the world is built from (WORLD.md defaults)
};

struct GeneratorSummary {
  int64_t subscribers = 0;
  int64_t events = 0;
  int64_t churned = 0;           // subscribers with a churn event in the history
  int64_t churned_silently = 0;  // prepaid SIMs that fell quiet: in the truth, not the events
  int64_t events_bytes = 0;
  std::string events_path;                        // <out_dir>/events.ndjson
  std::string truth_path;                         // <out_dir>/truth.ndjson
  std::map<std::string, int64_t> events_by_type;  // every event type, zero counts included
};

// Simulates `options.subscribers` subscribers over `options.days` days and writes
//   events.ndjson — every event, day by day in time order (within a day by ts, ties by
//                   subscriber, then in the order the subscriber made them); each subscriber
//                   starts with a `subscriber` event and writes nothing after its `churn`;
//                   every line validates against the default schema.
//   truth.ndjson  — one line per subscriber, in id order: latent traits, true churn, the
//                   next billing cycle's usage, revenue (README lists the members).
// Files are written under temporary names and renamed when complete, so a failed run leaves
// no half-written file under the final name.
// `progress` (may be empty) is called with a fraction in [0, 1], at most ~100 times, on the
// calling thread; the last call is 1.0.
// Errors: kInvalidArgument (options or world model out of range; field() names it),
// kIoError (the directory or a file could not be created or written).
// Memory: ~0.25 KB per subscriber plus one day of lines, kept in reused 32 MiB blocks (the
// first day, with everyone's master data, is the largest: ~1.1 GB peak for 1M subscribers).
Result<GeneratorSummary> Generate(const GeneratorOptions& options,
                                  const std::function<void(double)>& progress);

// Live stream for a running demo: continues the same synthetic world (same subscribers, ids,
// traits and plans as Generate with the same seed) at wall-clock time.
// Not thread-safe: use one instance per thread.
class LiveStream {
 public:
  // `subscribers` >= 1 (smaller values are treated as 1). An invalid `world` (see
  // WorldModel::Validate) is replaced by the defaults. Cheap to construct: subscribers are
  // built when first touched and kept (~0.3 KB each).
  LiveStream(uint64_t seed, int64_t subscribers, WorldModel world = {});
  ~LiveStream();
  LiveStream(LiveStream&&) noexcept;
  LiveStream& operator=(LiveStream&&) noexcept;

  // `events` NDJSON lines (fewer only if every subscriber has churned; none for events <= 0),
  // each valid against the default schema, with ts in [now - 5 s, now]. The first event of a
  // subscriber in this stream is its `subscriber` master data. Event ids are
  // "l<subscriber>-<stamp>-<n>": n counts this stream's events and stamp is the `now` of its
  // first batch, so ids never repeat within a stream and do not collide with the history's
  // ("e...") or with an earlier run's.
  std::string NextBatch(TimestampMs now, int events);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kairos::sim
