#include "decide/uplift_report.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cmath>
#include <map>

#include "common/hash.h"
#include "common/time_format.h"
#include "decide/history.h"
#include "profile/profile.h"
#include "schema/json_write.h"

namespace kairos {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
using json::Key;

struct Sums {
  int64_t n = 0;
  double accepted = 0, converted = 0, churned = 0, revenue = 0, revenue_sq = 0;
};

struct UnitOutcome {
  bool accepted = false, converted = false, churned = false;
  double revenue = 0;
};

void Add(Sums& s, const UnitOutcome& o) {
  ++s.n;
  s.accepted += o.accepted;
  s.converted += o.converted;
  s.churned += o.churned;
  s.revenue += o.revenue;
  s.revenue_sq += o.revenue * o.revenue;
}

void Num(JsonWriter& w, double v) { json::Rounded(w, v, 1e6); }

void WriteArm(JsonWriter& w, const Sums& s, const UpliftConfig& u) {
  w.StartObject();
  Key(w, "n");
  w.Int64(s.n);
  const double n = static_cast<double>(std::max<int64_t>(s.n, 1));
  Key(w, "acceptance");
  Num(w, s.accepted / n);
  Key(w, "conversion");
  Num(w, s.converted / n);
  Key(w, "churn");
  if (u.churn_aggregate >= 0)
    Num(w, s.churned / n);
  else
    w.Null();
  Key(w, "revenue");
  if (u.revenue_aggregate >= 0)
    Num(w, s.revenue / n);
  else
    w.Null();
  w.EndObject();
}

// {"value": diff, "ci95": [lo, hi]} or null when an arm is empty.
void WriteDiff(JsonWriter& w, double m1, double v1, int64_t n1, double m0, double v0, int64_t n0) {
  if (n1 == 0 || n0 == 0) {
    w.Null();
    return;
  }
  const double diff = m1 - m0;
  const double se = std::sqrt(v1 / n1 + v0 / n0);
  w.StartObject();
  Key(w, "value");
  Num(w, diff);
  Key(w, "ci95");
  w.StartArray();
  Num(w, diff - 1.96 * se);
  Num(w, diff + 1.96 * se);
  w.EndArray();
  w.EndObject();
}

void WriteUplift(JsonWriter& w, const Sums& t, const Sums& c, const UpliftConfig& u) {
  auto rate = [](double k, int64_t n) { return n > 0 ? k / n : 0.0; };
  auto prop = [&](const char* name, double kt, double kc) {
    Key(w, name);
    const double pt = rate(kt, t.n), pc = rate(kc, c.n);
    WriteDiff(w, pt, pt * (1 - pt), t.n, pc, pc * (1 - pc), c.n);
  };
  w.StartObject();
  prop("acceptance", t.accepted, c.accepted);
  prop("conversion", t.converted, c.converted);
  if (u.churn_aggregate >= 0) {
    prop("churn", t.churned, c.churned);
  } else {
    Key(w, "churn");
    w.Null();
  }
  Key(w, "revenue");
  if (u.revenue_aggregate >= 0) {
    auto mv = [](const Sums& s, double* m, double* v) {
      *m = s.n > 0 ? s.revenue / s.n : 0;
      *v = s.n > 1 ? std::max(0.0, (s.revenue_sq - s.n * *m * *m) / (s.n - 1)) : 0;
    };
    double mt, vt, mc, vc;
    mv(t, &mt, &vt);
    mv(c, &mc, &vc);
    WriteDiff(w, mt, vt, t.n, mc, vc, c.n);
  } else {
    w.Null();
  }
  w.EndObject();
}

void WriteGroup(JsonWriter& w, const std::array<Sums, 2>& arms, const UpliftConfig& u) {
  Key(w, "target");
  WriteArm(w, arms[0], u);
  Key(w, "control");
  WriteArm(w, arms[1], u);
  Key(w, "uplift");
  WriteUplift(w, arms[0], arms[1], u);
}

}  // namespace

