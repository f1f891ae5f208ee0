// DecisionService: decisions and responses against a live Engine — the part of decisioning that
// reads and writes the store.
//
// A decide reads the subscriber's profile, runs the pipeline (decider.h) and, unless it is a
// dry run, records the decision through the engine as one built-in `decision` event: the
// impressions go into the profile's interaction history (feeding caps and suppression) and the
// record into the decision log, in one durable transaction, before the answer is returned.
// Decisions for one subscriber are serialised by a striped lock held from the profile read to
// the durable write, so concurrent requests can never exceed a contact cap.
//
// Thread-safety: every method may be called from any thread. Reload swaps the configuration
// atomically; a decision in flight finishes with the configuration it started with.
#pragma once

#include <array>
#include <functional>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "catalog/catalog.h"
#include "common/timezone.h"
#include "decide/capacity.h"
#include "decide/decide_request.h"
#include "decide/decision.h"
#include "decide/volume_ledger.h"
#include "ingest/engine.h"
#include "learn/model_store.h"

namespace kairos {

struct DecideOutcome {
  Decision decision;
  std::string json;  // the answer (DecisionToJson)
};

struct ResponseOutcome {
  bool recorded = false;  // false: the same outcome was already recorded (counted once)
  std::string subscriber_id;
};

struct DecisionStats {
  int64_t decisions = 0;
  int64_t no_action = 0;
  int64_t control_group = 0;
  int64_t actions_shown = 0;
  int64_t responses = 0;
  int64_t duplicate_responses = 0;
  int64_t reloads = 0;
  int64_t failed_reloads = 0;
  int64_t model_updates = 0;     // responses the adaptive models learned from
  int64_t timeouts = 0;          // shown actions recorded as ignored after responses.timeout
  int64_t explored = 0;          // decisions that explored (ε-greedy random order)
};

class DecisionService {
 public:
  // `engine` and `clock` must outlive the service.
  DecisionService(Engine* engine, const Clock* clock, std::shared_ptr<const Decisioning> decisioning);

  // Where the adaptive models are kept between runs (a snapshot file; empty: not kept). Call
  // before Start.
  void SetModelFile(std::string path) { model_file_ = std::move(path); }
  // The workspace's model file: models.kmdl in the store folder.
  static std::string ModelFile(const Workspace& ws);

  // Loads the model snapshot (when there is one: a corrupt snapshot fails the start), binds the
  // models of the catalog's actions, and rebuilds today's volume counts from the decision log.
  // Call once before serving.
  Status Start();

  std::shared_ptr<const Decisioning> decisioning() const { return bound_.load()->decisioning; }

  // Errors: kInvalidArgument (malformed request, unknown channel or context field: field set),
  // kNotFound (unknown subscriber), errors of the engine when recording fails (nothing recorded).
  Result<DecideOutcome> Decide(std::string_view request_json);
  Result<DecideOutcome> Decide(const DecideRequest& request, const Decisioning& d);

  // Records a response. Errors: kInvalidArgument (malformed, unknown outcome, an action the
  // decision did not show, another subscriber's decision), kNotFound (unknown decision).
  Result<ResponseOutcome> Respond(std::string_view request_json);
  Result<ResponseOutcome> Respond(const ResponseRequest& request);

  // Records that `subscriber_id` accepted `action_id` through a signed offer link, which has no
  // logged decision (links travel on invoices and QR codes). Written like a response: a built-in
  // `response` event, outcome "accepted", whose decision_id is `reference` (the link's own id,
  // e.g. "offer:<nonce>", at most 64 bytes), with `channel` (may be empty) and the action's
  // group and issue when the catalog knows them, so caps, suppression and reports see it.
  // Idempotent per (reference, action): a repeat records nothing (recorded = false). The
  // adaptive models do not learn from it (no decision saw their predictors).
  // Errors: kInvalidArgument (empty or oversized ids), errors of the engine (nothing recorded).
  Result<ResponseOutcome> RecordOfferAcceptance(std::string_view subscriber_id,
                                                std::string_view action_id,
                                                std::string_view channel,
                                                std::string_view reference);

