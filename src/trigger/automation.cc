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
  KAIROS_ASSIGN_OR_RETURN(a->dispatcher_,
                          channel::Dispatcher::Open((store / "outbox").string(), clock, StableHash64(ws.dir)));
  Automation* self = a.get();
  KAIROS_ASSIGN_OR_RETURN(
      a->journeys_, JourneyRunner::Open((store / "journeys").string(), engine, decisions, clock,
                                        [self](std::string_view id) { return self->triggers_->Deliver(id); }));
  a->triggers_ = std::make_unique<TriggerRunner>(engine, decisions, a->dispatcher_.get(), a->journeys_.get(), clock,
                                                 options);
  KAIROS_RETURN_IF_ERROR(a->triggers_->SetTriggers(std::move(set)));
  return a;
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
