// Billing-cycle usage forecast for one allowance (or prepaid credit) of one subscriber.
//
// Model: daily usage over the last `lookback` completed days (never before the subscriber's
// first event) has mean m and standard deviation s; the usage still to come in the cycle is
// taken as normal with mean m·d and variance s²·d, where d is the (fractional) number of days
// left, since days are treated as independent. The 90% interval is mean ± 1.645·s·√d, floored
// at zero. Days to depletion = remaining / m.
#pragma once

#include <optional>

#include "common/clock.h"
#include "profile/profile.h"
#include "schema/schema.h"

namespace kairos {

struct ForecastResult {
  TimestampMs cycle_start = 0;
  TimestampMs cycle_end = 0;
  double days_left = 0;        // fractional days from now to the cycle end
  double used = 0;             // usage in the cycle so far (today included)
  int days_observed = 0;       // completed days behind the daily rate
  double daily_mean = 0;
  double daily_sd = 0;
  double expected_to_cycle_end = 0;  // usage still to come in this cycle
  double interval_low = 0;           // 90% interval of that usage
  double interval_high = 0;
  double expected_cycle_total = 0;   // used + expected_to_cycle_end
  std::optional<double> allowance;
  std::optional<double> remaining;   // what is left now (last report minus usage since, or allowance - used)
  std::optional<double> days_to_depletion;  // remaining / daily rate; absent when the rate is 0
  std::optional<double> p_depletion;        // P(usage to cycle end > remaining)
};

ForecastResult ComputeForecast(const Schema& schema, const ForecastDef& def, const Profile& profile,
                               TimestampMs now);

}  // namespace kairos
