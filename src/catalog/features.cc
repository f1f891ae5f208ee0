#include "catalog/features.h"

#include <string>
#include <utility>

#include "common/clock.h"
#include "common/hash.h"
#include "schema/score_fields.h"

namespace kairos {

namespace {

constexpr const char* kOutcomeNames[kOutcomeCount] = {"accepted", "rejected", "clicked",
                                                      "converted", "ignored"};

struct FigureName {
  const char* name;
  ForecastFigure figure;
  expr::Type type;
};
constexpr FigureName kFigures[] = {
    {"used", ForecastFigure::kUsed, expr::Type::kNumber},
    {"expected_to_cycle_end", ForecastFigure::kExpectedToCycleEnd, expr::Type::kNumber},
    {"expected_cycle_total", ForecastFigure::kExpectedCycleTotal, expr::Type::kNumber},
    {"interval_low", ForecastFigure::kIntervalLow, expr::Type::kNumber},
    {"interval_high", ForecastFigure::kIntervalHigh, expr::Type::kNumber},
    {"daily_mean", ForecastFigure::kDailyMean, expr::Type::kNumber},
    {"allowance", ForecastFigure::kAllowance, expr::Type::kNumber},
    {"remaining", ForecastFigure::kRemaining, expr::Type::kNumber},
    {"days_to_depletion", ForecastFigure::kDaysToDepletion, expr::Type::kNumber},
    {"p_depletion", ForecastFigure::kPDepletion, expr::Type::kNumber},
    {"days_left", ForecastFigure::kDaysLeft, expr::Type::kNumber},
    {"cycle_start", ForecastFigure::kCycleStart, expr::Type::kTime},
    {"cycle_end", ForecastFigure::kCycleEnd, expr::Type::kTime},
};

constexpr const char* kNamespaces =
    "now, profile.*, agg.*, forecast.*, subscriber.*, ctx.*, history.*, action.*, and the scores "
    "of kairos segment (value.*, segment.*, rfm.*, clv.*, score.*)";

std::string JoinScores() {
  std::string out;
  for (const ScoreField& f : ScoreFields()) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

// "7d", "12h", "30m", "45s" or "500ms": the largest unit that divides the duration, as written
// in rules, so that feature names read like their source.
std::string FormatDuration(int64_t ms) {
  struct Unit {
    int64_t ms;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {
      {kMsPerDay, "d"}, {kMsPerHour, "h"}, {60 * kMsPerSecond, "m"}, {kMsPerSecond, "s"}};
  for (const Unit& u : kUnits) {
    if (ms != 0 && ms % u.ms == 0) return std::to_string(ms / u.ms) + u.suffix;
  }
  return std::to_string(ms) + "ms";
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// Splits "a.b.c" into its first segment and the rest ("a", "b.c"); rest empty when no dot.
std::pair<std::string_view, std::string_view> SplitFirst(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return {s, {}};
  return {s.substr(0, dot), s.substr(dot + 1)};
}

std::string JoinAttributes(const Schema& schema) {
  std::string out;
  for (const AttributeDef& a : schema.attributes()) {
    if (!out.empty()) out += ", ";
    out += a.name;
  }
  return out.empty() ? "none" : out;
}

std::string JoinAggregates(const Schema& schema) {
  std::string out;
  for (const AggregateDef& a : schema.aggregates()) {
    if (!out.empty()) out += ", ";
    out += a.name;
  }
  return out.empty() ? "none" : out;
}

std::string JoinForecasts(const Schema& schema) {
  std::string out;
  for (const ForecastDef& f : schema.forecasts()) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out.empty() ? "none" : out;
}

std::string JoinFigures() {
  std::string out;
  for (const FigureName& f : kFigures) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

std::string JoinWindows(const AggregateDef& a) {
  std::string out;
  for (int d : a.windows_days) {
    if (!out.empty()) out += ", ";
    out += std::to_string(d) + "d";
  }
  return out;
}

// A duration argument as whole milliseconds; 0 when fractional or beyond any sensible window
// (casting an out-of-range double would be undefined).
int64_t WholeMs(double ms) {
  constexpr double kMax = 1e15;  // ~31,000 years
  if (!(ms > 0 && ms < kMax)) return 0;
  const int64_t i = static_cast<int64_t>(ms);
  return static_cast<double>(i) == ms ? i : 0;
}

bool ValidFlagKey(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const char* HistoryUsage(std::string_view fn) {
  if (fn == "impressions") return "history.impressions(\"TARGET\", 7d)";
  if (fn == "responses") return "history.responses(\"TARGET\", 7d)";
  if (fn == "outcomes") return "history.outcomes(\"TARGET\", \"accepted\", 30d)";
  if (fn == "last_impression") return "history.last_impression(\"TARGET\")";
  if (fn == "last_response") return "history.last_response(\"TARGET\")";
  return nullptr;
}

constexpr const char* kHistoryFunctions =
    "impressions, responses, outcomes, last_impression, last_response";

// The interning key: every field that decides what a feature computes (all but the name).
std::string InternKey(const Feature& f) {
  std::string k;
  k += std::to_string(static_cast<int>(f.kind));
  k += '|';
  k += std::to_string(static_cast<int>(f.type));
  k += '|';
  k += std::to_string(f.index);
  k += '|';
  k += std::to_string(f.window_days);
  k += '|';
  k += std::to_string(static_cast<int>(f.figure));
  k += '|';
  k += std::to_string(static_cast<int>(f.scope));
  k += '|';
  k += std::to_string(f.target);
  k += '|';
  k += std::to_string(static_cast<int>(f.outcome));
  k += '|';
  k += std::to_string(f.window_ms);
  k += '|';
  k += f.key;  // last: may contain any character
  return k;
}

}  // namespace

const char* OutcomeName(Outcome o) {
  int i = static_cast<int>(o);
  return i >= 0 && i < kOutcomeCount ? kOutcomeNames[i] : "?";
}

int OutcomeIndex(std::string_view name) {
  for (int i = 0; i < kOutcomeCount; ++i) {
    if (name == kOutcomeNames[i]) return i;
  }
  return -1;
}

uint32_t InteractionKey(std::string_view name) { return HistoryKey(name); }

FeatureSpace::FeatureSpace(std::shared_ptr<const Schema> schema, std::vector<ContextField> context,
                           TargetNames targets)
    : schema_(std::move(schema)), context_(std::move(context)), targets_(std::move(targets)) {}

int FeatureSpace::ContextIndex(std::string_view name) const {
  for (size_t i = 0; i < context_.size(); ++i) {
    if (context_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int FeatureSpace::Intern(Feature f) const {
  std::string key = InternKey(f);
  auto it = slot_by_name_.find(key);
  if (it != slot_by_name_.end()) return it->second;
  int slot = static_cast<int>(features_.size());
  features_.push_back(std::move(f));
  slot_by_name_.emplace(std::move(key), slot);
  return slot;
}

namespace {

Result<expr::Symbol> Symbol(int slot, expr::Type type) {
  expr::Symbol s;
  s.slot = slot;
  s.type = type;
  return s;
}

}  // namespace

Result<expr::Symbol> FeatureSpace::Resolve(std::string_view dotted_name) const {
  const std::string full(dotted_name);
  auto [ns, rest] = SplitFirst(dotted_name);
  Feature f;
  f.name = full;

  if (ns == "now" && rest.empty()) {
    f.kind = FeatureKind::kNow;
    f.type = expr::Type::kTime;
    return Symbol(Intern(std::move(f)), expr::Type::kTime);
  }

  if (ns == "profile") {
    auto [attr_name, key] = SplitFirst(rest);
    if (attr_name.empty()) {
      return InvalidArgument("profile needs an attribute: profile.<attribute> (known: " +
                             JoinAttributes(*schema_) + ")");
    }
    int a = schema_->AttributeIndex(attr_name);
    if (a < 0) {
      return InvalidArgument("unknown attribute '" + std::string(attr_name) +
                             "'; known: " + JoinAttributes(*schema_));
    }
    const AttributeDef& def = schema_->attributes()[a];
    f.index = a;
    if (def.type == FieldType::kFlags) {
      if (key.empty()) {
        return InvalidArgument("profile." + def.name + " is a set of flags; write profile." +
                               def.name + ".<key>");
      }
      if (!ValidFlagKey(key)) {
        return InvalidArgument("profile." + def.name + ": invalid flag key '" + std::string(key) +
                               "' (letters, digits, _ and -)");
      }
      f.kind = FeatureKind::kFlag;
      f.type = expr::Type::kBool;
      f.key = std::string(key);
      return Symbol(Intern(std::move(f)), expr::Type::kBool);
    }
    if (!key.empty()) {
      return InvalidArgument("profile." + def.name + " is a " + FieldTypeName(def.type) +
                             ", not a set of flags; it has no '." + std::string(key) + "'");
    }
    f.kind = FeatureKind::kAttribute;
    switch (def.type) {
      case FieldType::kString:
      case FieldType::kEnum:
        f.type = expr::Type::kString;
        break;
      case FieldType::kNumber:
      case FieldType::kInt:
        f.type = expr::Type::kNumber;
        break;
      case FieldType::kBool:
        f.type = expr::Type::kBool;
        break;
      case FieldType::kTimestamp:
        f.type = expr::Type::kTime;
        break;
      case FieldType::kFlags:
        break;  // handled above
    }
    expr::Type t = f.type;
    return Symbol(Intern(std::move(f)), t);
  }

  if (ns == "agg") {
    if (rest.empty() || rest.find('.') != std::string_view::npos) {
      return InvalidArgument("write agg.<aggregate> or agg.<aggregate>(<window>) (aggregates: " +
                             JoinAggregates(*schema_) + ")");
    }
    int a = schema_->AggregateIndex(rest);
    if (a < 0) {
      return InvalidArgument("unknown aggregate '" + std::string(rest) +
                             "'; known: " + JoinAggregates(*schema_));
    }
    const AggregateDef& def = schema_->aggregates()[a];
    if (def.op != AggregateOp::kLastTime) {
      return InvalidArgument("agg." + def.name + " is a " + AggregateOpName(def.op) +
                             " over a window; write agg." + def.name + "(" +
                             std::to_string(def.windows_days.empty() ? 7 : def.windows_days[0]) +
                             "d) (windows: " + JoinWindows(def) + ")");
    }
    f.kind = FeatureKind::kLastTime;
    f.type = expr::Type::kTime;
    f.index = a;
    return Symbol(Intern(std::move(f)), expr::Type::kTime);
  }

  if (ns == "forecast") {
    auto [fc_name, figure] = SplitFirst(rest);
    int fi = -1;
    for (size_t i = 0; i < schema_->forecasts().size(); ++i) {
      if (schema_->forecasts()[i].name == fc_name) fi = static_cast<int>(i);
    }
    if (fi < 0) {
      return InvalidArgument("unknown forecast '" + std::string(fc_name) +
                             "'; known: " + JoinForecasts(*schema_));
    }
    if (figure.empty()) {
      return InvalidArgument("forecast." + std::string(fc_name) + " needs a figure: forecast." +
                             std::string(fc_name) + ".<figure> (figures: " + JoinFigures() + ")");
    }
    for (const FigureName& fig : kFigures) {
      if (figure == fig.name) {
        f.kind = FeatureKind::kForecast;
        f.type = fig.type;
        f.index = fi;
        f.figure = fig.figure;
        return Symbol(Intern(std::move(f)), fig.type);
      }
    }
    return InvalidArgument("unknown forecast figure '" + std::string(figure) +
                           "'; figures: " + JoinFigures());
  }

  if (ns == "subscriber") {
    if (rest == "events_applied") {
      f.kind = FeatureKind::kEventsApplied;
      f.type = expr::Type::kNumber;
    } else if (rest == "first_seen") {
      f.kind = FeatureKind::kFirstSeen;
      f.type = expr::Type::kTime;
    } else if (rest == "last_seen") {
      f.kind = FeatureKind::kLastSeen;
      f.type = expr::Type::kTime;
    } else {
      return InvalidArgument("unknown subscriber field '" + std::string(rest) +
                             "'; known: events_applied, first_seen, last_seen");
    }
    expr::Type t = f.type;
    return Symbol(Intern(std::move(f)), t);
  }

  if (ns == "ctx") {
    if (rest == "channel") {
      f.kind = FeatureKind::kChannel;
      f.type = expr::Type::kString;
      return Symbol(Intern(std::move(f)), expr::Type::kString);
    }
    int ci = ContextIndex(rest);
    if (ci < 0) {
      std::string declared = "channel";
      for (const ContextField& c : context_) declared += ", " + c.name;
      return InvalidArgument("unknown context field '" + std::string(rest) +
                             "'; declare it under context: in catalog.yaml (declared: " + declared +
                             ")");
    }
    f.kind = FeatureKind::kContext;
    f.type = context_[ci].type;
    f.index = ci;
    expr::Type t = f.type;
    return Symbol(Intern(std::move(f)), t);
  }

  if (ns == "history") {
    if (const char* usage = HistoryUsage(rest)) {
      return InvalidArgument("history." + std::string(rest) + " is a function: write " + usage);
    }
    return InvalidArgument("unknown history function '" + std::string(rest) +
                           "'; known: " + kHistoryFunctions);
  }

  if (IsScoreNamespace(dotted_name)) {
    const int id = ScoreIndex(dotted_name);
    if (id < 0) return InvalidArgument("unknown score '" + full + "'; known: " + JoinScores());
    f.kind = FeatureKind::kScore;
    f.index = id;
    f.type = ScoreFields()[static_cast<size_t>(id)].type == FieldType::kNumber ? expr::Type::kNumber
                                                                                : expr::Type::kString;
    const expr::Type t = f.type;
    return Symbol(Intern(std::move(f)), t);
  }

  if (ns == "action") {
    if (rest == "value") {
      f.kind = FeatureKind::kActionValue;
    } else if (rest == "cost") {
      f.kind = FeatureKind::kActionCost;
    } else if (rest == "propensity") {
      f.kind = FeatureKind::kActionPropensity;
    } else {
      return InvalidArgument("unknown action field '" + std::string(rest) +
                             "'; known: value, cost, propensity");
    }
    f.type = expr::Type::kNumber;
    return Symbol(Intern(std::move(f)), expr::Type::kNumber);
  }

  return InvalidArgument("unknown name '" + full + "'; names are " + kNamespaces);
}

Result<expr::Symbol> FeatureSpace::ResolveCall(std::string_view dotted_name,
                                               std::span<const expr::ConstArg> args) const {
  const std::string full(dotted_name);
  auto [ns, rest] = SplitFirst(dotted_name);

  if (ns == "agg") {
    int a = rest.find('.') == std::string_view::npos ? schema_->AggregateIndex(rest) : -1;
    if (a < 0) {
      return InvalidArgument("unknown aggregate '" + std::string(rest) +
                             "'; known: " + JoinAggregates(*schema_));
    }
    const AggregateDef& def = schema_->aggregates()[a];
    if (def.op == AggregateOp::kLastTime) {
      return InvalidArgument("agg." + def.name +
                             " is the time of the latest event, not a windowed aggregate; write "
                             "agg." +
                             def.name + " without a window");
    }
    if (args.size() != 1 || args[0].type != expr::Type::kDuration) {
      const std::string example =
          def.windows_days.empty() ? "7d" : std::to_string(def.windows_days[0]) + "d";
      return InvalidArgument("agg." + def.name + " takes one window duration, e.g. agg." +
                             def.name + "(" + example + ") (windows: " + JoinWindows(def) + ")");
    }
    const double ms = args[0].num;
    const int64_t ims = WholeMs(ms);
    if (ims <= 0 || ims % kMsPerDay != 0) {
      return InvalidArgument("agg." + def.name + ": the window must be whole days, got " +
                             (ims > 0 ? FormatDuration(ims) : "a non-positive duration") +
                             " (windows: " + JoinWindows(def) + ")");
    }
    const int days = static_cast<int>(ims / kMsPerDay);
    bool declared = false;
    for (int d : def.windows_days) declared = declared || d == days;
    if (!declared) {
      return InvalidArgument("agg." + def.name + " has no " + std::to_string(days) +
                             "d window; declared in schema.yaml: " + JoinWindows(def));
    }
    Feature f;
    f.kind = FeatureKind::kWindow;
    f.type = expr::Type::kNumber;
    f.index = a;
    f.window_days = days;
    f.name = "agg." + def.name + "(" + std::to_string(days) + "d)";
    return Symbol(Intern(std::move(f)), expr::Type::kNumber);
  }

  if (ns == "history") {
    const char* usage = HistoryUsage(rest);
    if (usage == nullptr) {
      return InvalidArgument("unknown history function '" + std::string(rest) +
                             "'; known: " + kHistoryFunctions);
    }
    const bool counts = rest == "impressions" || rest == "responses";
    const bool outcomes = rest == "outcomes";
    const size_t want_args = counts ? 2 : outcomes ? 3 : 1;
    if (args.size() != want_args) {
      return InvalidArgument("history." + std::string(rest) + " takes " +
                             std::to_string(want_args) + " argument" + (want_args == 1 ? "" : "s") +
                             ": " + usage);
    }
    if (args[0].type != expr::Type::kString) {
      return InvalidArgument("history." + std::string(rest) +
                             ": the first argument must be a string naming an action id, group "
                             "or issue: " +
                             usage);
    }
    const std::string& target = args[0].str;
    auto it = targets_.scope_by_name.find(target);
    if (it == targets_.scope_by_name.end()) {
      return InvalidArgument("history." + std::string(rest) + ": unknown target \"" + target +
                             "\"; a target is an action id, group or issue of the catalog");
    }
    Feature f;
    f.scope = it->second;
    f.target = InteractionKey(target);
    f.name = "history." + std::string(rest) + "(" + Quote(target);
    if (outcomes) {
      if (args[1].type != expr::Type::kString || OutcomeIndex(args[1].str) < 0) {
        return InvalidArgument(
            "history.outcomes: the second argument must be one of \"accepted\", \"rejected\", "
            "\"clicked\", \"converted\", \"ignored\"");
      }
      f.outcome = static_cast<Outcome>(OutcomeIndex(args[1].str));
      f.name += ", " + Quote(args[1].str);
    }
    if (counts || outcomes) {
      const expr::ConstArg& w = args[want_args - 1];
      const int64_t ims = WholeMs(w.num);
      if (w.type != expr::Type::kDuration || ims <= 0) {
        return InvalidArgument(
            "history." + std::string(rest) +
            ": the window must be a duration greater than zero, e.g. 7d: " + usage);
      }
      f.window_ms = ims;
      f.name += ", " + FormatDuration(ims);
      f.type = expr::Type::kNumber;
      f.kind = counts ? (rest == "impressions" ? FeatureKind::kHistoryImpressions
                                               : FeatureKind::kHistoryResponses)
                      : FeatureKind::kHistoryOutcomes;
    } else {
      f.type = expr::Type::kTime;
      f.kind = rest == "last_impression" ? FeatureKind::kHistoryLastImpression
                                         : FeatureKind::kHistoryLastResponse;
    }
    f.name += ")";
    expr::Type t = f.type;
    return Symbol(Intern(std::move(f)), t);
  }

  // Everything else is a value, not a function (resolving it here would intern an unused slot).
  if (ns == "now" || ns == "profile" || ns == "forecast" || ns == "subscriber" || ns == "ctx" ||
      ns == "action" || IsScoreNamespace(dotted_name)) {
    return InvalidArgument(full + " is a value, not a function; write " + full +
                           " without arguments");
  }
  return InvalidArgument("unknown function '" + full + "'; names are " + kNamespaces);
}

}  // namespace kairos
