#include "decide/volume_ledger.h"

namespace kairos {

namespace {
std::string Key(std::string_view action_id, std::string_view channel_name) {
  std::string k;
  k.reserve(action_id.size() + channel_name.size() + 1);
  k.append(action_id).push_back('\0');
  k.append(channel_name);
  return k;
}
}  // namespace

VolumeLedger::Counter& VolumeLedger::At(std::string_view action_id, std::string_view channel_name,
                                        int64_t day) {
  Counter& c = counters_[Key(action_id, channel_name)];
  if (c.day != day) c = Counter{day, {}};  // a new day starts from zero
  return c;
}

bool VolumeLedger::TryReserve(const Action& a, int channel, std::string_view channel_name,
                              int64_t day, bool commit) {
  std::lock_guard<std::mutex> lock(mu_);
  Counter& ch = At(a.id, channel_name, day);
  Counter& total = At(a.id, "*", day);
  const int64_t volume = a.daily_volume[channel];
  const double budget = a.daily_budget[channel];
  if (volume >= 0 && ch.usage.impressions + 1 > volume) return false;
  if (a.daily_volume_total >= 0 && total.usage.impressions + 1 > a.daily_volume_total) return false;
  if (budget >= 0 && ch.usage.cost + a.cost > budget + 1e-9) return false;
  if (commit) {
    ++ch.usage.impressions;
    ch.usage.cost += a.cost;
    ++total.usage.impressions;
    total.usage.cost += a.cost;
  }
  return true;
}

void VolumeLedger::Release(const Action& a, std::string_view channel_name, int64_t day) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Counter* c : {&At(a.id, channel_name, day), &At(a.id, "*", day)}) {
    if (c->usage.impressions > 0) {
      --c->usage.impressions;
      c->usage.cost -= a.cost;
    }
  }
}

void VolumeLedger::Restore(std::string_view action_id, std::string_view channel_name, double cost,
                           int64_t day) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Counter* c : {&At(action_id, channel_name, day), &At(action_id, "*", day)}) {
    ++c->usage.impressions;
    c->usage.cost += cost;
  }
}

VolumeLedger::Usage VolumeLedger::Used(std::string_view action_id, std::string_view channel_name,
                                       int64_t day) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(Key(action_id, channel_name));
  if (it == counters_.end() || it->second.day != day) return {};
  return it->second.usage;
}

}  // namespace kairos
