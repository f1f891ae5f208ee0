#include "decide/contact_policy.h"

#include <algorithm>

#include "common/time_format.h"
#include "decide/history.h"

namespace kairos {

namespace {
// "7d", "36h", "90m": as the rule language writes durations.
std::string Duration(int64_t ms) {
  std::string out;
  expr::AppendValue(expr::Value::Duration(static_cast<double>(ms)), &out);
  return out;
}

bool ConsentGiven(const Policies& policies, const ChannelDef& ch, const Profile& profile) {
  if (ch.consent.empty() || policies.consent_attribute < 0) return true;
  const Value& flags = profile.attributes[policies.consent_attribute].value;
  if (flags.is_null) return false;  // no consent recorded: not given
  for (const auto& [name, on] : flags.flags) {
    if (name == ch.consent) return on;
  }
  return false;
}
}  // namespace

ContactState EvaluateContactState(const Policies& policies, int channel, const Profile& profile,
                                  TimestampMs now, TimeZoneCache& zones) {
  ContactState s;
  const ChannelDef& ch = policies.channels[channel];
  s.consent = ConsentGiven(policies, ch, profile);
  const QuietHours& q = policies.quiet_hours;
  if (ch.quiet_hours && q.enabled) {
    std::shared_ptr<const TimeZone> tz;
    if (q.timezone_attribute >= 0) {
      const Value& v = profile.attributes[q.timezone_attribute].value;
      if (!v.is_null && !v.s.empty()) {
        auto r = zones.Get(v.s);
        if (r.ok()) tz = *r;  // an unknown zone name falls back to the default
      }
    }
    if (!tz) {
      auto r = zones.Get(q.default_timezone);
      tz = r.ok() ? *r : TimeZone::Utc();
    }
    s.zone = tz->name();
    s.local_minute = tz->LocalMinuteOfDay(now);
    const int m = s.local_minute;
    s.quiet = q.from_minute <= q.to_minute ? (m >= q.from_minute && m < q.to_minute)
                                           : (m >= q.from_minute || m < q.to_minute);
  }
  for (const CapRule& cap : policies.caps) {
    if (cap.channel != -1 && cap.channel != channel) continue;
    const uint32_t key = cap.channel == -1 ? 0 : policies.channels[cap.channel].key;
    const int used = static_cast<int>(CountChannelImpressions(profile, key, now - cap.window_ms));
    const int room = std::max(0, cap.max - used);
    if (room < s.cap_room) {
      s.cap_room = room;
      s.cap = &cap;
      s.cap_used = used;
    }
  }
  return s;
}

bool PassRequestPolicies(const ContactState& state, const Policies& policies, int channel,
                         bool explain, CandidateTrace* trace) {
  const ChannelDef& ch = policies.channels[channel];
  if (!state.consent) {
    trace->stage = Stage::kConsent;
    if (explain) trace->reason = "no consent for channel " + ch.name + " (consent flag \"" + ch.consent + "\")";
    return false;
  }
  if (state.quiet) {
    trace->stage = Stage::kQuietHours;
    if (explain) trace->reason = "quiet hours " + FormatMinuteOfDay(policies.quiet_hours.from_minute) + "-" +
                    FormatMinuteOfDay(policies.quiet_hours.to_minute) + " in " + state.zone + " (local time " +
                    FormatMinuteOfDay(state.local_minute) + ")";
    return false;
  }
  return true;
}

bool PassActionPolicies(const ContactState& state, const Policies& policies, const Action& a,
                        uint32_t group_key, const Profile& profile, TimestampMs now,
                        bool explain, CandidateTrace* trace) {
  if (a.max_times > 0) {
    const uint32_t shown = LifetimeImpressions(profile, a.key);
    if (shown >= static_cast<uint32_t>(a.max_times)) {
      trace->stage = Stage::kMaxTimes;
      if (explain) trace->reason = "shown " + std::to_string(shown) + " times; max_times is " + std::to_string(a.max_times);
      return false;
    }
  }
  const HistoryTarget self{TargetScope::kAction, a.key};
  if (a.cooldown_ms > 0) {
    const TimestampMs last = LastImpression(profile, self);
    if (last >= 0 && now - last < a.cooldown_ms) {
      trace->stage = Stage::kCooldown;
      if (explain) trace->reason = "last shown " + FormatRfc3339(last) + "; cooldown " + Duration(a.cooldown_ms);
      return false;
    }
  }
  for (const SuppressionRule& rule : policies.suppression) {
    const HistoryTarget t =
        rule.scope == TargetScope::kGroup ? HistoryTarget{TargetScope::kGroup, group_key} : self;
    const UnansweredRun run = UnansweredImpressions(profile, t, now - rule.window_ms);
    if (run.impressions >= rule.after && now - run.last < rule.for_ms) {
      trace->stage = Stage::kSuppression;
      if (explain) trace->reason = std::string(rule.scope == TargetScope::kGroup ? "group: " : "") +
                      std::to_string(run.impressions) + " impressions without a response within " +
                      Duration(rule.window_ms) + "; suppressed for " + Duration(rule.for_ms) +
                      " after the last (policies.yaml:" + std::to_string(rule.line) + ")";
      return false;
    }
  }
  if (state.cap_room <= 0) {
    trace->stage = Stage::kCap;
    if (!explain) return false;
    const CapRule& cap = *state.cap;
    trace->reason = "contact cap reached: " + std::to_string(state.cap_used) + " of " +
                    std::to_string(cap.max) + " impressions on " +
                    (cap.channel < 0 ? std::string("all channels") : policies.channels[cap.channel].name) +
                    " within " + Duration(cap.window_ms) + " (policies.yaml:" + std::to_string(cap.line) + ")";
    return false;
  }
  return true;
}

}  // namespace kairos
