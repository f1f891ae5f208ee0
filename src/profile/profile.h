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
  // Windowed ops: buckets[age] is the day `newest_day - age`; size = retention_days.
  int64_t newest_day = kNoDay;
  std::vector<float> buckets;
  // kLastTime: event time of the latest matching event, or -1.
  TimestampMs last_ms = -1;
};

struct RecentId {
  uint64_t hash = 0;
  TimestampMs ts = 0;
};

struct Profile {
  int64_t events_applied = 0;
  TimestampMs first_seen = 0;
  TimestampMs last_seen = 0;
  std::vector<AttributeState> attributes;  // indexed like Schema::attributes()
  std::vector<AggregateState> aggregates;  // indexed like Schema::aggregates()
  std::vector<RecentId> recent_ids;        // event ids seen within the dedupe window

  // An empty profile shaped for `schema`.
  static Profile Empty(const Schema& schema);
};

enum class ApplyOutcome {
  kApplied,
  kDuplicate,  // the event id was already applied
  kTooLate,    // older than the dedupe window behind the newest event: cannot be deduplicated
};

// Applies one validated event. `id_hash` is StableHash64(event.event_id).
ApplyOutcome ApplyEvent(const Schema& schema, const Event& event, uint64_t id_hash,
                        int64_t dedupe_window_ms, Profile* profile);

// Compact binary form (see profile.cc for the layout). Decode fails with kCorruption on any
// malformed input and never reads out of bounds.
void EncodeProfile(const Schema& schema, const Profile& profile, std::string* out);
Status DecodeProfile(const Schema& schema, std::string_view bytes, Profile* profile);

// Value of a windowed aggregate over the `window_days` days ending with the day of `now`.
// For kMax, NaN when no event fell in the window.
double WindowValue(const AggregateDef& def, const AggregateState& state, int window_days,
                   TimestampMs now);

}  // namespace kairos
