#include "decide/decider.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "common/hash.h"
#include "common/time_format.h"
#include "decide/contact_policy.h"
#include "decide/control_group.h"
#include "decide/exploration.h"
#include "decide/feature_cache.h"
#include "decide/rules.h"
#include "decide/scoring.h"

namespace kairos {

const char* StageName(Stage s) {
  switch (s) {
    case Stage::kScope: return "scope";
    case Stage::kChannel: return "channel";
    case Stage::kValidity: return "validity";
    case Stage::kEligibility: return "eligibility";
    case Stage::kApplicability: return "applicability";
    case Stage::kSuitability: return "suitability";
    case Stage::kConsent: return "consent";
    case Stage::kQuietHours: return "quiet_hours";
    case Stage::kMaxTimes: return "max_times";
    case Stage::kCooldown: return "cooldown";
    case Stage::kSuppression: return "suppression";
    case Stage::kCap: return "contact_cap";
    case Stage::kValue: return "value";
    case Stage::kThreshold: return "threshold";
    case Stage::kGroup: return "group";
    case Stage::kVolume: return "volume";
    case Stage::kCapacity: return "capacity";
    case Stage::kLimit: return "limit";
    case Stage::kControlGroup: return "control_group";
    case Stage::kChosen: return "chosen";
  }
  return "?";
}

namespace {

// Why nothing was chosen, from the furthest stage any candidate reached.
const char* NoActionReason(Stage furthest, bool any_candidate) {
  if (!any_candidate) return "no_actions";
  switch (furthest) {
    case Stage::kScope: return "out_of_scope";
    case Stage::kChannel: return "no_action_for_channel";
    case Stage::kValidity: return "no_valid_action";
    case Stage::kEligibility:
    case Stage::kApplicability:
    case Stage::kSuitability: return "not_eligible";
    case Stage::kConsent: return "no_consent";
    case Stage::kQuietHours: return "quiet_hours";
    case Stage::kMaxTimes:
    case Stage::kCooldown:
    case Stage::kSuppression: return "suppressed";
    case Stage::kCap: return "contact_cap";
    case Stage::kValue: return "value_below_cost";
    case Stage::kThreshold: return "below_threshold";
    case Stage::kGroup:
    case Stage::kVolume:
    case Stage::kLimit: return "volume_exhausted";
    case Stage::kCapacity: return "channel_capacity";
    case Stage::kControlGroup: return "control_group";
    case Stage::kChosen: return "";
  }
  return "";
}

std::string Rfc(TimestampMs t) { return FormatRfc3339(t); }

}  // namespace

std::vector<learn::ModelStore::Entry*> BindModels(const Decisioning& d, learn::ModelStore* store) {
  std::vector<learn::ModelStore::Entry*> bindings;
  if (!d.learning.enabled) return bindings;
  const size_t channels = d.policies.channels.size();
  bindings.assign(d.catalog.actions.size() * channels, nullptr);
  for (size_t i = 0; i < d.catalog.actions.size(); ++i) {
    const Action& a = d.catalog.actions[i];
    learn::ModelSettings s = d.learning.defaults;
    s.kind = d.learning.kind_by_action[i];
    s.prior_propensity = a.propensity;
    for (const Treatment& t : a.treatments) {
      // Under cold start a model that has learned keeps the prior it started with (its group's).
      bindings[i * channels + static_cast<size_t>(t.channel)] = store->Bind(t.id, s, d.learning.cold_start_from_group);
    }
  }
  if (!d.learning.cold_start_from_group) return bindings;
  // Cold start: a model without responses takes its group's pooled rate on the channel as its
  // prior (a model that has learned keeps the prior it started with).
  constexpr int64_t kMinGroupResponses = 50;
  std::vector<std::pair<int64_t, int64_t>> pooled(d.catalog.groups.size() * channels, {0, 0});
  for (size_t i = 0; i < d.catalog.actions.size(); ++i) {
    for (size_t c = 0; c < channels; ++c) {
      if (learn::ModelStore::Entry* m = bindings[i * channels + c]) {
        const auto [pos, n] = store->Evidence(m);
        pooled[static_cast<size_t>(d.catalog.actions[i].group) * channels + c].first += pos;
        pooled[static_cast<size_t>(d.catalog.actions[i].group) * channels + c].second += n;
      }
    }
  }
  for (size_t i = 0; i < d.catalog.actions.size(); ++i) {
    for (size_t c = 0; c < channels; ++c) {
      learn::ModelStore::Entry* m = bindings[i * channels + c];
      if (m == nullptr) continue;
      const auto [pos, n] = pooled[static_cast<size_t>(d.catalog.actions[i].group) * channels + c];
      if (n < kMinGroupResponses || store->Evidence(m).second > 0) continue;
      learn::ModelSettings s = store->Settings(m);
      s.prior_propensity = std::clamp((pos + 0.5) / (n + 1.0), 1e-4, 1 - 1e-4);
      store->Bind(m->id(), s);
    }
  }
  return bindings;
}

std::vector<learn::PredictorValue> PredictorValues(const Learning& learning, FeatureCache& features,
                                                   TimestampMs now) {
  std::vector<learn::PredictorValue> out(learning.predictors.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const PredictorDef& p = learning.predictors[i];
    const expr::Value v = p.expr->Evaluate(features);
    learn::PredictorValue& o = out[i];
    o.numeric = p.numeric;
    if (v.is_null) continue;
    o.missing = false;
    switch (v.type) {
      case expr::Type::kNumber: o.num = v.num; break;
      case expr::Type::kTime: o.num = (static_cast<double>(now) - v.num) / 86400000.0; break;
      case expr::Type::kDuration: o.num = v.num / 86400000.0; break;
      case expr::Type::kBool: o.str = v.b ? "true" : "false"; break;
      case expr::Type::kString: o.str = std::string(v.str); break;
      default: o.missing = true; break;
    }
  }
  return out;
}

Decision Decide(const Decisioning& d, const Profile& profile, const DecideRequest& req,
                int channel, TimestampMs now, const DecideEnv& env) {
  const Catalog& catalog = d.catalog;
  const Policies& policies = d.policies;
  const ChannelDef& ch = policies.channels[channel];
  Decision dec;
  dec.subscriber_id = req.subscriber_id;
  dec.ts = now;
  dec.channel = channel;
  dec.catalog_version = d.version;
  dec.origin_json = req.origin_json;

  FeatureCache features(d, profile, now, ch.name, req.context);
  std::optional<TimeZoneCache> own_zones;  // only when the caller brings none (tests, tools)
  if (!env.zones) own_zones.emplace();
  const ContactState contact =
      EvaluateContactState(policies, channel, profile, now, env.zones ? *env.zones : *own_zones);
  dec.contact.consent = contact.consent;
  dec.contact.quiet_hours = contact.quiet;
  dec.contact.zone = contact.zone;
  dec.contact.local_minute = contact.local_minute;
  dec.contact.cap_room = contact.cap ? contact.cap_room : -1;
  const bool explain = req.explain;
  Stage furthest = Stage::kScope;

  // Adaptive models and exploration (learning.yaml).
  const Learning& learning = d.learning;
  const bool learn_on = learning.enabled && env.models != nullptr && env.bindings != nullptr;
  const bool exploring = learn_on && learning.exploration.method != learn::ExplorationMethod::kNone;
  std::shared_lock<std::shared_mutex> model_lock;
  learn::EncodedPredictors encoded;
  // Draws are reproducible: the same subscriber at the same time draws the same numbers.
  Rng rng(learning.exploration.seed, StableHash64(req.subscriber_id), static_cast<uint64_t>(now));
  if (learn_on) {
    model_lock = env.models->Lock();
    dec.predictors = PredictorValues(learning, features, now);
    env.models->Encode(dec.predictors, &encoded);
  }
  std::vector<ScoredArm> arms;
  const ArbitrationConfig& arbitration = policies.arbitration;

  std::vector<CandidateTrace> ranked;
  std::vector<CandidateTrace> mandatory;
  auto drop = [&](CandidateTrace&& t) {
    furthest = std::max(furthest, t.stage);
    if (explain) dec.candidates.push_back(std::move(t));
  };

  for (size_t i = 0; i < catalog.actions.size(); ++i) {
    const Action& a = catalog.actions[i];
    CandidateTrace t;
    t.action = static_cast<int>(i);
    if (!req.scope.empty() && (i >= req.scope.size() || req.scope[i] == 0)) {
      t.stage = Stage::kScope;
      if (explain) t.reason = req.scope_reason.empty() ? "outside the request's actions" : req.scope_reason;
      drop(std::move(t));
      continue;
    }
    if (!a.TreatmentFor(channel)) {
      t.stage = Stage::kChannel;
      if (explain) t.reason = "no treatment for channel " + ch.name;
      drop(std::move(t));
      continue;
    }
    if (now < a.valid_from || now >= a.valid_to) {
      t.stage = Stage::kValidity;
      if (explain) {
        t.reason = now < a.valid_from ? "valid from " + Rfc(a.valid_from) : "expired " + Rfc(a.valid_to);
      }
      drop(std::move(t));
      continue;
    }
    features.SetCandidate(&a);
    if (!PassRules(a.eligibility, Stage::kEligibility, features, explain, &t) ||
        !PassRules(a.applicability, Stage::kApplicability, features, explain, &t) ||
        !PassRules(a.suitability, Stage::kSuitability, features, explain, &t) ||
        !PassRequestPolicies(contact, policies, channel, explain, &t)) {
      drop(std::move(t));
      continue;
    }
    if (a.type == ActionType::kMandatory) {
      t.stage = Stage::kChosen;
      t.propensity = a.propensity, t.value = features.CandidateValue(), t.cost = a.cost, t.levers = a.lever;
      t.model_propensity = a.propensity;
      t.probability = 1;
      mandatory.push_back(std::move(t));
      continue;
    }
    if (!PassActionPolicies(contact, policies, a, catalog.groups[a.group].key, profile, now, explain, &t)) {
      drop(std::move(t));
      continue;
    }
    learn::Estimate estimate;  // the prior's, unless a model gives one
    if (exploring) estimate.logit = learn::Logit(a.propensity);
    double propensity = a.propensity;
    learn::ModelStore::Entry* model =
        learn_on ? (*env.bindings)[i * policies.channels.size() + static_cast<size_t>(channel)] : nullptr;
    if (model != nullptr) {
      estimate = env.models->Score(model, encoded);
      t.learned = true;
      propensity = ExplorationPropensity(learning.exploration, estimate, rng);
    }
    if (env.logged_propensities != nullptr && !std::isnan((*env.logged_propensities)[i])) {
      propensity = (*env.logged_propensities)[i];
    }
    t.model_propensity = model != nullptr ? estimate.propensity() : a.propensity;
    const bool passed = ScoreCandidate(arbitration, a, propensity, features, explain, &t);
    if (exploring && t.scored) {
      ScoredArm arm;
      arm.action = t.action;
      arm.group = a.group;
      arm.estimate = estimate;
      arm.rest = std::pow(t.context_weight, arbitration.weight_context) *
                 std::pow(std::max(0.0, t.value), arbitration.weight_value) *
                 std::pow(t.levers, arbitration.weight_levers);
      arm.value = t.value;
      arm.cost = t.cost;
      arms.push_back(arm);
    }
    if (!passed) {
      drop(std::move(t));
      continue;
    }
    ranked.push_back(std::move(t));
  }

  // Arbitration.
  const int limit = std::max(1, std::min(req.limit > 0 ? req.limit : ch.top_k, ch.top_k));
  const int64_t day = DayOf(now);
  auto choose = [&](CandidateTrace& t, bool is_mandatory) {
    const Action& a = catalog.actions[t.action];
    ChosenAction c;
    c.action = t.action;
    c.treatment = static_cast<int>(a.TreatmentFor(channel) - a.treatments.data());
    c.mandatory = is_mandatory;
    c.priority = t.priority, c.propensity = t.propensity, c.value = t.value, c.cost = t.cost;
    c.model_propensity = t.model_propensity;
    t.stage = Stage::kChosen;
    t.probability = 1;
    dec.actions.push_back(c);
  };
  for (CandidateTrace& t : mandatory) {
    if (static_cast<int>(dec.actions.size()) >= limit) {
      t.stage = Stage::kLimit;
      if (explain) t.reason = "mandatory, but the decision's limit is reached";
    } else {
      choose(t, true);
    }
  }
  if (exploring && EpsilonExplores(learning.exploration, rng)) {
    // ε-greedy: this decision explores with a uniformly random order.
    dec.explored = true;
    for (size_t k = ranked.size(); k > 1; --k) std::swap(ranked[k - 1], ranked[rng.Below(k)]);
  } else {
    std::stable_sort(ranked.begin(), ranked.end(), [](const CandidateTrace& x, const CandidateTrace& y) {
      return x.priority > y.priority;
    });
  }
  const int room = std::min(limit - static_cast<int>(dec.actions.size()), contact.cap_room);
  // Scarce channel capacity goes to the candidates of highest expected value (capacity.h); the
  // decision's best candidate counts once towards the arrivals the threshold is based on.
  const bool gated = env.capacity != nullptr && ch.capacity >= 0;
  bool arrival_counted = false;
  auto admit_to_capacity = [&](CandidateTrace& t) {
    const double expected = t.propensity * t.value - t.cost;
    const CapacityGate::Verdict v =
        env.capacity->Admit(ch.name, ch.capacity, ch.capacity_period_ms, expected, now, !arrival_counted, env.reserve);
    arrival_counted = true;
    if (!v.admit && explain) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s capacity: %lld of %lld used this %s; expected value %.2f is below the %.2f kept for better candidates",
                    ch.name.c_str(), static_cast<long long>(v.used), static_cast<long long>(v.capacity),
                    ch.capacity_period_ms == 3600000 ? "hour" : "day", expected, v.threshold);
      t.reason = buf;
    }
    return v.admit;
  };
  int taken = 0;
  std::vector<int> per_group(catalog.groups.size(), 0);
  for (CandidateTrace& t : ranked) {
    const Action& a = catalog.actions[t.action];
    if (per_group[a.group] >= policies.arbitration.per_group) {
      t.stage = Stage::kGroup;
      if (explain) {
        t.reason = "group " + catalog.groups[a.group].name + " already has " +
                   std::to_string(per_group[a.group]) + " higher-priority action(s) in this decision";
      }
    } else if (taken >= room) {
      t.stage = Stage::kLimit;
      if (explain) t.reason = "ranked below the " + std::to_string(std::max(room, 0)) + " action(s) this decision may show";
    } else if (gated && !admit_to_capacity(t)) {
      t.stage = Stage::kCapacity;
    } else if (env.ledger && VolumeLedger::HasLimits(a, channel) &&
               !env.ledger->TryReserve(a, channel, ch.name, day, env.reserve)) {
      if (gated && env.reserve) env.capacity->Release(ch.name, ch.capacity_period_ms, now);
      t.stage = Stage::kVolume;
      if (explain) t.reason = "daily volume or budget of the action is used up on " + ch.name;
    } else {
      ++per_group[a.group];
      ++taken;
      choose(t, false);
      continue;
    }
    furthest = std::max(furthest, t.stage);
  }

  if (exploring && !arms.empty()) {
    // The probability the randomized policy shows each candidate (for off-policy evaluation).
    std::vector<int> arm_of_action(catalog.actions.size(), -1);
    for (size_t k = 0; k < arms.size(); ++k) arm_of_action[arms[k].action] = static_cast<int>(k);
    for (const CandidateTrace& t : ranked) arms[arm_of_action[t.action]].chosen = t.stage == Stage::kChosen;
    const std::vector<double> shown =
        ChoiceProbabilities(learning.exploration, arbitration, arms, std::max(room, 0), rng);
    for (CandidateTrace& t : ranked) t.probability = shown[arm_of_action[t.action]];
    if (explain) {
      for (CandidateTrace& t : dec.candidates) {
        if (t.scored) t.probability = shown[arm_of_action[t.action]];
      }
    }
    for (ChosenAction& c : dec.actions) {
      if (!c.mandatory) c.probability = shown[arm_of_action[c.action]];
    }
  }

  if (InControlGroup(policies.control_group, req.subscriber_id, now)) {
    dec.control = true;
    std::vector<ChosenAction> shown;
    for (const ChosenAction& c : dec.actions) {
      if (c.mandatory) {
        shown.push_back(c);
        continue;
      }
      dec.counterfactual.push_back(c);
      const Action& a = catalog.actions[c.action];
      if (env.ledger && env.reserve && VolumeLedger::HasLimits(a, channel)) env.ledger->Release(a, ch.name, day);
      if (gated && env.reserve) env.capacity->Release(ch.name, ch.capacity_period_ms, now);
    }
    for (CandidateTrace& t : ranked) {
      if (t.stage == Stage::kChosen) {
        t.stage = Stage::kControlGroup;
        t.probability = 0;
        if (explain) t.reason = "the subscriber is in the control group: no targeted action";
      }
    }
    dec.actions = std::move(shown);
    if (!dec.counterfactual.empty()) furthest = Stage::kControlGroup;
  }
  if (dec.actions.empty()) dec.no_action_reason = NoActionReason(furthest, !catalog.actions.empty());

  for (CandidateTrace& t : mandatory) dec.candidates.push_back(std::move(t));
  for (CandidateTrace& t : ranked) dec.candidates.push_back(std::move(t));
  return dec;
}

}  // namespace kairos
