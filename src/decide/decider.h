// Decider: the decision pipeline for one subscriber on one channel.
//
// Stages, in order (one file each; docs/catalog.md describes them for operators):
//   channel (a treatment for the channel) → validity → eligibility → applicability →
//   suitability (rules.cc) → consent, quiet hours (contact_policy.cc) → [mandatory actions leave
//   here: they bypass everything below but never consent or quiet hours] → max_times, cooldown,
//   suppression, caps (contact_policy.cc) → value covers cost, priority threshold (scoring.cc)
//   → arbitration: rank by priority, at most per_group per group, top-k within the caps' room,
//   daily volume and budget (volume_ledger.cc) → control group (control_group.cc).
// The decider reads a profile and writes nothing; recording is the DecisionService's job.
//
// Thread-safety: Decide is a pure function of its arguments except for `ledger` reservations.
#pragma once

#include "catalog/catalog.h"
#include "common/timezone.h"
#include "decide/capacity.h"
#include "decide/decision.h"
#include "decide/volume_ledger.h"
#include "learn/model_store.h"
#include "profile/profile.h"

namespace kairos {

struct DecideEnv {
  TimeZoneCache* zones = nullptr;
  VolumeLedger* ledger = nullptr;  // null: volume limits are not checked
  bool reserve = true;             // false: check volumes without reserving (dry runs)
  // Adaptive models (learning.yaml): the store and, per action × channel
  // (index action * channels + channel), the bound model or null. Null store: priors.
  learn::ModelStore* models = nullptr;
  const std::vector<learn::ModelStore::Entry*>* bindings = nullptr;
  // Replay: the propensity each action was ranked by in the logged decision (indexed like
  // Catalog::actions; NaN when not logged) — used instead of the models' (which learned since).
  const std::vector<double>* logged_propensities = nullptr;
  CapacityGate* capacity = nullptr;  // null: channel capacities are not checked
};

// The model of every action × channel with a treatment (index action * channels + channel; null
// elsewhere), created in `store` with the action's prior and learning.yaml's settings. Empty
// when learning is off. Call Configure on the store with the predictors first.
std::vector<learn::ModelStore::Entry*> BindModels(const Decisioning& decisioning, learn::ModelStore* store);

class FeatureCache;
// The learning predictors' values for one request. Times become days ago, durations days,
// booleans the symbols "true" / "false".
std::vector<learn::PredictorValue> PredictorValues(const Learning& learning, FeatureCache& features,
                                                   TimestampMs now);

// Decides. `channel` is an index into decisioning.policies.channels. Fills every field of the
// Decision but decision_id. Candidate traces: every candidate when req.explain, else only the
// ones that reached arbitration.
Decision Decide(const Decisioning& decisioning, const Profile& profile, const DecideRequest& req,
                int channel, TimestampMs now, const DecideEnv& env);

}  // namespace kairos
