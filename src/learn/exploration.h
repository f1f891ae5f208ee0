// Exploration: how a decision departs from the greedy choice so that new and uncertain actions
// get evidence. Pure functions over caller-owned state (as in Vowpal Wabbit's explore.h): the
// caller passes the generator, nothing allocates, the same seed gives the same draws.
//
//  * Thompson sampling: each candidate's propensity is drawn from its model's posterior — a
//    normal on the log-odds scale (mean and spread from the model), so an action with little
//    evidence has a wide draw and is tried, and the width shrinks as responses arrive.
//  * ε-greedy: with probability ε the ranking is replaced by a uniformly random order.
//  * none: the greedy ranking on the models' mean propensities.
// Whatever the method, the decision logs for every ranked candidate the probability that the
// policy shows it (estimated by re-running the randomized ranking; exact for `none`), because
// off-policy evaluation divides by it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/rng.h"
#include "learn/adaptive_model.h"

namespace kairos::learn {

enum class ExplorationMethod : uint8_t { kNone, kThompson, kEpsilonGreedy };
const char* ExplorationMethodName(ExplorationMethod m);
std::optional<ExplorationMethod> ParseExplorationMethod(std::string_view name);

struct ExplorationConfig {
  ExplorationMethod method = ExplorationMethod::kThompson;
  double epsilon = 0.05;         // ε-greedy
  int probability_samples = 64;  // re-runs that estimate each candidate's probability
  uint64_t seed = 1;
};

// A Thompson draw of the propensity from `e`.
inline double ThompsonDraw(const Estimate& e, Rng& rng) {
  return e.PropensityAt(rng.Normal());
}

}  // namespace kairos::learn
