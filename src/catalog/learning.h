// learning.yaml: what the adaptive models learn from (predictor expressions), how they are
// built, how decisions explore, when an unanswered action counts as ignored, and how the uplift
// report measures outcomes. Format: docs/learning.md.
//
// Without learning.yaml a workspace decides with each action's prior propensity and no
// exploration (the models are off).
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
#include "learn/adaptive_model.h"
#include "learn/exploration.h"

namespace kairos {

struct Catalog;

struct PredictorDef {
  std::string name;  // the expression as written
  std::shared_ptr<const expr::Expr> expr;
  bool numeric = true;  // number, time (days ago) or duration (days); else symbolic
  int line = 0;
};

struct UpliftConfig {
  int64_t horizon_ms = 30LL * 86400000;  // outcomes are counted this long after the decision
  int revenue_aggregate = -1;            // a windowed sum aggregate (daily buckets), or -1
  int conversion_aggregate = -1;         // a windowed count/sum aggregate: any event counts, or -1
  int churn_aggregate = -1;              // a last_time aggregate (the churn event), or -1
};

struct Learning {
  bool enabled = false;
  std::vector<PredictorDef> predictors;
  learn::ModelSettings defaults;  // prior_propensity comes from each action
  // A model with no responses yet starts from its group's pooled response rate on the channel
  // (when the group has ≥ 50 responses there) instead of the action's prior.
  bool cold_start_from_group = false;
  std::vector<learn::ModelKind> kind_by_action;  // indexed like Catalog::actions
  std::array<bool, kOutcomeCount> positive{}, negative{};
  learn::ExplorationConfig exploration;
  int64_t response_timeout_ms = 7LL * 86400000;  // 0 = never time out
  int64_t snapshot_interval_ms = 60000;
  UpliftConfig uplift;

  std::vector<learn::PredictorSpec> Specs() const;

  // Parses learning.yaml; expressions compile against `features`, action ids against `catalog`.
  static Result<Learning> Parse(std::string_view yaml_text, std::string_view file_name,
                                const FeatureSpace& features, const Catalog& catalog);
  // Models off: what a workspace without learning.yaml gets.
  static Learning Disabled(const Catalog& catalog);
};

}  // namespace kairos
