#include "trigger/automation.h"

#include <filesystem>

#include "common/hash.h"

namespace kairos {

Result<std::unique_ptr<Automation>> Automation::Open(const Workspace& ws, Engine* engine, DecisionService* decisions,
                                                     const Clock* clock, TriggerRunner::Options options) {
  std::unique_ptr<Automation> a(new Automation());
  a->workspace_dir_ = ws.dir;
  a->decisions_ = decisions;
  KAIROS_ASSIGN_OR_RETURN(auto set, TriggerSet::Load(ws.dir, decisions->decisioning()));
  const std::filesystem::path store = ws.StorePath();
  // The outbox need not fsync each delivery before the decision path goes on: the decision that
  // caused it is durable in the decision log, and Reconcile below re-enqueues (idempotently) what
  // a power loss may have taken from the outbox's last unsynced 100 ms.
  channel::DispatcherOptions outbox;
  outbox.fsync_each_enqueue = false;
  KAIROS_ASSIGN_OR_RETURN(a->dispatcher_, channel::Dispatcher::Open((store / "outbox").string(), clock,
                                                                   StableHash64(ws.dir), outbox));
  Automation* self = a.get();
  KAIROS_ASSIGN_OR_RETURN(
      a->journeys_, JourneyRunner::Open((store / "journeys").string(), engine, decisions, clock,
                                        [self](std::string_view id) { return self->triggers_->Deliver(id); }));
  a->triggers_ = std::make_unique<TriggerRunner>(engine, decisions, a->dispatcher_.get(), a->journeys_.get(), clock,
                                                 options);
  KAIROS_RETURN_IF_ERROR(a->triggers_->SetTriggers(std::move(set)));
  KAIROS_RETURN_IF_ERROR(a->Reconcile(engine, clock->Now()));
  return a;
}

Status Automation::Reconcile(Engine* engine, TimestampMs now) {
  const auto set = triggers_->triggers();
  if (set->outbound.empty()) return Status::Ok();
  Status failed;
  KAIROS_RETURN_IF_ERROR(engine->ForEachDecision(DecisionIdPrefix(now - kReconcileWindowMs), [&](const StoredDecision& d) {
    // Only what triggers and journeys decided is delivered (their records carry an origin).
    if (d.actions.empty() || set->outbound.count(d.channel) == 0 ||
        d.record.find("\"origin\":") == std::string::npos) {
      return true;
    }
    const Status s = triggers_->Deliver(d.decision_id);
    if (!s.ok() && failed.ok()) failed = s;
    return true;
  }));
  return failed;
}

Automation::~Automation() { Stop(); }

void Automation::Start() {
  dispatcher_->Start(2);
  journeys_->Start();
  triggers_->Start();
}

void Automation::Stop() {
  if (triggers_) triggers_->Stop();
  if (journeys_) journeys_->Stop();
  if (dispatcher_) dispatcher_->Stop();
}

Status Automation::Reload() {
  return decisions_->Reload(workspace_dir_, [&](const std::shared_ptr<const Decisioning>& d) -> Status {
    KAIROS_ASSIGN_OR_RETURN(auto set, TriggerSet::Load(workspace_dir_, d));
    return triggers_->SetTriggers(std::move(set));
  });
}

}  // namespace kairos
