#include "decide/exploration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kairos {

double ExplorationPropensity(const learn::ExplorationConfig& config, const learn::Estimate& e,
                             Rng& rng) {
  if (config.method == learn::ExplorationMethod::kThompson && e.sd > 0)
    return learn::ThompsonDraw(e, rng);
  return e.propensity();
}

bool EpsilonExplores(const learn::ExplorationConfig& config, Rng& rng) {
  return config.method == learn::ExplorationMethod::kEpsilonGreedy &&
         rng.Uniform() < config.epsilon;
}

std::vector<double> ChoiceProbabilities(const learn::ExplorationConfig& config,
                                        const ArbitrationConfig& arbitration,
                                        const std::vector<ScoredArm>& arms, int room, Rng& rng) {
  const size_t n = arms.size();
  std::vector<double> shown(n, 0);
  for (size_t i = 0; i < n; ++i) shown[i] = arms[i].chosen ? 1 : 0;
  const int samples = std::max(1, config.probability_samples);
  if (config.method == learn::ExplorationMethod::kNone || n == 0) return shown;

  std::vector<double> priority(n);
  std::vector<int> order;
  order.reserve(n);
  std::vector<int> per_group;
  // Normals in pairs (Rng::Normal drops the second of each): the draws are most of the cost of
  // a re-run.
  double spare = 0;
  bool has_spare = false;
  auto normal = [&] {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double first;
    rng.NormalPair(&first, &spare);
    has_spare = true;
    return first;
  };
  const bool thompson = config.method == learn::ExplorationMethod::kThompson;
  const bool linear = arbitration.weight_propensity == 1.0;
  // An arm's priority when its propensity is p, or -inf when it would not be ranked.
  auto priority_at = [&](const ScoredArm& a, double p) {
    if (arbitration.value_must_cover_cost && p * a.value < a.cost) return -HUGE_VAL;
    const double pr = (linear ? p : std::pow(p, arbitration.weight_propensity)) * a.rest;
    return pr > arbitration.min_priority ? pr : -HUGE_VAL;
  };
  // Thompson: an arm whose priority at +4σ stays below what `room` other arms reach at −4σ
  // (at most per_group of a group) is shown in fewer than 4 in 100,000 runs: it is left out of
  // the re-runs (probability 0 unless it was actually shown). Typically most arms go.
  std::vector<char> live(n, 1);
  if (thompson && room > 0) {
    auto at_z = [&](const ScoredArm& a, double z) {
      return priority_at(a, a.estimate.PropensityAt(z));
    };
    std::vector<std::pair<double, int>> lows;  // (priority at -4σ, group)
    lows.reserve(n);
    for (const ScoredArm& a : arms) lows.emplace_back(at_z(a, -4), a.group);
    std::sort(lows.begin(), lows.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    double threshold = -HUGE_VAL;
    int taken = 0;
    for (const auto& [low, group] : lows) {
      if (group >= static_cast<int>(per_group.size())) per_group.resize(group + 1, 0);
      if (per_group[group] >= arbitration.per_group) continue;
      ++per_group[group];
      if (++taken == room) {
        threshold = low;
        break;
      }
    }
    for (size_t i = 0; i < n; ++i) live[i] = arms[i].chosen || at_z(arms[i], 4) >= threshold;
  }
  for (int s = 1; s < samples; ++s) {
    order.clear();
    for (size_t i = 0; i < n; ++i) {
      if (!live[i]) continue;
      const ScoredArm& a = arms[i];
      const learn::Estimate& e = a.estimate;
      const double p = thompson && e.sd > 0 ? e.PropensityAt(normal())
                                            : e.propensity();
      priority[i] = priority_at(a, p);
      if (priority[i] == -HUGE_VAL) continue;
      order.push_back(static_cast<int>(i));
    }
    if (EpsilonExplores(config, rng)) {
      // Fisher-Yates with our own generator (std::shuffle's use of it is unspecified).
      for (size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[rng.Below(k)]);
    } else {
      std::stable_sort(order.begin(), order.end(),
                       [&](int x, int y) { return priority[x] > priority[y]; });
    }
    per_group.clear();
    int taken = 0;
    for (int i : order) {
      if (taken >= room) break;
      const int g = arms[i].group;
      if (g >= static_cast<int>(per_group.size())) per_group.resize(g + 1, 0);
      if (per_group[g] >= arbitration.per_group) continue;
      ++per_group[g];
      ++taken;
      shown[i] += 1;
    }
  }
  for (double& x : shown) x /= samples;
  return shown;
}

}  // namespace kairos
