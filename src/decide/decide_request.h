// Parsing of decide and response requests (JSON bodies of POST /v1/decide and
// POST /v1/responses; the CLI builds the same JSON). Errors carry the JSON pointer as field.
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "common/status.h"
#include "decide/decision.h"

namespace kairos {

// {"subscriber_id":"...","channel":"app","context":{...},"limit":3,"explain":false,
//  "dry_run":false}. The channel must be one of the policies' channels; context keys must be
// declared in catalog.yaml with matching types (time fields: RFC 3339 or epoch ms).
Result<DecideRequest> ParseDecideRequest(std::string_view json, const Decisioning& d);

struct ResponseRequest {
  std::string decision_id;
  std::string action_id;
  std::string outcome;        // accepted | rejected | clicked | converted | ignored
  std::string subscriber_id;  // optional: when given, must be the decision's subscriber
};

// {"decision_id":"...","action_id":"...","outcome":"accepted","subscriber_id":"..."}.
Result<ResponseRequest> ParseResponseRequest(std::string_view json);

}  // namespace kairos
