// The scores and segments `kairos segment` writes into every profile (docs/segments.md), by
// their fixed names: what rules read (`segment.value_tier`, `score.churn`, `clv.expected_12m`),
// what the built-in `scores` event carries and what a profile stores.
//
// A fixed table rather than names from a file: a profile stores each score by its position here
// (one byte), rules are type-checked against it at load, and the segmentation job, the profile
// JSON and the console agree on one vocabulary. Positions are part of the stored profile
// format: new scores are appended, never inserted or reordered.
#pragma once

#include <span>
#include <string_view>

#include "schema/value.h"

namespace kairos {

enum class ScoreId : uint8_t {
  kRevenue = 0,         // value.revenue: revenue per month (EUR) over the value window
  kMargin,              // value.margin: margin per month (EUR)
  kEffort,              // value.effort: cost to serve per month (EUR)
  kValueTier,           // segment.value_tier: protect | develop | balanced | reduce_effort | ...
  kBehaviour,           // segment.behaviour: innovator | deal_seeker | ...
  kBuyer,               // segment.buyer: high_margin | high_revenue | ...
  kUsage,               // segment.usage: roamer | data_heavy | voice_centric | ...
  kRecency,             // rfm.recency: 1..5 (5 = most recent)
  kFrequency,           // rfm.frequency: 1..5
  kMonetary,            // rfm.monetary: 1..5
  kRfmCode,             // rfm.code: "545"
  kRfmSegment,          // segment.rfm: champions | loyal | at_risk | ...
  kCluster,             // segment.cluster: k-means cluster number (0-based)
  kClusterName,         // segment.cluster_name: the cluster's plain-terms name
  kPAlive,              // clv.p_alive: BG/NBD probability the customer is still active
  kExpectedTransactions,  // clv.expected_transactions: over the CLV horizon
  kExpectedSpend,       // clv.expected_spend: Gamma-Gamma expected spend per transaction
  kClv12m,              // clv.expected_12m: expected margin over 12 months, discounted
  kChurn,               // score.churn: calibrated churn probability over the model's horizon
  kChurnDrivers,        // score.churn_drivers: "feature:+0.31,feature:-0.12,..." (SHAP, log-odds)
};
inline constexpr int kScoreCount = 20;

struct ScoreField {
  ScoreId id;
  std::string_view name;  // as rules read it, e.g. "segment.value_tier"
  FieldType type;         // kNumber or kString
  std::string_view description;
};

// All scores in ScoreId order.
std::span<const ScoreField> ScoreFields();
// -1 when `name` is not a score.
int ScoreIndex(std::string_view name);
// True for the prefixes score names use ("value.", "segment.", "rfm.", "clv.", "score.").
bool IsScoreNamespace(std::string_view dotted_name);

}  // namespace kairos
