// kairos decide: one decision from the command line, on the workspace's store (the same
// pipeline and recording as POST /v1/decide).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

#include "app/commands.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "schema/workspace.h"

namespace kairos::app {

namespace {
void PrintHuman(const Decisioning& d, const Decision& dec, bool explain) {
  std::printf("decision %s for %s on %s at %s\n", dec.decision_id.empty() ? "(dry run)" : dec.decision_id.c_str(),
              dec.subscriber_id.c_str(), d.policies.channels[dec.channel].name.c_str(), FormatRfc3339(dec.ts).c_str());
  if (dec.actions.empty()) std::printf("  no action: %s\n", dec.no_action_reason.c_str());
  for (const ChosenAction& c : dec.actions) {
    const Action& a = d.catalog.actions[c.action];
    std::printf("  %-24s %-28s priority %.4f  P %.4f  V %.2f%s\n", a.id.c_str(), a.treatments[c.treatment].id.c_str(),
                c.priority, c.propensity, c.value, c.mandatory ? "  (mandatory)" : "");
  }
  if (dec.control) std::printf("  control group: targeted actions withheld (%zu)\n", dec.counterfactual.size());
  if (!explain) return;
  std::printf("candidates:\n");
  for (const CandidateTrace& t : dec.candidates) {
    std::printf("  %-24s %-14s", d.catalog.actions[t.action].id.c_str(), StageName(t.stage));
    if (t.scored) std::printf(" priority %.4f (P %.4f C %.2f V %.2f L %.2f)", t.priority, t.propensity, t.context_weight, t.value, t.levers);
    if (!t.reason.empty()) std::printf(" %s", t.reason.c_str());
    if (!t.rule.empty()) std::printf(" [%s: %s]", t.origin.c_str(), t.rule.c_str());
    for (const SeenValue& v : t.seen) std::printf(" %s=%s", v.name.c_str(), v.value.c_str());
    std::printf("\n");
  }
}
}  // namespace

int RunDecide(const DecideArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto decisioning = Decisioning::Load(args.workspace, ws->schema);
  if (!decisioning.ok()) return Fail(decisioning.status().message());
  SystemClock system_clock;
  ManualClock at_clock(0);
  const Clock* clock = &system_clock;
  if (!args.at.empty()) {
    auto t = ParseRfc3339(args.at);
    if (!t.ok()) return Fail("--at: " + t.status().message());
    at_clock.Set(*t);
    clock = &at_clock;
  }
  // The request as the API takes it, so both paths validate alike.
  rapidjson::Document context;
  context.Parse(args.context.c_str());
  if (context.HasParseError() || !context.IsObject()) return Fail("--context: expected a JSON object");
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("subscriber_id");
  w.String(args.subscriber.c_str());
  w.Key("channel");
  w.String(args.channel.c_str());
  w.Key("context");
  context.Accept(w);
  if (args.limit > 0) {
    w.Key("limit");
    w.Int(args.limit);
  }
  w.Key("explain");
  w.Bool(args.explain);
  w.Key("dry_run");
  w.Bool(args.dry_run);
  w.EndObject();

  auto engine = Engine::Open(*ws, clock);
  if (!engine.ok()) return Fail(engine.status().message());
  DecisionService service(engine->get(), clock, *decisioning);
  if (Status s = service.Start(); !s.ok()) return Fail(s.message());
  auto out = service.Decide(std::string_view(sb.GetString(), sb.GetSize()));
  if (!out.ok()) return Fail(out.status().message());
  if (args.json) std::printf("%s\n", out->json.c_str());
  else PrintHuman(**decisioning, out->decision, args.explain);
  return 0;
}

}  // namespace kairos::app
