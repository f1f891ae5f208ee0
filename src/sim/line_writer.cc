#include "sim/line_writer.h"

#include <algorithm>

#include "common/time_format.h"

namespace kairos::sim {

void LineWriter::Reserve(size_t n) {
  // Doubling keeps appends amortised O(1); the 1 MiB floor avoids many small regrowths at the
  // start of a day's buffer.
  size_t cap = std::max<size_t>(buf_.size() * 2, size_t{1} << 20);
  while (cap < size_ + n) cap *= 2;
  buf_.resize(cap);
}

void LineWriter::Timestamp(TimestampMs t) {
  const int64_t day = DayOf(t);
  if (day != cached_day_) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(day, &y, &m, &d);
    // Years outside 0000..9999 cannot be written as RFC 3339; the generator never makes them.
    const uint64_t year = static_cast<uint64_t>(std::clamp<int64_t>(y, 0, 9999));
    char* p = date_;
    p[0] = static_cast<char>('0' + year / 1000);
    p[1] = static_cast<char>('0' + year / 100 % 10);
    p[2] = static_cast<char>('0' + year / 10 % 10);
    p[3] = static_cast<char>('0' + year % 10);
    p[4] = '-';
    p[5] = static_cast<char>('0' + m / 10);
    p[6] = static_cast<char>('0' + m % 10);
    p[7] = '-';
    p[8] = static_cast<char>('0' + d / 10);
    p[9] = static_cast<char>('0' + d % 10);
    p[10] = 'T';
    cached_day_ = day;
  }
  const int64_t in_day = t - day * kMsPerDay;  // 0 .. kMsPerDay-1, also before 1970
  const int64_t secs = in_day / 1000;
  const int64_t ms = in_day % 1000;
  const int hh = static_cast<int>(secs / 3600), mm = static_cast<int>(secs / 60 % 60),
            ss = static_cast<int>(secs % 60);
  char* p = Grow(ms != 0 ? 24 : 20);
  std::memcpy(p, date_, 11);
  p[11] = static_cast<char>('0' + hh / 10);
  p[12] = static_cast<char>('0' + hh % 10);
  p[13] = ':';
  p[14] = static_cast<char>('0' + mm / 10);
  p[15] = static_cast<char>('0' + mm % 10);
  p[16] = ':';
  p[17] = static_cast<char>('0' + ss / 10);
  p[18] = static_cast<char>('0' + ss % 10);
  if (ms != 0) {
    p[19] = '.';
    p[20] = static_cast<char>('0' + ms / 100);
    p[21] = static_cast<char>('0' + ms / 10 % 10);
    p[22] = static_cast<char>('0' + ms % 10);
    p[23] = 'Z';
  } else {
    p[19] = 'Z';
  }
}

}  // namespace kairos::sim
