// init, check and profile: commands that work on a workspace's files without a server.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/commands.h"
#include "common/file_util.h"
#include "offer/offer_keys.h"
#include "offer/payment_config.h"
#include "server/api_keys.h"
#include "catalog/catalog.h"
#include "trigger/trigger_config.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"

namespace kairos::app {

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressBar::Update(double fraction, const std::string& detail) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * kWidth);
  std::fprintf(stderr, "\r[%s%s] %3d%%  %s ", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), static_cast<int>(fraction * 100), detail.c_str());
  std::fflush(stderr);
}

void ProgressBar::Done() {
  if (enabled_) std::fprintf(stderr, "\n");
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "kairos: %s\n", message.c_str());
  return 1;
}

Status WriteNewFile(const std::string& path, std::string_view text) {
  if (std::filesystem::exists(path)) return Status(ErrorCode::kAlreadyExists, path + " already exists; not overwritten");
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return IoError("cannot write " + path);
  return Status::Ok();
}

int RunInit(const InitArgs& args) {
  for (const char* f : {"policies.yaml", "catalog.yaml", "learning.yaml", "segments.yaml", "triggers.yaml"}) {
    if (std::filesystem::exists(std::filesystem::path(args.dir) / f)) {
      return Fail((std::filesystem::path(args.dir) / f).string() + " already exists; not overwritten");
    }
  }
  Status s = Workspace::Init(args.dir);
  if (!s.ok()) return Fail(s.message());
  // The schema module writes kairos.yaml and schema.yaml; decisioning files come from the catalog
  // module (the schema module sits below it).
  s = WriteNewFile((std::filesystem::path(args.dir) / "policies.yaml").string(),
                   args.demo ? DemoPoliciesYaml() : DefaultPoliciesYaml());
  if (s.ok()) {
    s = WriteNewFile((std::filesystem::path(args.dir) / "catalog.yaml").string(),
                     args.demo ? DemoCatalogYaml() : DefaultCatalogYaml());
  }
  if (s.ok()) s = WriteNewFile((std::filesystem::path(args.dir) / "learning.yaml").string(), DefaultLearningYaml());
  if (s.ok()) s = WriteNewFile((std::filesystem::path(args.dir) / "segments.yaml").string(), DefaultSegmentsYaml());
  if (s.ok()) {
    s = WriteNewFile((std::filesystem::path(args.dir) / "triggers.yaml").string(),
                     args.demo ? DemoTriggersYaml() : DefaultTriggersYaml());
  }
  if (!s.ok()) return Fail(s.message());
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("workspace");
    w.String(args.dir.c_str());
    w.Key("files");
    w.StartArray();
    w.String("kairos.yaml");
    w.String("schema.yaml");
    w.String("policies.yaml");
    w.String("catalog.yaml");
    w.String("learning.yaml");
    w.String("segments.yaml");
    w.String("triggers.yaml");
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else {
    std::printf("Created workspace %s (kairos.yaml, schema.yaml, policies.yaml, catalog.yaml, learning.yaml, segments.yaml, "
                "triggers.yaml)%s.\nNext: kairos check --workspace %s\n",
                args.dir.c_str(), args.demo ? " for the demo operator" : "", args.dir.c_str());
  }
  return 0;
}

int RunCheck(const CheckArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  // Errors are "file:line:column: message"; the JSON form splits them for tools.
  std::vector<std::string> problems;
  std::shared_ptr<const Decisioning> decisioning;
  if (!ws.ok()) {
    problems.push_back(ws.status().message());
  } else {
    auto d = Decisioning::Load(args.workspace, ws->schema);
    if (d.ok()) decisioning = *d;
    else problems.push_back(d.status().message());
  }
  std::shared_ptr<const TriggerSet> triggers;
  if (decisioning) {
    auto t = TriggerSet::Load(args.workspace, decisioning);
    if (t.ok()) triggers = *t;
    else problems.push_back(t.status().message());
  }
  // The files serve reads besides the configuration: the payments: section, the API keys and
  // the offer signing keys (each only when present).
  const std::filesystem::path dir(args.workspace);
  if (auto yaml = ReadFile((dir / "kairos.yaml").string()); yaml.ok()) {
    auto payments = offer::ParsePaymentsConfigYaml(*yaml, (dir / "kairos.yaml").string());
    if (!payments.ok()) problems.push_back(payments.status().message());
  }
  if (auto keys = KeyFile::Load(KeyFile::PathIn(args.workspace)); !keys.ok()) {
    problems.push_back(keys.status().message());
  }
  if (const std::filesystem::path offer_keys = dir / "offer-keys.json"; std::filesystem::exists(offer_keys)) {
    if (auto k = offer::OfferKeyring::Load(offer_keys.string()); !k.ok()) {
      problems.push_back(k.status().message());
    }
  }
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("ok");
    w.Bool(problems.empty());
    w.Key("problems");
    w.StartArray();
    static const std::regex kWhere(R"(^(.*?):(\d+):(\d+): (.*)$)");
    for (const std::string& p : problems) {
      std::smatch m;
      w.StartObject();
      if (std::regex_match(p, m, kWhere)) {
        w.Key("file");
        w.String(m[1].str().c_str());
        w.Key("line");
        w.Int(std::stoi(m[2].str()));
        w.Key("column");
        w.Int(std::stoi(m[3].str()));
        w.Key("message");
        w.String(m[4].str().c_str());
      } else {
        w.Key("message");
        w.String(p.c_str());
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else if (problems.empty()) {
    std::printf("%s: ok (%zu event types, %zu attributes, %zu aggregates, %zu forecasts; %zu actions in "
                "%zu groups, %zu channels; %zu triggers, %zu journeys)\n",
                args.workspace.c_str(), ws->schema->event_types().size(), ws->schema->attributes().size(),
                ws->schema->aggregates().size(), ws->schema->forecasts().size(),
                decisioning->catalog.actions.size(), decisioning->catalog.groups.size(),
                decisioning->policies.channels.size(), triggers->triggers.size(), triggers->journeys.size());
  } else {
    for (const std::string& p : problems) std::printf("%s\n", p.c_str());
  }
  return problems.empty() ? 0 : 1;
}

int RunProfile(const ProfileArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  SystemClock clock;
  TimestampMs at = clock.Now();
  if (!args.at.empty()) {
    auto t = ParseRfc3339(args.at);
    if (!t.ok()) return Fail("--at: " + t.status().message());
    at = *t;
  }
  auto engine = Engine::Open(*ws, &clock);
  if (!engine.ok()) return Fail(engine.status().message());
  auto json = (*engine)->ProfileJson(args.subscriber, at);
  if (!json.ok()) return Fail(json.status().message());
  std::printf("%s\n", json->c_str());
  return 0;
}

}  // namespace kairos::app
