// kairos models [export|import]: the adaptive models kept in the workspace's model file.
#include <rapidjson/document.h>

#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "catalog/catalog.h"
#include "common/file_util.h"
#include "decide/decision_service.h"
#include "decide/model_json.h"
#include "ingest/engine.h"
#include "learn/model_store.h"
#include "schema/workspace.h"

namespace kairos::app {

namespace {

// The workspace's models as the server would load them (predictors of its learning.yaml).
Result<std::unique_ptr<learn::ModelStore>> LoadModels(const Workspace& ws) {
  KAIROS_ASSIGN_OR_RETURN(auto d, Decisioning::Load(ws.dir, ws.schema));
  auto store = std::make_unique<learn::ModelStore>(d->learning.Specs());
  auto loaded = store->LoadFile(DecisionService::ModelFile(ws));
  if (!loaded.ok()) return loaded.status();
  return store;
}

}  // namespace

int RunModels(const ModelsArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto store = LoadModels(*ws);
  if (!store.ok()) {
    if (store.status().code() == ErrorCode::kNotFound) {
      return Fail(store.status().message() +
                  " (models are saved by `kairos serve` once learning.yaml exists)");
    }
    return Fail(store.status().message());
  }
  const auto reports = (*store)->Health();
  if (args.json) {
    std::printf("%s\n", ModelReportsToJson(reports).c_str());
    return 0;
  }
  std::printf("%-32s %-15s %9s %9s %6s  %-28s %s\n", "model", "kind", "responses", "positives",
              "AUC", "top predictor", "flags");
  for (const auto& r : reports) {
    const learn::ModelHealth& h = r.health;
    std::string top = "-";
    if (!h.predictors.empty() && h.predictors[0].active) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " (%.1f)", h.predictors[0].auc * 100);
      top = h.predictors[0].name.substr(0, 20) + buf;
    }
    std::string flags;
    for (const std::string& f : h.flags) flags += (flags.empty() ? "" : "; ") + f;
    std::printf("%-32s %-15s %9lld %9lld %6.1f  %-28s %s\n", r.id.c_str(),
                learn::ModelKindName(h.kind), static_cast<long long>(h.responses),
                static_cast<long long>(h.positives), h.auc * 100, top.c_str(), flags.c_str());
  }
  std::printf(
      "%zu models (AUC on the 50-100 scale, measured on responses before the model learned from "
      "them)\n",
      reports.size());
  return 0;
}

int RunModelsExport(const ModelsArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto bytes = ReadFile(DecisionService::ModelFile(*ws));
  if (!bytes.ok()) return Fail(bytes.status().message());
  auto n = learn::ModelStore::Validate(*bytes);
  if (!n.ok()) return Fail(n.status().message());
  std::FILE* f = std::fopen(args.out.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes->data(), 1, bytes->size(), f) != bytes->size() ||
      std::fclose(f) != 0) {
    return Fail("cannot write " + args.out);
  }
  std::printf("exported %zu models to %s\n", *n, args.out.c_str());
  return 0;
}

int RunModelsImport(const ModelsArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto bytes = ReadFile(args.in);
  if (!bytes.ok()) return Fail(bytes.status().message());
  auto d = Decisioning::Load(ws->dir, ws->schema);
  if (!d.ok()) return Fail(d.status().message());
  // The engine's lock keeps a running server (which owns the model file) out.
  SystemClock clock;
  auto engine = Engine::Open(*ws, &clock);
  if (!engine.ok()) return Fail(engine.status().message());
  learn::ModelStore store((*d)->learning.Specs());
  auto restored = store.Restore(*bytes);
  if (!restored.ok())
    return Fail(args.in + ": " + restored.status().message() +
                " (the workspace's models are unchanged)");
  if (Status s = store.SaveFile(DecisionService::ModelFile(*ws), 0); !s.ok())
    return Fail(s.message());
  std::printf("imported %zu models into %s\n", store.Health().size(),
              DecisionService::ModelFile(*ws).c_str());
  return 0;
}

}  // namespace kairos::app
