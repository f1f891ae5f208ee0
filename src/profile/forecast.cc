#include "profile/forecast.h"

#include <algorithm>
#include <cmath>

#include "common/time_format.h"

namespace kairos {

namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::optional<double> NumericAttribute(const Profile& p, int index) {
  if (index < 0) return std::nullopt;
  const Value& v = p.attributes[index].value;
  if (v.is_null) return std::nullopt;
  return v.AsDouble();
}

}  // namespace

ForecastResult ComputeForecast(const Schema& schema, const ForecastDef& def, const Profile& p,
                               TimestampMs now) {
  ForecastResult f;
  // Usage on a day from the daily series (0 outside what is kept: the series is a sum).
  auto DayUsage = [&](int64_t day) { return DayValue(schema, p, def.series, day); };
  const int64_t today = DayOf(now);

  // The cycle containing today: cycles of L days starting at midnight UTC of the anchor day.
  int64_t cycle_len = def.default_cycle_days;
  if (def.cycle_days >= 0 && !p.attributes[def.cycle_days].value.is_null) {
    cycle_len = std::clamp<int64_t>(p.attributes[def.cycle_days].value.i, 1, 366);
  }
  TimestampMs anchor = p.first_seen;
  if (def.cycle_anchor >= 0 && !p.attributes[def.cycle_anchor].value.is_null) {
    anchor = p.attributes[def.cycle_anchor].value.i;
  }
  const int64_t anchor_day = DayOf(anchor);
  const int64_t start_day = anchor_day + FloorDiv(today - anchor_day, cycle_len) * cycle_len;
  const int64_t end_day = start_day + cycle_len;
  f.cycle_start = start_day * kMsPerDay;
  f.cycle_end = end_day * kMsPerDay;
  f.days_left = static_cast<double>(f.cycle_end - now) / kMsPerDay;

  for (int64_t d = start_day; d <= today; ++d) f.used += DayUsage(d);

  // Daily rate from completed days in the look-back window, not before the first event's day.
  const int64_t first_day = std::max(today - def.lookback_days, DayOf(p.first_seen));
  double sum = 0, sum_sq = 0;
  for (int64_t d = first_day; d < today; ++d) {
    const double u = DayUsage(d);
    sum += u;
    sum_sq += u * u;
    ++f.days_observed;
  }
  if (f.days_observed > 0) {
    f.daily_mean = sum / f.days_observed;
    if (f.days_observed > 1) {
      const double var = (sum_sq - sum * sum / f.days_observed) / (f.days_observed - 1);
      f.daily_sd = std::sqrt(std::max(0.0, var));
    }
  } else {
    // Only today so far: extrapolate today's usage from the part of the day elapsed (at least
    // an hour, so a first event at 00:01 does not explode), with a wide spread.
    const double elapsed = std::max(1.0 / 24, static_cast<double>(now - today * kMsPerDay) / kMsPerDay);
    f.daily_mean = DayUsage(today) / elapsed;
    f.daily_sd = f.daily_mean;
  }

  const double d = std::max(0.0, f.days_left);
  f.expected_to_cycle_end = f.daily_mean * d;
  const double sd_total = f.daily_sd * std::sqrt(d);
  f.interval_low = std::max(0.0, f.expected_to_cycle_end - 1.645 * sd_total);
  f.interval_high = f.expected_to_cycle_end + 1.645 * sd_total;
  f.expected_cycle_total = f.used + f.expected_to_cycle_end;

  f.allowance = NumericAttribute(p, def.allowance);
  if (auto reported = NumericAttribute(p, def.remaining)) {
    // Last reported balance minus the usage recorded on the days after the report.
    const int64_t report_day = DayOf(p.attributes[def.remaining].set_ms);
    double since = 0;
    for (int64_t day = report_day + 1; day <= today; ++day) since += DayUsage(day);
    f.remaining = std::max(0.0, *reported - since);
  } else if (f.allowance) {
    f.remaining = std::max(0.0, *f.allowance - f.used);
  }
  if (f.remaining) {
    if (*f.remaining <= 0) {
      f.days_to_depletion = 0.0;
    } else if (f.daily_mean > 0) {
      f.days_to_depletion = *f.remaining / f.daily_mean;
    }
    if (sd_total > 0) {
      const double z = (*f.remaining - f.expected_to_cycle_end) / sd_total;
      f.p_depletion = 0.5 * std::erfc(z / std::sqrt(2.0));
    } else {
      f.p_depletion = f.expected_to_cycle_end > *f.remaining ? 1.0 : 0.0;
    }
  }
  return f;
}

}  // namespace kairos
