#include "decide/capacity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kairos {
namespace {

int64_t PeriodOf(TimestampMs t, int64_t period_ms) {
  return t >= 0 ? t / period_ms : (t - period_ms + 1) / period_ms;
}

}  // namespace

CapacityGate::State& CapacityGate::At(std::string_view channel, int64_t period_ms, TimestampMs now) {
  State& s = channels_[std::string(channel)];
  const int64_t p = PeriodOf(now, period_ms);
  if (p > s.period) {
    s.period = p;
    s.used = 0;
  }
  return s;
}

CapacityGate::Verdict CapacityGate::Admit(std::string_view channel, int64_t capacity, int64_t period_ms,
                                          double value, TimestampMs now, bool arrival, bool reserve) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = At(channel, period_ms, now);
  Verdict v;
  v.used = s.used;
  v.capacity = capacity;
  v.threshold = -std::numeric_limits<double>::infinity();
  if (arrival) {
    s.recent.emplace_back(now, value);
    if (s.recent.size() > kWindow) s.recent.pop_front();
  }
  const int64_t remaining = capacity - s.used;
  if (remaining <= 0) {
    v.admit = false;
    v.threshold = std::numeric_limits<double>::infinity();
    return v;
  }
  if (s.recent.size() >= kMinSamples) {
    const double span = static_cast<double>(std::max<TimestampMs>(1, now - s.recent.front().first));
    const double rate = static_cast<double>(s.recent.size()) / span;  // candidates per ms
    const double time_left = static_cast<double>((s.period + 1) * period_ms - now);
    const double expected = rate * time_left;
    if (expected > static_cast<double>(remaining)) {
      std::vector<double> values;
      values.reserve(s.recent.size());
      for (const auto& r : s.recent) values.push_back(r.second);
      const double q = 1.0 - static_cast<double>(remaining) / expected;
      const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())));
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
      v.threshold = values[k];
    }
  }
  v.admit = value >= v.threshold;
  if (v.admit && reserve) ++s.used;
  return v;
}

void CapacityGate::Release(std::string_view channel, int64_t period_ms, TimestampMs now) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = At(channel, period_ms, now);
  if (s.used > 0) --s.used;
}

void CapacityGate::Restore(std::string_view channel, int64_t period_ms, TimestampMs ts) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = channels_[std::string(channel)];
  const int64_t p = PeriodOf(ts, period_ms);
  if (p > s.period) {
    s.period = p;
    s.used = 0;
  }
  if (p == s.period) ++s.used;
}

int64_t CapacityGate::Used(std::string_view channel, int64_t period_ms, TimestampMs now) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = channels_.find(std::string(channel));
  if (it == channels_.end() || it->second.period != PeriodOf(now, period_ms)) return 0;
  return it->second.used;
}

}  // namespace kairos
