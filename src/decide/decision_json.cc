#include "decide/decision_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "common/base64.h"
#include "common/time_format.h"
#include "schema/json_write.h"

namespace kairos {

namespace {
// Strings in a decision come from configuration and client input: always valid UTF-8 output.
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                     rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

void Str(JsonWriter& w, std::string_view s) {
  if (!json::String(w, s)) {
    // Invalid UTF-8: write it with the bad bytes replaced.
    std::string clean;
    for (unsigned char c : s) clean.push_back(c < 0x80 ? static_cast<char>(c) : '?');
    json::String(w, clean);
  }
}
using json::Key;
using json::Time;
void Num(JsonWriter& w, double v) { json::Rounded(w, v, 1e6); }

void WriteChosen(JsonWriter& w, const Decisioning& d, const Decision& dec, const ChosenAction& c,
                 bool full) {
  const Action& a = d.catalog.actions[c.action];
  const Treatment& t = a.treatments[c.treatment];
  w.StartObject();
  Key(w, "action_id");
  Str(w, a.id);
  if (full) {
    Key(w, "name");
    Str(w, a.name);
    Key(w, "issue");
    Str(w, d.catalog.issues[a.issue].name);
    Key(w, "group");
    Str(w, d.catalog.groups[a.group].name);
    Key(w, "type");
    w.String(ActionTypeName(a.type));
  }
  Key(w, "treatment");
  Str(w, t.id);
  Key(w, "channel");
  Str(w, d.policies.channels[dec.channel].name);
  if (full) {
    Key(w, "content");
    w.StartObject();
    for (const auto& [k, v] : t.content) {
      Key(w, k);
      Str(w, v);
    }
    w.EndObject();
  }
  Key(w, "priority");
  Num(w, c.priority);
  Key(w, "propensity");
  Num(w, c.propensity);
  if (c.model_propensity != c.propensity) {
    Key(w, "model_propensity");
    Num(w, c.model_propensity);
  }
  Key(w, "value");
  Num(w, c.value);
  Key(w, "cost");
  Num(w, c.cost);
  if (full) {
    Key(w, "mandatory");
    w.Bool(c.mandatory);
  }
  Key(w, "probability");
  Num(w, c.probability);
  w.EndObject();
}

// The learning predictors' values as an object {"agg.data_mb(30d)": 812.5, "profile.plan": "M"}.
void WritePredictors(JsonWriter& w, const Decisioning& d, const Decision& dec) {
  Key(w, "predictors");
  w.StartObject();
  for (size_t i = 0; i < dec.predictors.size() && i < d.learning.predictors.size(); ++i) {
    const learn::PredictorValue& v = dec.predictors[i];
    Key(w, d.learning.predictors[i].name);
    if (v.missing) w.Null();
    else if (v.numeric) Num(w, v.num);
    else Str(w, v.str);
  }
  w.EndObject();
}

void WriteCandidate(JsonWriter& w, const Decisioning& d, const CandidateTrace& t, bool full) {
  w.StartObject();
  Key(w, "action_id");
  Str(w, d.catalog.actions[t.action].id);
  Key(w, "stage");
  w.String(StageName(t.stage));
  if (full && !t.reason.empty()) {
    Key(w, "reason");
    Str(w, t.reason);
  }
  if (full && !t.rule.empty()) {
    Key(w, "rule");
    Str(w, t.rule);
    Key(w, "origin");
    Str(w, t.origin);
    if (t.rule_line > 0) {
      Key(w, "line");
      w.Int(t.rule_line);
    }
  }
  if (full && !t.seen.empty()) {
    Key(w, "values");
    w.StartObject();
    for (const SeenValue& v : t.seen) {
      Key(w, v.name);
      Str(w, v.value);
    }
    w.EndObject();
  }
  if (t.scored) {
    Key(w, "propensity");
    Num(w, t.propensity);
    if (t.learned) {
      Key(w, "model_propensity");
      Num(w, t.model_propensity);
    }
    if (full) {
      Key(w, "context_weight");
      Num(w, t.context_weight);
      Key(w, "value");
      Num(w, t.value);
      Key(w, "levers");
      Num(w, t.levers);
      Key(w, "cost");
      Num(w, t.cost);
    }
    Key(w, "priority");
    Num(w, t.priority);
  }
  Key(w, "probability");
  Num(w, t.probability);
  w.EndObject();
}
}  // namespace

std::string DecisionToJson(const Decisioning& d, const Decision& dec, bool explain, bool dry_run) {
  rapidjson::StringBuffer sb(nullptr, 2048);
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "decision_id");
  Str(w, dec.decision_id);
  Key(w, "subscriber_id");
  Str(w, dec.subscriber_id);
  Key(w, "channel");
  Str(w, d.policies.channels[dec.channel].name);
  Key(w, "ts");
  Time(w, dec.ts);
  Key(w, "actions");
  w.StartArray();
  for (const ChosenAction& c : dec.actions) WriteChosen(w, d, dec, c, true);
  w.EndArray();
  Key(w, "no_action_reason");
  if (dec.no_action_reason.empty()) w.Null();
  else Str(w, dec.no_action_reason);
  Key(w, "control_group");
  w.Bool(dec.control);
  Key(w, "catalog_version");
  Str(w, dec.catalog_version);
  Key(w, "dry_run");
  w.Bool(dry_run);
  if (!dec.origin_json.empty()) {
    Key(w, "origin");
    w.RawValue(dec.origin_json.data(), dec.origin_json.size(), rapidjson::kObjectType);
  }
  if (explain) {
    Key(w, "explanation");
    w.StartObject();
    Key(w, "contact");
    w.StartObject();
    Key(w, "consent");
    w.Bool(dec.contact.consent);
    Key(w, "quiet_hours");
    w.Bool(dec.contact.quiet_hours);
    if (!dec.contact.zone.empty()) {
      Key(w, "time_zone");
      Str(w, dec.contact.zone);
      Key(w, "local_time");
      Str(w, FormatMinuteOfDay(dec.contact.local_minute));
    }
    Key(w, "cap_room");
    if (dec.contact.cap_room < 0) w.Null();
    else w.Int(dec.contact.cap_room);
    w.EndObject();
    if (d.learning.enabled) {
      Key(w, "exploration");
      w.String(learn::ExplorationMethodName(d.learning.exploration.method));
      if (dec.explored) {
        Key(w, "explored");
        w.Bool(true);
      }
      WritePredictors(w, d, dec);
    }
    if (!dec.counterfactual.empty()) {
      Key(w, "counterfactual");
      w.StartArray();
      for (const ChosenAction& c : dec.counterfactual) WriteChosen(w, d, dec, c, true);
      w.EndArray();
    }
    Key(w, "candidates");
    w.StartArray();
    for (const CandidateTrace& t : dec.candidates) WriteCandidate(w, d, t, true);
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string DecisionRecordJson(const Decisioning& d, const Decision& dec, const DecideRequest& req,
                               std::string_view profile_bytes) {
  rapidjson::StringBuffer sb(nullptr, 2048);
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "decision_id");
  Str(w, dec.decision_id);
  Key(w, "subscriber_id");
  Str(w, dec.subscriber_id);
  Key(w, "ts");
  Time(w, dec.ts);
  Key(w, "channel");
  Str(w, d.policies.channels[dec.channel].name);
  Key(w, "context");
  w.RawValue(req.context_json.data(), req.context_json.size(), rapidjson::kObjectType);
  Key(w, "limit");
  w.Int(req.limit);
  if (!req.origin_json.empty()) {
    Key(w, "origin");
    w.RawValue(req.origin_json.data(), req.origin_json.size(), rapidjson::kObjectType);
  }
  Key(w, "catalog_version");
  Str(w, dec.catalog_version);
  Key(w, "control_group");
  w.Bool(dec.control);
  Key(w, "actions");
  w.StartArray();
  for (const ChosenAction& c : dec.actions) WriteChosen(w, d, dec, c, false);
  w.EndArray();
  Key(w, "counterfactual");
  w.StartArray();
  for (const ChosenAction& c : dec.counterfactual) WriteChosen(w, d, dec, c, false);
  w.EndArray();
  Key(w, "candidates");
  w.StartArray();
  for (const CandidateTrace& t : dec.candidates) {
    if (t.scored || t.stage == Stage::kChosen) WriteCandidate(w, d, t, false);
  }
  w.EndArray();
  Key(w, "no_action_reason");
  if (dec.no_action_reason.empty()) w.Null();
  else Str(w, dec.no_action_reason);
  if (d.learning.enabled) WritePredictors(w, d, dec);
  if (!profile_bytes.empty()) {
    std::string b64;
    b64.reserve(profile_bytes.size() * 4 / 3 + 4);
    AppendBase64(profile_bytes, &b64);
    Key(w, "profile");
    Str(w, b64);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos
