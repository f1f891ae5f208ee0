// Decisioning configuration of a workspace: the action catalog (catalog.yaml) and the contact
// policies (policies.yaml), validated and compiled together into one immutable Decisioning.
//
// Load order: policies.yaml (channels first: treatments and caps refer to them), then
// catalog.yaml (context fields, issues → groups → actions → treatments), then every expression
// is compiled against one FeatureSpace. Any problem fails the whole load with
// "file:line:column: message"; a running server keeps its previous Decisioning (reload swaps a
// shared_ptr only after a complete, valid load).
//
// Formats: docs/catalog.md. Thread-safety: immutable after Load, shared by every request.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/features.h"
#include "catalog/learning.h"
#include "catalog/segmentation.h"
#include "common/clock.h"
#include "common/status.h"
#include "expr/expr.h"
#include "schema/schema.h"

namespace kairos {

// ---- policies.yaml ----------------------------------------------------------------------------

struct ChannelDef {
  std::string name;         // "sms", "email", "app", "web", "call_center", "invoice", ...
  uint32_t key = 0;         // InteractionKey(name)
  bool outbound = false;    // pushed to the customer (quiet hours apply), not an inbound visit
  std::string consent;      // key in the consent flags attribute; empty = no consent needed
  bool quiet_hours = false; // quiet hours apply to this channel
  int top_k = 3;            // at most this many actions per decision on this channel
  // Contacts the channel can take per period across all subscribers (the call center's 500
  // calls a day); -1 = unlimited. Arbitration admits the candidates of highest expected value
  // (decide/capacity.h), not whoever comes first.
  int64_t capacity = -1;
  int64_t capacity_period_ms = 86400000;  // a UTC day or hour
};

// At most `max` impressions within `window_ms` on one channel (or all channels).
struct CapRule {
  int channel = -1;  // index into Policies::channels; -1 = all channels together
  int max = 0;
  int64_t window_ms = 0;
  int line = 0;      // policies.yaml line, for explanations
};

// After `after` impressions of an action (or of any action of its group) with no response in
// between, within `window_ms`, the action (group) is suppressed for `for_ms` after the last one.
struct SuppressionRule {
  TargetScope scope = TargetScope::kAction;  // kAction or kGroup
  int after = 3;
  int64_t window_ms = 0;
  int64_t for_ms = 0;
  int line = 0;
};

struct QuietHours {
  bool enabled = false;
  int from_minute = 21 * 60;  // local wall clock, [from, to) wrapping midnight when from > to
  int to_minute = 8 * 60;
  int timezone_attribute = -1;  // a string attribute holding an IANA zone name, or -1
  std::string default_timezone = "UTC";
};

struct ArbitrationConfig {
  double weight_propensity = 1, weight_context = 1, weight_value = 1, weight_levers = 1;
  double min_priority = 0;          // below this the best candidate becomes "no action"
  bool value_must_cover_cost = true;  // drop candidates with propensity × value < cost
  int per_group = 1;                // at most this many actions of one group per decision
  double default_propensity = 0.02; // the prior of actions that state none
};

struct ControlGroupConfig {
  double share = 0;                  // fraction of subscribers, 0..0.5
  int64_t period_ms = 30LL * 86400000;  // membership is re-drawn every period
  std::string salt = "kairos";
};

struct Policies {
  std::vector<ChannelDef> channels;
  int consent_attribute = -1;  // a flags attribute (e.g. consents), or -1: no consent checks
  std::vector<CapRule> caps;
  std::vector<SuppressionRule> suppression;
  QuietHours quiet_hours;
  ArbitrationConfig arbitration;
  ControlGroupConfig control_group;

  // -1 when unknown.
  int ChannelIndex(std::string_view name) const;
  // "sms, email, app, ..." for error messages.
  std::string ChannelNames() const;

  // Parses policies.yaml text; `schema` resolves consent_attribute and timezone_attribute.
  // `file_name` prefixes the errors ("policies.yaml:12:5: ...").
  static Result<Policies> Parse(std::string_view yaml_text, std::string_view file_name,
                                const Schema& schema);
};

// ---- catalog.yaml -----------------------------------------------------------------------------

enum class ActionType : uint8_t { kOffer, kRetention, kService, kReward, kMandatory };
const char* ActionTypeName(ActionType t);

// One compiled condition with where it came from (for explanations and errors).
struct Rule {
  std::shared_ptr<const expr::Expr> expr;
  std::string origin;  // "action DATA_5GB", "group DataAddOns", "issue Sales"
  int line = 0;        // catalog.yaml line of the expression
};

struct Treatment {
  int channel = -1;                                      // index into Policies::channels
  std::string id;                                        // "<action id>/<channel>"
  std::vector<std::pair<std::string, std::string>> content;  // title, text, url, script, ...
};

struct Issue {
  std::string name;
  uint32_t key = 0;
  double lever = 1;
};

struct Group {
  std::string name;
  uint32_t key = 0;
  int issue = -1;
  double lever = 1;
};

inline constexpr int64_t kUnlimited = -1;

struct Action {
  std::string id;
  std::string name;
  uint32_t key = 0;  // InteractionKey(id)
  ActionType type = ActionType::kOffer;
  int issue = -1;
  int group = -1;
  int line = 0;      // catalog.yaml line where the action starts

  TimestampMs valid_from = std::numeric_limits<TimestampMs>::min();
  TimestampMs valid_to = std::numeric_limits<TimestampMs>::max();  // exclusive

  double value = 0;                              // margin in EUR when value_expr is null
  std::shared_ptr<const expr::Expr> value_expr;  // or a number expression
  double cost = 0;                               // discount / cost in EUR per acceptance
  double propensity = 0.02;                      // prior (ArbitrationConfig default if unset)
  double lever = 1;                              // issue × group × action levers
  std::shared_ptr<const expr::Expr> context_weight;  // number expression; null = 1

  // Issue rules first, then group, then action rules; all must pass.
  std::vector<Rule> eligibility, applicability, suitability;

  int max_times = 0;          // impressions per subscriber, ever; 0 = unlimited
  int64_t cooldown_ms = 0;    // time after an impression before it may be offered again

  // Daily (UTC day) limits across all subscribers; index = channel; kUnlimited when unset.
  std::vector<int64_t> daily_volume;  // impressions per channel per day
  int64_t daily_volume_total = kUnlimited;
  std::vector<double> daily_budget;   // EUR of `cost` per channel per day (< 0 = unlimited)

  std::vector<Treatment> treatments;
  std::vector<int> treatment_by_channel;  // index into treatments, or -1; size = channels

  const Treatment* TreatmentFor(int channel) const {
    int t = treatment_by_channel[channel];
    return t < 0 ? nullptr : &treatments[t];
  }
};

struct Catalog {
  std::vector<Issue> issues;
  std::vector<Group> groups;
  std::vector<Action> actions;
  std::map<std::string, int, std::less<>> action_index;

  // -1 when unknown.
  int ActionIndex(std::string_view id) const;
};

// Everything a decision needs from configuration, loaded and compiled together.
struct Decisioning {
  std::shared_ptr<const Schema> schema;
  Policies policies;
  Catalog catalog;
  std::shared_ptr<const FeatureSpace> features;
  Learning learning;    // learning.yaml (models off without it)
  Segmentation segmentation;  // segments.yaml (nothing to compute without it)
  std::string version;  // hex digest of the files' bytes, logged with every decision

  // Loads `<dir>/policies.yaml`, `<dir>/catalog.yaml`, `<dir>/learning.yaml` and
  // `<dir>/segments.yaml`. A workspace without them gets an empty catalog, default policies
  // (every decision is then "no action"), no adaptive models and no segmentation. segments.yaml
  // is not part of `version`: it changes profiles' scores, not how a decision is made.
  static Result<std::shared_ptr<const Decisioning>> Load(const std::string& dir,
                                                         std::shared_ptr<const Schema> schema);
  // The same from texts (tests); file names prefix the errors. An empty `learning_yaml` or
  // `segments_yaml` means no such file.
  static Result<std::shared_ptr<const Decisioning>> Parse(std::string_view policies_yaml,
                                                          std::string_view catalog_yaml,
                                                          std::shared_ptr<const Schema> schema,
                                                          std::string_view learning_yaml = {},
                                                          std::string_view segments_yaml = {});
};

// The commented files `kairos init` writes (minimal) and `kairos init --demo` writes (the demo
// operator's ≥ 60 actions). All parse against the default schema (tested).
std::string_view DefaultPoliciesYaml();
std::string_view DefaultCatalogYaml();
std::string_view DemoPoliciesYaml();
std::string_view DemoCatalogYaml();
// learning.yaml for both (the demo and a new workspace share the default schema).
std::string_view DefaultLearningYaml();
// segments.yaml for both (catalog/default_segments.cc).
std::string_view DefaultSegmentsYaml();

}  // namespace kairos
