// The values a decision takes in and gives out: the request, the chosen actions, and the trace
// of every candidate (what removed it and why, or how it scored) behind explanations and the
// decision log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "expr/expr.h"
#include "learn/adaptive_model.h"

namespace kairos {

// One declared context field's value from the request (`context: {...}`); strings are owned.
struct ContextValue {
  expr::Type type = expr::Type::kNull;  // the declared type; is_null when absent
  bool is_null = true;
  bool b = false;
  double num = 0;
  std::string str;
};

struct DecideRequest {
  std::string subscriber_id;
  std::string channel;
  std::vector<ContextValue> context;  // indexed like FeatureSpace::context(); empty = all null
  std::string context_json = "{}";    // the request's context object as given (for the log)
  int limit = 0;                      // 0 = the channel's top_k
  bool explain = false;
  bool dry_run = false;               // decide, but record nothing (no impressions, no log)

  // Set by triggers and journeys (src/trigger), never by an HTTP request:
  // the actions that may be offered (one flag per catalog action; empty = every action) and
  // why the others may not, for explanations ("not an action of trigger data_running_out").
  std::vector<uint8_t> scope;
  std::string scope_reason;
  // A caller-chosen decision id (a journey step's, so that a step re-run after a crash finds
  // its decision instead of deciding twice); empty = a new id. Must begin with
  // DecisionIdPrefix of about now, so that the log stays in time order.
  std::string decision_id;
  // A JSON object logged with the decision and answered as "origin": which trigger or journey
  // step asked, and how an offer was sized. Empty = none.
  std::string origin_json;
};

// The stages a candidate passes, in order. A candidate's `stage` is where it stopped (or
// kChosen / kRanked for the ones that reached arbitration).
enum class Stage : uint8_t {
  kScope,          // not an action the requesting trigger or journey may offer
  kChannel,        // no treatment for the requested channel
  kValidity,       // outside valid_from / valid_to
  kEligibility,
  kApplicability,
  kSuitability,
  kConsent,
  kQuietHours,
  kMaxTimes,
  kCooldown,
  kSuppression,
  kCap,            // channel or overall contact cap reached
  kValue,          // propensity × value does not cover the cost
  kThreshold,      // priority below arbitration.min_priority
  kGroup,          // another action of its group ranked higher
  kVolume,         // daily volume or budget of the action used up
  kCapacity,       // the channel's capacity is kept for candidates of higher expected value
  kLimit,          // ranked below the top-k of this decision
  kControlGroup,   // would have been chosen; the subscriber is in the control group
  kChosen,
};
const char* StageName(Stage s);

// One value an expression saw, for explanations: "profile.plan_type" = "\"postpaid\"".
struct SeenValue {
  std::string name;
  std::string value;
};

struct CandidateTrace {
  int action = -1;  // index into Catalog::actions
  Stage stage = Stage::kChosen;
  std::string reason;          // human-readable: what removed it
  std::string rule;            // the expression that failed (rule stages)
  std::string origin;          // where the rule came from ("group DataAddOns")
  int rule_line = 0;           // catalog.yaml line of the rule
  std::vector<SeenValue> seen; // the values the failed rule read (explain only)
  bool scored = false;         // P, C, V, L and priority are set
  // P as ranked (a Thompson draw when exploring); model_propensity is the model's mean.
  double propensity = 0, context_weight = 0, value = 0, levers = 0, priority = 0, cost = 0;
  double model_propensity = 0;
  bool learned = false;        // P comes from an adaptive model (else the action's prior)
  double probability = 0;      // the probability the policy shows it (explore: estimated)
};

struct ChosenAction {
  int action = -1;
  int treatment = -1;  // index into Action::treatments
  bool mandatory = false;
  double priority = 0, propensity = 0, value = 0, cost = 0;
  double model_propensity = 0;
  double probability = 1;  // the probability the policy shows it (logged for evaluation)
};

// What the request-level contact policies found (shown in explanations).
struct ContactSummary {
  bool consent = true;
  bool quiet_hours = false;
  std::string zone;        // time zone of the quiet-hours check ("" when not checked)
  int local_minute = -1;
  int cap_room = -1;       // impressions the tightest cap still allows (-1: no cap applies)
};

struct Decision {
  std::string decision_id;
  std::string subscriber_id;
  TimestampMs ts = 0;
  int channel = -1;
  std::vector<ChosenAction> actions;
  // Why nothing was chosen ("not_eligible", "contact_policy", "below_threshold", ...); empty
  // when actions were chosen.
  std::string no_action_reason;
  bool control = false;                    // the subscriber is in the control group
  std::vector<ChosenAction> counterfactual;  // control group: what would have been shown
  std::vector<CandidateTrace> candidates;  // every candidate (explain) or the ranked ones
  ContactSummary contact;
  std::string catalog_version;
  // The learning predictors' values (learning.yaml order) when models are on; logged so that a
  // response can teach the models what the decision saw.
  std::vector<learn::PredictorValue> predictors;
  bool explored = false;  // ε-greedy took a random order
  std::string origin_json;  // the request's origin (triggers, journeys); empty = none
};

}  // namespace kairos
