#include "common/time_format.h"

#include <gtest/gtest.h>

namespace kairos {
namespace {

TEST(TimeFormat, ParsesRfc3339WithZoneAndFraction) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("2026-03-01T10:00:00Z"), 1772359200000);
  EXPECT_EQ(*ParseRfc3339("2026-03-01T11:00:00.250+01:00"), 1772359200250);
  EXPECT_EQ(*ParseRfc3339("2026-03-01 10:00:00.123456z"), 1772359200123);
}

TEST(TimeFormat, RejectsMalformedTimestampsWithReason) {
  for (const char* bad : {"", "2026-03-01", "2026-02-30T00:00:00Z", "2026-03-01T25:00:00Z",
                          "2026-03-01T10:00:00", "2026-03-01T10:00:00Zjunk",
                          "2026-03-01T10:00:00.Z", "2026-03-01T10:00:00+1:00"}) {
    auto r = ParseRfc3339(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(TimeFormat, RoundTripsAndDays) {
  const TimestampMs t = *ParseRfc3339("2024-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(t), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatDate(t), "2024-02-29");
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(DayOf(kMsPerDay), 1);
  EXPECT_EQ(*ParseDate("2024-03-01"), t + 1);
}

TEST(TimeFormat, ParsesDurations) {
  EXPECT_EQ(*ParseDurationMs("90d"), 90 * kMsPerDay);
  EXPECT_EQ(*ParseDurationMs("48h"), 48 * kMsPerHour);
  EXPECT_EQ(*ParseDurationMs("500ms"), 500);
  EXPECT_EQ(*ParseDurationMs("2w"), 14 * kMsPerDay);
  EXPECT_FALSE(ParseDurationMs("d").ok());
  EXPECT_FALSE(ParseDurationMs("5y").ok());
  EXPECT_FALSE(ParseDurationMs("-5d").ok());
}

}  // namespace
}  // namespace kairos
