// CapacityGate: who gets a scarce channel's contacts (the call center's 500 calls a day).
//
// First come, first served would give the day's slots to whoever triggers first. The gate admits
// a candidate only when its expected value (propensity × value − cost) beats a threshold chosen
// so that, at the rate candidates have been arriving, the remaining slots go to the best of the
// rest of the period: with R slots left and E candidates expected until the period ends, the
// threshold is the (1 − R/E) quantile of the values of recent candidates. Before enough
// candidates are seen (64) and whenever fewer are expected than slots remain, everyone is
// admitted. The counts live in memory and are restored from the decision log at start-up.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/clock.h"

namespace kairos {

class CapacityGate {
 public:
  struct Verdict {
    bool admit = true;
    double threshold = 0;  // expected value a candidate needed (−inf: anyone)
    int64_t used = 0;      // slots used this period, before this candidate
    int64_t capacity = 0;
  };

  // Whether a candidate of expected value `value` may take one of `capacity` slots of the
  // period (`period_ms`, aligned to UTC) containing `now` on `channel`. `arrival`: count this
  // candidate towards the arrival rate and value distribution (once per decision). With
  // `reserve` an admitted candidate takes its slot.
  Verdict Admit(std::string_view channel, int64_t capacity, int64_t period_ms, double value, TimestampMs now,
                bool arrival, bool reserve);
  // Gives a reserved slot back (the decision was not recorded, or the control group kept it).
  void Release(std::string_view channel, int64_t period_ms, TimestampMs now);
  // Counts a contact found in the decision log (start-up).
  void Restore(std::string_view channel, int64_t period_ms, TimestampMs ts);
  int64_t Used(std::string_view channel, int64_t period_ms, TimestampMs now) const;

  static constexpr size_t kWindow = 4096;     // recent candidates remembered per channel
  static constexpr size_t kMinSamples = 64;   // before this many, first come first served

 private:
  struct State {
    int64_t period = -1;
    int64_t used = 0;
    std::deque<std::pair<TimestampMs, double>> recent;  // arrival time, expected value
  };
  State& At(std::string_view channel, int64_t period_ms, TimestampMs now);

  mutable std::mutex mu_;
  std::unordered_map<std::string, State> channels_;
};

}  // namespace kairos
