// Parsing and printing of timestamps, dates and durations as Kairos users write them.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace kairos {

// Parses RFC 3339 ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.250+01:00"; 'T' or ' ';
// lower-case 't'/'z' accepted). Fractions beyond milliseconds are truncated.
Result<TimestampMs> ParseRfc3339(std::string_view text);

// Parses a calendar date "YYYY-MM-DD" as midnight UTC.
Result<TimestampMs> ParseDate(std::string_view text);

// Parses a duration: an integer followed by a unit ms|s|m|h|d|w, e.g. "90d", "48h", "500ms".
Result<int64_t> ParseDurationMs(std::string_view text);

// "2026-03-01T10:00:00.250Z" (milliseconds shown only when non-zero).
std::string FormatRfc3339(TimestampMs t);
// The same into `buf` (at least kRfc3339Max bytes, not terminated); returns the length.
inline constexpr size_t kRfc3339Max = 32;
size_t FormatRfc3339(TimestampMs t, char* buf);
// "2026-03-01".
std::string FormatDate(TimestampMs t);
// "21:30" for minute 1290 of a day (wall-clock times such as quiet hours).
std::string FormatMinuteOfDay(int minute);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

// Day number (UTC) containing t; floor division, also for times before 1970.
inline int64_t DayOf(TimestampMs t) {
  return t >= 0 ? t / kMsPerDay : -((-t + kMsPerDay - 1) / kMsPerDay);
}

}  // namespace kairos
