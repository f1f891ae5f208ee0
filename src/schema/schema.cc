#include "schema/schema.h"

#include <algorithm>

#include "common/clock.h"
#include "schema/score_fields.h"
#include "schema/yaml_util.h"

namespace kairos {

const char* FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "string";
    case FieldType::kNumber: return "number";
    case FieldType::kInt: return "int";
    case FieldType::kBool: return "bool";
    case FieldType::kTimestamp: return "timestamp";
    case FieldType::kEnum: return "enum";
    case FieldType::kFlags: return "flags";
  }
  return "?";
}

const char* AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kLastTime: return "last_time";
  }
  return "?";
}

int FieldDef::EnumIndex(std::string_view v) const {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == v) return static_cast<int>(i);
  }
  return -1;
}

int EventTypeDef::FieldIndex(std::string_view n) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

namespace {
template <typename M>
int Find(const M& m, std::string_view name) {
  auto it = m.find(name);
  return it == m.end() ? -1 : it->second;
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  if (!(std::islower(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}
Result<Value> FilterValue(std::string_view file_, const FieldDef& fd, const YAML::Node& n,
                        const std::string& what) {
  switch (fd.type) {
    case FieldType::kEnum: {
      KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, n, "where value"));
      const int idx = fd.EnumIndex(s);
      if (idx < 0) return YamlError(file_, n, what + ": \"" + s + "\" is not a value of " + fd.name);
      return Value::Enum(idx);
    }
    case FieldType::kString: {
      KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, n, "where value"));
      return Value::String(std::move(s));
    }
    case FieldType::kBool: {
      KAIROS_ASSIGN_OR_RETURN(bool b, YamlBool(file_, n, "where value"));
      return Value::Bool(b);
    }
    case FieldType::kInt: {
      KAIROS_ASSIGN_OR_RETURN(int64_t i, YamlInt(file_, n, "where value"));
      return Value::Int(i);
    }
    case FieldType::kNumber: {
      KAIROS_ASSIGN_OR_RETURN(double d, YamlNumber(file_, n, "where value"));
      return Value::Number(d);
    }
    default:
      return YamlError(file_, n, what + ": cannot filter on a " + FieldTypeName(fd.type) + " field");
  }
}

}  // namespace

int Schema::EventTypeIndex(std::string_view name) const { return Find(event_index_, name); }
int Schema::AttributeIndex(std::string_view name) const { return Find(attribute_index_, name); }
int Schema::AggregateIndex(std::string_view name) const { return Find(aggregate_index_, name); }

