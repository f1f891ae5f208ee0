// Contact policies: consent, quiet hours and contact caps (once per request), then per action
// max_times, cooldown and suppression — all read from the subscriber's interaction history.
#pragma once

#include <climits>
#include <string>

#include "catalog/catalog.h"
#include "common/timezone.h"
#include "decide/decision.h"
#include "profile/profile.h"

namespace kairos {

// What the policies say about this subscriber on this channel right now.
struct ContactState {
  bool consent = true;        // consent given for the channel (or none needed)
  bool quiet = false;         // inside quiet hours in the subscriber's time zone
  std::string zone;           // the zone the quiet hours were checked in
  int local_minute = -1;
  int cap_room = INT_MAX;     // impressions still allowed by the tightest cap
  const CapRule* cap = nullptr;  // that cap
  int cap_used = 0;
};

ContactState EvaluateContactState(const Policies& policies, int channel, const Profile& profile,
                                  TimestampMs now, TimeZoneCache& zones);

// Request-level policies for one candidate (consent, quiet hours; mandatory actions too).
// Returns false and sets trace->stage when the candidate is removed (and a reason when
// `explain`).
bool PassRequestPolicies(const ContactState& state, const Policies& policies, int channel,
                         bool explain, CandidateTrace* trace);

// Per-action policies: max_times, cooldown, suppression (of the action, or of its group with
// key `group_key`), caps. Mandatory actions skip these.
bool PassActionPolicies(const ContactState& state, const Policies& policies, const Action& action,
                        uint32_t group_key, const Profile& profile, TimestampMs now,
                        bool explain, CandidateTrace* trace);

}  // namespace kairos
