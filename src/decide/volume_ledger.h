// VolumeLedger: impressions and budget each action has used today (UTC day), across all
// subscribers, against its daily_volume and daily_budget.
//
// Reservations happen when arbitration picks an action, so concurrent decisions never exceed a
// limit; a reservation is released when the decision is not recorded (control group, failure).
// The ledger lives in memory and is rebuilt at start-up from today's decision log, so a restart
// does not reset the day's counts. Thread-safe; actions without limits never touch it.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "catalog/catalog.h"

namespace kairos {

class VolumeLedger {
 public:
  static bool HasLimits(const Action& a, int channel) {
    return a.daily_volume_total >= 0 || a.daily_volume[channel] >= 0 || a.daily_budget[channel] >= 0;
  }

  // Reserves one impression of `a` on channel `channel` (named `channel_name`) on UTC day `day`.
  // False when the channel volume, the total volume or the channel budget would be exceeded.
  // With `commit` false it only checks.
  bool TryReserve(const Action& a, int channel, std::string_view channel_name, int64_t day,
                  bool commit);
  void Release(const Action& a, std::string_view channel_name, int64_t day);
  // Counts an impression found in the decision log (start-up), without checking limits.
  void Restore(std::string_view action_id, std::string_view channel_name, double cost, int64_t day);

  struct Usage {
    int64_t impressions = 0;
    double cost = 0;
  };
  Usage Used(std::string_view action_id, std::string_view channel_name, int64_t day) const;

 private:
  struct Counter {
    int64_t day = 0;
    Usage usage;
  };
  Counter& At(std::string_view action_id, std::string_view channel_name, int64_t day);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Counter> counters_;  // "action\0channel"; channel "*" = total
};

}  // namespace kairos