std::string Schema::EventTypeNames() const {
  std::string out;
  for (const auto& e : event_types_) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

// Builds a Schema from a YAML tree; every error names file:line:column.
class SchemaBuilder {
 public:
  SchemaBuilder(std::string_view file, Schema* s) : file_(file), s_(s) {}

  Status Build(const YAML::Node& root) {
    if (!root.IsMap()) return YamlError(file_, root, "schema must be a mapping with attributes, event_types, aggregates, forecasts");
    KAIROS_RETURN_IF_ERROR(
        CheckKeys(file_, root, {"attributes", "event_types", "aggregates", "forecasts", "history"}, "schema"));
    if (root["attributes"]) KAIROS_RETURN_IF_ERROR(Attributes(root["attributes"]));
    if (!root["event_types"]) return YamlError(file_, root, "schema needs event_types");
    KAIROS_RETURN_IF_ERROR(EventTypes(root["event_types"]));
    AddBuiltinEvents();
    if (root["history"]) KAIROS_RETURN_IF_ERROR(History(root["history"]));
    if (root["aggregates"]) KAIROS_RETURN_IF_ERROR(Aggregates(root["aggregates"]));
    if (root["forecasts"]) KAIROS_RETURN_IF_ERROR(Forecasts(root["forecasts"]));
    for (AggregateDef& a : s_->aggregates_) {
      a.bucket_offset = s_->total_buckets_;
      s_->total_buckets_ += a.retention_days;
    }
    s_->aggregates_by_event_.assign(s_->event_types_.size(), {});
    for (size_t i = 0; i < s_->aggregates_.size(); ++i) {
      s_->aggregates_by_event_[s_->aggregates_[i].event_type].push_back(static_cast<int>(i));
    }
    return Status::Ok();
  }

 private:
  Status Name(const YAML::Node& key, std::string_view what) {
    if (!ValidName(key.Scalar())) {
      return YamlError(file_, key, std::string(what) + " name \"" + key.Scalar() +
                                       "\" must be lower_snake_case, at most 64 characters");
    }
    return Status::Ok();
  }

  // Reads `type`, `values` (enums) into the out-parameters.
  Status TypeSpec(const YAML::Node& spec, std::string_view what, FieldType* type,
                  std::vector<std::string>* values) {
    if (!spec["type"]) return YamlError(file_, spec, std::string(what) + " needs a type");
    KAIROS_ASSIGN_OR_RETURN(std::string t, YamlString(file_, spec["type"], "type"));
    static const std::pair<const char*, FieldType> kTypes[] = {
        {"string", FieldType::kString}, {"number", FieldType::kNumber},
        {"int", FieldType::kInt},       {"bool", FieldType::kBool},
        {"timestamp", FieldType::kTimestamp}, {"enum", FieldType::kEnum},
        {"flags", FieldType::kFlags}};
    bool found = false;
    for (const auto& [n, ft] : kTypes) {
      if (t == n) {
        *type = ft;
        found = true;
      }
    }
    if (!found) {
      return YamlError(file_, spec["type"], std::string(what) + ": unknown type \"" + t +
                                                "\" (string, number, int, bool, timestamp, enum, flags)");
    }
    if (*type == FieldType::kEnum) {
      const YAML::Node v = spec["values"];
      if (!v || !v.IsSequence() || v.size() == 0) {
        return YamlError(file_, spec, std::string(what) + ": an enum needs a non-empty list of values");
      }
      for (const auto& item : v) {
        KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, item, "enum value"));
        if (std::find(values->begin(), values->end(), s) != values->end()) {
          return YamlError(file_, item, std::string(what) + ": duplicate enum value \"" + s + "\"");
        }
        values->push_back(std::move(s));
      }
    } else if (spec["values"]) {
      return YamlError(file_, spec["values"], std::string(what) + ": values are only for enums");
    }
    return Status::Ok();
  }

  Status Attributes(const YAML::Node& node) {
    if (!node.IsMap()) return YamlError(file_, node, "attributes must be a mapping of name → {type: ...}");
    for (const auto& kv : node) {
      KAIROS_RETURN_IF_ERROR(Name(kv.first, "attribute"));
      AttributeDef a;
      a.name = kv.first.Scalar();
      const std::string what = "attribute " + a.name;
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, kv.second, {"type", "values", "description"}, what));
      KAIROS_RETURN_IF_ERROR(TypeSpec(kv.second, what, &a.type, &a.values));
      if (kv.second["description"]) {
        KAIROS_ASSIGN_OR_RETURN(a.description, YamlString(file_, kv.second["description"], "description"));
      }
      if (s_->attribute_index_.count(a.name)) return YamlError(file_, kv.first, "duplicate attribute " + a.name);
      if (s_->attributes_.size() >= 250) return YamlError(file_, kv.first, "at most 250 attributes");
      s_->attribute_index_[a.name] = static_cast<int>(s_->attributes_.size());
      s_->attributes_.push_back(std::move(a));
    }
    return Status::Ok();
  }

  // The event types through which decisions and responses reach profiles. Declared here, not in
  // schema.yaml, so that every workspace has them with exactly these fields; aggregates in
  // schema.yaml may still count them (e.g. accepted offers per 90 days).
  void AddBuiltinEvents() {
    auto field = [](const char* name, FieldType type, bool required, size_t max_length = 256) {
      FieldDef f;
      f.name = name;
      f.type = type;
      f.required = required;
      f.max_length = max_length;
      return f;
    };
    BuiltinEvents& b = s_->builtin_;
    EventTypeDef d;
    d.name = "decision";
    d.fields = {field("decision_id", FieldType::kString, true, 64),
                field("channel", FieldType::kString, true, 32),
                field("actions", FieldType::kString, false, 64 * 1024),
                field("control", FieldType::kBool, false),
                field("record", FieldType::kString, false, 4 << 20)};
    b.decision = static_cast<int>(s_->event_types_.size());
    b.d_decision_id = 0, b.d_channel = 1, b.d_actions = 2, b.d_control = 3, b.d_record = 4;
    s_->event_index_[d.name] = b.decision;
    s_->event_types_.push_back(std::move(d));

    EventTypeDef r;
    r.name = "response";
    FieldDef outcome = field("outcome", FieldType::kEnum, true);
    outcome.values = {"accepted", "rejected", "clicked", "converted", "ignored"};
    r.fields = {field("decision_id", FieldType::kString, true, 64),
                field("action_id", FieldType::kString, true, 64), std::move(outcome),
                field("channel", FieldType::kString, false, 32),
                field("group", FieldType::kString, false, 64),
                field("issue", FieldType::kString, false, 64)};
    b.response = static_cast<int>(s_->event_types_.size());
    b.r_decision_id = 0, b.r_action_id = 1, b.r_outcome = 2, b.r_channel = 3, b.r_group = 4,
    b.r_issue = 5;
    s_->event_index_[r.name] = b.response;
    s_->event_types_.push_back(std::move(r));

    EventTypeDef sc;
    sc.name = "scores";
    sc.fields.push_back(field("run", FieldType::kString, true, 64));
    for (const ScoreField& f : ScoreFields()) sc.fields.push_back(field(f.name.data(), f.type, false, 4096));
    b.scores = static_cast<int>(s_->event_types_.size());
    s_->event_index_[sc.name] = b.scores;
    s_->event_types_.push_back(std::move(sc));

    EventTypeDef er;
    er.name = "erasure";
    b.erasure = static_cast<int>(s_->event_types_.size());
    s_->event_index_[er.name] = b.erasure;
    s_->event_types_.push_back(std::move(er));
  }

  Status History(const YAML::Node& node) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, node, {"retention", "max_interactions"}, "history"));
    HistoryDef& h = s_->history_;
    if (node["retention"]) {
      KAIROS_ASSIGN_OR_RETURN(h.retention_ms, YamlDurationMs(file_, node["retention"], "retention"));
      if (h.retention_ms < kMsPerDay || h.retention_ms > 800 * kMsPerDay) {
        return YamlError(file_, node["retention"], "history retention must be between 1d and 800d");
      }
    }
    if (node["max_interactions"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, node["max_interactions"], "max_interactions"));
      if (n < 1 || n > 10000) return YamlError(file_, node["max_interactions"], "max_interactions must be 1..10000");
      h.max_interactions = static_cast<int>(n);
    }
    return Status::Ok();
  }

  Status EventTypes(const YAML::Node& node) {
    if (!node.IsMap() || node.size() == 0) {
      return YamlError(file_, node, "event_types must be a non-empty mapping of name → {fields: ...}");
    }
    for (const auto& kv : node) {
      KAIROS_RETURN_IF_ERROR(Name(kv.first, "event type"));
      EventTypeDef e;
      e.name = kv.first.Scalar();
      const std::string what = "event type " + e.name;
      if (s_->event_index_.count(e.name)) return YamlError(file_, kv.first, "duplicate " + what);
      if (e.name == "decision" || e.name == "response" || e.name == "scores" || e.name == "erasure") {
        return YamlError(file_, kv.first, what + ": the name is reserved for Kairos's built-in " +
                                              e.name + " events");
      }
      const YAML::Node spec = kv.second;
      if (spec.IsNull()) {
        // An event type without fields (e.g. a marker event).
      } else {
        KAIROS_RETURN_IF_ERROR(CheckKeys(file_, spec, {"fields", "sets", "description"}, what));
        if (spec["fields"]) KAIROS_RETURN_IF_ERROR(Fields(spec["fields"], what, &e));
        if (spec["sets"]) KAIROS_RETURN_IF_ERROR(Sets(spec["sets"], what, &e));
      }
      s_->event_index_[e.name] = static_cast<int>(s_->event_types_.size());
      s_->event_types_.push_back(std::move(e));
    }
    return Status::Ok();
  }

  Status Fields(const YAML::Node& node, const std::string& what, EventTypeDef* e) {
    if (!node.IsMap()) return YamlError(file_, node, what + ": fields must be a mapping");
    for (const auto& kv : node) {
      KAIROS_RETURN_IF_ERROR(Name(kv.first, "field"));
      FieldDef f;
      f.name = kv.first.Scalar();
      const std::string fwhat = what + " field " + f.name;
      for (std::string_view reserved : {"event_id", "subscriber_id", "type", "ts"}) {
        if (f.name == reserved) {
          return YamlError(file_, kv.first, fwhat + ": \"" + f.name + "\" is a reserved envelope field");
        }
      }
      if (e->FieldIndex(f.name) >= 0) return YamlError(file_, kv.first, "duplicate " + fwhat);
      KAIROS_RETURN_IF_ERROR(
          CheckKeys(file_, kv.second, {"type", "values", "required", "min", "max", "max_length", "description"}, fwhat));
      KAIROS_RETURN_IF_ERROR(TypeSpec(kv.second, fwhat, &f.type, &f.values));
      if (kv.second["required"]) {
        KAIROS_ASSIGN_OR_RETURN(f.required, YamlBool(file_, kv.second["required"], "required"));
      }
      for (const char* bound : {"min", "max"}) {
        if (!kv.second[bound]) continue;
        if (f.type != FieldType::kNumber && f.type != FieldType::kInt) {
          return YamlError(file_, kv.second[bound], fwhat + ": " + bound + " is only for number and int fields");
        }
        KAIROS_ASSIGN_OR_RETURN(double v, YamlNumber(file_, kv.second[bound], bound));
        (std::string_view(bound) == "min" ? f.min : f.max) = v;
      }
      if (kv.second["max_length"]) {
        KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, kv.second["max_length"], "max_length"));
        if (n < 1 || n > 65536) return YamlError(file_, kv.second["max_length"], "max_length must be 1..65536");
        f.max_length = static_cast<size_t>(n);
      }
      e->fields.push_back(std::move(f));
    }
    return Status::Ok();
  }

  Status Sets(const YAML::Node& node, const std::string& what, EventTypeDef* e) {
    // Either a list of names (field and attribute share the name) or a map attribute → field.
    std::vector<std::pair<YAML::Node, std::pair<std::string, std::string>>> pairs;
    if (node.IsSequence()) {
      for (const auto& item : node) {
        KAIROS_ASSIGN_OR_RETURN(std::string n, YamlString(file_, item, "sets entry"));
        pairs.push_back({item, {n, n}});
      }
    } else if (node.IsMap()) {
      for (const auto& kv : node) {
        KAIROS_ASSIGN_OR_RETURN(std::string f, YamlString(file_, kv.second, "sets field"));
        pairs.push_back({kv.first, {kv.first.Scalar(), f}});
      }
    } else {
      return YamlError(file_, node, what + ": sets must be a list of names or a mapping attribute: field");
    }
    for (const auto& [n, af] : pairs) {
      const int attr = Find(s_->attribute_index_, af.first);
      if (attr < 0) return YamlError(file_, n, what + ": sets unknown attribute \"" + af.first + "\"");
      const int field = e->FieldIndex(af.second);
      if (field < 0) return YamlError(file_, n, what + ": sets from unknown field \"" + af.second + "\"");
      const AttributeDef& a = s_->attributes_[attr];
      const FieldDef& f = e->fields[field];
      if (a.type != f.type || a.values != f.values) {
        return YamlError(file_, n, what + ": field " + f.name + " (" + FieldTypeName(f.type) +
                                       ") does not match attribute " + a.name + " (" +
                                       FieldTypeName(a.type) + (a.type == FieldType::kEnum ? " with other values" : "") + ")");
      }
      e->sets.push_back({attr, field});
    }
    return Status::Ok();
  }

  Result<int> WindowDays(const YAML::Node& node) {
    KAIROS_ASSIGN_OR_RETURN(int64_t ms, YamlDurationMs(file_, node, "window"));
    if (ms <= 0 || ms % kMsPerDay != 0 || ms > 400 * kMsPerDay) {
      return YamlError(file_, node, "window must be a whole number of days between 1d and 400d");
    }
    return static_cast<int>(ms / kMsPerDay);
  }

  Status Aggregates(const YAML::Node& node) {
    if (!node.IsMap()) return YamlError(file_, node, "aggregates must be a mapping");
    for (const auto& kv : node) {
      KAIROS_RETURN_IF_ERROR(Name(kv.first, "aggregate"));
      AggregateDef a;
      a.name = kv.first.Scalar();
      const std::string what = "aggregate " + a.name;
      if (s_->aggregate_index_.count(a.name)) return YamlError(file_, kv.first, "duplicate " + what);
      const YAML::Node spec = kv.second;
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, spec, {"event", "op", "field", "where", "windows", "description"}, what));
      if (!spec["event"]) return YamlError(file_, spec, what + " needs an event type");
      KAIROS_ASSIGN_OR_RETURN(std::string ev, YamlString(file_, spec["event"], "event"));
      a.event_type = Find(s_->event_index_, ev);
      if (a.event_type < 0) {
        return YamlError(file_, spec["event"], what + ": unknown event type \"" + ev + "\"");
      }
      const EventTypeDef& et = s_->event_types_[a.event_type];
      if (!spec["op"]) return YamlError(file_, spec, what + " needs an op (sum, count, max, last_time)");
      KAIROS_ASSIGN_OR_RETURN(std::string op, YamlString(file_, spec["op"], "op"));
      if (op == "sum") a.op = AggregateOp::kSum;
      else if (op == "count") a.op = AggregateOp::kCount;
      else if (op == "max") a.op = AggregateOp::kMax;
      else if (op == "last_time") a.op = AggregateOp::kLastTime;
      else return YamlError(file_, spec["op"], what + ": unknown op \"" + op + "\" (sum, count, max, last_time)");
      const bool needs_field = a.op == AggregateOp::kSum || a.op == AggregateOp::kMax;
      if (needs_field) {
        if (!spec["field"]) return YamlError(file_, spec, what + ": op " + op + " needs a field");
        KAIROS_ASSIGN_OR_RETURN(std::string f, YamlString(file_, spec["field"], "field"));
        a.field = et.FieldIndex(f);
        if (a.field < 0) return YamlError(file_, spec["field"], what + ": event type " + ev + " has no field \"" + f + "\"");
        const FieldType ft = et.fields[a.field].type;
        if (ft != FieldType::kNumber && ft != FieldType::kInt) {
          return YamlError(file_, spec["field"], what + ": field " + f + " is " + FieldTypeName(ft) + ", not numeric");
        }
      } else if (spec["field"]) {
        return YamlError(file_, spec["field"], what + ": op " + op + " takes no field");
      }
      if (spec["where"]) {
        KAIROS_ASSIGN_OR_RETURN(a.where, ParseFieldFilters(file_, et, spec["where"], what));
      }
      if (a.op == AggregateOp::kLastTime) {
        if (spec["windows"]) return YamlError(file_, spec["windows"], what + ": last_time takes no windows");
      } else {
        if (!spec["windows"] || !spec["windows"].IsSequence() || spec["windows"].size() == 0) {
          return YamlError(file_, spec, what + " needs a list of windows, e.g. [1d, 7d, 30d]");
        }
        for (const auto& w : spec["windows"]) {
          KAIROS_ASSIGN_OR_RETURN(int days, WindowDays(w));
          a.windows_days.push_back(days);
        }
        std::sort(a.windows_days.begin(), a.windows_days.end());
        a.windows_days.erase(std::unique(a.windows_days.begin(), a.windows_days.end()), a.windows_days.end());
        a.retention_days = a.windows_days.back();
      }
      s_->aggregate_index_[a.name] = static_cast<int>(s_->aggregates_.size());
      s_->aggregates_.push_back(std::move(a));
    }
    return Status::Ok();
  }

  Result<int> AttributeRef(const YAML::Node& spec, const char* key, std::initializer_list<FieldType> types,
                           const std::string& what) {
    if (!spec[key]) return -1;
    KAIROS_ASSIGN_OR_RETURN(std::string n, YamlString(file_, spec[key], key));
    const int idx = Find(s_->attribute_index_, n);
    if (idx < 0) return YamlError(file_, spec[key], what + ": unknown attribute \"" + n + "\"");
    const FieldType t = s_->attributes_[idx].type;
    if (std::find(types.begin(), types.end(), t) == types.end()) {
      return YamlError(file_, spec[key], what + ": attribute " + n + " has the wrong type (" + FieldTypeName(t) + ")");
    }
    return idx;
  }

  Status Forecasts(const YAML::Node& node) {
    if (!node.IsMap()) return YamlError(file_, node, "forecasts must be a mapping");
    for (const auto& kv : node) {
      KAIROS_RETURN_IF_ERROR(Name(kv.first, "forecast"));
      ForecastDef f;
      f.name = kv.first.Scalar();
      const std::string what = "forecast " + f.name;
      const YAML::Node spec = kv.second;
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, spec,
          {"series", "allowance", "remaining", "cycle_anchor", "cycle_days", "default_cycle_days", "lookback", "description"}, what));
      if (!spec["series"]) return YamlError(file_, spec, what + " needs a series (a sum aggregate)");
      KAIROS_ASSIGN_OR_RETURN(std::string series, YamlString(file_, spec["series"], "series"));
      f.series = Find(s_->aggregate_index_, series);
      if (f.series < 0 || s_->aggregates_[f.series].op != AggregateOp::kSum) {
        return YamlError(file_, spec["series"], what + ": series must name a sum aggregate, got \"" + series + "\"");
      }
      const auto numeric = {FieldType::kNumber, FieldType::kInt};
      KAIROS_ASSIGN_OR_RETURN(f.allowance, AttributeRef(spec, "allowance", numeric, what));
      KAIROS_ASSIGN_OR_RETURN(f.remaining, AttributeRef(spec, "remaining", numeric, what));
      KAIROS_ASSIGN_OR_RETURN(f.cycle_anchor, AttributeRef(spec, "cycle_anchor", {FieldType::kTimestamp}, what));
      KAIROS_ASSIGN_OR_RETURN(f.cycle_days, AttributeRef(spec, "cycle_days", {FieldType::kInt}, what));
      if (spec["default_cycle_days"]) {
        KAIROS_ASSIGN_OR_RETURN(int64_t d, YamlInt(file_, spec["default_cycle_days"], "default_cycle_days"));
        if (d < 1 || d > 366) return YamlError(file_, spec["default_cycle_days"], "default_cycle_days must be 1..366");
        f.default_cycle_days = static_cast<int>(d);
      }
      if (spec["lookback"]) {
        KAIROS_ASSIGN_OR_RETURN(f.lookback_days, WindowDays(spec["lookback"]));
      }
      AggregateDef& a = s_->aggregates_[f.series];
      a.retention_days = std::max(a.retention_days, f.lookback_days + 1);
      a.retention_days = std::max(a.retention_days, f.default_cycle_days);
      // A cycle length read from an attribute can be up to a calendar month.
      if (f.cycle_days >= 0) a.retention_days = std::max(a.retention_days, 31);
      s_->forecasts_.push_back(std::move(f));
    }
    return Status::Ok();
  }

  std::string_view file_;
  Schema* s_;
};

