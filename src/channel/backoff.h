// Backoff: how long to wait before the next attempt of a failed delivery.
//
// Exponential with "full jitter" (the delay is uniform in [0, ceiling], ceiling =
// min(max, initial · 2^(failures-1))): retries of many deliveries that failed together (an
// endpoint that went down) spread out instead of arriving in synchronized waves when it comes
// back. The generator is the caller's, so a seed reproduces every delay.
#pragma once

#include <cstdint>

#include "common/rng.h"

namespace kairos::channel {

class Backoff {
 public:
  // initial_ms > 0 and max_ms >= initial_ms (Dispatcher::Configure checks).
  Backoff(int64_t initial_ms, int64_t max_ms) : initial_ms_(initial_ms), max_ms_(max_ms) {}

  // The upper bound of the delay after `failures` failed attempts (>= 1): initial · 2^(n-1),
  // capped at max. Never overflows, whatever `failures` is.
  int64_t CeilingMs(int failures) const;

  // A delay uniform in [0, CeilingMs(failures)].
  int64_t DelayMs(int failures, Rng& rng) const;

  // The delay to use when the receiver asked for `retry_after_ms` (-1: it did not): at least
  // what it asked for (capped at max, so a hostile header cannot park a delivery for a year),
  // otherwise the jittered delay.
  int64_t DelayMs(int failures, int64_t retry_after_ms, Rng& rng) const;

 private:
  int64_t initial_ms_;
  int64_t max_ms_;
};

}  // namespace kairos::channel
