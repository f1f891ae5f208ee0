#include "common/timezone.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <mutex>
#include <system_error>
#include <utility>

#include "common/time_format.h"

namespace kairos {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

// Limits on TZif counts. Real files have at most a few thousand transitions (fat files list
// them up to 2037) and a few dozen types; anything far beyond is corruption, not a zone.
constexpr uint32_t kMaxTimeCount = 1 << 16;
constexpr uint32_t kMaxTypeCount = 256;  // transition type indices are one byte
constexpr uint32_t kMaxCharCount = 1 << 12;
constexpr uint32_t kMaxLeapCount = 1 << 12;
constexpr size_t kMaxTzifFileSize = 1 << 20;
constexpr size_t kHeaderSize = 44;
// RFC 8536 3.2: utoff SHOULD be in (-25h, 26h); anything else is not a real zone.
constexpr int32_t kMinUtcOffset = -89999;
constexpr int32_t kMaxUtcOffset = 93599;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// For error messages: at most 64 bytes of untrusted text, non-printable bytes as '?'.
std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    const char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > 64) out += "...";
  return out;
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings.

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ >= s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  size_t pos() const { return pos_; }

  Status Fail(std::string_view what) const {
    return InvalidArgument("POSIX TZ string '" + Printable(s_) + "': " + std::string(what) +
                           " at offset " + std::to_string(pos_));
  }

  // "CET" (3+ letters) or "<+0530>" (3+ of [A-Za-z0-9+-] between angle brackets).
  Status Abbreviation(std::string* out) {
    const size_t start = pos_;
    if (Consume('<')) {
      while (pos_ < s_.size() && (IsAlnum(s_[pos_]) || s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      const size_t len = pos_ - start - 1;
      if (!Consume('>')) return Fail("unterminated or invalid quoted abbreviation");
      if (len < 3) return Fail("abbreviation shorter than 3 characters");
      *out = std::string(s_.substr(start + 1, len));
      return Status::Ok();
    }
    while (pos_ < s_.size() && IsAlpha(s_[pos_])) ++pos_;
    if (pos_ - start < 3) return Fail("expected an abbreviation of at least 3 letters");
    *out = std::string(s_.substr(start, pos_ - start));
    return Status::Ok();
  }

  // [+-]hh[:mm[:ss]] with hours at most `max_hours`; returns the signed number of seconds.
  Status SignedHms(int max_hours, int32_t* out) {
    int sign = 1;
    if (Consume('-')) {
      sign = -1;
    } else {
      Consume('+');
    }
    int hours = 0, minutes = 0, seconds = 0;
    if (!Number(3, &hours)) return Fail("expected hours");
    if (hours > max_hours) return Fail("hours out of range");
    if (Consume(':')) {
      if (!Number(2, &minutes) || minutes > 59) return Fail("expected minutes 00..59");
      if (Consume(':')) {
        if (!Number(2, &seconds) || seconds > 59) return Fail("expected seconds 00..59");
      }
    }
    *out = sign * (hours * 3600 + minutes * 60 + seconds);
    return Status::Ok();
  }

  // Jn | n | Mm.w.d, then an optional /time.
  Status Transition(timezone_internal::PosixTransition* out) {
    using Kind = timezone_internal::PosixTransition::Kind;
    if (Consume('J')) {
      out->kind = Kind::kJulian;
      if (!Number(3, &out->day) || out->day < 1 || out->day > 365) {
        return Fail("expected a Julian day 1..365");
      }
    } else if (Consume('M')) {
      out->kind = Kind::kMonthWeekDay;
      if (!Number(2, &out->month) || out->month < 1 || out->month > 12) {
        return Fail("expected a month 1..12");
      }
      if (!Consume('.') || !Number(1, &out->week) || out->week < 1 || out->week > 5) {
        return Fail("expected '.' and a week 1..5");
      }
      if (!Consume('.') || !Number(1, &out->weekday) || out->weekday > 6) {
        return Fail("expected '.' and a weekday 0..6");
      }
    } else {
      out->kind = Kind::kZeroBased;
      if (!Number(3, &out->day) || out->day > 365) return Fail("expected a day 0..365");
    }
    out->time_seconds = 2 * 3600;
    if (Consume('/')) {
      // RFC 8536 3.3.1: the hours may be -167..167.
      KAIROS_RETURN_IF_ERROR(SignedHms(167, &out->time_seconds));
    }
    return Status::Ok();
  }

 private:
  static bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

  // 1..max_digits decimal digits.
  bool Number(int max_digits, int* out) {
    int v = 0, n = 0;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      if (++n > max_digits) return false;
      v = v * 10 + (s_[pos_++] - '0');
    }
    *out = v;
    return n > 0;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// First day (days since the epoch) of the transition in year `y`.
int64_t TransitionDay(int64_t y, const timezone_internal::PosixTransition& t) {
  using Kind = timezone_internal::PosixTransition::Kind;
  switch (t.kind) {
    case Kind::kJulian:
      return DaysFromCivil(y, 1, 1) + t.day - 1 + (IsLeapYear(y) && t.day >= 60 ? 1 : 0);
    case Kind::kZeroBased:
      return DaysFromCivil(y, 1, 1) + t.day;
    case Kind::kMonthWeekDay: {
      const unsigned m = static_cast<unsigned>(t.month);
      const int64_t first = DaysFromCivil(y, m, 1);
      const int64_t next = m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
      const int64_t first_weekday = FloorMod(first + 4, 7);  // 1970-01-01 was a Thursday
      int64_t day = first + FloorMod(t.weekday - first_weekday, 7) + (t.week - 1) * 7;
      while (day >= next) day -= 7;  // week 5 means "the last"
      return day;
    }
  }
  return DaysFromCivil(y, 1, 1);
}

// ---------------------------------------------------------------------------------------------
// TZif (RFC 8536).

struct TzifHeader {
  char version = 0;  // 0 for version 1, else '2', '3', '4', ...
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  // Size of the data block that follows, for 4-byte (v1) or 8-byte (v2+) times. Cannot
  // overflow: every count is below 2^32 and the factors are small.
  uint64_t DataSize(uint64_t time_size) const {
    return uint64_t{timecnt} * time_size + timecnt + uint64_t{typecnt} * 6 + charcnt +
           uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

// Bounds-checked big-endian reader over the file; every read checks what is left first.
class TzifReader {
 public:
  TzifReader(std::string_view data, std::string label) : data_(data), label_(std::move(label)) {}

  Status Fail(std::string_view what) const {
    return Corruption(label_ + ": " + std::string(what) + " (at byte " + std::to_string(pos_) +
                      " of " + std::to_string(data_.size()) + ")");
  }
  size_t remaining() const { return data_.size() - pos_; }
  bool Has(uint64_t n) const { return n <= remaining(); }
  void Skip(size_t n) { pos_ += n; }  // callers check Has(n) first
  uint8_t U8() { return static_cast<uint8_t>(data_[pos_++]); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return v;
  }
  int64_t I64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return static_cast<int64_t>(v);
  }
  int64_t Time(size_t time_size) {
    return time_size == 8 ? I64() : static_cast<int64_t>(static_cast<int32_t>(U32()));
  }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  std::string label_;
  size_t pos_ = 0;
};

Result<TzifHeader> ReadHeader(TzifReader* r, std::string_view which) {
  if (!r->Has(kHeaderSize)) {
    return r->Fail("truncated " + std::string(which) + " (a TZif header is 44 bytes)");
  }
  if (r->Rest().substr(0, 4) != "TZif") {
    return r->Fail("bad magic in " + std::string(which) + " (not a TZif file)");
  }
  r->Skip(4);
  TzifHeader h;
  h.version = static_cast<char>(r->U8());
  if (h.version != 0 && h.version < '2') {
    return r->Fail("unsupported TZif version byte " +
                   std::to_string(static_cast<unsigned char>(h.version)));
  }
  r->Skip(15);
  h.isutcnt = r->U32();
  h.isstdcnt = r->U32();
  h.leapcnt = r->U32();
  h.timecnt = r->U32();
  h.typecnt = r->U32();
  h.charcnt = r->U32();
  const std::string in = " in " + std::string(which);
  if (h.typecnt == 0) return r->Fail("no local time types" + in);
  if (h.typecnt > kMaxTypeCount) {
    return r->Fail("absurd local time type count " + std::to_string(h.typecnt) + in);
  }
  if (h.timecnt > kMaxTimeCount) {
    return r->Fail("absurd transition count " + std::to_string(h.timecnt) + in);
  }
  if (h.charcnt > kMaxCharCount) {
    return r->Fail("absurd designation byte count " + std::to_string(h.charcnt) + in);
  }
  if (h.leapcnt > kMaxLeapCount) {
    return r->Fail("absurd leap second count " + std::to_string(h.leapcnt) + in);
  }
  if (h.isutcnt != 0 && h.isutcnt != h.typecnt) {
    return r->Fail("UT/local indicator count differs from the type count" + in);
  }
  if (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) {
    return r->Fail("standard/wall indicator count differs from the type count" + in);
  }
  return h;
}

}  // namespace

namespace timezone_internal {

Result<PosixTimeZone> ParsePosixTimeZone(std::string_view spec) {
  PosixParser p(spec);
  if (p.AtEnd()) return p.Fail("empty");
  if (p.Peek(':')) return p.Fail("the ':' (implementation-defined) form is not supported");
  PosixTimeZone tz;
  KAIROS_RETURN_IF_ERROR(p.Abbreviation(&tz.std_abbr));
  int32_t west = 0;
  KAIROS_RETURN_IF_ERROR(p.SignedHms(24, &west));
  tz.std_offset = -west;
  if (p.AtEnd()) return tz;

  tz.has_dst = true;
  KAIROS_RETURN_IF_ERROR(p.Abbreviation(&tz.dst_abbr));
  if (!p.AtEnd() && !p.Peek(',')) {
    KAIROS_RETURN_IF_ERROR(p.SignedHms(24, &west));
    tz.dst_offset = -west;
  } else {
    tz.dst_offset = tz.std_offset + 3600;
  }
  if (p.AtEnd()) {
    // No rule: tzcode's default, the US rule since 2007.
    tz.dst_start = {PosixTransition::Kind::kMonthWeekDay, 0, 3, 2, 0, 2 * 3600};
    tz.dst_end = {PosixTransition::Kind::kMonthWeekDay, 0, 11, 1, 0, 2 * 3600};
    return tz;
  }
  if (!p.Consume(',')) return p.Fail("expected ',' before the DST start rule");
  KAIROS_RETURN_IF_ERROR(p.Transition(&tz.dst_start));
  if (!p.Consume(',')) return p.Fail("expected ',' before the DST end rule");
  KAIROS_RETURN_IF_ERROR(p.Transition(&tz.dst_end));
  if (!p.AtEnd()) return p.Fail("unexpected trailing characters");
  return tz;
}

int32_t PosixOffsetAt(const PosixTimeZone& tz, int64_t utc_seconds) {
  if (!tz.has_dst) return tz.std_offset;
  // The latest switch at or before `utc_seconds` decides. Rule times reach +-167 hours, so a
  // year's switches may fall up to a week into the neighbouring years: years y-2 .. y+1
  // always include the decisive one. Northern (start < end) and southern (end < start)
  // rules need no special case. On a tie (DST all year: "EST5EDT,0/0,J365/25") DST wins.
  int64_t year;
  unsigned month, day;
  CivilFromDays(FloorDiv(utc_seconds, kSecondsPerDay), &year, &month, &day);
  int64_t best = std::numeric_limits<int64_t>::min();
  bool dst = false;
  for (int64_t y = year - 2; y <= year + 1; ++y) {
    const int64_t start =
        TransitionDay(y, tz.dst_start) * kSecondsPerDay + tz.dst_start.time_seconds - tz.std_offset;
    const int64_t end =
        TransitionDay(y, tz.dst_end) * kSecondsPerDay + tz.dst_end.time_seconds - tz.dst_offset;
    if (start <= utc_seconds && start >= best) {
      best = start;
      dst = true;
    }
    if (end <= utc_seconds && end > best) {
      best = end;
      dst = false;
    }
  }
  return dst ? tz.dst_offset : tz.std_offset;
}

bool IsPlausibleZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') {
    return false;
  }
  if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace timezone_internal

Result<std::shared_ptr<const TimeZone>> TimeZone::Parse(std::string_view name,
                                                        std::string_view tzif_bytes) {
  return ParseLabeled(name, "TZif data of zone '" + Printable(name) + "'", tzif_bytes);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name,
                                                       const std::string& zoneinfo_dir) {
  if (!timezone_internal::IsPlausibleZoneName(name)) {
    return InvalidArgument("'" + Printable(name) +
                           "' is not a time zone name (expected an IANA name like "
                           "Europe/Berlin: 1-64 characters of A-Z a-z 0-9 _ + - /, relative, "
                           "no '..')");
  }
  const std::string path = zoneinfo_dir + "/" + std::string(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // no FIFO hangs
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return NotFound("unknown time zone '" + std::string(name) + "' (no file " + path + ")");
    }
    return IoError("cannot open " + path + ": " + std::generic_category().message(err));
  }
  std::string bytes;
  Status status;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    status = IoError("cannot stat " + path + ": " + std::generic_category().message(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = NotFound("unknown time zone '" + std::string(name) + "' (" + path +
                      " is not a regular file)");
  } else if (static_cast<uint64_t>(st.st_size) > kMaxTzifFileSize) {
    status = Corruption(path + ": " + std::to_string(st.st_size) +
                        " bytes is too large for a TZif file");
  } else {
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = IoError("cannot read " + path + ": " + std::generic_category().message(errno));
        break;
      }
      if (n == 0) {  // shrank while reading; parse what is there (it will likely fail)
        bytes.resize(done);
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return ParseLabeled(name, path, bytes);
}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  // Immutable after initialization (thread-safe static init); intentionally never destroyed.
  static const std::shared_ptr<const TimeZone>* const kUtc = [] {
    std::shared_ptr<TimeZone> utc(new TimeZone());
    utc->name_ = "UTC";
    utc->types_.push_back({0, false});
    return new std::shared_ptr<const TimeZone>(std::move(utc));
  }();
  return *kUtc;
}

int32_t TimeZone::OffsetSeconds(TimestampMs utc_ms) const {
  const int64_t t = FloorDiv(utc_ms, kMsPerSecond);
  if (transitions_.empty() || t < transitions_.front()) {
    // RFC 8536: with no transitions the footer (if any) governs all time.
    if (transitions_.empty() && footer_) return timezone_internal::PosixOffsetAt(*footer_, t);
    return types_[initial_type_].offset;
  }
  if (t > transitions_.back() && footer_) return timezone_internal::PosixOffsetAt(*footer_, t);
  const size_t i =
      static_cast<size_t>(std::upper_bound(transitions_.begin(), transitions_.end(), t) -
                          transitions_.begin()) -
      1;
  return types_[transition_types_[i]].offset;
}

int TimeZone::LocalMinuteOfDay(TimestampMs utc_ms) const {
  const int64_t local_seconds = FloorDiv(utc_ms, kMsPerSecond) + OffsetSeconds(utc_ms);
  return static_cast<int>(FloorMod(local_seconds, kSecondsPerDay) / 60);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::ParseLabeled(std::string_view name,
                                                               const std::string& label,
                                                               std::string_view bytes) {
  TzifReader r(bytes, label);
  auto v1 = ReadHeader(&r, "version 1 header");
  if (!v1.ok()) return v1.status();
  TzifHeader h = *v1;
  size_t time_size = 4;
  if (h.version != 0) {
    // Version 2+: skip the 32-bit block entirely; the 64-bit block after it is authoritative.
    const uint64_t v1_size = h.DataSize(4);
    if (!r.Has(v1_size)) return r.Fail("truncated version 1 data block");
    r.Skip(static_cast<size_t>(v1_size));
    auto v2 = ReadHeader(&r, "version 2+ header");
    if (!v2.ok()) return v2.status();
    h = *v2;
    time_size = 8;
  }
  if (!r.Has(h.DataSize(time_size))) {
    return r.Fail("truncated data block (needs " + std::to_string(h.DataSize(time_size)) +
                  " bytes, " + std::to_string(r.remaining()) + " left)");
  }

  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::string(name);
  tz->transitions_.resize(h.timecnt);
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    tz->transitions_[i] = r.Time(time_size);
    if (i > 0 && tz->transitions_[i] <= tz->transitions_[i - 1]) {
      return r.Fail("transition times are not strictly ascending");
    }
  }
  tz->transition_types_.resize(h.timecnt);
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    tz->transition_types_[i] = r.U8();
    if (tz->transition_types_[i] >= h.typecnt) {
      return r.Fail("transition type index " + std::to_string(tz->transition_types_[i]) +
                    " out of range (" + std::to_string(h.typecnt) + " types)");
    }
  }
  tz->types_.resize(h.typecnt);
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    const int32_t offset = static_cast<int32_t>(r.U32());
    const uint8_t is_dst = r.U8();
    const uint8_t designation = r.U8();
    if (offset < kMinUtcOffset || offset > kMaxUtcOffset) {
      return r.Fail("UTC offset " + std::to_string(offset) + " of local time type " +
                    std::to_string(i) + " out of range");
    }
    if (is_dst > 1) return r.Fail("DST flag of local time type " + std::to_string(i) + " not 0/1");
    if (designation >= h.charcnt) {
      return r.Fail("designation index of local time type " + std::to_string(i) + " out of range");
    }
    tz->types_[i] = {offset, is_dst == 1};
  }
  r.Skip(h.charcnt);
  // Leap second records (the right/ zones): their transition times count leap seconds; map
  // them back to POSIX time, which is what Kairos timestamps are.
  std::vector<std::pair<int64_t, int32_t>> leaps(h.leapcnt);
  for (uint32_t i = 0; i < h.leapcnt; ++i) {
    leaps[i].first = r.Time(time_size);
    leaps[i].second = static_cast<int32_t>(r.U32());
    if (i > 0 && leaps[i].first <= leaps[i - 1].first) {
      return r.Fail("leap second records are not strictly ascending");
    }
  }
  for (uint32_t i = 0; i < h.isstdcnt + h.isutcnt; ++i) {
    if (r.U8() > 1) return r.Fail("standard/wall or UT/local indicator not 0/1");
  }
  if (!leaps.empty()) {
    size_t leap = 0;
    int32_t correction = 0;
    for (int64_t& t : tz->transitions_) {
      while (leap < leaps.size() && leaps[leap].first <= t) correction = leaps[leap++].second;
      if (__builtin_sub_overflow(t, int64_t{correction}, &t)) {
        return r.Fail("transition time out of range after leap second correction");
      }
    }
    for (size_t i = 1; i < tz->transitions_.size(); ++i) {
      if (tz->transitions_[i] <= tz->transitions_[i - 1]) {
        return r.Fail("transition times not ascending after leap second correction");
      }
    }
  }

  if (h.version != 0) {
    // Footer: "\n" POSIX-TZ-string "\n"; an empty string means "no rule".
    const std::string_view rest = r.Rest();
    if (rest.empty() || rest[0] != '\n') return r.Fail("missing footer after the data block");
    const size_t end = rest.find('\n', 1);
    if (end == std::string_view::npos) return r.Fail("unterminated footer");
    const std::string_view spec = rest.substr(1, end - 1);
    if (!spec.empty()) {
      auto footer = timezone_internal::ParsePosixTimeZone(spec);
      if (!footer.ok()) return r.Fail("bad footer: " + footer.status().message());
      tz->footer_ = std::move(footer).value();
    }
  }

  // Before the first transition: the first standard-time type, else type 0 (as glibc does;
  // zic makes type 0 the earliest local time, usually LMT, so both readings agree).
  tz->initial_type_ = 0;
  for (size_t i = 0; i < tz->types_.size(); ++i) {
    if (!tz->types_[i].is_dst) {
      tz->initial_type_ = i;
      break;
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(tz));
}

TimeZoneCache::TimeZoneCache(std::string zoneinfo_dir) : zoneinfo_dir_(std::move(zoneinfo_dir)) {}

Result<std::shared_ptr<const TimeZone>> TimeZoneCache::Get(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(name);
    if (it != entries_.end()) return it->second;
  }
  if (!timezone_internal::IsPlausibleZoneName(name)) return TimeZone::Load(name, zoneinfo_dir_);
  // The file is read under the exclusive lock, so that each name is read once even when many
  // threads miss at the same time; this happens once per name.
  std::unique_lock lock(mu_);
  auto it = entries_.find(name);
  if (it != entries_.end()) return it->second;
  auto result = TimeZone::Load(name, zoneinfo_dir_);
  if (result.ok() || failures_ < kMaxRememberedFailures) {
    if (!result.ok()) ++failures_;
    entries_.emplace(std::string(name), result);
  }
  return result;
}

}  // namespace kairos
