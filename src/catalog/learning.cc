#include "catalog/learning.h"

#include "catalog/catalog.h"
#include "catalog/scalar_position.h"
#include "schema/yaml_util.h"

namespace kairos {

namespace {

constexpr size_t kMaxPredictorCount = 200;

std::string KindNames() { return "naive_bayes, bayes_logistic"; }

class LearningParser {
 public:
  LearningParser(std::string_view text, std::string_view file, const FeatureSpace& features,
                 const Catalog& catalog)
      : text_(text), file_(file), features_(features), catalog_(catalog) {}

  Result<Learning> Parse() {
    Learning out = Learning::Disabled(catalog_);
    out.enabled = true;
    out.exploration.method = learn::ExplorationMethod::kThompson;
    KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text_, file_));
    if (root.IsNull()) return out;
    if (!root.IsMap()) return YamlError(file_, root, "learning.yaml must be a mapping");
    KAIROS_RETURN_IF_ERROR(CheckKeys(
        file_, root,
        {"predictors", "models", "exploration", "responses", "snapshot_interval", "uplift"},
        "learning"));
    if (root["predictors"]) KAIROS_RETURN_IF_ERROR(Predictors(root["predictors"], &out));
    if (root["models"]) KAIROS_RETURN_IF_ERROR(Models(root["models"], &out));
    if (root["exploration"]) KAIROS_RETURN_IF_ERROR(Exploration(root["exploration"], &out));
    if (const YAML::Node r = root["responses"]) {
      if (!r.IsMap())
        return YamlError(file_, r, "responses must be a mapping such as {timeout: 7d}");
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, r, {"timeout"}, "responses"));
      if (r["timeout"]) {
        KAIROS_ASSIGN_OR_RETURN(out.response_timeout_ms,
                                YamlDurationMs(file_, r["timeout"], "responses.timeout"));
        if (out.response_timeout_ms < 0)
          return YamlError(file_, r["timeout"], "responses.timeout must not be negative");
      }
    }
    if (root["snapshot_interval"]) {
      KAIROS_ASSIGN_OR_RETURN(
          out.snapshot_interval_ms,
          YamlDurationMs(file_, root["snapshot_interval"], "snapshot_interval"));
      if (out.snapshot_interval_ms < 1000) {
        return YamlError(file_, root["snapshot_interval"], "snapshot_interval must be at least 1s");
      }
    }
    if (root["uplift"]) KAIROS_RETURN_IF_ERROR(Uplift(root["uplift"], &out));
    return out;
  }

 private:
  Status Predictors(const YAML::Node& node, Learning* out) {
    if (!node.IsSequence()) {
      return YamlError(file_, node,
                       "predictors must be a list of expressions such as agg.data_mb(30d)");
    }
    if (node.size() > kMaxPredictorCount) {
      return YamlError(file_, node,
                       "at most " + std::to_string(kMaxPredictorCount) + " predictors");
    }
    for (const YAML::Node& n : node) {
      if (!n.IsScalar()) return YamlError(file_, n, "a predictor must be an expression");
      expr::CompileError err;
      auto e = expr::Expr::Compile(n.Scalar(), features_, expr::Type::kNull, &err);
      if (e == nullptr) {
        const TextPosition pos = LocateInScalar(text_, n, err.offset);
        return InvalidArgument(std::string(file_) + ":" + std::to_string(pos.line) + ":" +
                               std::to_string(pos.column) + ": predictor: " + err.message);
      }
      for (const expr::Reference& r : e->references()) {
        if (features_.features()[r.slot].per_candidate()) {
          return YamlError(file_, n,
                           "predictor " + n.Scalar() + " reads " + r.name +
                               ", which differs per action; predictors are read once per decision");
        }
      }
      PredictorDef p;
      p.name = n.Scalar();
      switch (e->type()) {
        case expr::Type::kNumber:
        case expr::Type::kTime:
        case expr::Type::kDuration:
          p.numeric = true;
          break;
        case expr::Type::kString:
        case expr::Type::kBool:
          p.numeric = false;
          break;
        default:
          return YamlError(
              file_, n,
              "predictor " + n.Scalar() + " has type " + expr::TypeName(e->type()) +
                  "; predictors must be numbers, times, durations, strings or booleans");
      }
      for (const PredictorDef& other : out->predictors) {
        if (other.name == p.name) return YamlError(file_, n, "duplicate predictor " + p.name);
      }
      p.expr = std::move(e);
      p.line = n.Mark().line + 1;
      out->predictors.push_back(std::move(p));
    }
    return Status::Ok();
  }

  Result<learn::ModelKind> Kind(const YAML::Node& n, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, n, what));
    auto k = learn::ParseModelKind(s);
    if (!k)
      return YamlError(
          file_, n,
          std::string(what) + ": unknown model kind \"" + s + "\"; known: " + KindNames());
    return *k;
  }

  Status Outcomes(const YAML::Node& n, std::string_view what,
                  std::array<bool, kOutcomeCount>* out) {
    if (!n.IsSequence())
      return YamlError(file_, n, std::string(what) + " must be a list of outcomes");
    out->fill(false);
    for (const YAML::Node& o : n) {
      KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, o, what));
      const int idx = OutcomeIndex(s);
      if (idx < 0) {
        return YamlError(file_, o,
                         std::string(what) + ": unknown outcome \"" + s +
                             "\"; known: accepted, rejected, clicked, converted, ignored");
      }
      (*out)[idx] = true;
    }
    return Status::Ok();
  }

  Status Models(const YAML::Node& m, Learning* out) {
    if (!m.IsMap()) return YamlError(file_, m, "models must be a mapping");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, m,
                                     {"kind", "prior_responses", "min_predictor_auc", "max_bins",
                                      "positive", "negative", "kinds", "cold_start"},
                                     "models"));
    if (m["kind"]) {
      KAIROS_ASSIGN_OR_RETURN(out->defaults.kind, Kind(m["kind"], "models.kind"));
      out->kind_by_action.assign(catalog_.actions.size(), out->defaults.kind);
    }
    if (m["prior_responses"]) {
      KAIROS_ASSIGN_OR_RETURN(out->defaults.prior_responses,
                              YamlNumber(file_, m["prior_responses"], "models.prior_responses"));
      if (!(out->defaults.prior_responses >= 0 && out->defaults.prior_responses <= 1e6)) {
        return YamlError(file_, m["prior_responses"],
                         "models.prior_responses must be between 0 and 1000000");
      }
    }
    if (m["min_predictor_auc"]) {
      KAIROS_ASSIGN_OR_RETURN(
          out->defaults.min_predictor_auc,
          YamlNumber(file_, m["min_predictor_auc"], "models.min_predictor_auc"));
      if (!(out->defaults.min_predictor_auc >= 0.5 && out->defaults.min_predictor_auc <= 1)) {
        return YamlError(file_, m["min_predictor_auc"],
                         "models.min_predictor_auc must be between 0.5 and 1");
      }
    }
    if (m["max_bins"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t b, YamlInt(file_, m["max_bins"], "models.max_bins"));
      if (b < 2 || b > 64)
        return YamlError(file_, m["max_bins"], "models.max_bins must be between 2 and 64");
      out->defaults.max_bins = static_cast<int>(b);
    }
    if (m["cold_start"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string s,
                              YamlString(file_, m["cold_start"], "models.cold_start"));
      if (s != "prior" && s != "group") {
        return YamlError(file_, m["cold_start"],
                         "models.cold_start must be prior or group, got \"" + s + "\"");
      }
      out->cold_start_from_group = s == "group";
    }
    if (m["positive"])
      KAIROS_RETURN_IF_ERROR(Outcomes(m["positive"], "models.positive", &out->positive));
    if (m["negative"])
      KAIROS_RETURN_IF_ERROR(Outcomes(m["negative"], "models.negative", &out->negative));
    for (int o = 0; o < kOutcomeCount; ++o) {
      if (out->positive[o] && out->negative[o]) {
        return YamlError(file_, m,
                         std::string("outcome ") + OutcomeName(static_cast<Outcome>(o)) +
                             " is both positive and negative");
      }
    }
    if (const YAML::Node kinds = m["kinds"]) {
      if (!kinds.IsMap())
        return YamlError(file_, kinds, "models.kinds must map action ids to model kinds");
      for (const auto& kv : kinds) {
        KAIROS_ASSIGN_OR_RETURN(std::string id, YamlString(file_, kv.first, "models.kinds"));
        const int a = catalog_.ActionIndex(id);
        if (a < 0) return YamlError(file_, kv.first, "models.kinds: unknown action " + id);
        KAIROS_ASSIGN_OR_RETURN(out->kind_by_action[a], Kind(kv.second, "models.kinds." + id));
      }
    }
    return Status::Ok();
  }

  Status Exploration(const YAML::Node& x, Learning* out) {
    if (!x.IsMap()) return YamlError(file_, x, "exploration must be a mapping");
    KAIROS_RETURN_IF_ERROR(
        CheckKeys(file_, x, {"method", "epsilon", "probability_samples", "seed"}, "exploration"));
    learn::ExplorationConfig& c = out->exploration;
    if (x["method"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, x["method"], "exploration.method"));
      auto m = learn::ParseExplorationMethod(s);
      if (!m) {
        return YamlError(file_, x["method"],
                         "exploration.method: unknown method \"" + s +
                             "\"; known: thompson, epsilon_greedy, none");
      }
      c.method = *m;
    }
    if (x["epsilon"]) {
      KAIROS_ASSIGN_OR_RETURN(c.epsilon, YamlNumber(file_, x["epsilon"], "exploration.epsilon"));
      if (!(c.epsilon >= 0 && c.epsilon <= 1))
        return YamlError(file_, x["epsilon"], "exploration.epsilon must be between 0 and 1");
    }
    if (x["probability_samples"]) {
      KAIROS_ASSIGN_OR_RETURN(
          int64_t n, YamlInt(file_, x["probability_samples"], "exploration.probability_samples"));
      if (n < 1 || n > 10000) {
        return YamlError(file_, x["probability_samples"],
                         "exploration.probability_samples must be between 1 and 10000");
      }
      c.probability_samples = static_cast<int>(n);
    }
    if (x["seed"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t seed, YamlInt(file_, x["seed"], "exploration.seed"));
      c.seed = static_cast<uint64_t>(seed);
    }
    return Status::Ok();
  }

  Result<int> Aggregate(const YAML::Node& n, std::string_view what, bool want_last_time) {
    KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, n, what));
    const Schema& schema = features_.schema();
    const int idx = schema.AggregateIndex(name);
    if (idx < 0) return YamlError(file_, n, std::string(what) + ": unknown aggregate " + name);
    const bool last_time = schema.aggregates()[idx].op == AggregateOp::kLastTime;
    if (last_time != want_last_time) {
      return YamlError(file_, n,
                       std::string(what) + ": aggregate " + name +
                           (want_last_time ? " must be a last_time aggregate"
                                           : " must be a windowed sum or count"));
    }
    if (!want_last_time && schema.aggregates()[idx].op == AggregateOp::kMax) {
      return YamlError(file_, n,
                       std::string(what) + ": aggregate " + name + " is a max; use a sum or count");
    }
    return idx;
  }

  Status Uplift(const YAML::Node& u, Learning* out) {
    if (!u.IsMap()) return YamlError(file_, u, "uplift must be a mapping");
    KAIROS_RETURN_IF_ERROR(
        CheckKeys(file_, u, {"horizon", "revenue", "conversion", "churn"}, "uplift"));
    UpliftConfig& c = out->uplift;
    if (u["horizon"]) {
      KAIROS_ASSIGN_OR_RETURN(c.horizon_ms, YamlDurationMs(file_, u["horizon"], "uplift.horizon"));
      if (c.horizon_ms < 86400000)
        return YamlError(file_, u["horizon"], "uplift.horizon must be at least 1d");
    }
    if (u["revenue"]) {
      KAIROS_ASSIGN_OR_RETURN(c.revenue_aggregate,
                              Aggregate(u["revenue"], "uplift.revenue", false));
    }
    if (u["conversion"]) {
      KAIROS_ASSIGN_OR_RETURN(c.conversion_aggregate,
                              Aggregate(u["conversion"], "uplift.conversion", false));
    }
    if (u["churn"]) {
      KAIROS_ASSIGN_OR_RETURN(c.churn_aggregate, Aggregate(u["churn"], "uplift.churn", true));
    }
    return Status::Ok();
  }

  std::string_view text_;
  std::string_view file_;
  const FeatureSpace& features_;
  const Catalog& catalog_;
};

}  // namespace

std::vector<learn::PredictorSpec> Learning::Specs() const {
  std::vector<learn::PredictorSpec> out;
  for (const PredictorDef& p : predictors) out.push_back({p.name, p.numeric});
  return out;
}

Learning Learning::Disabled(const Catalog& catalog) {
  Learning l;
  l.kind_by_action.assign(catalog.actions.size(), l.defaults.kind);
  l.positive[static_cast<int>(Outcome::kAccepted)] = true;
  l.positive[static_cast<int>(Outcome::kConverted)] = true;
  l.negative[static_cast<int>(Outcome::kRejected)] = true;
  l.negative[static_cast<int>(Outcome::kIgnored)] = true;
  l.exploration.method = learn::ExplorationMethod::kNone;
  return l;
}

Result<Learning> Learning::Parse(std::string_view yaml_text, std::string_view file_name,
                                 const FeatureSpace& features, const Catalog& catalog) {
  try {
    return LearningParser(yaml_text, file_name, features, catalog).Parse();
  } catch (const YAML::Exception& e) {
    return YamlError(file_name, e.mark, e.msg);
  }
}

}  // namespace kairos
