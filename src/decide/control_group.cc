#include "decide/control_group.h"

#include <string>

#include "common/hash.h"

namespace kairos {

bool InControlGroup(const ControlGroupConfig& config, std::string_view subscriber_id,
                    TimestampMs now) {
  if (config.share <= 0 || config.period_ms <= 0) return false;
  const int64_t period = now >= 0 ? now / config.period_ms : -((-now - 1) / config.period_ms) - 1;
  std::string key;
  key.reserve(config.salt.size() + subscriber_id.size() + 24);
  key.append(config.salt).push_back('|');
  key.append(subscriber_id).push_back('|');
  key.append(std::to_string(period));
  const double u = static_cast<double>(StableHash64(key) >> 11) * 0x1.0p-53;  // uniform [0, 1)
  return u < config.share;
}

}  // namespace kairos