Result<std::string> UpliftReport(Engine& engine, const Decisioning& d, TimestampMs since,
                                 TimestampMs now) {
  const UpliftConfig& u = d.learning.uplift;
  const Schema& schema = *d.schema;
  std::map<std::string, std::array<Sums, 2>> by_action;
  std::array<Sums, 2> overall;
  Profile profile;
  int64_t skipped = 0;

  // Outcome of one (decision, action) unit; `action_key` 0 = any action of the decision.
  auto outcome = [&](uint32_t decision_key, uint32_t action_key, TimestampMs ts, bool control) {
    UnitOutcome o;
    const TimestampMs end = std::min(now, ts + u.horizon_ms);
    if (!control) {
      const uint32_t outcomes = ResponseOutcomes(profile, decision_key, action_key);
      o.converted = HasOutcome(outcomes, Outcome::kConverted);
      o.accepted = o.converted || HasOutcome(outcomes, Outcome::kAccepted);
    }
    if (u.conversion_aggregate >= 0) {
      o.converted = false;
      for (int64_t day = DayOf(ts); day <= DayOf(end); ++day) {
        o.converted |= DayValue(schema, profile, u.conversion_aggregate, day) > 0;
      }
    }
    if (u.churn_aggregate >= 0) {
      const TimestampMs churn = profile.aggregates[u.churn_aggregate].last_ms;
      o.churned = churn >= ts && churn <= end;
    }
    if (u.revenue_aggregate >= 0) {
      for (int64_t day = DayOf(ts); day <= DayOf(end); ++day) {
        o.revenue += DayValue(schema, profile, u.revenue_aggregate, day);
      }
    }
    return o;
  };

  KAIROS_RETURN_IF_ERROR(
      engine.ForEachDecision(DecisionIdPrefix(since), [&](const StoredDecision& s) {
        rapidjson::Document doc;
        doc.Parse(s.record.data(), s.record.size());
        auto ts_it = doc.IsObject() ? doc.FindMember("ts") : rapidjson::Value::MemberIterator();
        if (!doc.IsObject() || ts_it == doc.MemberEnd() || !ts_it->value.IsString()) {
          ++skipped;
          return true;
        }
        auto ts = ParseRfc3339(
            std::string_view(ts_it->value.GetString(), ts_it->value.GetStringLength()));
        auto control_it = doc.FindMember("control_group");
        const bool control = control_it != doc.MemberEnd() && control_it->value.IsBool() &&
                             control_it->value.GetBool();
        auto list = doc.FindMember(control ? "counterfactual" : "actions");
        if (!ts.ok() || list == doc.MemberEnd() || !list->value.IsArray() || list->value.Empty())
          return true;
        if (!engine.ReadProfile(s.subscriber_id, &profile, nullptr).ok()) {
          ++skipped;
          return true;
        }
        const uint32_t decision_key = HistoryKey(s.decision_id);
        Add(overall[control], outcome(decision_key, 0, *ts, control));
        for (const auto& a : list->value.GetArray()) {
          if (!a.IsObject() || !a.HasMember("action_id") || !a["action_id"].IsString()) continue;
          const std::string id(a["action_id"].GetString(), a["action_id"].GetStringLength());
          Add(by_action[id][control], outcome(decision_key, HistoryKey(id), *ts, control));
        }
        return true;
      }));

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "since");
  json::Time(w, since);
  Key(w, "until");
  json::Time(w, now);
  Key(w, "horizon_days");
  Num(w, static_cast<double>(u.horizon_ms) / 86400000.0);
  Key(w, "control_share");
  Num(w, d.policies.control_group.share);
  Key(w, "skipped");
  w.Int64(skipped);
  Key(w, "overall");
  w.StartObject();
  WriteGroup(w, overall, u);
  w.EndObject();
  Key(w, "actions");
  w.StartArray();
  for (const auto& [id, arms] : by_action) {
    w.StartObject();
    Key(w, "action_id");
    json::String(w, id);
    WriteGroup(w, arms, u);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos
