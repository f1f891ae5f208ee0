// kairos decisions export: the decision log as bandit feedback (one NDJSON line per shown
// action with its position, the probability the policy gave it and the reward observed), the
// `--format kairos` input of off-policy evaluation.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include "app/commands.h"
#include "catalog/features.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"

namespace kairos::app {

int RunDecisionsExport(const DecisionsExportArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  // Which outcomes count as a reward of 1.
  std::set<InteractionKind> rewarded;
  std::string_view rest = args.reward;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const int found = OutcomeIndex(name);
    if (found < 0) {
      return Fail("--reward: unknown outcome \"" + std::string(name) +
                  "\"; outcomes: accepted, rejected, clicked, converted, ignored");
    }
    rewarded.insert(static_cast<InteractionKind>(found + 1));
  }
  std::string from;
  if (!args.since.empty()) {
    auto t = ParseRfc3339(args.since);
    if (!t.ok()) return Fail("--since: " + t.status().message());
    from = DecisionIdPrefix(*t);
  }
  SystemClock clock;
  auto engine = Engine::Open(*ws, &clock);
  if (!engine.ok()) return Fail(engine.status().message());

  std::ofstream file;
  if (!args.out.empty()) {
    file.open(args.out);
    if (!file) return Fail("cannot write " + args.out);
  }
  std::ostream& out = args.out.empty() ? std::cout : file;
  int64_t decisions = 0, lines = 0, rewards = 0;
  Profile profile;
  std::string last_subscriber;
  bool have_profile = false;
  Status s = (*engine)->ForEachDecision(from, [&](const StoredDecision& d) {
    ++decisions;
    rapidjson::Document doc;
    doc.Parse(d.record.data(), d.record.size());
    if (doc.HasParseError() || !doc.IsObject()) return true;  // a damaged record has nothing to export
    auto actions = doc.FindMember("actions");
    if (actions == doc.MemberEnd() || !actions->value.IsArray() || actions->value.Empty()) return true;
    if (d.subscriber_id != last_subscriber) {
      have_profile = (*engine)->ReadProfile(d.subscriber_id, &profile).ok();
      last_subscriber = d.subscriber_id;
    }
    const uint32_t decision_key = HistoryKey(d.decision_id);
    int position = 0;
    for (const auto& a : actions->value.GetArray()) {
      ++position;
      if (!a.IsObject() || !a.HasMember("action_id") || !a["action_id"].IsString()) continue;
      const std::string_view id(a["action_id"].GetString(), a["action_id"].GetStringLength());
      const double probability = a.HasMember("probability") && a["probability"].IsNumber() ? a["probability"].GetDouble() : 1.0;
      int reward = 0;
      if (have_profile) {
        const uint32_t action_key = HistoryKey(id);
        for (const Interaction& x : profile.interactions) {
          if (x.decision == decision_key && x.action == action_key && rewarded.count(x.kind)) reward = 1;
        }
      }
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      w.StartObject();
      w.Key("decision_id");
      w.String(d.decision_id.c_str(), static_cast<rapidjson::SizeType>(d.decision_id.size()));
      w.Key("subscriber_id");
      w.String(d.subscriber_id.c_str(), static_cast<rapidjson::SizeType>(d.subscriber_id.size()));
      w.Key("channel");
      w.String(d.channel.c_str(), static_cast<rapidjson::SizeType>(d.channel.size()));
      w.Key("action_id");
      w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
      w.Key("position");
      w.Int(position);
      w.Key("propensity");
      w.Double(probability);
      w.Key("reward");
      w.Int(reward);
      w.EndObject();
      out << sb.GetString() << '\n';
      ++lines;
      rewards += reward;
    }
    return static_cast<bool>(out);
  });
  if (!s.ok()) return Fail(s.message());
  if (!out) return Fail("writing the export failed");
  std::fprintf(stderr, "exported %lld impressions of %lld decisions (%lld rewarded)\n",
               static_cast<long long>(lines), static_cast<long long>(decisions), static_cast<long long>(rewards));
  return 0;
}

}  // namespace kairos::app
