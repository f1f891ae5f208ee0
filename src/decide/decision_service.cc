#include "decide/decision_service.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/base64.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "decide/decider.h"
#include "decide/decision_json.h"
#include "decide/history.h"
#include "decide/model_json.h"
#include "decide/uplift_report.h"
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
      bound_(std::make_shared<const Bound>(Bound{std::move(decisioning), {}})),
      salt_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

std::string DecisionService::ModelFile(const Workspace& ws) {
  return (std::filesystem::path(ws.StorePath()) / "models.kmdl").string();
}

std::shared_ptr<const DecisionService::Bound> DecisionService::Bind(std::shared_ptr<const Decisioning> d) {
  auto b = std::make_shared<Bound>();
  b->decisioning = d;
  if (!d->learning.enabled) return b;
  const std::vector<learn::PredictorSpec> specs = d->learning.Specs();
  const std::vector<learn::PredictorSpec> current = models_.predictors();
  const bool same = specs.size() == current.size() &&
                    std::equal(specs.begin(), specs.end(), current.begin(), [](const auto& x, const auto& y) {
                      return x.name == y.name && x.numeric == y.numeric;
                    });
  if (!same) models_.Configure(specs);
  b->bindings = BindModels(*d, &models_);
  return b;
}

Status DecisionService::Start() {
  const auto d = decisioning();
  // Without learning.yaml the model file is neither read nor written: the models it holds stay
  // as they were for when learning is turned on again.
  if (d->learning.enabled) models_.Configure(d->learning.Specs());
  if (d->learning.enabled && !model_file_.empty()) {
    auto cursor = models_.LoadFile(model_file_);
    if (cursor.ok()) {
      timeout_cursor_.store(*cursor);
    } else if (cursor.status().code() != ErrorCode::kNotFound) {
      return cursor.status();
    }
  }
  bound_.store(Bind(d));
  last_model_save_.store(clock_->Now());
  // Today's impressions of actions with daily limits, so a restart does not reset the day. Only
  // the shown-actions list of each entry is read (no JSON); costs are the catalog's.
  // Channel capacities the same way (a day's or an hour's contacts).
  bool any_limits = false;
  for (const Action& a : d->catalog.actions) {
    for (size_t c = 0; c < d->policies.channels.size(); ++c) any_limits |= VolumeLedger::HasLimits(a, static_cast<int>(c));
  }
  for (const ChannelDef& c : d->policies.channels) any_limits |= c.capacity >= 0;
  if (!any_limits) return Status::Ok();
  const int64_t today = DayOf(clock_->Now());
  return engine_->ForEachDecision(DecisionIdPrefix(today * kMsPerDay), [&](const StoredDecision& s) {
    const int channel = d->policies.ChannelIndex(s.channel);
    if (channel < 0) return true;
    const ChannelDef& ch = d->policies.channels[static_cast<size_t>(channel)];
    const TimestampMs at = static_cast<TimestampMs>(std::strtoll(s.decision_id.substr(1, 11).c_str(), nullptr, 16));
    ForEachShownAction(s.actions, [&](const ShownAction& shown) {
      if (ch.capacity >= 0) capacity_.Restore(ch.name, ch.capacity_period_ms, at);
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
  if (!req.dry_run && !req.decision_id.empty() && engine_->FindDecision(req.decision_id).ok()) {
    // A journey step re-run after a crash: its decision is already made and logged.
    return Status(ErrorCode::kAlreadyExists, "decision " + req.decision_id + " is already recorded",
                  "/decision_id");
  }
  thread_local Profile profile;
  thread_local std::string snapshot;  // the profile as stored: the decision record keeps it
  KAIROS_RETURN_IF_ERROR(engine_->ReadProfile(req.subscriber_id, &profile, &snapshot));
  const TimestampMs now = clock_->Now();
  DecideEnv env;
  env.zones = &zones_;
  env.ledger = &ledger_;
  env.capacity = &capacity_;
  env.reserve = !req.dry_run;
  const auto bound = bound_.load();
  if (bound->decisioning.get() == &d && !bound->bindings.empty()) {
    env.models = &models_;
    env.bindings = &bound->bindings;
  }
  DecideOutcome out;
  out.decision = kairos::Decide(d, profile, req, channel, now, env);
  Decision& dec = out.decision;
  dec.decision_id = req.dry_run ? "" : !req.decision_id.empty() ? req.decision_id : NewDecisionId(now);
  if (!req.dry_run) {
    Status s = Record(d, dec, req, snapshot);
    if (!s.ok()) {
      const ChannelDef& ch = d.policies.channels[channel];
      for (const ChosenAction& c : dec.actions) {
        const Action& a = d.catalog.actions[c.action];
        if (VolumeLedger::HasLimits(a, channel)) ledger_.Release(a, ch.name, DayOf(now));
        if (ch.capacity >= 0 && !c.mandatory) capacity_.Release(ch.name, ch.capacity_period_ms, now);
      }
      return s;
    }
  }
  stats_.decisions.fetch_add(1, std::memory_order_relaxed);
  if (dec.actions.empty()) stats_.no_action.fetch_add(1, std::memory_order_relaxed);
  if (dec.control) stats_.control_group.fetch_add(1, std::memory_order_relaxed);
  if (dec.explored) stats_.explored.fetch_add(1, std::memory_order_relaxed);
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
  // A response the models learn from (positive or negative) teaches them once per decision and
  // action: "accepted" then "converted" is one positive. Serialised per subscriber so that two
  // concurrent responses cannot both be the first.
  const auto bound = bound_.load();
  const Learning& learning = bound->decisioning->learning;
  const int outcome = OutcomeIndex(req.outcome);
  const bool label = learning.enabled && outcome >= 0 && (learning.positive[outcome] || learning.negative[outcome]);
  std::unique_lock<std::mutex> lock(StripeOf(stored.subscriber_id), std::defer_lock);
  bool labelled_before = false;
  if (label) {
    lock.lock();
    thread_local Profile profile;
    KAIROS_RETURN_IF_ERROR(engine_->ReadProfile(stored.subscriber_id, &profile, nullptr));
    const uint32_t before = ResponseOutcomes(profile, HistoryKey(req.decision_id), HistoryKey(req.action_id));
    for (int o = 0; o < kOutcomeCount; ++o) {
      labelled_before |= HasOutcome(before, static_cast<Outcome>(o)) && (learning.positive[o] || learning.negative[o]);
    }
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
  if (out.recorded && label && !labelled_before) Learn(*bound, stored, req.action_id, learning.positive[outcome]);
  return out;
}

Result<ResponseOutcome> DecisionService::RecordOfferAcceptance(std::string_view subscriber_id,
                                                               std::string_view action_id,
                                                               std::string_view channel,
                                                               std::string_view reference) {
  // The limits of the built-in response event's fields (schema.cc).
  if (subscriber_id.empty()) return InvalidArgument("empty subscriber_id", "subscriber_id");
  if (action_id.empty() || action_id.size() > 64) {
    return InvalidArgument("action_id must have 1 to 64 bytes", "action_id");
  }
  if (reference.empty() || reference.size() > 64) {
    return InvalidArgument("offer reference must have 1 to 64 bytes", "reference");
  }
  if (channel.size() > 32) return InvalidArgument("channel longer than 32 bytes", "channel");
  const auto bound = bound_.load();
  const Decisioning& d = *bound->decisioning;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "event_id");
  Str(w, "r/" + std::string(reference) + "/" + std::string(action_id) + "/accepted");
  Key(w, "subscriber_id");
  Str(w, subscriber_id);
  Key(w, "type");
  Str(w, "response");
  Key(w, "ts");
  w.Int64(clock_->Now());
  Key(w, "decision_id");
  Str(w, reference);
  Key(w, "action_id");
  Str(w, action_id);
  Key(w, "outcome");
  Str(w, "accepted");
  if (!channel.empty()) {
    Key(w, "channel");
    Str(w, channel);
  }
  if (const int a = d.catalog.ActionIndex(action_id); a >= 0) {
    const Action& action = d.catalog.actions[a];
    if (action.group >= 0) {
      Key(w, "group");
      Str(w, d.catalog.groups[action.group].name);
    }
    if (action.issue >= 0) {
      Key(w, "issue");
      Str(w, d.catalog.issues[action.issue].name);
    }
  }
  w.EndObject();
  KAIROS_ASSIGN_OR_RETURN(IngestResult r, engine_->RecordBuiltin(std::string_view(sb.GetString(), sb.GetSize())));
  ResponseOutcome out;
  out.recorded = r.accepted > 0;
  out.subscriber_id = std::string(subscriber_id);
  (out.recorded ? stats_.responses : stats_.duplicate_responses).fetch_add(1, std::memory_order_relaxed);
  return out;
}

void DecisionService::Learn(const Bound& b, const StoredDecision& stored, std::string_view action_id,
                            bool positive) {
  const Decisioning& d = *b.decisioning;
  if (b.bindings.empty()) return;
  const int action = d.catalog.ActionIndex(action_id);
  const int channel = d.policies.ChannelIndex(stored.channel);
  if (action < 0 || channel < 0) return;  // no longer in the catalog: no model to teach
  learn::ModelStore::Entry* model =
      b.bindings[static_cast<size_t>(action) * d.policies.channels.size() + static_cast<size_t>(channel)];
  if (model == nullptr) return;
  // The predictors as the decision saw them, matched by name (a predictor added since is missing).
  auto doc = ParseRecord(stored);
  if (!doc.ok()) return;
  std::vector<learn::PredictorValue> values(d.learning.predictors.size());
  if (auto it = doc->FindMember("predictors"); it != doc->MemberEnd() && it->value.IsObject()) {
    for (size_t i = 0; i < values.size(); ++i) {
      auto m = it->value.FindMember(d.learning.predictors[i].name.c_str());
      if (m == it->value.MemberEnd()) continue;
      if (m->value.IsNumber()) {
        values[i] = {false, true, m->value.GetDouble(), ""};
      } else if (m->value.IsString()) {
        values[i] = {false, false, 0, std::string(m->value.GetString(), m->value.GetStringLength())};
      }
    }
  }
  learn::EncodedPredictors encoded;
  auto lock = models_.Lock();
  models_.Encode(values, &encoded);
  models_.Update(model, encoded, positive);
  stats_.model_updates.fetch_add(1, std::memory_order_relaxed);
}

std::string DecisionService::ModelsJson() const { return ModelReportsToJson(models_.Health()); }

Result<std::string> DecisionService::ModelJson(std::string_view id) const {
  KAIROS_ASSIGN_OR_RETURN(learn::ModelStore::ModelReport r, models_.HealthOf(id));
  return ModelReportToJson(r);
}

std::string DecisionService::ExportModels() const { return models_.Snapshot(timeout_cursor_.load()); }

Status DecisionService::ImportModels(std::string_view snapshot) {
  if (!decisioning()->learning.enabled) {
    return Status(ErrorCode::kFailedPrecondition, "learning is off (the workspace has no learning.yaml): nothing to import into");
  }
  KAIROS_RETURN_IF_ERROR(learn::ModelStore::Validate(snapshot).status());
  KAIROS_ASSIGN_OR_RETURN(int64_t cursor, models_.Restore(snapshot));
  (void)cursor;  // the sweep cursor is this environment's own
  return SaveModels();
}

Status DecisionService::SaveModels() const {
  if (model_file_.empty() || !decisioning()->learning.enabled) return Status::Ok();
  return models_.SaveFile(model_file_, timeout_cursor_.load());
}

Result<int64_t> DecisionService::SweepTimeouts() {
  const auto bound = bound_.load();
  const Learning& learning = bound->decisioning->learning;
  if (!learning.enabled || learning.response_timeout_ms <= 0) return int64_t{0};
  std::lock_guard<std::mutex> sweep(sweep_mu_);
  const TimestampMs until = clock_->Now() - learning.response_timeout_ms;
  const TimestampMs from = timeout_cursor_.load();
  if (until <= from) return int64_t{0};
  // Collect first: responding writes through the engine, which the iteration must not overlap.
  std::vector<std::pair<std::string, std::string>> pending;  // decision, action
  std::vector<std::string> subscribers;
  const std::string end = DecisionIdPrefix(until);
  KAIROS_RETURN_IF_ERROR(engine_->ForEachDecision(DecisionIdPrefix(from), [&](const StoredDecision& s) {
    if (s.decision_id >= end) return false;
    ForEachShownAction(s.actions, [&](const ShownAction& a) {
      pending.emplace_back(s.decision_id, std::string(a.action));
      subscribers.push_back(s.subscriber_id);
    });
    return true;
  }));
  int64_t recorded = 0;
  thread_local Profile profile;
  for (size_t i = 0; i < pending.size(); ++i) {
    // Answered already (any outcome)? Then it is not silence.
    if (!engine_->ReadProfile(subscribers[i], &profile, nullptr).ok()) continue;
    if (ResponseOutcomes(profile, HistoryKey(pending[i].first), HistoryKey(pending[i].second)) != 0) continue;
    ResponseRequest r;
    r.decision_id = pending[i].first;
    r.action_id = pending[i].second;
    r.outcome = "ignored";
    auto out = Respond(r);
    if (out.ok() && out->recorded) ++recorded;
  }
  timeout_cursor_.store(until);
  stats_.timeouts.fetch_add(recorded, std::memory_order_relaxed);
  return recorded;
}

Status DecisionService::Maintain() {
  auto swept = SweepTimeouts();
  const TimestampMs now = clock_->Now();
  const int64_t interval = decisioning()->learning.snapshot_interval_ms;
  if (now - last_model_save_.load() >= interval) {
    last_model_save_.store(now);
    KAIROS_RETURN_IF_ERROR(SaveModels());
  }
  return swept.status();
}

Result<std::string> DecisionService::UpliftJson(TimestampMs since) const {
  return UpliftReport(*engine_, *decisioning(), since, clock_->Now());
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
  // The models have learned since: the candidates the decision ranked keep the propensity they
  // were ranked by (Thompson draws included); the others get today's models.
  const auto bound = bound_.load();
  if (bound->decisioning == d && !bound->bindings.empty()) {
    env.models = &models_;
    env.bindings = &bound->bindings;
  }
  std::vector<double> logged_p(d->catalog.actions.size(), std::nan(""));
  if (auto it = doc.FindMember("candidates"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& c : it->value.GetArray()) {
      if (!c.IsObject()) continue;
      const int a = d->catalog.ActionIndex(StringMember(c, "action_id"));
      auto p = c.FindMember("propensity");
      if (a >= 0 && p != c.MemberEnd() && p->value.IsNumber()) logged_p[a] = p->value.GetDouble();
    }
  }
  env.logged_propensities = &logged_p;
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

Status DecisionService::Reload(const std::string& dir,
                               const std::function<Status(const std::shared_ptr<const Decisioning>&)>& also) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  const auto current = decisioning();
  auto loaded = Decisioning::Load(dir, current->schema);
  if (loaded.ok() && also) {
    if (Status s = also(*loaded); !s.ok()) loaded = s;
  }
  if (!loaded.ok()) {
    stats_.failed_reloads.fetch_add(1, std::memory_order_relaxed);
    return loaded.status();
  }
  bound_.store(Bind(*loaded));
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
  s.model_updates = stats_.model_updates.load();
  s.timeouts = stats_.timeouts.load();
  s.explored = stats_.explored.load();
  return s;
}

}  // namespace kairos
