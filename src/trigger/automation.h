// Automation: the parts that act without being asked — triggers, journeys and outbound
// delivery — opened, configured, reloaded and stopped together for one store.
//
// Files: <store>/outbox (the dispatcher's durable outbox) and <store>/journeys (journey state
// and timers). triggers.yaml is loaded against the DecisionService's configuration; a reload
// of the workspace compiles the triggers against the new catalog before anything changes, so
// catalog, policies and triggers are put in force together or not at all.
#pragma once

#include <memory>
#include <string>

#include "channel/dispatcher.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "trigger/journey_runner.h"
#include "trigger/trigger_runner.h"

namespace kairos {

class Automation {
 public:
  // All pointers must outlive the automation. Loads `<workspace>/triggers.yaml` (errors are
  // file:line:column; nothing is started then).
  static Result<std::unique_ptr<Automation>> Open(const Workspace& ws, Engine* engine, DecisionService* decisions,
                                                  const Clock* clock, TriggerRunner::Options options = {});
  ~Automation();

  // Starts the trigger workers, the journey timer thread and the delivery workers.
  void Start();
  // Stops them (in that order: no new work reaches a stopped part). Idempotent.
  void Stop();

  // Reloads catalog, policies and triggers from the workspace (POST /v1/admin/reload).
  Status Reload();

  TriggerRunner& triggers() { return *triggers_; }
  JourneyRunner& journeys() { return *journeys_; }
  channel::Dispatcher& dispatcher() { return *dispatcher_; }

 private:
  Automation() = default;
  // Hands the deliveries of recent trigger and journey decisions to the outbox again (ids make
  // it idempotent): what the outbox had not synced before a power loss is not lost.
  Status Reconcile(Engine* engine, TimestampMs now);
  static constexpr int64_t kReconcileWindowMs = 2 * 60 * 1000;

  std::string workspace_dir_;
  DecisionService* decisions_ = nullptr;
  std::unique_ptr<channel::Dispatcher> dispatcher_;
  std::unique_ptr<JourneyRunner> journeys_;
  std::unique_ptr<TriggerRunner> triggers_;
};

}  // namespace kairos
