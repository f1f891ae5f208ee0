// LineWriter: fast append-only formatting of the generator's own NDJSON.
//
// The generator writes tens of millions of lines, so it formats by hand into one growing
// buffer instead of going through a DOM or a general JSON writer. That is safe only because
// every string it writes is its own ASCII (ids, enum names, product codes) and never needs
// escaping; do not use this for text that comes from outside (DESIGN.md: RapidJSON for that).
// Numbers are printed with fixed decimals from a rounded integer, so output is identical
// wherever it is built.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace kairos::sim {

class LineWriter {
 public:
  LineWriter() = default;

  size_t size() const { return size_; }
  const char* data() const { return buf_.data(); }
  std::string_view view() const { return {buf_.data(), size_}; }
  void Clear() { size_ = 0; }

  // Appends raw bytes; `s` must already be valid JSON where it lands.
  void Raw(std::string_view s) {
    char* p = Grow(s.size());
    std::memcpy(p, s.data(), s.size());
  }
  void Char(char c) { *Grow(1) = c; }

  void Int(int64_t v) {
    char* p = Grow(20);
    char* end = std::to_chars(p, p + 20, v).ptr;
    size_ -= 20 - static_cast<size_t>(end - p);
  }

  // `v` with exactly `decimals` digits after the point (0..6), rounded half away from zero.
  void Fixed(double v, int decimals) {
    static constexpr int64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (!std::isfinite(v)) v = 0;  // never produce invalid JSON
    const int64_t scaled = std::llround(v * static_cast<double>(kPow10[decimals]));
    const bool negative = scaled < 0;
    const uint64_t mag = negative ? static_cast<uint64_t>(-scaled) : static_cast<uint64_t>(scaled);
    const uint64_t whole = mag / static_cast<uint64_t>(kPow10[decimals]);
    uint64_t frac = mag % static_cast<uint64_t>(kPow10[decimals]);
    if (negative) Char('-');
    char* p = Grow(21 + decimals);
    char* end = std::to_chars(p, p + 21, whole).ptr;
    if (decimals > 0) {
      *end++ = '.';
      for (int i = decimals - 1; i >= 0; --i) {
        end[i] = static_cast<char>('0' + frac % 10);
        frac /= 10;
      }
      end += decimals;
    }
    size_ -= static_cast<size_t>(21 + decimals) - static_cast<size_t>(end - p);
  }

  // `v` as exactly `width` decimal digits, zero-padded (v must fit).
  void ZeroPadded(uint64_t v, int width) {
    char* p = Grow(static_cast<size_t>(width));
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  }

  void Bool(bool b) { Raw(b ? std::string_view("true") : std::string_view("false")); }

  // RFC 3339 UTC, "2025-11-02T08:13:00Z", with ".mmm" only when the milliseconds are not zero
  // (the same text as kairos::FormatRfc3339). The date part is cached per UTC day because
  // consecutive lines almost always share it.
  void Timestamp(TimestampMs t);
  // Timestamp in quotes.
  void QuotedTimestamp(TimestampMs t) {
    Char('"');
    Timestamp(t);
    Char('"');
  }

 private:
  // Makes room for n bytes, advances size_ by n and returns where they go.
  char* Grow(size_t n) {
    if (size_ + n > buf_.size()) Reserve(n);
    char* p = buf_.data() + size_;
    size_ += n;
    return p;
  }
  void Reserve(size_t n);

  std::vector<char> buf_;
  size_t size_ = 0;
  int64_t cached_day_ = INT64_MIN;
  char date_[11] = {};  // "YYYY-MM-DDT"
};

}  // namespace kairos::sim
