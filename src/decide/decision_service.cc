#include "decide/decision_service.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>

#include "common/base64.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "decide/decider.h"
#include "decide/decision_json.h"
#include "schema/json_write.h"

namespace kairos {

namespace {
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
using json::Key;
void Str(JsonWriter& w, std::string_view s) { json::String(w, s); }

Result<rapidjson::Document> ParseRecord(const StoredDecision& stored) {
  rapidjson::Document doc;
  doc.Parse(stored.record.data(), stored.record.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Corruption("decision log record " + stored.decision_id + " is not a JSON object");
  }
  return doc;
}

std::string_view StringMember(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}
}  // namespace

DecisionService::DecisionService(Engine* engine, const Clock* clock,
                                 std::shared_ptr<const Decisioning> decisioning)
    : engine_(engine),
      clock_(clock),
      decisioning_(std::move(decisioning)),
      salt_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

Status DecisionService::Start() {
  // Today's impressions of actions with daily limits, so a restart does not reset the day. Only
  // the shown-actions list of each entry is read (no JSON); costs are the catalog's.
  const auto d = decisioning();
  bool any_limits = false;
  for (const Action& a : d->catalog.actions) {
    for (size_t c = 0; c < d->policies.channels.size(); ++c) any_limits |= VolumeLedger::HasLimits(a, static_cast<int>(c));
  }
  if (!any_limits) return Status::Ok();
  const int64_t today = DayOf(clock_->Now());
  return engine_->ForEachDecision(DecisionIdPrefix(today * kMsPerDay), [&](const StoredDecision& s) {
    const int channel = d->policies.ChannelIndex(s.channel);
    if (channel < 0) return true;
    ForEachShownAction(s.actions, [&](const ShownAction& shown) {
      const int index = d->catalog.ActionIndex(shown.action);
      if (index < 0) return;  // no longer in the catalog: no limit to count against
      const Action& a = d->catalog.actions[index];
      if (VolumeLedger::HasLimits(a, channel)) ledger_.Restore(a.id, s.channel, a.cost, today);
    });
    return true;
  });
}

std::string DecisionService::NewDecisionId(TimestampMs now) {
  // Time prefix (log order and retention), then 8 hex digits unique within the process and
  // unpredictable across processes.
  const uint64_t n = sequence_.fetch_add(1, std::memory_order_relaxed);
  const uint32_t suffix = static_cast<uint32_t>(StableHash64(std::to_string(salt_ ^ (n * 0x9e3779b97f4a7c15ULL))));
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%08x", suffix);
  return DecisionIdPrefix(now) + buf;
}

std::mutex& DecisionService::StripeOf(std::string_view subscriber_id) {
  return stripes_[StableHash64(subscriber_id) % stripes_.size()];
}

Result<DecideOutcome> DecisionService::Decide(std::string_view request_json) {
  const auto d = decisioning();
  KAIROS_ASSIGN_OR_RETURN(DecideRequest req, ParseDecideRequest(request_json, *d));
  return Decide(req, *d);
}

Result<DecideOutcome> DecisionService::Decide(const DecideRequest& req, const Decisioning& d) {
  const int channel = d.policies.ChannelIndex(req.channel);
  if (channel < 0) {
    return InvalidArgument("/channel: unknown channel \"" + req.channel.substr(0, 64) +
                               "\"; channels: " + d.policies.ChannelNames(),
                           "/channel");
  }
  // Held from the profile read to the durable write: the next decision for this subscriber sees
  // this one's impressions.
  std::unique_lock<std::mutex> lock(StripeOf(req.subscriber_id), std::defer_lock);
  if (!req.dry_run) lock.lock();
  thread_local Profile profile;
  thread_local std::string snapshot;  // the profile as stored: the decision record keeps it
  KAIROS_RETURN_IF_ERROR(engine_->ReadProfile(req.subscriber_id, &profile, &snapshot));
  const TimestampMs now = clock_->Now();
  DecideEnv env;
  env.zones = &zones_;
  env.ledger = &ledger_;
  env.reserve = !req.dry_run;
  DecideOutcome out;
  out.decision = kairos::Decide(d, profile, req, channel, now, env);
  Decision& dec = out.decision;
  dec.decision_id = req.dry_run ? "" : NewDecisionId(now);
  if (!req.dry_run) {
    Status s = Record(d, dec, req, snapshot);
    if (!s.ok()) {
      const ChannelDef& ch = d.policies.channels[channel];
      for (const ChosenAction& c : dec.actions) {
        const Action& a = d.catalog.actions[c.action];
        if (VolumeLedger::HasLimits(a, channel)) ledger_.Release(a, ch.name, DayOf(now));
      }
      return s;
    }
  }
  stats_.decisions.fetch_add(1, std::memory_order_relaxed);
  if (dec.actions.empty()) stats_.no_action.fetch_add(1, std::memory_order_relaxed);
  if (dec.control) stats_.control_group.fetch_add(1, std::memory_order_relaxed);
  stats_.actions_shown.fetch_add(static_cast<int64_t>(dec.actions.size()), std::memory_order_relaxed);
  out.json = DecisionToJson(d, dec, req.explain, req.dry_run);
  return out;
}

Status DecisionService::Record(const Decisioning& d, const Decision& dec, const DecideRequest& req,
                               std::string_view profile_bytes) {
  std::string actions;
  for (const ChosenAction& c : dec.actions) {
    const Action& a = d.catalog.actions[c.action];
    if (!actions.empty()) actions.push_back(',');
    actions.append(a.id).push_back(':');
    actions.append(d.catalog.groups[a.group].name).push_back(':');
    actions.append(d.catalog.issues[a.issue].name);
  }
  const std::string record = DecisionRecordJson(d, dec, req, profile_bytes);
  rapidjson::StringBuffer sb(nullptr, record.size() + 512);
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "event_id");
  Str(w, dec.decision_id);
  Key(w, "subscriber_id");
  Str(w, dec.subscriber_id);
  Key(w, "type");
  Str(w, "decision");
  Key(w, "ts");
  w.Int64(dec.ts);
  Key(w, "decision_id");
  Str(w, dec.decision_id);
  Key(w, "channel");
  Str(w, d.policies.channels[dec.channel].name);
  Key(w, "actions");
  Str(w, actions);
  Key(w, "control");
  w.Bool(dec.control);
  Key(w, "record");
  Str(w, record);
  w.EndObject();
  auto r = engine_->RecordBuiltin(std::string_view(sb.GetString(), sb.GetSize()));
  if (!r.ok()) return r.status().WithContext("recording decision " + dec.decision_id);
  return Status::Ok();
}

