// Fuzzes the rule language (src/expr): the parser on its own, then the compiler against the
// demo catalog's environment (profile.*, agg.*, forecast.*, ctx.*, history.*, action.*, now),
// then evaluation through the decision pipeline's FeatureCache on an empty profile.
//
// Invariants beyond "no crash": whatever the parser refuses the compiler refuses too; errors
// point inside the source; an expression compiled for any type also compiles when its own type
// is asked for, and one compiled for bool compiles for any type; evaluation is deterministic,
// gives null or a value of the compiled type, and Test() is true only for a non-null true.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "decide/feature_cache.h"
#include "expr/expr.h"
#include "expr/parser.h"
#include "fuzz/fuzz_common.h"
#include "profile/profile.h"

namespace kairos::fuzz {
namespace {

constexpr TimestampMs kNow = 1772366400000;  // 2026-03-01T12:00:00Z

bool Same(const expr::Value& a, const expr::Value& b) {
  if (a.type != b.type || a.is_null != b.is_null) return false;
  if (a.is_null) return true;
  return a.b == b.b && a.str == b.str &&
         (a.num == b.num || (std::isnan(a.num) && std::isnan(b.num)));
}

void Check(std::string_view source, const Decisioning& d) {
  std::deque<std::string> strings;
  expr::Ast ast;
  expr::CompileError parse_error;
  const bool parsed = expr::Parse(source, &strings, &ast, &parse_error);
  if (!parsed) KAIROS_FUZZ_CHECK(parse_error.offset <= source.size(), parse_error.message);

  expr::CompileError error;
  auto e = expr::Expr::Compile(source, *d.features, expr::Type::kNull, &error);
  if (e == nullptr) {
    KAIROS_FUZZ_CHECK(error.offset <= source.size(), error.message);
    KAIROS_FUZZ_CHECK(!error.message.empty(), "");
    expr::CompileError bool_error;
    KAIROS_FUZZ_CHECK(expr::Expr::Compile(source, *d.features, expr::Type::kBool, &bool_error) ==
                          nullptr,
                      "compiles as bool but not as any type");
    return;
  }
  KAIROS_FUZZ_CHECK(parsed, "compiled what the parser refused");
  KAIROS_FUZZ_CHECK(e->source() == source, "");
  if (e->is_constant()) KAIROS_FUZZ_CHECK(e->references().empty(), "");
  expr::CompileError typed_error;
  KAIROS_FUZZ_CHECK(expr::Expr::Compile(source, *d.features, e->type(), &typed_error) != nullptr,
                    typed_error.message);

  // FeatureCache sizes its memo from the features known now, so it is made after compiling.
  Profile profile;
  profile.Reset(*d.schema);
  const std::vector<ContextValue> context;  // every context field null
  FeatureCache cache(d, profile, kNow, "app", context);
  FeatureCache again(d, profile, kNow, "app", context);
  if (!d.catalog.actions.empty()) {
    cache.SetCandidate(&d.catalog.actions.front());
    again.SetCandidate(&d.catalog.actions.front());
  }
  const expr::Value v = e->Evaluate(cache);
  KAIROS_FUZZ_CHECK(v.is_null || v.type == e->type(), source);
  KAIROS_FUZZ_CHECK(Same(v, e->Evaluate(again)), source);
  KAIROS_FUZZ_CHECK(Same(v, e->Evaluate(cache)), source);  // memoized reads: same answer
  const bool test = e->Test(cache);
  KAIROS_FUZZ_CHECK(test == (!v.is_null && v.type == expr::Type::kBool && v.b), source);
  std::string text;
  expr::AppendValue(v, &text);
  KAIROS_FUZZ_CHECK(!text.empty(), source);
}

}  // namespace
}  // namespace kairos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kairos;
  // Rules are short texts in YAML files; longer inputs only slow the search down.
  if (size > 4096) return 0;
  static std::shared_ptr<const Decisioning> d = fuzz::DemoDecisioning();
  // Resolving a new name (another window, another history target) adds a feature to the
  // catalog's environment; start afresh now and then so that memory stays bounded.
  if (d->features->features().size() > 4096) d = fuzz::DemoDecisioning();
  fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size), *d);
  return 0;
}
