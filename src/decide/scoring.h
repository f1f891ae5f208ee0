// Scoring: priority = P^wp · C^wc · V^wv · L^wl (propensity, context weight, value, levers), and
// the value check (expected value P·V must cover the cost).
#pragma once

#include "catalog/catalog.h"
#include "decide/decision.h"
#include "decide/feature_cache.h"

namespace kairos {

// Fills trace's P, C, V, L, priority and cost. False (stage kValue or kThreshold, with a
// reason) when the candidate cannot win: P·V below its cost, or priority not above
// min_priority.
// `features` must have `action` as its candidate.
// `propensity` is what the candidate is ranked by (its prior, its model's mean or a draw).
bool ScoreCandidate(const ArbitrationConfig& config, const Action& action, double propensity,
                    FeatureCache& features, bool explain, CandidateTrace* trace);

}  // namespace kairos
