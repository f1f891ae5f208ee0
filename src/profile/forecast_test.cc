#include "profile/forecast.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/hash.h"
#include "common/time_format.h"
#include "schema/config.h"

namespace kairos {
namespace {

class ForecastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    ASSERT_TRUE(s.ok());
    schema_ = *s;
    profile_ = Profile::Empty(*schema_);
  }
  void Apply(const std::string& json) {
    EventParser parser(schema_);
    Event e;
    ASSERT_TRUE(parser.Parse(json, &e).ok()) << json;
    ApplyEvent(*schema_, e, StableHash64(e.event_id), 72 * kMsPerHour, &profile_);
  }
  void DataOn(int day_of_month, double mb) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-03-%02dT12:00:00Z", day_of_month);
    Apply(R"({"event_id":"d)" + std::to_string(day_of_month) + R"(","subscriber_id":"s","type":"usage","ts":")" +
          ts + R"(","kind":"data","amount":)" + std::to_string(mb) + "}");
  }
  const ForecastDef& Def(const char* name) {
    for (const auto& f : schema_->forecasts()) {
      if (f.name == name) return f;
    }
    throw std::runtime_error("no forecast");
  }
  std::shared_ptr<const Schema> schema_;
  Profile profile_;
};

TEST_F(ForecastTest, PostpaidCycleHandComputed) {
  // Cycle: 30 days anchored on 2026-03-01 → [Mar 1, Mar 31). Allowance 5000 MB.
  Apply(R"({"event_id":"s","subscriber_id":"s","type":"subscriber","ts":"2026-03-01T00:00:00Z",)"
        R"("cycle_anchor":"2026-03-01T00:00:00Z","cycle_days":30,"data_allowance_mb":5000})");
  // Days 1..10 alternate 100 and 300 MB → mean 200, sample sd = sqrt(10/9 * 10000) = 105.409.
  for (int d = 1; d <= 10; ++d) DataOn(d, d % 2 ? 100 : 300);
  const TimestampMs now = *ParseRfc3339("2026-03-11T00:00:00Z");  // day 11 just started
  const ForecastResult f = ComputeForecast(*schema_, Def("data"), profile_, now);
  EXPECT_EQ(f.cycle_start, *ParseRfc3339("2026-03-01T00:00:00Z"));
  EXPECT_EQ(f.cycle_end, *ParseRfc3339("2026-03-31T00:00:00Z"));
  EXPECT_DOUBLE_EQ(f.days_left, 20);
  EXPECT_DOUBLE_EQ(f.used, 2000);
  EXPECT_EQ(f.days_observed, 10);
  EXPECT_DOUBLE_EQ(f.daily_mean, 200);
  EXPECT_NEAR(f.daily_sd, 105.4093, 1e-3);
  EXPECT_DOUBLE_EQ(f.expected_to_cycle_end, 4000);
  const double half = 1.645 * 105.4093 * std::sqrt(20.0);
  EXPECT_NEAR(f.interval_low, 4000 - half, 0.05);
  EXPECT_NEAR(f.interval_high, 4000 + half, 0.05);
  EXPECT_DOUBLE_EQ(f.expected_cycle_total, 6000);
  ASSERT_TRUE(f.remaining);
  EXPECT_DOUBLE_EQ(*f.remaining, 3000);
  EXPECT_DOUBLE_EQ(*f.days_to_depletion, 15);
  // P(N(4000, 105.41²·20) > 3000) = Φ(1000 / 471.4) = Φ(2.1213) ≈ 0.98305.
  EXPECT_NEAR(*f.p_depletion, 0.98305, 1e-4);
}

TEST_F(ForecastTest, CycleRollsOverAndUsesReportedBalance) {
  // Prepaid: 28-day cycles anchored on Feb 1 → the cycle containing Mar 5 starts Mar 1.
  Apply(R"({"event_id":"s","subscriber_id":"s","type":"subscriber","ts":"2026-02-20T00:00:00Z",)"
        R"("cycle_anchor":"2026-02-01T00:00:00Z","cycle_days":28,"data_allowance_mb":3000})");
  for (int d = 1; d <= 4; ++d) DataOn(d, 50);
  // Balance report on Mar 3: 800 MB left; usage on Mar 4 (50) comes after it.
  Apply(R"({"event_id":"b","subscriber_id":"s","type":"balance","ts":"2026-03-03T20:00:00Z","data_remaining_mb":800})");
  const TimestampMs now = *ParseRfc3339("2026-03-05T06:00:00Z");
  const ForecastResult f = ComputeForecast(*schema_, Def("data"), profile_, now);
  EXPECT_EQ(f.cycle_start, *ParseRfc3339("2026-03-01T00:00:00Z"));
  EXPECT_EQ(f.cycle_end, *ParseRfc3339("2026-03-29T00:00:00Z"));
  EXPECT_DOUBLE_EQ(f.used, 200);
  EXPECT_DOUBLE_EQ(*f.remaining, 750);
  // Rate over completed days since the first event (Feb 20 .. Mar 4): 200 MB over 13 days.
  EXPECT_EQ(f.days_observed, 13);
  EXPECT_NEAR(f.daily_mean, 200.0 / 13, 1e-9);
  EXPECT_NEAR(*f.days_to_depletion, 750 / (200.0 / 13), 1e-9);
}

TEST_F(ForecastTest, NoAllowanceNoRemainingAndNoUsage) {
  Apply(R"({"event_id":"s","subscriber_id":"s","type":"subscriber","ts":"2026-03-01T00:00:00Z"})");
  const ForecastResult f = ComputeForecast(*schema_, Def("data"), profile_, *ParseRfc3339("2026-03-10T00:00:00Z"));
  EXPECT_FALSE(f.remaining);
  EXPECT_FALSE(f.days_to_depletion);
  EXPECT_FALSE(f.p_depletion);
  EXPECT_DOUBLE_EQ(f.daily_mean, 0);
  // Default 30-day cycle anchored on the first event.
  EXPECT_EQ(f.cycle_end, *ParseRfc3339("2026-03-31T00:00:00Z"));
}

TEST_F(ForecastTest, PrepaidCreditDaysToEmpty) {
  Apply(R"({"event_id":"s","subscriber_id":"s","type":"subscriber","ts":"2026-03-01T00:00:00Z","cycle_days":28})");
  for (int d = 1; d <= 5; ++d) {
    Apply(R"({"event_id":"c)" + std::to_string(d) + R"(","subscriber_id":"s","type":"usage","ts":"2026-03-0)" +
          std::to_string(d) + R"(T09:00:00Z","kind":"voice","amount":10,"charge_eur":0.5})");
  }
  Apply(R"({"event_id":"t","subscriber_id":"s","type":"topup","ts":"2026-03-05T10:00:00Z","amount_eur":5,"balance_after_eur":6})");
  const ForecastResult f = ComputeForecast(*schema_, Def("credit"), profile_, *ParseRfc3339("2026-03-06T00:00:00Z"));
  EXPECT_DOUBLE_EQ(f.daily_mean, 0.5);
  EXPECT_DOUBLE_EQ(*f.remaining, 6);
  EXPECT_DOUBLE_EQ(*f.days_to_depletion, 12);
}

}  // namespace
}  // namespace kairos
