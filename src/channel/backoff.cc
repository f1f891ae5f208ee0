#include "channel/backoff.h"

#include <algorithm>

namespace kairos::channel {

int64_t Backoff::CeilingMs(int failures) const {
  int64_t ceiling = initial_ms_;
  // Doubling stops at the cap, so the loop is short and nothing overflows.
  for (int i = 1; i < failures && ceiling < max_ms_; ++i) {
    ceiling = ceiling > max_ms_ / 2 ? max_ms_ : ceiling * 2;
  }
  return std::min(ceiling, max_ms_);
}

int64_t Backoff::DelayMs(int failures, Rng& rng) const {
  const int64_t ceiling = CeilingMs(failures);
  return rng.Between(0, ceiling);
}

int64_t Backoff::DelayMs(int failures, int64_t retry_after_ms, Rng& rng) const {
  const int64_t jittered = DelayMs(failures, rng);
  if (retry_after_ms < 0) return jittered;
  return std::max(jittered, std::min(retry_after_ms, max_ms_));
}

}  // namespace kairos::channel
