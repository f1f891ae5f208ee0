// JSON forms of a decision: the answer to a decide request (with an optional explanation) and
// the record kept in the decision log (replayable: it holds the request, the catalog version,
// the profile as the decision saw it, and what was offered with which probability).
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "decide/decision.h"

namespace kairos {

// {"decision_id","subscriber_id","channel","ts","actions":[{"action_id","name","issue","group",
//  "type","treatment","channel","content":{...},"priority","propensity","value","cost",
//  "mandatory"}],"no_action_reason":null|"...","control_group":bool,"catalog_version",
//  "dry_run":bool, "explanation":{"contact":{...},"candidates":[...]} (explain only)}
std::string DecisionToJson(const Decisioning& d, const Decision& dec, bool explain, bool dry_run);

// The decision log record. `profile_bytes` is the encoded profile the decision read (empty: not
// kept).
std::string DecisionRecordJson(const Decisioning& d, const Decision& dec, const DecideRequest& req,
                               std::string_view profile_bytes);

}  // namespace kairos