Result<std::shared_ptr<const Schema>> Schema::Parse(std::string_view yaml_text, std::string_view file_name) {
  KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(yaml_text, file_name));
  auto schema = std::make_shared<Schema>();
  SchemaBuilder builder(file_name, schema.get());
  KAIROS_RETURN_IF_ERROR(builder.Build(root));
  return std::shared_ptr<const Schema>(std::move(schema));
}

Result<std::shared_ptr<const Schema>> Schema::Load(const std::string& path) {
  KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

Result<std::vector<FieldFilter>> ParseFieldFilters(std::string_view file, const EventTypeDef& et,
                                                   const YAML::Node& where, const std::string& what) {
  if (!where.IsMap()) return YamlError(file, where, what + ": where must be a mapping field: value");
  std::vector<FieldFilter> out;
  for (const auto& w : where) {
    FieldFilter filter;
    filter.field = et.FieldIndex(w.first.Scalar());
    if (filter.field < 0) {
      return YamlError(file, w.first, what + ": event type " + et.name + " has no field \"" + w.first.Scalar() + "\"");
    }
    KAIROS_ASSIGN_OR_RETURN(filter.value, FilterValue(file, et.fields[filter.field], w.second, what));
    out.push_back(std::move(filter));
  }
  return out;
}

}  // namespace kairos