Result<ResponseOutcome> DecisionService::Respond(std::string_view request_json) {
  KAIROS_ASSIGN_OR_RETURN(ResponseRequest req, ParseResponseRequest(request_json));
  return Respond(req);
}

Result<ResponseOutcome> DecisionService::Respond(const ResponseRequest& req) {
  KAIROS_ASSIGN_OR_RETURN(StoredDecision stored, engine_->FindDecision(req.decision_id));
  if (!req.subscriber_id.empty() && req.subscriber_id != stored.subscriber_id) {
    return InvalidArgument("/decision_id: decision " + req.decision_id + " belongs to another subscriber",
                           "/decision_id");
  }
  // The entry's shown-actions list answers this; the record (with its snapshot) is not parsed.
  bool shown = false;
  std::string offered;
  ForEachShownAction(stored.actions, [&](const ShownAction& a) {
    shown |= a.action == req.action_id;
    offered += (offered.empty() ? "" : ", ") + std::string(a.action);
  });
  if (!shown) {
    return InvalidArgument("/action_id: action " + req.action_id.substr(0, 64) + " was not shown in decision " +
                               req.decision_id + " (shown: " + (offered.empty() ? "none" : offered) + ")",
                           "/action_id");
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "event_id");
  Str(w, "r/" + req.decision_id + "/" + req.action_id + "/" + req.outcome);
  Key(w, "subscriber_id");
  Str(w, stored.subscriber_id);
  Key(w, "type");
  Str(w, "response");
  Key(w, "ts");
  w.Int64(clock_->Now());
  Key(w, "decision_id");
  Str(w, req.decision_id);
  Key(w, "action_id");
  Str(w, req.action_id);
  Key(w, "outcome");
  Str(w, req.outcome);
  if (!stored.channel.empty()) {
    Key(w, "channel");
    Str(w, stored.channel);
  }
  w.EndObject();
  KAIROS_ASSIGN_OR_RETURN(IngestResult r, engine_->RecordBuiltin(std::string_view(sb.GetString(), sb.GetSize())));
  ResponseOutcome out;
  out.recorded = r.accepted > 0;
  out.subscriber_id = stored.subscriber_id;
  (out.recorded ? stats_.responses : stats_.duplicate_responses).fetch_add(1, std::memory_order_relaxed);
  return out;
}

