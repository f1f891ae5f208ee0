#include "catalog/segmentation.h"

#include <cmath>

#include "catalog/scalar_position.h"
#include "schema/yaml_util.h"

namespace kairos {

namespace {

constexpr size_t kMaxNamedExprs = 100;
constexpr size_t kMaxCases = 50;

class SegmentationParser {
 public:
  SegmentationParser(std::string_view text, std::string_view file, const FeatureSpace& features)
      : text_(text), file_(file), features_(features) {}

  Result<Segmentation> Parse() {
    Segmentation out;
    out.present = true;
    KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text_, file_));
    if (root.IsNull()) return out;
    if (!root.IsMap()) return YamlError(file_, root, "segments.yaml must be a mapping");
    KAIROS_RETURN_IF_ERROR(CheckKeys(
        file_, root, {"schedule", "value", "tiers", "segments", "rfm", "clusters", "clv", "churn"},
        "segments"));
    if (const YAML::Node n = root["schedule"]) {
      KAIROS_ASSIGN_OR_RETURN(out.schedule_ms, YamlDurationMs(file_, n, "schedule"));
      if (out.schedule_ms != 0 && out.schedule_ms < 60000) {
        return YamlError(file_, n, "schedule must be 0 (off) or at least 1m");
      }
    }
    if (root["value"]) KAIROS_RETURN_IF_ERROR(Value(root["value"], &out));
    if (root["tiers"]) KAIROS_RETURN_IF_ERROR(Tiers(root["tiers"], &out.tiers));
    if (const YAML::Node s = root["segments"]) {
      if (!s.IsMap()) return YamlError(file_, s, "segments must be a mapping of behaviour, buyer, usage");
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, s, {"behaviour", "buyer", "usage"}, "segments"));
      if (s["behaviour"]) KAIROS_RETURN_IF_ERROR(Cases(s["behaviour"], "segments.behaviour", &out.behaviour));
      if (s["buyer"]) KAIROS_RETURN_IF_ERROR(Cases(s["buyer"], "segments.buyer", &out.buyer));
      if (s["usage"]) KAIROS_RETURN_IF_ERROR(Cases(s["usage"], "segments.usage", &out.usage));
    }
    if (const YAML::Node r = root["rfm"]) {
      if (!r.IsMap()) return YamlError(file_, r, "rfm must be a mapping {recency_days, frequency}");
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, r, {"recency_days", "frequency"}, "rfm"));
      if (r["recency_days"]) {
      KAIROS_ASSIGN_OR_RETURN(out.recency_days, Compile(r["recency_days"], "rfm.recency_days", expr::Type::kNumber));
    }
      if (r["frequency"]) {
      KAIROS_ASSIGN_OR_RETURN(out.frequency, Compile(r["frequency"], "rfm.frequency", expr::Type::kNumber));
    }
    }
    if (root["clusters"]) KAIROS_RETURN_IF_ERROR(Clusters(root["clusters"], &out.clusters));
    if (root["clv"]) KAIROS_RETURN_IF_ERROR(Clv(root["clv"], &out.clv));
    if (root["churn"]) KAIROS_RETURN_IF_ERROR(Churn(root["churn"], &out.churn));
    return out;
  }

 private:
  // Compiles an expression of the expected type (kNull: number, time or duration, read as a
  // number of days when not a number).
  Result<std::shared_ptr<const expr::Expr>> Compile(const YAML::Node& n, std::string_view what,
                                                    expr::Type want) {
    KAIROS_ASSIGN_OR_RETURN(auto e, CompileScalar(text_, file_, n, features_, what));
    for (const expr::Reference& r : e->references()) {
      if (features_.features()[r.slot].per_candidate()) {
        return YamlError(file_, n, std::string(what) + " reads " + r.name +
                                       ", which belongs to an action; segments are per subscriber");
      }
      if (features_.features()[r.slot].kind == FeatureKind::kScore) {
        return YamlError(file_, n, std::string(what) + " reads " + r.name +
                                       ", a score this job writes; read profile data instead");
      }
    }
    const expr::Type t = e->type();
    const bool numeric = t == expr::Type::kNumber || t == expr::Type::kTime || t == expr::Type::kDuration;
    if (want == expr::Type::kBool ? t != expr::Type::kBool : !numeric) {
      return YamlError(file_, n, std::string(what) + " has type " + expr::TypeName(t) + "; expected " +
                                     (want == expr::Type::kBool ? "bool" : "a number"));
    }
    return e;
  }

  Result<NamedExpr> Named(const std::string& name, const YAML::Node& n, std::string_view what) {
    NamedExpr out;
    out.name = name;
    KAIROS_ASSIGN_OR_RETURN(out.expr, Compile(n, std::string(what) + "." + name, expr::Type::kNumber));
    out.line = n.Mark().line + 1;
    return out;
  }

  Status NamedMap(const YAML::Node& node, std::string_view what, std::vector<NamedExpr>* out) {
    if (!node.IsMap()) return YamlError(file_, node, std::string(what) + " must be a mapping of name: expression");
    if (node.size() > kMaxNamedExprs) {
      return YamlError(file_, node, std::string(what) + ": at most " + std::to_string(kMaxNamedExprs));
    }
    for (const auto& kv : node) {
      KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, kv.first, what));
      for (const NamedExpr& e : *out) {
        if (e.name == name) return YamlError(file_, kv.first, std::string(what) + ": duplicate " + name);
      }
      KAIROS_ASSIGN_OR_RETURN(NamedExpr e, Named(name, kv.second, what));
      out->push_back(std::move(e));
    }
    return Status::Ok();
  }

  Result<double> Number(const YAML::Node& n, std::string_view what, double lo, double hi) {
    KAIROS_ASSIGN_OR_RETURN(double v, YamlNumber(file_, n, what));
    if (!std::isfinite(v) || v < lo || v > hi) {
      return YamlError(file_, n, std::string(what) + " must be between " + Fmt(lo) + " and " + Fmt(hi));
    }
    return v;
  }
  static std::string Fmt(double v) {
    std::string s = std::to_string(v);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
      const bool dot = s.back() == '.';
      s.pop_back();
      if (dot) break;
    }
    return s;
  }

  Status Value(const YAML::Node& v, Segmentation* out) {
    if (!v.IsMap()) return YamlError(file_, v, "value must be a mapping {months, revenue, margin, effort}");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, v, {"months", "revenue", "margin", "effort"}, "value"));
    if (v["months"]) {
      KAIROS_ASSIGN_OR_RETURN(out->months, Number(v["months"], "value.months", 0.1, 120));
    }
    if (v["revenue"]) {
      KAIROS_ASSIGN_OR_RETURN(out->revenue, Compile(v["revenue"], "value.revenue", expr::Type::kNumber));
    }
    if (v["margin"]) {
      KAIROS_ASSIGN_OR_RETURN(out->margin, Compile(v["margin"], "value.margin", expr::Type::kNumber));
    }
    if (const YAML::Node e = v["effort"]) {
      if (!e.IsMap()) return YamlError(file_, e, "value.effort must be a mapping of name: {amount, cost}");
      for (const auto& kv : e) {
        KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, kv.first, "value.effort"));
        const std::string what = "value.effort." + name;
        const YAML::Node c = kv.second;
        if (!c.IsMap() || !c["amount"] || !c["cost"]) {
          return YamlError(file_, c, what + " must be {amount: <expression>, cost: <EUR per unit>}");
        }
        KAIROS_RETURN_IF_ERROR(CheckKeys(file_, c, {"amount", "cost"}, what));
        EffortComponent comp;
        KAIROS_ASSIGN_OR_RETURN(comp.amount, Named(name, c["amount"], "value.effort"));
        KAIROS_ASSIGN_OR_RETURN(comp.cost, Number(c["cost"], what + ".cost", 0, 1e6));
        for (const EffortComponent& other : out->effort) {
          if (other.amount.name == name) return YamlError(file_, kv.first, "value.effort: duplicate " + name);
        }
        out->effort.push_back(std::move(comp));
      }
    }
    return Status::Ok();
  }

  Status Tiers(const YAML::Node& t, TierConfig* out) {
    if (!t.IsMap()) return YamlError(file_, t, "tiers must be a mapping");
    KAIROS_RETURN_IF_ERROR(
        CheckKeys(file_, t, {"method", "value_high", "value_low", "effort_high", "names"}, "tiers"));
    if (t["method"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string m, YamlString(file_, t["method"], "tiers.method"));
      if (m == "quantile") out->method = ThresholdMethod::kQuantile;
      else if (m == "absolute") out->method = ThresholdMethod::kAbsolute;
      else return YamlError(file_, t["method"], "tiers.method must be quantile or absolute");
    }
    const bool q = out->method == ThresholdMethod::kQuantile;
    const double hi = q ? 1 : 1e9;
    const double lo = q ? 0 : -1e9;
    if (!q) out->value_high = 50, out->value_low = 15, out->effort_high = 10;
    if (t["value_high"]) {
      KAIROS_ASSIGN_OR_RETURN(out->value_high, Number(t["value_high"], "tiers.value_high", lo, hi));
    }
    if (t["value_low"]) {
      KAIROS_ASSIGN_OR_RETURN(out->value_low, Number(t["value_low"], "tiers.value_low", lo, hi));
    }
    if (t["effort_high"]) {
      KAIROS_ASSIGN_OR_RETURN(out->effort_high, Number(t["effort_high"], "tiers.effort_high", lo, hi));
    }
    if (out->value_low > out->value_high) {
      return YamlError(file_, t, "tiers.value_low must not be above tiers.value_high");
    }
    if (const YAML::Node names = t["names"]) {
      if (!names.IsMap()) return YamlError(file_, names, "tiers.names must be a mapping of high, mid, low");
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, names, {"high", "mid", "low"}, "tiers.names"));
      const char* levels[] = {"low", "mid", "high"};
      for (int level = 0; level < 3; ++level) {
        const YAML::Node row = names[levels[level]];
        if (!row) continue;
        const std::string what = std::string("tiers.names.") + levels[level];
        if (!row.IsMap()) return YamlError(file_, row, what + " must be {low_effort: NAME, high_effort: NAME}");
        KAIROS_RETURN_IF_ERROR(CheckKeys(file_, row, {"low_effort", "high_effort"}, what));
        if (row["low_effort"]) {
      KAIROS_ASSIGN_OR_RETURN(out->names[level][0], SegmentName(row["low_effort"], what));
    }
        if (row["high_effort"]) {
      KAIROS_ASSIGN_OR_RETURN(out->names[level][1], SegmentName(row["high_effort"], what));
    }
      }
    }
    return Status::Ok();
  }

  Result<std::string> SegmentName(const YAML::Node& n, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, n, what));
    if (s.empty() || s.size() > 64) return YamlError(file_, n, std::string(what) + ": a name of 1..64 characters");
    return s;
  }

  Status Cases(const YAML::Node& node, std::string_view what, std::vector<SegmentCase>* out) {
    if (!node.IsSequence()) {
      return YamlError(file_, node, std::string(what) + " must be a list of {name, when}; the first case that holds wins");
    }
    if (node.size() > kMaxCases) return YamlError(file_, node, std::string(what) + ": at most 50 cases");
    for (const YAML::Node& c : node) {
      if (!c.IsMap() || !c["name"]) return YamlError(file_, c, std::string(what) + ": a case is {name: NAME, when: <condition>}");
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, c, {"name", "when"}, what));
      if (!out->empty() && out->back().when == nullptr) {
        return YamlError(file_, c, std::string(what) + ": a case after the default (the case without when) is never used");
      }
      SegmentCase sc;
      KAIROS_ASSIGN_OR_RETURN(sc.name, SegmentName(c["name"], what));
      for (const SegmentCase& other : *out) {
        if (other.name == sc.name) return YamlError(file_, c["name"], std::string(what) + ": duplicate case " + sc.name);
      }
      if (c["when"]) {
      KAIROS_ASSIGN_OR_RETURN(sc.when, Compile(c["when"], std::string(what) + "." + sc.name, expr::Type::kBool));
    }
      sc.line = c.Mark().line + 1;
      out->push_back(std::move(sc));
    }
    return Status::Ok();
  }

  Status Clusters(const YAML::Node& c, ClusterConfig* out) {
    if (!c.IsMap()) return YamlError(file_, c, "clusters must be a mapping {k, features, ...}");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, c, {"k", "sample", "transform", "seed", "features"}, "clusters"));
    if (const YAML::Node k = c["k"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, k, "clusters.k"));
      const size_t dots = s.find("..");
      char* end = nullptr;
      const std::string a = s.substr(0, dots);
      const long k_min = std::strtol(a.c_str(), &end, 10);
      bool ok = !a.empty() && *end == '\0';
      long k_max = k_min;
      if (dots != std::string::npos) {
        const std::string b = s.substr(dots + 2);
        k_max = std::strtol(b.c_str(), &end, 10);
        ok = ok && !b.empty() && *end == '\0';
      }
      if (!ok || k_min < 2 || k_max > 30 || k_min > k_max) {
        return YamlError(file_, k, "clusters.k must be a number of clusters (2..30) or a range such as 2..8");
      }
      out->k_min = static_cast<int>(k_min);
      out->k_max = static_cast<int>(k_max);
    }
    if (c["sample"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, c["sample"], "clusters.sample"));
      if (n < 100 || n > 10000000) return YamlError(file_, c["sample"], "clusters.sample must be 100..10000000");
      out->sample = static_cast<int>(n);
    }
    if (c["transform"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string t, YamlString(file_, c["transform"], "clusters.transform"));
      if (t == "log1p") out->log_transform = true;
      else if (t == "none") out->log_transform = false;
      else return YamlError(file_, c["transform"], "clusters.transform must be log1p or none");
    }
    if (c["seed"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t s, YamlInt(file_, c["seed"], "clusters.seed"));
      out->seed = static_cast<uint64_t>(s);
    }
    if (c["features"]) KAIROS_RETURN_IF_ERROR(NamedMap(c["features"], "clusters.features", &out->features));
    if (!out->features.empty() && out->features.size() < 2) {
      return YamlError(file_, c["features"], "clusters.features: at least 2 features");
    }
    return Status::Ok();
  }

  Result<int> Aggregate(const YAML::Node& n, std::string_view what, bool count) {
    KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, n, what));
    const Schema& schema = features_.schema();
    const int idx = schema.AggregateIndex(name);
    if (idx < 0) return YamlError(file_, n, std::string(what) + ": unknown aggregate " + name);
    const AggregateDef& def = schema.aggregates()[idx];
    const bool ok = count ? def.op == AggregateOp::kCount : def.op == AggregateOp::kSum;
    if (!ok) {
      return YamlError(file_, n, std::string(what) + ": " + name + " must be a windowed " +
                                     (count ? "count" : "sum") + " aggregate");
    }
    return idx;
  }

  Status Clv(const YAML::Node& c, ClvConfig* out) {
    if (!c.IsMap()) return YamlError(file_, c, "clv must be a mapping");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, c,
                                     {"transactions", "spend", "margin", "recurring_margin",
                                      "annual_discount_rate", "fit_sample"},
                                     "clv"));
    if (!c["transactions"] || !c["spend"]) {
      return YamlError(file_, c, "clv needs transactions (a count aggregate) and spend (a sum aggregate)");
    }
    KAIROS_ASSIGN_OR_RETURN(out->transactions_aggregate, Aggregate(c["transactions"], "clv.transactions", true));
    KAIROS_ASSIGN_OR_RETURN(out->spend_aggregate, Aggregate(c["spend"], "clv.spend", false));
    const Schema& schema = features_.schema();
    if (schema.aggregates()[out->transactions_aggregate].event_type !=
        schema.aggregates()[out->spend_aggregate].event_type) {
      return YamlError(file_, c["spend"], "clv.spend must count the same event type as clv.transactions");
    }
    if (c["margin"]) {
      KAIROS_ASSIGN_OR_RETURN(out->margin_share, Number(c["margin"], "clv.margin", 0, 1));
    }
    if (c["recurring_margin"]) {
      KAIROS_ASSIGN_OR_RETURN(out->recurring_margin, Compile(c["recurring_margin"], "clv.recurring_margin", expr::Type::kNumber));
    }
    if (c["annual_discount_rate"]) {
      KAIROS_ASSIGN_OR_RETURN(out->annual_discount_rate, Number(c["annual_discount_rate"], "clv.annual_discount_rate", 0, 1));
    }
    if (c["fit_sample"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, c["fit_sample"], "clv.fit_sample"));
      if (n < 100 || n > 10000000) return YamlError(file_, c["fit_sample"], "clv.fit_sample must be 100..10000000");
      out->fit_sample = static_cast<int>(n);
    }
    return Status::Ok();
  }

  Status Churn(const YAML::Node& c, ChurnConfig* out) {
    if (!c.IsMap()) return YamlError(file_, c, "churn must be a mapping {model, features, top_drivers}");
    KAIROS_RETURN_IF_ERROR(CheckKeys(
        file_, c, {"model", "features", "top_drivers", "horizon", "label", "keep_snapshots"}, "churn"));
    if (c["label"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, c["label"], "churn.label"));
      const int idx = features_.schema().AggregateIndex(name);
      if (idx < 0 || features_.schema().aggregates()[idx].op != AggregateOp::kLastTime) {
        return YamlError(file_, c["label"], "churn.label must name a last_time aggregate of the churn event");
      }
      out->label_aggregate = idx;
    }
    if (c["keep_snapshots"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, c["keep_snapshots"], "churn.keep_snapshots"));
      if (n < 0 || n > 1000) return YamlError(file_, c["keep_snapshots"], "churn.keep_snapshots must be 0..1000");
      out->keep_snapshots = static_cast<int>(n);
    }
    if (c["horizon"]) {
      KAIROS_ASSIGN_OR_RETURN(out->horizon_ms, YamlDurationMs(file_, c["horizon"], "churn.horizon"));
      if (out->horizon_ms < 86400000) return YamlError(file_, c["horizon"], "churn.horizon must be at least 1d");
    }
    if (c["model"]) {
      KAIROS_ASSIGN_OR_RETURN(out->model_path, YamlString(file_, c["model"], "churn.model"));
    }
    if (c["top_drivers"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, c["top_drivers"], "churn.top_drivers"));
      if (n < 0 || n > 10) return YamlError(file_, c["top_drivers"], "churn.top_drivers must be 0..10");
      out->top_drivers = static_cast<int>(n);
    }
    if (c["features"]) KAIROS_RETURN_IF_ERROR(NamedMap(c["features"], "churn.features", &out->features));
    if (!out->model_path.empty() && out->features.empty()) {
      return YamlError(file_, c, "churn: a model needs features (model feature name: expression)");
    }
    return Status::Ok();
  }

  std::string_view text_;
  std::string_view file_;
  const FeatureSpace& features_;
};

}  // namespace

Result<Segmentation> Segmentation::Parse(std::string_view yaml_text, std::string_view file_name,
                                         const FeatureSpace& features) {
  try {
    return SegmentationParser(yaml_text, file_name, features).Parse();
  } catch (const YAML::Exception& e) {
    return YamlError(file_name, e.mark, e.msg);
  }
}

}  // namespace kairos
