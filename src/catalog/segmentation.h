// segments.yaml: how `kairos segment` values, tiers, groups, clusters and scores every
// subscriber (docs/segments.md). Expressions are rule-language expressions read from the
// profile at the time of the run; they compile against the catalog's FeatureSpace, so a typo is
// a file:line:column error at load like any rule.
//
// Without segments.yaml `kairos segment` has nothing to compute and says so.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/features.h"
#include "common/status.h"
#include "expr/expr.h"

namespace kairos {

// A named expression: an effort component, a cluster feature, a churn model feature.
struct NamedExpr {
  std::string name;
  std::shared_ptr<const expr::Expr> expr;  // a number (times and durations: days)
  int line = 0;
};

// One case of a segment dimension: the first case whose `when` holds names the segment; a case
// without `when` matches everyone (the default, last).
struct SegmentCase {
  std::string name;
  std::shared_ptr<const expr::Expr> when;  // bool, or null for the default
  int line = 0;
};

struct EffortComponent {
  NamedExpr amount;   // units over the value window (e.g. tickets)
  double cost = 0;    // EUR per unit
};

enum class ThresholdMethod : uint8_t { kQuantile, kAbsolute };

// The value × effort grid. Value levels: low < value_low ≤ mid < value_high ≤ high (margin per
// month); effort levels: low ≤ effort_high < high (so that the many subscribers who cost nothing
// are never "high effort" however the quantile falls).
struct TierConfig {
  ThresholdMethod method = ThresholdMethod::kQuantile;
  double value_high = 0.8, value_low = 0.4, effort_high = 0.8;
  // names[value level 0 low, 1 mid, 2 high][effort level 0 low, 1 high]
  std::array<std::array<std::string, 2>, 3> names = {{{"develop", "reduce_effort"},
                                                      {"develop", "balanced"},
                                                      {"protect", "balanced"}}};
};

struct ClusterConfig {
  std::vector<NamedExpr> features;  // empty: no clustering
  int k_min = 2, k_max = 8;
  int sample = 50000;
  bool log_transform = true;  // log1p of max(0, x): usage figures are heavy-tailed
  uint64_t seed = 1;
};

struct ClvConfig {
  int transactions_aggregate = -1;  // a windowed count aggregate (-1: no CLV)
  int spend_aggregate = -1;         // a windowed sum aggregate of the transactions' amounts
  double margin_share = 0.5;        // of transaction spend
  std::shared_ptr<const expr::Expr> recurring_margin;  // EUR per month (subscription), or null
  double annual_discount_rate = 0.10;
  int fit_sample = 20000;
};

struct ChurnConfig {
  std::string model_path;          // relative to the workspace; empty: no churn scoring
  std::vector<NamedExpr> features;  // model feature name → expression
  int top_drivers = 3;
  int64_t horizon_ms = 90LL * 86400000;  // what the model's probability covers (for CLV)
  // Training from profiles: the last_time aggregate of the churn event (label), and how many
  // feature snapshots (segments/churn-features/) the job keeps.
  int label_aggregate = -1;
  int keep_snapshots = 6;
};

struct Segmentation {
  bool present = false;  // segments.yaml exists
  // value.*: the expressions give totals over the window of `months` months.
  double months = 3;
  std::shared_ptr<const expr::Expr> revenue, margin;
  std::vector<EffortComponent> effort;
  TierConfig tiers;
  std::vector<SegmentCase> behaviour, buyer, usage;
  // RFM: recency in days (lower is better), frequency over the window; monetary is revenue.
  std::shared_ptr<const expr::Expr> recency_days, frequency;
  ClusterConfig clusters;
  ClvConfig clv;
  ChurnConfig churn;
  int64_t schedule_ms = 0;  // serve runs the job this often (0: only `kairos segment`)

  // Parses segments.yaml; expressions compile against `features` (per-candidate names such as
  // action.value are refused).
  static Result<Segmentation> Parse(std::string_view yaml_text, std::string_view file_name,
                                    const FeatureSpace& features);
};

}  // namespace kairos