  // The logged record of a decision (JSON); kNotFound when unknown.
  Result<std::string> DecisionRecord(std::string_view decision_id);

  // Re-runs a logged decision on the profile it saw, with the current catalog: {"decision_id",
  // "same_catalog", "identical", "logged":[ids], "replayed":[ids], "replay":{...explained}}.
  Result<std::string> Replay(std::string_view decision_id);

  // Loads catalog.yaml and policies.yaml from `dir`; on any error keeps the running configuration
  // and returns the error (file:line:column).
  // `also` (optional) sees the loaded configuration before it is put in force and may refuse it
  // (the triggers compiled against it failed): then nothing changes.
  Status Reload(const std::string& dir,
                const std::function<Status(const std::shared_ptr<const Decisioning>&)>& also = {});

  // Contacts a capacity-limited channel has taken in its current period (/metrics).
  int64_t CapacityUsed(const ChannelDef& channel) const {
    return capacity_.Used(channel.name, channel.capacity_period_ms, clock_->Now());
  }

  DecisionStats Stats() const;

  // ---- adaptive models ----
  // {"models":[{model health}...]} — every model, sorted by id.
  std::string ModelsJson() const;
  // One model's health; kNotFound when unknown.
  Result<std::string> ModelJson(std::string_view id) const;
  // The models as a snapshot (learn/model_store.h) / replaces them with one (kCorruption: the
  // running models stay), then saves the model file.
  std::string ExportModels() const;
  Status ImportModels(std::string_view snapshot);
  // Saves the model file (no-op without one, or while learning is off).
  Status SaveModels() const;
  // Records shown actions whose decision is older than responses.timeout and that got no
  // response as `ignored` (so the models learn from silence). Returns how many.
  Result<int64_t> SweepTimeouts();
  // Periodic work for a server: timeouts, then the model file every snapshot_interval.
  Status Maintain();

  // ---- reports ----
  // Target vs control group per action and overall (GET /v1/reports/uplift): decisions since
  // `since` (inclusive), outcomes within the workspace's uplift horizon.
  Result<std::string> UpliftJson(TimestampMs since) const;

 private:
  // A Decisioning with its models bound: bindings[action * channels + channel] (null when the
  // action has no treatment on the channel or learning is off).
  struct Bound {
    std::shared_ptr<const Decisioning> decisioning;
    std::vector<learn::ModelStore::Entry*> bindings;
  };
  std::shared_ptr<const Bound> Bind(std::shared_ptr<const Decisioning> d);
  std::string NewDecisionId(TimestampMs now);
  std::mutex& StripeOf(std::string_view subscriber_id);
  Status Record(const Decisioning& d, const Decision& dec, const DecideRequest& req,
                std::string_view profile_bytes);
  // Teaches the model of (action, decision's channel) what the decision's logged predictors saw.
  void Learn(const Bound& b, const StoredDecision& stored, std::string_view action_id, bool positive);

  Engine* engine_;
  const Clock* clock_;
  std::atomic<std::shared_ptr<const Bound>> bound_;
  learn::ModelStore models_;
  std::string model_file_;
  std::atomic<int64_t> timeout_cursor_{0};  // decisions before this time were swept
  std::atomic<TimestampMs> last_model_save_{0};
  std::mutex sweep_mu_;
  std::mutex reload_mu_;
  TimeZoneCache zones_;
  VolumeLedger ledger_;
  CapacityGate capacity_;
  std::array<std::mutex, 1024> stripes_;
  std::atomic<uint64_t> sequence_{0};
  const uint64_t salt_;

  struct AtomicStats {
    std::atomic<int64_t> decisions{0}, no_action{0}, control_group{0}, actions_shown{0},
        responses{0}, duplicate_responses{0}, reloads{0}, failed_reloads{0}, model_updates{0},
        timeouts{0}, explored{0};
  };
  AtomicStats stats_;
};

}  // namespace kairos
