// Google Benchmark of the rule language (src/expr): evaluating a compiled rule and a value
// formula against an in-memory symbol table, and compiling a medium rule.
// Run: build/release/bench/expr_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "expr/expr.h"

namespace kairos::expr {
namespace {

struct Sym {
  const char* name;
  Value value;
};

const std::vector<Sym>& Table() {
  static const std::vector<Sym> table = {
      {"profile.plan_type", Value::String("prepaid")},
      {"forecast.data.days_to_depletion", Value::Number(2.5)},
      {"forecast.data.remaining", Value::Number(2048)},
      {"forecast.data.expected_to_cycle_end", Value::Null(Type::kNumber)},
      {"profile.data_allowance_mb", Value::Number(10240)},
      {"action.value", Value::Number(12)},
      {"action.propensity", Value::Number(0.15)},
      {"ctx.channel", Value::String("app")},
      {"agg.last_topup", Value::Time(1795428000000.0 - 25 * 86400e3)},
      {"now", Value::Time(1795428000000.0)},
      {"history.impressions(\"G5_UPGRADE\", 7d)", Value::Number(1)},
  };
  return table;
}

class BenchEnv : public Environment {
 public:
  Result<Symbol> Resolve(std::string_view name) const override {
    const auto& t = Table();
    for (size_t i = 0; i < t.size(); ++i) {
      if (name == t[i].name) return Symbol{static_cast<int>(i), t[i].value.type};
    }
    return InvalidArgument("unknown name '" + std::string(name) + "'");
  }
  Result<Symbol> ResolveCall(std::string_view name, std::span<const ConstArg> args) const override {
    if (name == "history.impressions" && args.size() == 2) {
      return Resolve("history.impressions(\"G5_UPGRADE\", 7d)");
    }
    return InvalidArgument("unknown function '" + std::string(name) + "'");
  }
};

class BenchReader final : public SymbolReader {
 public:
  Value Read(int slot) override { return Table()[static_cast<size_t>(slot)].value; }
};

std::shared_ptr<const Expr> MustCompile(std::string_view src, Type want) {
  BenchEnv env;
  CompileError error;
  auto e = Expr::Compile(src, env, want, &error);
  if (e == nullptr) std::abort();
  return e;
}

void BM_EvalSimpleRule(benchmark::State& state) {
  auto e = MustCompile("profile.plan_type == \"prepaid\" and forecast.data.days_to_depletion < 3",
                       Type::kBool);
  BenchReader reader;
  for (auto _ : state) {
    bool pass = e->Test(reader);
    benchmark::DoNotOptimize(pass);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvalSimpleRule);

void BM_EvalArithmetic(benchmark::State& state) {
  auto e = MustCompile(
      "action.value * action.propensity * min(2, max(0.5, coalesce(forecast.data.expected_to_"
      "cycle_end, forecast.data.remaining, 0) / profile.data_allowance_mb * 4))",
      Type::kNumber);
  BenchReader reader;
  for (auto _ : state) {
    Value v = e->Evaluate(reader);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvalArithmetic);

void BM_Compile(benchmark::State& state) {
  const std::string src =
      "profile.plan_type == 'prepaid' and ctx.channel in ['app', 'web'] and "
      "(forecast.data.days_to_depletion < 3 or days_since(agg.last_topup) > 20) and "
      "history.impressions('G5_UPGRADE', 7d) < 2";
  BenchEnv env;
  for (auto _ : state) {
    CompileError error;
    auto e = Expr::Compile(src, env, Type::kBool, &error);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Compile);

}  // namespace
}  // namespace kairos::expr

BENCHMARK_MAIN();
