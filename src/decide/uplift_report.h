// Uplift report: what targeting did against the control group (GET /v1/reports/uplift).
//
// Units are decisions made since `since`: a target unit is a decision that showed actions, a
// control unit a decision whose subscriber was in the control group and that would have shown
// actions (its counterfactual). Per action, the units are the decisions that showed it (target)
// or would have (control). Outcomes, read from the subscriber's profile, within the uplift
// horizon after the decision (or until now when the horizon has not passed):
//   acceptance  a response accepted or converted to that decision (0 for control: nothing shown)
//   conversion  any event counted by uplift.conversion (organic ones count for control too);
//               without it, a `converted` response
//   churn       the uplift.churn last_time event inside the horizon (null when not configured)
//   revenue     the uplift.revenue daily sums inside the horizon (null when not configured)
// Uplift = target − control with a 95% normal-approximation interval (difference of
// proportions; Welch for revenue). Decisions are treated as independent units (a subscriber
// with several decisions counts several times).
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "common/status.h"
#include "ingest/engine.h"

namespace kairos {

Result<std::string> UpliftReport(Engine& engine, const Decisioning& d, TimestampMs since,
                                 TimestampMs now);

}  // namespace kairos
