// The profile as JSON, as GET /v1/subscribers/{id} and `kairos profile` show it.
#pragma once

#include <string>
#include <string_view>

#include "profile/profile.h"

namespace kairos {

// {"subscriber_id", "as_of", "events_applied", "first_seen", "last_seen", "attributes":{...},
//  "aggregates":{"data_mb":{"1d":..,"7d":..},"last_topup":{"last":..,"days_since":..}},
//  "forecast":{"data":{...}}}. Aggregates and forecasts are evaluated at `now`.
std::string ProfileToJson(const Schema& schema, std::string_view subscriber_id,
                          const Profile& profile, TimestampMs now);

}  // namespace kairos
