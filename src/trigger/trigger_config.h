// triggers.yaml: which events make an action relevant the moment they happen (triggers), the
// contact chains they may start (journeys, journey_config.h) and how each outbound channel
// delivers (outbound). Compiled against one Decisioning: conditions are rule-language
// expressions on the profile after the event (docs/triggers.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "channel/delivery.h"
#include "common/status.h"
#include "trigger/journey_config.h"
#include "trigger/scope.h"

namespace kairos {

// Sizing: offer the smallest package that covers what the customer is expected to need.
struct SizingPackage {
  int action = -1;   // catalog action
  double size = 0;   // in the unit of `need`
};
struct Sizing {
  std::shared_ptr<const expr::Expr> need;  // number, e.g. the forecast's upper bound minus what is left
  std::string need_text;
  std::vector<SizingPackage> packages;     // by size, ascending
};

struct TriggerDef {
  std::string name;
  int line = 0;
  int event_type = -1;
  std::vector<FieldFilter> where;            // on the event's fields
  std::shared_ptr<const expr::Expr> when;    // bool on the profile after the event; null = always
  std::string when_text;
  int64_t debounce_ms = 0;                   // at most one firing per subscriber within this
  int channel = -1;                          // decide and deliver on this channel, or
  int journey = -1;                          // enter this journey (TriggerSet::journeys)
  ActionScope scope;
  std::optional<Sizing> sizing;
};

struct TriggerSet {
  std::shared_ptr<const Decisioning> decisioning;  // what the triggers were compiled against
  std::vector<TriggerDef> triggers;
  std::vector<std::vector<int>> by_event_type;     // event type → its triggers
  std::vector<JourneyDef> journeys;
  std::map<std::string, channel::AdapterConfig> outbound;  // channel name → adapter
  std::string file;                                // path, for messages

  // Event types some trigger listens to (indexed like the schema's event types).
  std::vector<bool> WatchedEventTypes() const;
  int JourneyIndex(std::string_view name) const;

  // Parses triggers.yaml text. Relative outbound file paths resolve against `workspace_dir`.
  static Result<std::shared_ptr<const TriggerSet>> Parse(std::string_view text, std::string_view file,
                                                         std::shared_ptr<const Decisioning> d,
                                                         const std::string& workspace_dir);
  // `<dir>/triggers.yaml`; a workspace without one has no triggers (an empty set).
  static Result<std::shared_ptr<const TriggerSet>> Load(const std::string& dir,
                                                        std::shared_ptr<const Decisioning> d);
};

// The demo operator's triggers.yaml (`kairos init --demo`) and a new workspace's (no triggers
// yet, the format in comments); default_triggers.cc.
std::string_view DemoTriggersYaml();
std::string_view DefaultTriggersYaml();

}  // namespace kairos
