#include "common/time_format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace kairos {

// Howard Hinnant's public-domain civil calendar algorithms.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

unsigned DaysInMonth(int y, int m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

Status BadTimestamp(std::string_view text, std::string_view why) {
  std::string msg = "invalid timestamp \"";
  msg.append(text.substr(0, 64));
  msg += "\": ";
  msg += why;
  return InvalidArgument(std::move(msg));
}

}  // namespace

Result<TimestampMs> ParseDate(std::string_view text) {
  int y, mo, d;
  if (text.size() != 10 || !Digits(text, 0, 4, &y) || text[4] != '-' || !Digits(text, 5, 2, &mo) ||
      text[7] != '-' || !Digits(text, 8, 2, &d)) {
    return InvalidArgument("invalid date \"" + std::string(text.substr(0, 64)) +
                           "\": expected YYYY-MM-DD");
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo)) {
    return InvalidArgument("invalid date \"" + std::string(text) + "\": no such day");
  }
  return DaysFromCivil(y, mo, d) * kMsPerDay;
}

Result<TimestampMs> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return BadTimestamp(s, "expected RFC 3339 like 2026-03-01T10:00:00Z or epoch milliseconds");
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo) || h > 23 ||
      mi > 59 || sec > 60) {
    return BadTimestamp(s, "date or time out of range");
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return BadTimestamp(s, "empty fraction of a second");
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return BadTimestamp(s, "invalid time zone offset");
    }
    offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return BadTimestamp(s, "missing time zone (Z or +hh:mm)");
  }
  if (pos != s.size()) return BadTimestamp(s, "trailing characters");
  if (sec == 60) sec = 59;  // leap second: clamp
  const int64_t days = DaysFromCivil(y, mo, d);
  return days * kMsPerDay + (h * 3600 + mi * 60 + sec) * kMsPerSecond + millis -
         offset_min * 60 * kMsPerSecond;
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  int64_t n = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || ptr == begin || n < 0) {
    return InvalidArgument("invalid duration \"" + std::string(text.substr(0, 64)) +
                           "\": expected a number and a unit, e.g. 30d, 48h, 15m, 500ms");
  }
  std::string_view unit(ptr, end - ptr);
  int64_t mult;
  if (unit == "ms") mult = 1;
  else if (unit == "s") mult = kMsPerSecond;
  else if (unit == "m") mult = 60 * kMsPerSecond;
  else if (unit == "h") mult = kMsPerHour;
  else if (unit == "d") mult = kMsPerDay;
  else if (unit == "w") mult = 7 * kMsPerDay;
  else
    return InvalidArgument("invalid duration \"" + std::string(text.substr(0, 64)) +
                           "\": unit must be one of ms, s, m, h, d, w");
  if (n > (int64_t{1} << 62) / mult) return InvalidArgument("duration too large: " + std::string(text));
  return n * mult;
}

std::string FormatMinuteOfDay(int minute) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

std::string FormatDate(TimestampMs t) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(DayOf(t), &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

namespace {
char* Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}
}  // namespace

// Hand-written rather than snprintf: profiles print a dozen timestamps per read.
size_t FormatRfc3339(TimestampMs t, char* buf) {
  const int64_t day = DayOf(t);
  const int64_t rem = t - day * kMsPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  if (y < 0 || y > 9999) {
    const int n = std::snprintf(buf, kRfc3339Max, "%lldT00:00:00Z", static_cast<long long>(y));
    return static_cast<size_t>(std::max(0, std::min(n, static_cast<int>(kRfc3339Max) - 1)));
  }
  const unsigned secs = static_cast<unsigned>(rem / 1000), ms = static_cast<unsigned>(rem % 1000);
  char* p = buf;
  p = Put2(p, static_cast<unsigned>(y / 100));
  p = Put2(p, static_cast<unsigned>(y % 100));
  *p++ = '-';
  p = Put2(p, m);
  *p++ = '-';
  p = Put2(p, d);
  *p++ = 'T';
  p = Put2(p, secs / 3600);
  *p++ = ':';
  p = Put2(p, secs / 60 % 60);
  *p++ = ':';
  p = Put2(p, secs % 60);
  if (ms != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + ms / 100);
    p = Put2(p, ms % 100);
  }
  *p++ = 'Z';
  return static_cast<size_t>(p - buf);
}

std::string FormatRfc3339(TimestampMs t) {
  char buf[kRfc3339Max];
  return std::string(buf, FormatRfc3339(t, buf));
}

}  // namespace kairos
