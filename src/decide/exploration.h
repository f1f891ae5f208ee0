// Exploration stage: turns the models' estimates into the propensities arbitration ranks by,
// and estimates the probability with which the (randomized) policy shows each candidate.
//
// The probabilities come from re-running the randomized part of arbitration — Thompson draws or
// the ε coin and shuffle, the value/threshold checks, the per-group limit and the decision's
// room — `probability_samples` times; the decision actually made counts as one of the runs, so
// a shown action never gets probability 0. Daily volumes are not re-simulated (they change the
// outcome only when an action's volume runs out that day).
#pragma once

#include <vector>

#include "catalog/catalog.h"
#include "common/rng.h"
#include "learn/adaptive_model.h"
#include "learn/exploration.h"

namespace kairos {

// A candidate that reached scoring, as exploration sees it.
struct ScoredArm {
  int action = -1;  // index into Catalog::actions
  int group = -1;
  learn::Estimate estimate;  // from its model (sd 0 when it has none)
  double rest = 0;           // C^wc · V^wv · L^wl: the priority without the propensity
  double value = 0, cost = 0;
  bool chosen = false;  // shown by the decision actually made (set after arbitration)
};

// The propensity the actual decision ranks a candidate by: a Thompson draw, or the mean.
double ExplorationPropensity(const learn::ExplorationConfig& config, const learn::Estimate& e,
                             Rng& rng);

// True when this decision explores by ε-greedy (the ranking becomes a random order).
bool EpsilonExplores(const learn::ExplorationConfig& config, Rng& rng);

// Probability of being shown, per arm (same order), for a decision with `room` slots.
std::vector<double> ChoiceProbabilities(const learn::ExplorationConfig& config,
                                        const ArbitrationConfig& arbitration,
                                        const std::vector<ScoredArm>& arms, int room, Rng& rng);

}  // namespace kairos
