#include "decide/model_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "schema/json_write.h"

namespace kairos {

namespace {
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
using json::Key;
void Num(JsonWriter& w, double v) { json::Rounded(w, v, 1e4); }

void WriteReport(JsonWriter& w, const learn::ModelStore::ModelReport& r) {
  const learn::ModelHealth& h = r.health;
  const size_t slash = r.id.rfind('/');
  w.StartObject();
  Key(w, "id");
  json::String(w, r.id);
  Key(w, "action_id");
  json::String(w, r.id.substr(0, slash));
  Key(w, "channel");
  json::String(w, slash == std::string::npos ? "" : r.id.substr(slash + 1));
  Key(w, "kind");
  w.String(learn::ModelKindName(h.kind));
  Key(w, "responses");
  w.Int64(h.responses);
  Key(w, "positives");
  w.Int64(h.positives);
  Key(w, "auc");
  Num(w, h.auc);
  Key(w, "performance");
  Num(w, h.auc * 100);
  Key(w, "mean_predicted");
  Num(w, h.mean_predicted);
  Key(w, "observed_rate");
  Num(w, h.observed_rate);
  Key(w, "calibration");
  w.StartArray();
  for (const learn::CalibrationBucket& b : h.calibration) {
    w.StartObject();
    Key(w, "predicted");
    Num(w, b.predicted);
    Key(w, "observed");
    Num(w, b.observed);
    Key(w, "n");
    w.Int64(b.n);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "predictors");
  w.StartArray();
  for (const learn::PredictorHealth& p : h.predictors) {
    w.StartObject();
    Key(w, "name");
    json::String(w, p.name);
    Key(w, "auc");
    Num(w, p.auc);
    Key(w, "performance");
    Num(w, p.auc * 100);
    Key(w, "bins");
    w.Int(p.bins);
    Key(w, "active");
    w.Bool(p.active);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "flags");
  w.StartArray();
  for (const std::string& f : h.flags) json::String(w, f);
  w.EndArray();
  w.EndObject();
}
}  // namespace

std::string ModelReportToJson(const learn::ModelStore::ModelReport& report) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  WriteReport(w, report);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string ModelReportsToJson(const std::vector<learn::ModelStore::ModelReport>& reports) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "models");
  w.StartArray();
  for (const auto& r : reports) WriteReport(w, r);
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos
