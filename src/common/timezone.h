// IANA time zones read from the system's TZif files (RFC 8536), for rules that speak in local
// wall-clock time (quiet hours). GCC 12's libstdc++ has no std::chrono time-zone database, so
// Kairos reads /usr/share/zoneinfo (Debian package `tzdata`) itself.
//
// A TimeZone is immutable once loaded and safe to share between threads. Lookups on the hot
// path go through a TimeZoneCache, which reads each zone file at most once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace kairos {

namespace timezone_internal {

// One end of a daylight-saving period in a POSIX TZ string: a day of the year plus a local
// time of day. RFC 8536 allows the time to be negative or beyond 24h (-167..167 hours).
struct PosixTransition {
  enum class Kind {
    kJulian,        // "Jn": day n (1..365) of the year, February 29 never counted
    kZeroBased,     // "n": day n (0..365) of the year, February 29 counted in leap years
    kMonthWeekDay,  // "Mm.w.d": day d (0 = Sunday) of week w (1..5, 5 = last) of month m
  };
  Kind kind = Kind::kMonthWeekDay;
  int day = 0;                      // kJulian, kZeroBased
  int month = 0;                    // kMonthWeekDay: 1..12
  int week = 0;                     // kMonthWeekDay: 1..5
  int weekday = 0;                  // kMonthWeekDay: 0..6
  int32_t time_seconds = 2 * 3600;  // local time of day of the switch (default 02:00)
};

// A parsed POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" (the footer of a TZif file).
// Offsets are seconds east of UTC (the POSIX string itself counts west: "CET-1" is UTC+1).
struct PosixTimeZone {
  std::string std_abbr;
  int32_t std_offset = 0;
  bool has_dst = false;
  std::string dst_abbr;
  int32_t dst_offset = 0;
  PosixTransition dst_start;  // evaluated in local standard time
  PosixTransition dst_end;    // evaluated in local daylight time
};

// Parses a POSIX TZ string (POSIX.1-2017 8.3 with the RFC 8536 extensions). A DST zone
// without a rule ("EST5EDT") gets the US rule ",M3.2.0,M11.1.0", as tzcode does.
// kInvalidArgument, naming what is wrong, for anything else (including ":path" forms).
Result<PosixTimeZone> ParsePosixTimeZone(std::string_view spec);

// UTC offset in seconds at `utc_seconds` (seconds since the epoch) under `tz`.
int32_t PosixOffsetAt(const PosixTimeZone& tz, int64_t utc_seconds);

// Whether `name` is a plausible zone name: 1..64 bytes of [A-Za-z0-9_+-/], relative, no empty
// path component and no "..".
bool IsPlausibleZoneName(std::string_view name);

}  // namespace timezone_internal

// A time zone loaded from a TZif file (RFC 8536, versions 1-4) of the system's IANA database.
// Immutable; share it freely between threads.
class TimeZone {
 public:
  static constexpr const char* kDefaultZoneinfoDir = "/usr/share/zoneinfo";

  // Loads zone `name` ("Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires") from
  // `zoneinfo_dir`. Errors: kInvalidArgument for a name that is not a plausible zone name
  // (empty, longer than 64 bytes, absolute, containing "..", characters outside
  // [A-Za-z0-9_+-/]); kNotFound when there is no such zone file; kIoError when the file
  // cannot be read; kCorruption for a malformed or truncated TZif file (the message names the
  // file and what is wrong).
  static Result<std::shared_ptr<const TimeZone>> Load(
      std::string_view name, const std::string& zoneinfo_dir = kDefaultZoneinfoDir);

  // Parses the contents of a TZif file; `name` is the zone's name and labels error messages.
  // Never reads outside `tzif_bytes`; kCorruption for anything malformed.
  static Result<std::shared_ptr<const TimeZone>> Parse(std::string_view name,
                                                       std::string_view tzif_bytes);

  // UTC itself (no file needed). Always the same object.
  static std::shared_ptr<const TimeZone> Utc();

  // Offset from UTC in seconds at instant `utc_ms` (milliseconds since the epoch), e.g. 3600
  // for Europe/Berlin in winter.
  int32_t OffsetSeconds(TimestampMs utc_ms) const;

  // Local wall-clock minute of the day (0..1439) at `utc_ms`.
  int LocalMinuteOfDay(TimestampMs utc_ms) const;

  const std::string& name() const { return name_; }

 private:
  struct LocalType {
    int32_t offset;  // seconds east of UTC
    bool is_dst;
  };

  TimeZone() = default;

  // Parse, with `label` (the file path, or the zone name) heading error messages.
  static Result<std::shared_ptr<const TimeZone>> ParseLabeled(std::string_view name,
                                                              const std::string& label,
                                                              std::string_view bytes);

  std::string name_;
  std::vector<int64_t> transitions_;       // POSIX seconds, strictly ascending
  std::vector<uint8_t> transition_types_;  // index into types_, one per transition
  std::vector<LocalType> types_;           // never empty
  size_t initial_type_ = 0;                // the type before the first transition
  // The rule after the last transition (and for all time when there are none).
  std::optional<timezone_internal::PosixTimeZone> footer_;
};

// Thread-safe cache of loaded zones: each zone file is read from disk at most once, and failed
// names are remembered too (so a hot path never re-reads a missing file). A lookup of a known
// name is a map find under a shared lock.
class TimeZoneCache {
 public:
  explicit TimeZoneCache(std::string zoneinfo_dir = TimeZone::kDefaultZoneinfoDir);

  TimeZoneCache(const TimeZoneCache&) = delete;
  TimeZoneCache& operator=(const TimeZoneCache&) = delete;

  // The zone `name`, or the error TimeZone::Load gave for it. Implausible names fail with
  // kInvalidArgument without touching the disk and are not remembered. At most
  // kMaxRememberedFailures distinct failed names are remembered; beyond that, failures are
  // returned without being stored (bounding memory when names come from untrusted input).
  Result<std::shared_ptr<const TimeZone>> Get(std::string_view name);

  static constexpr size_t kMaxRememberedFailures = 1024;

 private:
  const std::string zoneinfo_dir_;
  std::shared_mutex mu_;
  std::map<std::string, Result<std::shared_ptr<const TimeZone>>, std::less<>> entries_;
  size_t failures_ = 0;  // entries_ that hold an error
};

}  // namespace kairos
