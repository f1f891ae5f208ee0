#include "profile/profile_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cmath>

#include "common/time_format.h"
#include "profile/forecast.h"
#include "schema/event.h"
#include "schema/json_write.h"
#include "schema/score_fields.h"

namespace kairos {

namespace {
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

using json::Key;
void Str(JsonWriter& w, std::string_view s) { json::String(w, s); }
using json::Time;
// Rounded to 4 significant decimals: float buckets carry no more precision than that.
void Num(JsonWriter& w, double v) { json::Rounded(w, v, 1e4); }
void OptNum(JsonWriter& w, const std::optional<double>& v) {
  if (v) Num(w, *v);
  else w.Null();
}
}  // namespace

std::string ProfileToJson(const Schema& schema, std::string_view subscriber_id, const Profile& p,
                          TimestampMs now) {
  rapidjson::StringBuffer sb(nullptr, 4096);
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "subscriber_id");
  Str(w, subscriber_id);
  Key(w, "as_of");
  Time(w, now);
  Key(w, "events_applied");
  w.Int64(p.events_applied);
  Key(w, "first_seen");
  Time(w, p.first_seen);
  Key(w, "last_seen");
  Time(w, p.last_seen);

  Key(w, "attributes");
  w.StartObject();
  for (size_t i = 0; i < p.attributes.size(); ++i) {
    const AttributeDef& def = schema.attributes()[i];
    Key(w, def.name);
    WriteJsonValue(w, def.values, p.attributes[i].value);
  }
  w.EndObject();

  Key(w, "aggregates");
  w.StartObject();
  for (size_t i = 0; i < p.aggregates.size(); ++i) {
    const AggregateDef& def = schema.aggregates()[i];
    const AggregateState& s = p.aggregates[i];
    Key(w, def.name);
    w.StartObject();
    if (def.op == AggregateOp::kLastTime) {
      Key(w, "last");
      if (s.last_ms >= 0) Time(w, s.last_ms);
      else w.Null();
      Key(w, "days_since");
      if (s.last_ms >= 0) Num(w, static_cast<double>(now - s.last_ms) / kMsPerDay);
      else w.Null();
    } else {
      for (int days : def.windows_days) {
        char key[16];
        char* end = std::to_chars(key, key + sizeof key - 1, days).ptr;
        *end++ = 'd';
        w.Key(key, static_cast<rapidjson::SizeType>(end - key));
        Num(w, WindowValue(schema, p, static_cast<int>(i), days, now));
      }
    }
    w.EndObject();
  }
  w.EndObject();

  Key(w, "forecast");
  w.StartObject();
  for (const ForecastDef& def : schema.forecasts()) {
    const ForecastResult f = ComputeForecast(schema, def, p, now);
    Key(w, def.name);
    w.StartObject();
    Key(w, "cycle_start");
    Time(w, f.cycle_start);
    Key(w, "cycle_end");
    Time(w, f.cycle_end);
    Key(w, "days_left");
    Num(w, f.days_left);
    Key(w, "used");
    Num(w, f.used);
    Key(w, "allowance");
    OptNum(w, f.allowance);
    Key(w, "remaining");
    OptNum(w, f.remaining);
    Key(w, "daily_mean");
    Num(w, f.daily_mean);
    Key(w, "daily_sd");
    Num(w, f.daily_sd);
    Key(w, "days_observed");
    w.Int(f.days_observed);
    Key(w, "expected_to_cycle_end");
    Num(w, f.expected_to_cycle_end);
    Key(w, "interval_90");
    w.StartArray();
    Num(w, f.interval_low);
    Num(w, f.interval_high);
    w.EndArray();
    Key(w, "expected_cycle_total");
    Num(w, f.expected_cycle_total);
    Key(w, "days_to_depletion");
    OptNum(w, f.days_to_depletion);
    Key(w, "p_depletion");
    OptNum(w, f.p_depletion);
    w.EndObject();
  }
  w.EndObject();

  // The latest `kairos segment` run's scores (null before the first run).
  Key(w, "scores");
  if (p.scored_ms == 0) {
    w.Null();
  } else {
    w.StartObject();
    Key(w, "run");
    Str(w, p.score_run);
    Key(w, "scored_at");
    Time(w, p.scored_ms);
    for (const ScoreField& f : ScoreFields()) {
      const size_t i = static_cast<size_t>(f.id);
      const Value& v = i < p.scores.size() ? p.scores[i] : Value::Null();
      Key(w, f.name);
      if (v.is_null) w.Null();
      else if (f.type == FieldType::kNumber) Num(w, v.number);
      else Str(w, v.s);
    }
    w.EndObject();
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos
