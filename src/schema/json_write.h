// Small helpers for writing JSON with RapidJSON writers (profiles, decisions, records): string
// views, RFC 3339 times, rounded numbers. Templates, so that validating and plain writers share
// them.
#pragma once

#include <rapidjson/rapidjson.h>

#include <cmath>
#include <string_view>

#include "common/clock.h"
#include "common/time_format.h"

namespace kairos::json {

template <typename Writer>
void Key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

// False when the writer refused the text (a validating writer and invalid UTF-8).
template <typename Writer>
bool String(Writer& w, std::string_view s) {
  return w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename Writer>
void Time(Writer& w, TimestampMs t) {
  char buf[kRfc3339Max];
  w.String(buf, static_cast<rapidjson::SizeType>(FormatRfc3339(t, buf)));
}

// `v` rounded to a multiple of 1/scale (e.g. 1e4: four decimals); null when not finite.
template <typename Writer>
void Rounded(Writer& w, double v, double scale) {
  if (!std::isfinite(v)) {
    w.Null();
    return;
  }
  w.Double(std::round(v * scale) / scale);
}

}  // namespace kairos::json
