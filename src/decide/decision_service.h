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
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "catalog/catalog.h"
#include "common/timezone.h"
#include "decide/decide_request.h"
#include "decide/decision.h"
#include "decide/volume_ledger.h"
#include "ingest/engine.h"

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
};

class DecisionService {
 public:
  // `engine` and `clock` must outlive the service.
  DecisionService(Engine* engine, const Clock* clock, std::shared_ptr<const Decisioning> decisioning);

  // Rebuilds today's volume counts from the decision log. Call once before serving.
  Status Start();

  std::shared_ptr<const Decisioning> decisioning() const { return decisioning_.load(); }

  // Errors: kInvalidArgument (malformed request, unknown channel or context field: field set),
  // kNotFound (unknown subscriber), errors of the engine when recording fails (nothing recorded).
  Result<DecideOutcome> Decide(std::string_view request_json);
  Result<DecideOutcome> Decide(const DecideRequest& request, const Decisioning& d);

  // Records a response. Errors: kInvalidArgument (malformed, unknown outcome, an action the
  // decision did not show, another subscriber's decision), kNotFound (unknown decision).
  Result<ResponseOutcome> Respond(std::string_view request_json);
  Result<ResponseOutcome> Respond(const ResponseRequest& request);

  // The logged record of a decision (JSON); kNotFound when unknown.
  Result<std::string> DecisionRecord(std::string_view decision_id);

  // Re-runs a logged decision on the profile it saw, with the current catalog: {"decision_id",
  // "same_catalog", "identical", "logged":[ids], "replayed":[ids], "replay":{...explained}}.
  Result<std::string> Replay(std::string_view decision_id);

  // Loads catalog.yaml and policies.yaml from `dir`; on any error keeps the running configuration
  // and returns the error (file:line:column).
  Status Reload(const std::string& dir);

  DecisionStats Stats() const;

 private:
  std::string NewDecisionId(TimestampMs now);
  std::mutex& StripeOf(std::string_view subscriber_id);
  Status Record(const Decisioning& d, const Decision& dec, const DecideRequest& req,
                std::string_view profile_bytes);

  Engine* engine_;
  const Clock* clock_;
  std::atomic<std::shared_ptr<const Decisioning>> decisioning_;
  std::mutex reload_mu_;
  TimeZoneCache zones_;
  VolumeLedger ledger_;
  std::array<std::mutex, 1024> stripes_;
  std::atomic<uint64_t> sequence_{0};
  const uint64_t salt_;

  struct AtomicStats {
    std::atomic<int64_t> decisions{0}, no_action{0}, control_group{0}, actions_shown{0},
        responses{0}, duplicate_responses{0}, reloads{0}, failed_reloads{0};
  };
  AtomicStats stats_;
};

}  // namespace kairos
