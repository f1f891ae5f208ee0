// The learning.yaml that `kairos init` (and `--demo`) writes. Loaded against the default schema
// and both catalogs in catalog_test.cc, so it stays valid as the formats evolve.
#include "catalog/catalog.h"

namespace kairos {

std::string_view DefaultLearningYaml() {
  return R"yaml(# Kairos adaptive models: one per action and channel, learning from every response.
# Format: docs/learning.md. Delete this file to decide with each action's prior propensity.

# What the models see: rule-language expressions read once per decision (numbers, times as
# days ago, durations as days; strings and booleans as symbols). Missing values have their own bin.
predictors:
  - profile.plan_type
  - profile.region
  - profile.device
  - profile.throttled
  - profile.contract_end
  - agg.data_mb(30d)
  - agg.voice_min(30d)
  - agg.spend_eur(30d)
  - agg.topups(90d)
  - agg.tickets(90d)
  - agg.video_min(30d)
  - forecast.data.days_to_depletion

models:
  kind: naive_bayes          # naive_bayes (binned, with predictor selection) or bayes_logistic
  # kinds: {DATA_5GB: bayes_logistic}   # per action
  prior_responses: 20        # an action's prior propensity counts as this many responses
  cold_start: group          # a new action starts from its group's response rate (or: prior)
  min_predictor_auc: 0.52    # predictors below this AUC (0.5-1 scale) are left out of scoring
  max_bins: 10               # numeric predictors: up to this many equal-frequency bins
  positive: [accepted, converted]
  negative: [rejected, ignored]

# How decisions explore: thompson (draw each propensity from its model's uncertainty),
# epsilon_greedy (a random order with probability epsilon) or none (always the best estimate).
# Every decision logs the probability with which it showed each action (off-policy evaluation).
exploration:
  method: thompson
  epsilon: 0.05
  probability_samples: 64
  seed: 1

# An action shown without any response by then is recorded as `ignored` (0 = never).
responses:
  timeout: 7d

# How often the models are saved to the store folder (they are also saved at shutdown).
snapshot_interval: 60s

# GET /v1/reports/uplift: outcomes counted this long after each decision.
uplift:
  horizon: 30d
  revenue: spend_eur         # a windowed sum aggregate
  conversion: purchases      # any event counted by this aggregate is a conversion
  churn: churned             # a last_time aggregate
)yaml";
}

}  // namespace kairos
