// Clock: the only source of "now" in Kairos. Simulations and tests inject a ManualClock and
// run months of customer life in seconds, deterministically.
#pragma once

#include <atomic>
#include <cstdint>

namespace kairos {

// Milliseconds since the Unix epoch, UTC.
using TimestampMs = int64_t;

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerHour = 3600 * kMsPerSecond;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual TimestampMs Now() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  TimestampMs Now() const override;
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampMs start) : now_(start) {}
  TimestampMs Now() const override { return now_.load(std::memory_order_relaxed); }
  void Set(TimestampMs t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(int64_t ms) { now_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<TimestampMs> now_;
};

}  // namespace kairos
