// Journeys (contact chains) of triggers.yaml: a trigger enters a subscriber into a journey, whose
// steps decide and deliver on a channel, wait, and re-decide with fresh scores until the customer
// responds, an exit condition holds or the steps run out (docs/triggers.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "profile/profile.h"
#include "trigger/scope.h"

namespace kairos {

inline constexpr size_t kMaxJourneys = 100;
inline constexpr size_t kMaxJourneySteps = 20;
inline constexpr size_t kMaxJourneyNameLength = 64;

struct JourneyStep {
  std::string channel;     // a channel of policies.yaml
  int channel_index = -1;
  int64_t wait_ms = 0;     // after this step's delivery, before the next step (or the end)
  int line = 0;
};

struct JourneyDef {
  std::string name;
  int line = 0;
  // Entry gate on the profile when a trigger enters the subscriber (bool; null = always), e.g.
  // "clv.expected_12m > 50": chains cost contacts, so they are for customers worth them.
  std::shared_ptr<const expr::Expr> entry;
  std::string entry_text;
  // Checked on the fresh profile before every step (bool; null = never), e.g. a second purchase.
  std::shared_ptr<const expr::Expr> exit_when;
  std::string exit_when_text;
  // Response outcomes to any of the journey's decisions that end it (default accepted, converted).
  std::vector<Outcome> stop_on;
  ActionScope scope;                  // actions every step may offer
  std::vector<JourneyStep> steps;     // 1 to kMaxJourneySteps; a journey always ends after the last
  // A journey running longer than this (from entry) ends "expired" at its next step; 0 = no
  // limit beyond the steps themselves (a journey ends after its last step's wait anyway).
  int64_t max_duration_ms = 0;

  int64_t TotalWaitMs() const;
};

// Parses the `journeys:` mapping of triggers.yaml (`text` is the file's text, for positions of
// expression errors; a null node = no journeys). Errors are file:line:column: unknown keys,
// unknown channels (listing the known ones), waits that are not durations ≥ 0, no steps or more
// than kMaxJourneySteps, entry / exit_when that are not bool or read action.* features, unknown
// stop_on outcomes, unknown actions / groups / issues of the scope, max_duration ≤ 0.
// Compiling adds the expressions' features to d.features (as every configuration file does):
// parse before `d` is shared with running decisions.
Result<std::vector<JourneyDef>> ParseJourneys(std::string_view text, std::string_view file,
                                              const YAML::Node& journeys, const Decisioning& d);

}  // namespace kairos
