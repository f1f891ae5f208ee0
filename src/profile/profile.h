// Profile: everything Kairos keeps about one subscriber, and how an event changes it.
//
// A Profile is a plain value, decoded from the store for the duration of a request and encoded
// back after an update; it holds attributes (each with the time it was set, so an out-of-order
// older event never overwrites newer master data), one daily-bucket series per windowed
// aggregate, the time of the latest matching event for last_time aggregates, and the
// fingerprints of recent event ids for idempotent ingestion.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "schema/event.h"
#include "schema/schema.h"

namespace kairos {

inline constexpr int64_t kNoDay = std::numeric_limits<int64_t>::min();

struct AttributeState {
  Value value;             // null when never set
  TimestampMs set_ms = 0;  // event time of the event that set it
};

struct AggregateState {
  // Windowed ops: bucket `age` (in Profile::Buckets) is the day `newest_day - age`.
  int64_t newest_day = kNoDay;
  // kLastTime: event time of the latest matching event, or -1.
  TimestampMs last_ms = -1;
};

struct RecentId {
  uint64_t hash = 0;
  TimestampMs ts = 0;
};

// One entry of a subscriber's interaction history: an action shown (impression) or a response
// to it. Names are kept as HistoryKey()s, so entries survive catalog changes.
enum class InteractionKind : uint8_t {
  kImpression = 0,
  // Responses, in the order of the response event's outcome enum.
  kAccepted, kRejected, kClicked, kConverted, kIgnored,
};
inline constexpr int kInteractionKinds = 6;

struct Interaction {
  TimestampMs ts = 0;
  uint32_t decision = 0;  // HistoryKey(decision id)
  uint32_t action = 0, group = 0, issue = 0, channel = 0;
  InteractionKind kind = InteractionKind::kImpression;
};

// Impressions of one action over the subscriber's whole life (per-customer `max_times`), kept
// apart from the bounded history.
struct ActionTotal {
  uint32_t action = 0;
  uint32_t impressions = 0;
};

struct Profile {
  int64_t events_applied = 0;
  TimestampMs first_seen = 0;
  TimestampMs last_seen = 0;
  std::vector<AttributeState> attributes;  // indexed like Schema::attributes()
  std::vector<AggregateState> aggregates;  // indexed like Schema::aggregates()
  std::vector<RecentId> recent_ids;        // event ids seen within the dedupe window
  // The daily buckets of every windowed aggregate in one block (one allocation per profile);
  // aggregate i owns [bucket_offset, bucket_offset + retention_days).
  std::vector<float> buckets;
  // Interaction history, oldest first, bounded by Schema::history().
  std::vector<Interaction> interactions;
  std::vector<ActionTotal> action_totals;
  // Scores and segments of the latest `kairos segment` run (schema/score_fields.h): indexed by
  // ScoreId, empty before the first run; a score the run could not compute is null.
  std::vector<Value> scores;
  TimestampMs scored_ms = 0;  // time of that run (0: never)
  std::string score_run;      // its id

  std::span<float> Buckets(const AggregateDef& def) {
    return {buckets.data() + def.bucket_offset, static_cast<size_t>(def.retention_days)};
  }
  std::span<const float> Buckets(const AggregateDef& def) const {
    return {buckets.data() + def.bucket_offset, static_cast<size_t>(def.retention_days)};
  }

  // An empty profile shaped for `schema`.
  static Profile Empty(const Schema& schema);
  // Empties this profile in place, keeping its allocations (the writer reuses profiles).
  void Reset(const Schema& schema);
};

// The value an empty bucket holds for an aggregate op (0, or -inf for max).
float EmptyBucket(AggregateOp op);

enum class ApplyOutcome {
  kApplied,
  kDuplicate,  // the event id was already applied (or the same response to the same decision)
  kTooLate,    // older than the dedupe window behind the newest event: cannot be deduplicated
};

// Applies one validated event. `id_hash` is StableHash64(event.event_id). The built-in decision
// and response events (Schema::builtin()) also update the interaction history. A built-in
// `scores` event replaces the profile's scores when it is not older than the ones it has, and
// changes nothing else (not events_applied, last_seen nor the dedupe ids: it is not something
// the subscriber did, and a re-run of the same job is idempotent by itself).
ApplyOutcome ApplyEvent(const Schema& schema, const Event& event, uint64_t id_hash,
                        int64_t dedupe_window_ms, Profile* profile);

// Lifetime impressions of `action` (a HistoryKey).
uint32_t LifetimeImpressions(const Profile& profile, uint32_t action);

// Compact binary form (see profile.cc for the layout). Decode fails with kCorruption on any
// malformed input and never reads out of bounds.
void EncodeProfile(const Schema& schema, const Profile& profile, std::string* out);
Status DecodeProfile(const Schema& schema, std::string_view bytes, Profile* profile);

// Value of windowed aggregate `index` over the `window_days` days ending with the day of `now`.
// For kMax, NaN when no event fell in the window.
double WindowValue(const Schema& schema, const Profile& profile, int index, int window_days,
                   TimestampMs now);

// The bucket of aggregate `index` for `day` (0 or -inf when outside what is kept).
double DayValue(const Schema& schema, const Profile& profile, int index, int64_t day);

}  // namespace kairos
