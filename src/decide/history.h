// Questions about a subscriber's interaction history (Profile::interactions), as contact
// policies and history.* rules ask them. Each is one pass over at most
// Schema::history().max_interactions entries; nothing allocates.
#pragma once

#include <cstdint>

#include "catalog/features.h"
#include "profile/profile.h"

namespace kairos {

// Which entries a question is about: those of one action, group or issue (by HistoryKey).
struct HistoryTarget {
  TargetScope scope = TargetScope::kAction;
  uint32_t key = 0;
  bool Matches(const Interaction& x) const {
    switch (scope) {
      case TargetScope::kAction: return x.action == key;
      case TargetScope::kGroup: return x.group == key;
      case TargetScope::kIssue: return x.issue == key;
    }
    return false;
  }
};

// Impressions of `t` at or after `since`.
int64_t CountImpressions(const Profile& p, HistoryTarget t, TimestampMs since);
// Responses to `t` at or after `since` with any outcome but `ignored`.
int64_t CountResponses(const Profile& p, HistoryTarget t, TimestampMs since);
// Responses to `t` at or after `since` with `outcome`.
int64_t CountOutcomes(const Profile& p, HistoryTarget t, Outcome outcome, TimestampMs since);
// Time of the latest impression of (response to) `t`, or -1.
TimestampMs LastImpression(const Profile& p, HistoryTarget t);
TimestampMs LastResponse(const Profile& p, HistoryTarget t);
// Impressions on the channel with key `channel` (0 = every channel) at or after `since`.
int64_t CountChannelImpressions(const Profile& p, uint32_t channel, TimestampMs since);

// For suppression: impressions of `t` at or after `since` that came after the latest response
// (any outcome but ignored) to `t`, and the time of the latest of them (-1 when none).
struct UnansweredRun {
  int64_t impressions = 0;
  TimestampMs last = -1;
};
UnansweredRun UnansweredImpressions(const Profile& p, HistoryTarget t, TimestampMs since);

// The outcomes the history holds for one decision (its HistoryKey) and one action it showed
// (0: any of them), as a bit set: bit o is Outcome o. 0 when nothing answered it.
uint32_t ResponseOutcomes(const Profile& p, uint32_t decision, uint32_t action);
inline bool HasOutcome(uint32_t outcomes, Outcome o) { return outcomes >> static_cast<int>(o) & 1; }

}  // namespace kairos
