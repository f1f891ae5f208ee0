#include "decide/history.h"

namespace kairos {

namespace {
bool IsResponse(const Interaction& x) {
  return x.kind != InteractionKind::kImpression && x.kind != InteractionKind::kIgnored;
}
}  // namespace

int64_t CountImpressions(const Profile& p, HistoryTarget t, TimestampMs since) {
  int64_t n = 0;
  for (const Interaction& x : p.interactions) {
    n += x.ts >= since && x.kind == InteractionKind::kImpression && t.Matches(x);
  }
  return n;
}

int64_t CountResponses(const Profile& p, HistoryTarget t, TimestampMs since) {
  int64_t n = 0;
  for (const Interaction& x : p.interactions) n += x.ts >= since && IsResponse(x) && t.Matches(x);
  return n;
}

int64_t CountOutcomes(const Profile& p, HistoryTarget t, Outcome outcome, TimestampMs since) {
  const auto kind = static_cast<InteractionKind>(static_cast<int>(outcome) + 1);
  int64_t n = 0;
  for (const Interaction& x : p.interactions) n += x.ts >= since && x.kind == kind && t.Matches(x);
  return n;
}

TimestampMs LastImpression(const Profile& p, HistoryTarget t) {
  for (auto it = p.interactions.rbegin(); it != p.interactions.rend(); ++it) {
    if (it->kind == InteractionKind::kImpression && t.Matches(*it)) return it->ts;
  }
  return -1;
}

TimestampMs LastResponse(const Profile& p, HistoryTarget t) {
  for (auto it = p.interactions.rbegin(); it != p.interactions.rend(); ++it) {
    if (IsResponse(*it) && t.Matches(*it)) return it->ts;
  }
  return -1;
}

int64_t CountChannelImpressions(const Profile& p, uint32_t channel, TimestampMs since) {
  int64_t n = 0;
  for (const Interaction& x : p.interactions) {
    n += x.ts >= since && x.kind == InteractionKind::kImpression && (channel == 0 || x.channel == channel);
  }
  return n;
}

UnansweredRun UnansweredImpressions(const Profile& p, HistoryTarget t, TimestampMs since) {
  UnansweredRun run;
  for (auto it = p.interactions.rbegin(); it != p.interactions.rend() && it->ts >= since; ++it) {
    if (!t.Matches(*it)) continue;
    if (IsResponse(*it)) break;
    if (it->kind != InteractionKind::kImpression) continue;
    if (run.last < 0) run.last = it->ts;
    ++run.impressions;
  }
  return run;
}

uint32_t ResponseOutcomes(const Profile& p, uint32_t decision, uint32_t action) {
  uint32_t outcomes = 0;
  for (const Interaction& h : p.interactions) {
    if (h.decision != decision || (action != 0 && h.action != action) || h.kind == InteractionKind::kImpression) {
      continue;
    }
    outcomes |= 1u << (static_cast<int>(h.kind) - 1);  // responses follow the Outcome order
  }
  return outcomes;
}

}  // namespace kairos
