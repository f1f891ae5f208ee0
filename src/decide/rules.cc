#include "decide/rules.h"

namespace kairos {

void SeenValues(const expr::Expr& e, FeatureCache& features, std::vector<SeenValue>* out) {
  for (const expr::Reference& ref : e.references()) {
    SeenValue v;
    v.name = ref.name;
    expr::AppendValue(features.Read(ref.slot), &v.value);
    out->push_back(std::move(v));
  }
}

bool PassRules(const std::vector<Rule>& rules, Stage stage, FeatureCache& features, bool explain,
               CandidateTrace* trace) {
  for (const Rule& rule : rules) {
    if (rule.expr->Test(features)) continue;
    trace->stage = stage;
    if (explain) {
      trace->rule = rule.expr->source();
      trace->origin = rule.origin;
      trace->rule_line = rule.line;
      const expr::Value result = rule.expr->Evaluate(features);
      trace->reason = result.is_null ? std::string(StageName(stage)) + " rule is null (a value it needs is missing)"
                                     : std::string(StageName(stage)) + " rule is false";
      SeenValues(*rule.expr, features, &trace->seen);
    }
    return false;
  }
  return true;
}

}  // namespace kairos
