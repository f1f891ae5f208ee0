#include "learn/exploration.h"

namespace kairos::learn {

const char* ExplorationMethodName(ExplorationMethod m) {
  switch (m) {
    case ExplorationMethod::kNone:
      return "none";
    case ExplorationMethod::kThompson:
      return "thompson";
    case ExplorationMethod::kEpsilonGreedy:
      return "epsilon_greedy";
  }
  return "?";
}

std::optional<ExplorationMethod> ParseExplorationMethod(std::string_view name) {
  if (name == "none") return ExplorationMethod::kNone;
  if (name == "thompson") return ExplorationMethod::kThompson;
  if (name == "epsilon_greedy") return ExplorationMethod::kEpsilonGreedy;
  return std::nullopt;
}

}  // namespace kairos::learn
