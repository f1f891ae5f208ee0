#include "decide/scoring.h"

#include <cmath>
#include <string>

#include "decide/rules.h"

namespace kairos {

namespace {
std::string Fmt(double v) {
  std::string s;
  expr::AppendValue(expr::Value::Number(std::round(v * 1e6) / 1e6), &s);
  return s;
}
}  // namespace

bool ScoreCandidate(const ArbitrationConfig& config, const Action& a, double propensity,
                    FeatureCache& features, bool explain, CandidateTrace* t) {
  const double value = features.CandidateValue();
  t->scored = true;
  t->propensity = propensity;
  t->value = value;
  t->cost = a.cost;
  t->levers = a.lever;
  t->context_weight = 1;
  if (a.context_weight) {
    const expr::Value c = a.context_weight->Evaluate(features);
    if (!c.is_null && std::isfinite(c.num)) t->context_weight = std::max(0.0, c.num);
  }
  if (config.value_must_cover_cost && t->propensity * value < a.cost) {
    t->stage = Stage::kValue;
    if (explain) {
      t->reason = "expected value P·V = " + Fmt(t->propensity * value) + " does not cover the cost " + Fmt(a.cost);
      if (a.value_expr) SeenValues(*a.value_expr, features, &t->seen);
    }
    return false;
  }
  t->priority = std::pow(t->propensity, config.weight_propensity) *
                std::pow(t->context_weight, config.weight_context) *
                std::pow(std::max(0.0, value), config.weight_value) *
                std::pow(t->levers, config.weight_levers);
  if (!(t->priority > config.min_priority)) {
    t->stage = Stage::kThreshold;
    if (explain) {
      t->reason = "priority " + Fmt(t->priority) + " is not above min_priority " + Fmt(config.min_priority);
      if (a.value_expr) SeenValues(*a.value_expr, features, &t->seen);
    }
    return false;
  }
  return true;
}

}  // namespace kairos
