// Control group: a deterministic share of subscribers that receives no targeted action, so that
// the uplift of decisioning can be measured against them.
#pragma once

#include <string_view>

#include "catalog/catalog.h"
#include "common/clock.h"

namespace kairos {

// Membership is a hash of (salt, subscriber, period index): stable within a period, re-drawn
// each period, independent of everything else about the subscriber.
bool InControlGroup(const ControlGroupConfig& config, std::string_view subscriber_id,
                    TimestampMs now);

}  // namespace kairos