Result<std::string> DecisionService::DecisionRecord(std::string_view decision_id) {
  KAIROS_ASSIGN_OR_RETURN(StoredDecision stored, engine_->FindDecision(decision_id));
  return stored.record;
}

Result<std::string> DecisionService::Replay(std::string_view decision_id) {
  KAIROS_ASSIGN_OR_RETURN(StoredDecision stored, engine_->FindDecision(decision_id));
  KAIROS_ASSIGN_OR_RETURN(rapidjson::Document doc, ParseRecord(stored));
  const auto d = decisioning();
  const std::string_view b64 = StringMember(doc, "profile");
  std::string bytes;
  if (b64.empty() || !DecodeBase64(b64, &bytes)) {
    return Status(ErrorCode::kFailedPrecondition, "decision " + stored.decision_id + " was logged without a profile snapshot");
  }
  Profile profile;
  KAIROS_RETURN_IF_ERROR(DecodeProfile(*d->schema, bytes, &profile));
  // Rebuild the request as it was.
  rapidjson::StringBuffer req_sb;
  JsonWriter rw(req_sb);
  rw.StartObject();
  Key(rw, "subscriber_id");
  Str(rw, stored.subscriber_id);
  Key(rw, "channel");
  Str(rw, StringMember(doc, "channel"));
  if (auto it = doc.FindMember("context"); it != doc.MemberEnd() && it->value.IsObject()) {
    Key(rw, "context");
    it->value.Accept(rw);
  }
  if (auto it = doc.FindMember("limit"); it != doc.MemberEnd() && it->value.IsInt() && it->value.GetInt() > 0) {
    Key(rw, "limit");
    rw.Int(it->value.GetInt());
  }
  Key(rw, "explain");
  rw.Bool(true);
  rw.EndObject();
  KAIROS_ASSIGN_OR_RETURN(DecideRequest req,
                          ParseDecideRequest(std::string_view(req_sb.GetString(), req_sb.GetSize()), *d));
  KAIROS_ASSIGN_OR_RETURN(TimestampMs ts, ParseRfc3339(StringMember(doc, "ts")));
  DecideEnv env;
  env.zones = &zones_;  // no ledger: volumes are today's state, not the decision's
  Decision replay = kairos::Decide(*d, profile, req, d->policies.ChannelIndex(req.channel), ts, env);
  replay.decision_id = stored.decision_id;

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  std::vector<std::string> logged, replayed;
  if (auto it = doc.FindMember("actions"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& a : it->value.GetArray()) {
      if (a.IsObject()) logged.emplace_back(StringMember(a, "action_id"));
    }
  }
  for (const ChosenAction& c : replay.actions) replayed.push_back(d->catalog.actions[c.action].id);
  w.StartObject();
  Key(w, "decision_id");
  Str(w, stored.decision_id);
  Key(w, "same_catalog");
  w.Bool(StringMember(doc, "catalog_version") == d->version);
  Key(w, "identical");
  w.Bool(logged == replayed);
  for (const auto& [name, ids] : {std::pair<const char*, const std::vector<std::string>*>{"logged", &logged},
                                  {"replayed", &replayed}}) {
    Key(w, name);
    w.StartArray();
    for (const std::string& id : *ids) Str(w, id);
    w.EndArray();
  }
  const std::string replay_json = DecisionToJson(*d, replay, true, true);
  Key(w, "replay");
  w.RawValue(replay_json.data(), replay_json.size(), rapidjson::kObjectType);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Status DecisionService::Reload(const std::string& dir) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  const auto current = decisioning();
  auto loaded = Decisioning::Load(dir, current->schema);
  if (!loaded.ok()) {
    stats_.failed_reloads.fetch_add(1, std::memory_order_relaxed);
    return loaded.status();
  }
  decisioning_.store(*loaded);
  stats_.reloads.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

DecisionStats DecisionService::Stats() const {
  DecisionStats s;
  s.decisions = stats_.decisions.load();
  s.no_action = stats_.no_action.load();
  s.control_group = stats_.control_group.load();
  s.actions_shown = stats_.actions_shown.load();
  s.responses = stats_.responses.load();
  s.duplicate_responses = stats_.duplicate_responses.load();
  s.reloads = stats_.reloads.load();
  s.failed_reloads = stats_.failed_reloads.load();
  return s;
}

}  // namespace kairos
