#include "decide/feature_cache.h"

#include <cmath>

#include "decide/history.h"

namespace kairos {

namespace {
expr::Value Opt(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? expr::Value::Number(*v) : expr::Value::Null(expr::Type::kNumber);
}
expr::Value Num(double v) {
  return std::isfinite(v) ? expr::Value::Number(v) : expr::Value::Null(expr::Type::kNumber);
}
expr::Value TimeOrNull(TimestampMs t) {
  return t < 0 ? expr::Value::Null(expr::Type::kTime) : expr::Value::Time(static_cast<double>(t));
}
}  // namespace

FeatureCache::FeatureCache(const Decisioning& decisioning, const Profile& profile,
                           TimestampMs now, std::string_view channel,
                           const std::vector<ContextValue>& context)
    : features_(decisioning.features->features()),
      schema_(*decisioning.schema),
      profile_(profile),
      now_(now),
      channel_(channel),
      context_(context),
      memo_(features_.size()),
      known_(features_.size(), 0),
      forecasts_(schema_.forecasts().size()) {}

expr::Value FeatureCache::Read(int slot) {
  const Feature& f = features_[static_cast<size_t>(slot)];
  switch (f.kind) {
    case FeatureKind::kActionValue:
      if (!candidate_ || computing_value_) return expr::Value::Null(expr::Type::kNumber);
      return Num(CandidateValue());
    case FeatureKind::kActionCost:
      return candidate_ ? Num(candidate_->cost) : expr::Value::Null(expr::Type::kNumber);
    case FeatureKind::kActionPropensity:
      return candidate_ ? Num(candidate_->propensity) : expr::Value::Null(expr::Type::kNumber);
    default: break;
  }
  if (!known_[static_cast<size_t>(slot)]) {
    memo_[static_cast<size_t>(slot)] = Compute(f);
    known_[static_cast<size_t>(slot)] = 1;
  }
  return memo_[static_cast<size_t>(slot)];
}

double FeatureCache::CandidateValue() {
  if (value_known_) return value_;
  value_ = candidate_->value;
  if (candidate_->value_expr) {
    computing_value_ = true;
    const expr::Value v = candidate_->value_expr->Evaluate(*this);
    computing_value_ = false;
    value_ = v.is_null || !std::isfinite(v.num) ? 0.0 : v.num;
  }
  value_known_ = true;
  return value_;
}

const ForecastResult& FeatureCache::Forecast(int index) {
  auto& slot = forecasts_[static_cast<size_t>(index)];
  if (!slot) slot = ComputeForecast(schema_, schema_.forecasts()[index], profile_, now_);
  return *slot;
}

expr::Value FeatureCache::Compute(const Feature& f) {
  using expr::Type;
  using expr::Value;
  switch (f.kind) {
    case FeatureKind::kNow: return Value::Time(static_cast<double>(now_));
    case FeatureKind::kAttribute: {
      const kairos::Value& v = profile_.attributes[f.index].value;
      const AttributeDef& def = schema_.attributes()[f.index];
      if (v.is_null) return Value::Null(f.type);
      switch (def.type) {
        case FieldType::kString: return Value::String(v.s);
        case FieldType::kEnum:
          return v.i >= 0 && static_cast<size_t>(v.i) < def.values.size()
                     ? Value::String(def.values[v.i])
                     : Value::Null(Type::kString);
        case FieldType::kNumber: return Num(v.number);
        case FieldType::kInt: return Value::Number(static_cast<double>(v.i));
        case FieldType::kBool: return Value::Bool(v.b);
        case FieldType::kTimestamp: return Value::Time(static_cast<double>(v.i));
        case FieldType::kFlags: return Value::Null(f.type);
      }
      return Value::Null(f.type);
    }
    case FeatureKind::kFlag: {
      const kairos::Value& v = profile_.attributes[f.index].value;
      if (!v.is_null) {
        for (const auto& [name, on] : v.flags) {
          if (name == f.key) return Value::Bool(on);
        }
      }
      return Value::Null(Type::kBool);
    }
    case FeatureKind::kWindow:
      return Num(WindowValue(schema_, profile_, f.index, f.window_days, now_));
    case FeatureKind::kLastTime: return TimeOrNull(profile_.aggregates[f.index].last_ms);
    case FeatureKind::kForecast: {
      const ForecastResult& r = Forecast(f.index);
      switch (f.figure) {
        case ForecastFigure::kUsed: return Num(r.used);
        case ForecastFigure::kExpectedToCycleEnd: return Num(r.expected_to_cycle_end);
        case ForecastFigure::kExpectedCycleTotal: return Num(r.expected_cycle_total);
        case ForecastFigure::kIntervalLow: return Num(r.interval_low);
        case ForecastFigure::kIntervalHigh: return Num(r.interval_high);
        case ForecastFigure::kDailyMean: return Num(r.daily_mean);
        case ForecastFigure::kAllowance: return Opt(r.allowance);
        case ForecastFigure::kRemaining: return Opt(r.remaining);
        case ForecastFigure::kDaysToDepletion: return Opt(r.days_to_depletion);
        case ForecastFigure::kPDepletion: return Opt(r.p_depletion);
        case ForecastFigure::kDaysLeft: return Num(r.days_left);
        case ForecastFigure::kCycleStart: return Value::Time(static_cast<double>(r.cycle_start));
        case ForecastFigure::kCycleEnd: return Value::Time(static_cast<double>(r.cycle_end));
      }
      return Value::Null(f.type);
    }
    case FeatureKind::kScore: {
      const size_t i = static_cast<size_t>(f.index);
      if (i >= profile_.scores.size() || profile_.scores[i].is_null) return Value::Null(f.type);
      const kairos::Value& v = profile_.scores[i];
      return f.type == expr::Type::kNumber ? Value::Number(v.number) : Value::String(v.s);
    }
    case FeatureKind::kEventsApplied:
      return Value::Number(static_cast<double>(profile_.events_applied));
    case FeatureKind::kFirstSeen: return Value::Time(static_cast<double>(profile_.first_seen));
    case FeatureKind::kLastSeen: return Value::Time(static_cast<double>(profile_.last_seen));
    case FeatureKind::kChannel: return Value::String(channel_);
    case FeatureKind::kContext: {
      if (static_cast<size_t>(f.index) >= context_.size()) return Value::Null(f.type);
      const ContextValue& c = context_[f.index];
      if (c.is_null) return Value::Null(f.type);
      switch (c.type) {
        case Type::kBool: return Value::Bool(c.b);
        case Type::kNumber: return Value::Number(c.num);
        case Type::kTime: return Value::Time(c.num);
        case Type::kString: return Value::String(c.str);
        default: return Value::Null(f.type);
      }
    }
    case FeatureKind::kHistoryImpressions:
      return Value::Number(static_cast<double>(
          CountImpressions(profile_, {f.scope, f.target}, now_ - f.window_ms)));
    case FeatureKind::kHistoryResponses:
      return Value::Number(static_cast<double>(
          CountResponses(profile_, {f.scope, f.target}, now_ - f.window_ms)));
    case FeatureKind::kHistoryOutcomes:
      return Value::Number(static_cast<double>(
          CountOutcomes(profile_, {f.scope, f.target}, f.outcome, now_ - f.window_ms)));
    case FeatureKind::kHistoryLastImpression:
      return TimeOrNull(LastImpression(profile_, {f.scope, f.target}));
    case FeatureKind::kHistoryLastResponse:
      return TimeOrNull(LastResponse(profile_, {f.scope, f.target}));
    case FeatureKind::kActionValue:
    case FeatureKind::kActionCost:
    case FeatureKind::kActionPropensity: break;  // handled in Read
  }
  return Value::Null(f.type);
}

}  // namespace kairos
