// FeatureSpace: the names a catalog's rules may read, resolved once at load into numbered
// features (the expression "slots").
//
// It is the expr::Environment of the catalog: `profile.plan_type`, `agg.data_mb(7d)`,
// `forecast.data.days_to_depletion`, `ctx.channel`, `history.impressions("DATA_5GB", 7d)`, ...
// (docs/rule-language.md, "Names"). Identical references share one feature, so a value is
// computed at most once per request however many rules read it. The decision pipeline computes
// feature values (src/decide/feature_cache.h); this module only describes them.
//
// Thread-safety: built single-threaded during a load, read-only afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/expr.h"
#include "schema/schema.h"

namespace kairos {

enum class FeatureKind : uint8_t {
  kNow,                  // the request time (time)
  kAttribute,            // profile attribute `index` (string/number/bool/time by its type)
  kFlag,                 // key `key` of flags attribute `index` (bool; null when absent)
  kWindow,               // windowed aggregate `index` over `window_days` (number)
  kLastTime,             // last_time aggregate `index` (time; null when never)
  kForecast,             // forecast `index`, figure `figure` (number or time)
  kEventsApplied,        // subscriber.events_applied (number)
  kFirstSeen,            // subscriber.first_seen (time)
  kLastSeen,             // subscriber.last_seen (time)
  kChannel,              // ctx.channel (string)
  kContext,              // declared context field `index` (by its declared type)
  kHistoryImpressions,   // impressions of `target` within `window_ms` (number)
  kHistoryResponses,     // responses (any outcome but ignored) of `target` within `window_ms`
  kHistoryOutcomes,      // responses with outcome `outcome` of `target` within `window_ms`
  kHistoryLastImpression,  // time of the latest impression of `target` (time; null when none)
  kHistoryLastResponse,    // time of the latest response to `target` (time; null when none)
  kActionValue,          // the candidate's value (number) — per candidate, never shared
  kActionCost,           // the candidate's cost (number) — per candidate
  kActionPropensity,     // the candidate's propensity (number) — per candidate
  kScore,                // score `index` (a ScoreId) of the latest kairos segment run
};

enum class ForecastFigure : uint8_t {
  kUsed, kExpectedToCycleEnd, kExpectedCycleTotal, kIntervalLow, kIntervalHigh, kDailyMean,
  kAllowance, kRemaining, kDaysToDepletion, kPDepletion, kDaysLeft, kCycleStart, kCycleEnd,
};

// What a history target names: an action id, a group name or an issue name.
enum class TargetScope : uint8_t { kAction, kGroup, kIssue };

// Outcomes of a response, in the order of the `response` event's enum.
enum class Outcome : uint8_t { kAccepted, kRejected, kClicked, kConverted, kIgnored };
inline constexpr int kOutcomeCount = 5;
const char* OutcomeName(Outcome o);
// -1 when unknown.
int OutcomeIndex(std::string_view name);

// 32-bit stable id of an action id, group or issue name, or channel name, as kept in a
// profile's interaction history (stable across catalog reloads and restarts).
uint32_t InteractionKey(std::string_view name);

struct Feature {
  FeatureKind kind = FeatureKind::kNow;
  expr::Type type = expr::Type::kNull;
  int index = -1;          // attribute, aggregate, forecast or context field
  int window_days = 0;     // kWindow
  ForecastFigure figure = ForecastFigure::kUsed;
  std::string key;         // kFlag
  TargetScope scope = TargetScope::kAction;  // kHistory*
  uint32_t target = 0;     // kHistory*: InteractionKey of the target
  Outcome outcome = Outcome::kAccepted;      // kHistoryOutcomes
  int64_t window_ms = 0;   // kHistory* counts
  std::string name;        // as written, for explanations
  bool per_candidate() const {
    return kind == FeatureKind::kActionValue || kind == FeatureKind::kActionCost ||
           kind == FeatureKind::kActionPropensity;
  }
};

// A request context field declared in catalog.yaml (`context: {page: string, ...}`).
struct ContextField {
  std::string name;
  expr::Type type = expr::Type::kString;  // string, number, bool, time
};

// The names of the catalog's actions, groups and issues, for history targets.
struct TargetNames {
  std::map<std::string, TargetScope, std::less<>> scope_by_name;
};

class FeatureSpace final : public expr::Environment {
 public:
  FeatureSpace(std::shared_ptr<const Schema> schema, std::vector<ContextField> context,
               TargetNames targets);

  Result<expr::Symbol> Resolve(std::string_view dotted_name) const override;
  Result<expr::Symbol> ResolveCall(std::string_view dotted_name,
                                   std::span<const expr::ConstArg> args) const override;

  // Every feature resolved so far; a slot is an index into this vector.
  const std::vector<Feature>& features() const { return features_; }
  const std::vector<ContextField>& context() const { return context_; }
  const Schema& schema() const { return *schema_; }
  // -1 when not declared.
  int ContextIndex(std::string_view name) const;

 private:
  // Returns the slot of an equal feature, adding it when new.
  int Intern(Feature f) const;

  std::shared_ptr<const Schema> schema_;
  std::vector<ContextField> context_;
  TargetNames targets_;
  // Grows while expressions compile (Resolve is const per the Environment contract).
  mutable std::vector<Feature> features_;
  mutable std::map<std::string, int, std::less<>> slot_by_name_;
};

}  // namespace kairos
