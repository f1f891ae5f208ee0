// Rule stages (eligibility, applicability, suitability): every rule of the stage must pass.
#pragma once

#include <vector>

#include "catalog/catalog.h"
#include "decide/decision.h"
#include "decide/feature_cache.h"

namespace kairos {

// True when every rule holds. Otherwise fills `trace` (stage, rule text, origin and, when
// `explain`, the values the rule read) and returns false. A rule whose result is null fails.
bool PassRules(const std::vector<Rule>& rules, Stage stage, FeatureCache& features, bool explain,
               CandidateTrace* trace);

// The values an expression reads, as explanations show them.
void SeenValues(const expr::Expr& e, FeatureCache& features, std::vector<SeenValue>* out);

}  // namespace kairos
