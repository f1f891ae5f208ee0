#include "expr/expr.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

// Counts heap allocations, to check that evaluation allocates nothing. Not inlined, so that GCC
// does not pair the malloc/free inside with new/delete at call sites (-Wmismatched-new-delete).
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

[[gnu::noinline]] void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace kairos::expr {
namespace {

// 2026-11-23T10:00:00Z
constexpr double kNow = 1795428000000.0;
constexpr double kDay = 86400000.0;

// A table of symbols: slot, name, declared type, value.
struct Entry {
  const char* name;
  Value value;  // value.type is the declared type, even when null
};

std::vector<Entry> Table() {
  return {
      {"profile.plan_type", Value::String("prepaid")},
      {"forecast.data.days_to_depletion", Value::Number(2.5)},
      {"profile.data_allowance_mb", Value::Number(1000)},
      {"agg.last_topup", Value::Time(kNow - 25 * kDay)},
      {"profile.contract_end", Value::Time(kNow + 30 * kDay)},
      {"profile.consents.sms", Value::Bool(true)},
      {"ctx.channel", Value::String("app")},
      {"now", Value::Time(kNow)},
      {"forecast.data.remaining", Value::Null(Type::kNumber)},
      {"profile.missing_num", Value::Null(Type::kNumber)},
      {"profile.missing_str", Value::Null(Type::kString)},
      {"profile.missing_bool", Value::Null(Type::kBool)},
      {"profile.missing_time", Value::Null(Type::kTime)},
      {"profile.flag_false", Value::Bool(false)},
      {"profile.gap", Value::Duration(36 * 3600e3)},
      {"profile.missing_dur", Value::Null(Type::kDuration)},
      {"profile.zero", Value::Number(0)},
      {"profile.list_like", Value::Number(2)},
  };
}

class TestEnv : public Environment {
 public:
  TestEnv() : table_(Table()) {}

  Result<Symbol> Resolve(std::string_view name) const override {
    for (size_t i = 0; i < table_.size(); ++i) {
      if (name == table_[i].name) return Symbol{static_cast<int>(i), table_[i].value.type};
    }
    const size_t dot = name.rfind('.');
    const std::string last(dot == std::string_view::npos ? name : name.substr(dot + 1));
    return InvalidArgument("unknown attribute '" + last + "'; known: plan_type, consents.sms");
  }

  Result<Symbol> ResolveCall(std::string_view name, std::span<const ConstArg> args) const override {
    Value v;
    if (name == "history.impressions") {
      if (args.size() != 2 || args[0].type != Type::kString || args[1].type != Type::kDuration) {
        return InvalidArgument("history.impressions(target, window) needs a string and a duration");
      }
      v = Value::Number(args[0].str == "G5_UPGRADE" && args[1].num == 7 * kDay ? 1 : 0);
    } else if (name == "agg.data_mb" || name == "agg.topups") {
      if (args.size() != 1 || args[0].type != Type::kDuration) {
        return InvalidArgument(std::string(name) + "(window) needs a duration");
      }
      v = Value::Number(name == "agg.topups" ? 3 : args[0].num / kDay * 30);
    } else {
      return InvalidArgument("unknown function '" + std::string(name) + "'");
    }
    std::string key(name);
    for (const ConstArg& a : args) key += "|" + a.str + "|" + std::to_string(a.num);
    auto it = call_slots_.find(key);
    if (it == call_slots_.end()) {
      const int slot = 100 + static_cast<int>(call_slots_.size());
      it = call_slots_.emplace(key, slot).first;
      call_values_[slot] = v;
    }
    return Symbol{it->second, Type::kNumber};
  }

  const std::vector<Entry>& table() const { return table_; }
  const std::map<int, Value>& call_values() const { return call_values_; }

 private:
  std::vector<Entry> table_;
  mutable std::map<std::string, int> call_slots_;
  mutable std::map<int, Value> call_values_;
};

class TestReader : public SymbolReader {
 public:
  explicit TestReader(const TestEnv& env) : env_(env) {}
  Value Read(int slot) override {
    ++reads[slot];
    if (slot >= 100) return env_.call_values().at(slot);
    return env_.table()[static_cast<size_t>(slot)].value;
  }
  std::map<int, int> reads;

 private:
  const TestEnv& env_;
};

class ExprTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Expr> Compile(std::string_view src, Type want = Type::kNull) {
    error_ = CompileError{};
    return Expr::Compile(src, env_, want, &error_);
  }

  // The result as AppendValue prints it, or "error@offset: message".
  std::string Show(std::string_view src, Type want = Type::kNull) {
    auto e = Compile(src, want);
    if (e == nullptr) return "error@" + std::to_string(error_.offset) + ": " + error_.message;
    TestReader reader(env_);
    const Value v = e->Evaluate(reader);
    EXPECT_EQ(v.type, e->type()) << src;
    std::string out;
    AppendValue(v, &out);
    return out;
  }

  CompileError Error(std::string_view src, Type want = Type::kNull) {
    auto e = Compile(src, want);
    EXPECT_EQ(e, nullptr) << src;
    return error_;
  }

  int SlotOf(std::string_view name) { return env_.Resolve(name)->slot; }

  TestEnv env_;
  CompileError error_;
};

TEST_F(ExprTest, ExamplesFromTheSpecCompile) {
  const char* kRules[] = {
      "profile.plan_type == \"prepaid\" and forecast.data.days_to_depletion < 3",
      "history.impressions(\"G5_UPGRADE\", 7d) < 2",
      "ctx.channel in [\"app\", \"web\"]",
      "days_since(agg.last_topup) > 20 or agg.last_topup == null",
      "agg.data_mb(30d) > 0.8 * profile.data_allowance_mb",
      "now - profile.contract_end < 60d",
      "not profile.consents.sms",
  };
  for (const char* r : kRules)
    EXPECT_NE(Compile(r, Type::kBool), nullptr) << r << ": " << error_.message;
  const char* kValues[] = {
      "coalesce(forecast.data.remaining, 0) / 1024 * 2.5",
      "if(profile.plan_type == 'postpaid', 5, 3.5) * max(1, agg.topups(90d))",
  };
  for (const char* v : kValues)
    EXPECT_NE(Compile(v, Type::kNumber), nullptr) << v << ": " << error_.message;

  EXPECT_EQ(Show(kRules[0]), "true");
  EXPECT_EQ(Show(kRules[1]), "true");
  EXPECT_EQ(Show(kRules[2]), "true");
  EXPECT_EQ(Show(kRules[3]), "true");
  EXPECT_EQ(Show(kRules[4]), "true");  // 900 > 800
  EXPECT_EQ(Show(kRules[5]), "true");  // -30d < 60d
  EXPECT_EQ(Show(kRules[6]), "false");
  EXPECT_EQ(Show(kValues[0]), "0");
  EXPECT_EQ(Show(kValues[1]), "10.5");  // 3.5 * 3
}

TEST_F(ExprTest, NumberLiteralsAndArithmetic) {
  EXPECT_EQ(Show("1 + 2"), "3");
  EXPECT_EQ(Show("7 - 10"), "-3");
  EXPECT_EQ(Show("2 * 3.5"), "7");
  EXPECT_EQ(Show("7 / 2"), "3.5");
  EXPECT_EQ(Show("7 % 3"), "1");
  EXPECT_EQ(Show("-7 % 3"), "-1");
  EXPECT_EQ(Show("1 + 2 * 3"), "7");
  EXPECT_EQ(Show("(1 + 2) * 3"), "9");
  EXPECT_EQ(Show("10 - 2 - 3"), "5");
  EXPECT_EQ(Show("24 / 4 / 2"), "3");
  EXPECT_EQ(Show("2.5E-2"), "0.025");
  EXPECT_EQ(Show(".5"), "0.5");
  EXPECT_EQ(Show("1e3"), "1000");
  EXPECT_EQ(Show("- -3"), "3");
  EXPECT_EQ(Show("-(2 + 3)"), "-5");
  EXPECT_EQ(Show("0.05"), "0.05");
  // With symbols (not folded).
  EXPECT_EQ(Show("profile.data_allowance_mb / 8 - 25"), "100");
  EXPECT_EQ(Show("profile.data_allowance_mb % 300"), "100");
  EXPECT_EQ(Show("-profile.data_allowance_mb"), "-1000");
  EXPECT_EQ(Show("1 + 2 + profile.data_allowance_mb * 2 + 1"), "2004");
}

TEST_F(ExprTest, DurationAndTimeArithmetic) {
  EXPECT_EQ(Show("7d"), "7d");
  EXPECT_EQ(Show("36h"), "36h");
  EXPECT_EQ(Show("90m"), "90m");
  EXPECT_EQ(Show("45s"), "45s");
  EXPECT_EQ(Show("250ms"), "250ms");
  EXPECT_EQ(Show("1.5h"), "90m");
  EXPECT_EQ(Show("1w"), "7d");
  EXPECT_EQ(Show("7d + 12h"), "180h");
  EXPECT_EQ(Show("7d - 8d"), "-1d");
  EXPECT_EQ(Show("2 * 3d"), "6d");
  EXPECT_EQ(Show("3d * 2"), "6d");
  EXPECT_EQ(Show("3d / 2"), "36h");
  EXPECT_EQ(Show("3d / 12h"), "6");
  EXPECT_EQ(Show("-7d"), "-7d");
  EXPECT_EQ(Show("now"), "2026-11-23T10:00:00Z");
  EXPECT_EQ(Show("now + 1d"), "2026-11-24T10:00:00Z");
  EXPECT_EQ(Show("1d + now"), "2026-11-24T10:00:00Z");
  EXPECT_EQ(Show("now - 1d"), "2026-11-22T10:00:00Z");
  EXPECT_EQ(Show("now + 1ms"), "2026-11-23T10:00:00.001Z");
  EXPECT_EQ(Show("now - agg.last_topup"), "25d");
  EXPECT_EQ(Show("(now - agg.last_topup) / 1d"), "25");
  EXPECT_EQ(Show("profile.gap * 2"), "3d");
  EXPECT_EQ(Show("profile.gap / profile.gap"), "1");
  EXPECT_EQ(Show("profile.contract_end - now > 29d"), "true");
  EXPECT_EQ(Show("agg.last_topup < now"), "true");
  EXPECT_EQ(Show("agg.last_topup + 25d == now"), "true");
  EXPECT_EQ(Show("profile.missing_time - now"), "null");
  EXPECT_EQ(Show("profile.missing_dur + 1d"), "null");
}

TEST_F(ExprTest, ArithmeticTypeErrors) {
  struct Case {
    const char* src;
    size_t offset;
    const char* message;
  } cases[] = {
      {"1 + 'a'", 2, "operator '+' cannot be applied to number and string"},
      {"now + now", 4, "operator '+' cannot be applied to time and time"},
      {"1 + 1d", 2, "operator '+' cannot be applied to number and duration"},
      {"1d - now", 3, "operator '-' cannot be applied to duration and time"},
      {"1d * 1d", 3, "operator '*' cannot be applied to duration and duration"},
      {"2 / 1d", 2, "operator '/' cannot be applied to number and duration"},
      {"1d % 2", 3, "operator '%' cannot be applied to duration and number"},
      {"now * 2", 4, "operator '*' cannot be applied to time and number"},
      {"true + 1", 5, "operator '+' cannot be applied to bool and number"},
      {"-'a'", 0, "operator '-' cannot be applied to string"},
      {"- now", 0, "operator '-' cannot be applied to time"},
      {"not 1", 0, "operator 'not' cannot be applied to number"},
      {"!profile.plan_type", 0, "operator '!' cannot be applied to string"},
      {"1 and true", 2, "operator 'and' cannot be applied to number and bool"},
      {"true || 'x'", 5, "operator '||' cannot be applied to bool and string"},
      {"true and null", 5, "operator 'and' cannot be applied to bool and null"},
      {"null + 1", 5, "operator '+' cannot be applied to null and number"},
  };
  for (const Case& c : cases) {
    const CompileError e = Error(c.src);
    EXPECT_EQ(e.offset, c.offset) << c.src;
    EXPECT_EQ(e.message, c.message) << c.src;
  }
}

TEST_F(ExprTest, Comparisons) {
  EXPECT_EQ(Show("1 < 2"), "true");
  EXPECT_EQ(Show("2 < 2"), "false");
  EXPECT_EQ(Show("2 <= 2"), "true");
  EXPECT_EQ(Show("3 > 2"), "true");
  EXPECT_EQ(Show("2 >= 3"), "false");
  EXPECT_EQ(Show("2 == 2.0"), "true");
  EXPECT_EQ(Show("2 != 2"), "false");
  EXPECT_EQ(Show("'a' < 'b'"), "true");
  EXPECT_EQ(Show("'b' <= 'a'"), "false");
  EXPECT_EQ(Show("'B' < 'a'"), "true");  // byte-wise
  EXPECT_EQ(Show("'abc' > 'ab'"), "true");
  EXPECT_EQ(Show("'ab' >= 'ab'"), "true");
  EXPECT_EQ(Show("'abc' == \"abc\""), "true");
  EXPECT_EQ(Show("'abc' != 'abd'"), "true");
  EXPECT_EQ(Show("true == true"), "true");
  EXPECT_EQ(Show("true != false"), "true");
  EXPECT_EQ(Show("1d < 25h"), "true");
  EXPECT_EQ(Show("24h == 1d"), "true");
  // Symbols on either side, constants on either side.
  EXPECT_EQ(Show("profile.plan_type == 'prepaid'"), "true");
  EXPECT_EQ(Show("'prepaid' == profile.plan_type"), "true");
  EXPECT_EQ(Show("profile.plan_type != 'prepaid'"), "false");
  EXPECT_EQ(Show("profile.plan_type < 'q'"), "true");
  EXPECT_EQ(Show("profile.plan_type > ctx.channel"), "true");
  EXPECT_EQ(Show("forecast.data.days_to_depletion < 3"), "true");
  EXPECT_EQ(Show("forecast.data.days_to_depletion <= 2.5"), "true");
  EXPECT_EQ(Show("forecast.data.days_to_depletion > 2.5"), "false");
  EXPECT_EQ(Show("forecast.data.days_to_depletion >= 2.5"), "true");
  EXPECT_EQ(Show("3 > forecast.data.days_to_depletion"), "true");
  EXPECT_EQ(Show("profile.consents.sms == true"), "true");
  EXPECT_EQ(Show("profile.consents.sms != profile.flag_false"), "true");
  EXPECT_EQ(Show("profile.gap > 1d"), "true");
  EXPECT_EQ(Show("agg.last_topup != now"), "true");

  struct Case {
    const char* src;
    size_t offset;
    const char* message;
  } cases[] = {
      {"'a' < 1", 4, "operator '<' cannot compare string with number"},
      {"profile.plan_type == 3", 18, "operator '==' cannot compare string with number"},
      {"true < false", 5, "operator '<' cannot compare bool with bool"},
      {"now == 1", 4, "operator '==' cannot compare time with number"},
      {"1d >= 1", 3, "operator '>=' cannot compare duration with number"},
      {"null < 1", 5, "operator '<' cannot compare null with number"},
  };
  for (const Case& c : cases) {
    const CompileError e = Error(c.src);
    EXPECT_EQ(e.offset, c.offset) << c.src;
    EXPECT_EQ(e.message, c.message) << c.src;
  }
}

TEST_F(ExprTest, ChainedComparisonIsAnError) {
  CompileError e = Error("1 < 2 < 3");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_NE(e.message.find("cannot be chained"), std::string::npos) << e.message;
  e = Error("ctx.channel == 'a' in ['b']");
  EXPECT_EQ(e.offset, 19u);
  e = Error("1 in [1] != true");
  EXPECT_EQ(e.offset, 9u);
  // Parenthesised, it is fine.
  EXPECT_EQ(Show("(1 < 2) == true"), "true");
}

// Kleene logic over runtime values (symbols), for every pair of true/false/null.
TEST_F(ExprTest, ThreeValuedLogicTruthTable) {
  const std::map<std::string, int> v = {{"T", 1}, {"F", 0}, {"N", -1}};
  const std::map<std::string, std::string> sym = {
      {"T", "profile.consents.sms"}, {"F", "profile.flag_false"}, {"N", "profile.missing_bool"}};
  auto name = [](int x) { return x == 1 ? "true" : x == 0 ? "false" : "null"; };
  for (const auto& [a, av] : v) {
    for (const auto& [b, bv] : v) {
      // Kleene: a false operand decides `and`, a true one decides `or`; otherwise null wins.
      const int want_and = (av == 0 || bv == 0) ? 0 : (av == -1 || bv == -1) ? -1 : 1;
      const int want_or = (av == 1 || bv == 1) ? 1 : (av == -1 || bv == -1) ? -1 : 0;
      const std::string sa = sym.at(a), sb = sym.at(b);
      EXPECT_EQ(Show(sa + " and " + sb), name(want_and)) << a << " and " << b;
      EXPECT_EQ(Show(sa + " && " + sb), name(want_and)) << a << " && " << b;
      EXPECT_EQ(Show(sa + " or " + sb), name(want_or)) << a << " or " << b;
      EXPECT_EQ(Show(sa + " || " + sb), name(want_or)) << a << " || " << b;
    }
  }
  EXPECT_EQ(Show("not profile.missing_bool"), "null");
  EXPECT_EQ(Show("!profile.missing_bool"), "null");
  EXPECT_EQ(Show("not profile.flag_false"), "true");
  EXPECT_EQ(Show("not not profile.consents.sms"), "true");
  // Constant-folded the same way: if(false, true, null) is a bool null.
  EXPECT_EQ(Show("if(false, true, null) and false"), "false");
  EXPECT_EQ(Show("if(false, true, null) and true"), "null");
  EXPECT_EQ(Show("if(false, true, null) or true"), "true");
  EXPECT_EQ(Show("not if(false, true, null)"), "null");
  // Longer chains.
  EXPECT_EQ(Show("profile.consents.sms and profile.missing_bool and profile.flag_false"), "false");
  EXPECT_EQ(Show("profile.flag_false or profile.missing_bool or profile.consents.sms"), "true");
  EXPECT_EQ(Show("profile.flag_false or profile.flag_false or profile.missing_bool"), "null");
  // Precedence: and binds tighter than or; not tighter than and.
  EXPECT_EQ(Show("true or false and false"), "true");
  EXPECT_EQ(Show("not false and false"), "false");
  // `!` has the precedence of `not`: this is not (x == 1000), not (!x) == 1000.
  EXPECT_EQ(Show("!profile.data_allowance_mb == 1000"), "false");
}

TEST_F(ExprTest, ShortCircuitSkipsReads) {
  auto e = Compile("profile.flag_false and profile.plan_type == 'x'");
  ASSERT_NE(e, nullptr);
  TestReader r(env_);
  EXPECT_FALSE(e->Test(r));
  EXPECT_EQ(r.reads[SlotOf("profile.plan_type")], 0);
  EXPECT_EQ(r.reads[SlotOf("profile.flag_false")], 1);

  e = Compile("profile.consents.sms or profile.plan_type == 'x'");
  ASSERT_NE(e, nullptr);
  TestReader r2(env_);
  EXPECT_TRUE(e->Test(r2));
  EXPECT_EQ(r2.reads[SlotOf("profile.plan_type")], 0);

  // A null left side does not decide: the right side is read.
  e = Compile("profile.missing_bool and profile.flag_false");
  ASSERT_NE(e, nullptr);
  TestReader r3(env_);
  EXPECT_EQ(e->Evaluate(r3).is_null, false);
  EXPECT_EQ(r3.reads[SlotOf("profile.flag_false")], 1);
}

TEST_F(ExprTest, NullPropagation) {
  EXPECT_EQ(Show("forecast.data.remaining + 1"), "null");
  EXPECT_EQ(Show("1 - forecast.data.remaining"), "null");
  EXPECT_EQ(Show("forecast.data.remaining * 0"), "null");
  EXPECT_EQ(Show("-forecast.data.remaining"), "null");
  EXPECT_EQ(Show("forecast.data.remaining < 3"), "null");
  EXPECT_EQ(Show("forecast.data.remaining == 3"), "null");
  EXPECT_EQ(Show("profile.missing_str == 'x'"), "null");
  EXPECT_EQ(Show("profile.missing_str < 'x'"), "null");
  EXPECT_EQ(Show("profile.missing_str in ['x']"), "null");
  EXPECT_EQ(Show("profile.missing_str not in ['x']"), "null");
  EXPECT_EQ(Show("not (forecast.data.remaining < 3)"), "null");
  EXPECT_EQ(Show("forecast.data.remaining == null"), "true");
  EXPECT_EQ(Show("forecast.data.remaining != null"), "false");
  EXPECT_EQ(Show("null == forecast.data.remaining"), "true");
  EXPECT_EQ(Show("profile.plan_type == null"), "false");
  EXPECT_EQ(Show("profile.plan_type != null"), "true");
  EXPECT_EQ(Show("profile.missing_bool == null"), "true");
  EXPECT_EQ(Show("null == null"), "true");
  EXPECT_EQ(Show("null != null"), "false");
  EXPECT_EQ(Show("3 == null"), "false");
  EXPECT_EQ(Show("null"), "null");
  // A rule passes only on a non-null true.
  auto e = Compile("forecast.data.remaining < 3", Type::kBool);
  ASSERT_NE(e, nullptr);
  TestReader r(env_);
  EXPECT_FALSE(e->Test(r));
  const Value v = e->Evaluate(r);
  EXPECT_TRUE(v.is_null);
  EXPECT_EQ(v.type, Type::kBool);
}

TEST_F(ExprTest, DivisionByZero) {
  // At run time: null.
  EXPECT_EQ(Show("profile.data_allowance_mb / profile.zero"), "null");
  EXPECT_EQ(Show("profile.data_allowance_mb % profile.zero"), "null");
  EXPECT_EQ(Show("1d / profile.zero"), "null");
  EXPECT_EQ(Show("1 / (profile.data_allowance_mb - 1000)"), "null");
  // A constant divisor of zero: a compile error at the operator.
  CompileError e = Error("1 / 0");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "division by zero");
  e = Error("5 % 0");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "division by zero");
  e = Error("profile.data_allowance_mb / (1 - 1)");
  EXPECT_EQ(e.offset, 26u);
  EXPECT_EQ(e.message, "division by zero");
  e = Error("2 + 3 / 0d");
  EXPECT_EQ(e.offset, 6u);
}

TEST_F(ExprTest, InAndNotIn) {
  EXPECT_EQ(Show("ctx.channel in ['app', 'web']"), "true");
  EXPECT_EQ(Show("ctx.channel in ['web']"), "false");
  EXPECT_EQ(Show("ctx.channel not in ['app', 'web']"), "false");
  EXPECT_EQ(Show("ctx.channel not in ['sms']"), "true");
  EXPECT_EQ(Show("profile.list_like in [1, 2, 3]"), "true");
  EXPECT_EQ(Show("profile.list_like in [-2, 3.5]"), "false");
  EXPECT_EQ(Show("-1 in [-1]"), "true");
  EXPECT_EQ(Show("'a' in [\"a\"]"), "true");
  EXPECT_EQ(Show("not ctx.channel in ['app']"), "false");

  CompileError e = Error("ctx.channel in []");
  EXPECT_EQ(e.offset, 15u);
  EXPECT_EQ(e.message, "empty list");
  e = Error("ctx.channel in ['a', 1]");
  EXPECT_EQ(e.offset, 21u);
  EXPECT_EQ(e.message, "a list must hold only strings or only numbers");
  e = Error("1 in ['a']");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "operator 'in' cannot be applied to number and string list");
  e = Error("ctx.channel not in [1]");
  EXPECT_EQ(e.offset, 16u);
  EXPECT_EQ(e.message, "operator 'not in' cannot be applied to string and number list");
  e = Error("ctx.channel in [ctx.channel]");
  EXPECT_EQ(e.offset, 16u);
  e = Error("ctx.channel in 'app'");
  EXPECT_EQ(e.offset, 15u);
  e = Error("1 in [1d]");
  EXPECT_EQ(e.offset, 6u);
  e = Error("1 in [1,]");
  EXPECT_EQ(e.offset, 8u);
}

TEST_F(ExprTest, MinMax) {
  EXPECT_EQ(Show("min(3, 1, 2)"), "1");
  EXPECT_EQ(Show("max(3, 1, 2)"), "3");
  EXPECT_EQ(Show("min(forecast.data.remaining, 5)"), "5");
  EXPECT_EQ(Show("max(5, forecast.data.remaining)"), "5");
  EXPECT_EQ(Show("max(forecast.data.remaining, profile.missing_num)"), "null");
  EXPECT_EQ(Show("min(null, 2)"), "2");
  EXPECT_EQ(Show("min(profile.missing_num, null, profile.data_allowance_mb)"), "1000");
  EXPECT_EQ(Show("min(1d, 2h)"), "2h");
  EXPECT_EQ(Show("max(now, agg.last_topup)"), "2026-11-23T10:00:00Z");
  EXPECT_EQ(Show("max(1, profile.data_allowance_mb, 5)"), "1000");

  CompileError e = Error("min(1)");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "function 'min' takes at least 2 arguments, got 1");
  e = Error("1 + max(1, 'a')");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "the arguments of 'max' must have one type, got number and string");
  e = Error("min('a', 'b')");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "function 'min' needs number, time or duration arguments, got string");
  e = Error("max(null, null)");
  EXPECT_EQ(e.message, "function 'max' needs number, time or duration arguments, got null");
}

TEST_F(ExprTest, Coalesce) {
  EXPECT_EQ(Show("coalesce(forecast.data.remaining, 0)"), "0");
  EXPECT_EQ(Show("coalesce(profile.missing_num, forecast.data.remaining, 7)"), "7");
  EXPECT_EQ(Show("coalesce(profile.missing_num, forecast.data.remaining)"), "null");
  EXPECT_EQ(Show("coalesce(null, 'x')"), "\"x\"");
  EXPECT_EQ(Show("coalesce(profile.missing_time, now)"), "2026-11-23T10:00:00Z");
  EXPECT_EQ(Show("coalesce(profile.missing_bool, true) and true"), "true");
  // Lazy: later arguments are read only when needed.
  auto e = Compile("coalesce(profile.plan_type, ctx.channel)");
  ASSERT_NE(e, nullptr);
  TestReader r(env_);
  std::string out;
  AppendValue(e->Evaluate(r), &out);
  EXPECT_EQ(out, "\"prepaid\"");
  EXPECT_EQ(r.reads[SlotOf("ctx.channel")], 0);

  CompileError err = Error("coalesce(1)");
  EXPECT_EQ(err.message, "function 'coalesce' takes at least 2 arguments, got 1");
  err = Error("coalesce(profile.plan_type, 1)");
  EXPECT_EQ(err.offset, 28u);
}

TEST_F(ExprTest, NumericFunctions) {
  EXPECT_EQ(Show("abs(-2)"), "2");
  EXPECT_EQ(Show("abs(-1d)"), "1d");
  EXPECT_EQ(Show("abs(forecast.data.remaining)"), "null");
  EXPECT_EQ(Show("round(2.5)"), "3");
  EXPECT_EQ(Show("round(-2.5)"), "-3");
  EXPECT_EQ(Show("round(2.4)"), "2");
  EXPECT_EQ(Show("floor(2.7)"), "2");
  EXPECT_EQ(Show("floor(-2.2)"), "-3");
  EXPECT_EQ(Show("ceil(2.1)"), "3");
  EXPECT_EQ(Show("ceil(forecast.data.days_to_depletion)"), "3");
  EXPECT_EQ(Show("clamp(5, 0, 3)"), "3");
  EXPECT_EQ(Show("clamp(-1, 0, 3)"), "0");
  EXPECT_EQ(Show("clamp(forecast.data.days_to_depletion, 0, 3)"), "2.5");
  EXPECT_EQ(Show("clamp(forecast.data.remaining, 0, 1)"), "null");

  CompileError e = Error("abs('a')");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.message, "function 'abs' needs a number or duration argument, got string");
  e = Error("1 + abs(1, 2)");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.message, "function 'abs' takes 1 argument, got 2");
  e = Error("round()");
  EXPECT_EQ(e.message, "function 'round' takes 1 argument, got 0");
  e = Error("floor(1d)");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "argument 1 of 'floor' must be a number, got duration");
  e = Error("clamp(1, 2)");
  EXPECT_EQ(e.message, "function 'clamp' takes 3 arguments, got 2");
  e = Error("clamp(1, 2, 'x')");
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(e.message, "argument 3 of 'clamp' must be a number, got string");
}

TEST_F(ExprTest, IfIsLazy) {
  EXPECT_EQ(Show("if(true, 1, 2)"), "1");
  EXPECT_EQ(Show("if(false, 1, 2)"), "2");
  EXPECT_EQ(Show("if(profile.consents.sms, 'a', 'b')"), "\"a\"");
  EXPECT_EQ(Show("if(profile.flag_false, 'a', 'b')"), "\"b\"");
  EXPECT_EQ(Show("if(profile.missing_bool, 1, 2)"), "2");  // null condition: else branch
  EXPECT_EQ(Show("if(profile.consents.sms, null, 2)"), "null");
  EXPECT_EQ(Show("if(profile.consents.sms, 1d, 2d) * 2"), "2d");

  auto e = Compile(
      "if(profile.consents.sms, profile.data_allowance_mb, forecast.data.days_to_depletion)");
  ASSERT_NE(e, nullptr);
  TestReader r(env_);
  EXPECT_EQ(e->Evaluate(r).num, 1000);
  EXPECT_EQ(r.reads[SlotOf("forecast.data.days_to_depletion")], 0);
  EXPECT_EQ(r.reads[SlotOf("profile.data_allowance_mb")], 1);

  CompileError err = Error("if(1, 2, 3)");
  EXPECT_EQ(err.offset, 3u);
  EXPECT_EQ(err.message, "argument 1 of 'if' must be a bool, got number");
  err = Error("if(true, 1, 'a')");
  EXPECT_EQ(err.offset, 12u);
  err = Error("if(true, 1)");
  EXPECT_EQ(err.message, "function 'if' takes 3 arguments, got 2");
}

TEST_F(ExprTest, DaysSinceAndUntil) {
  EXPECT_EQ(Show("days_since(agg.last_topup)"), "25");
  EXPECT_EQ(Show("days_until(profile.contract_end)"), "30");
  EXPECT_EQ(Show("days_since(now - 36h)"), "1.5");
  EXPECT_EQ(Show("days_since(profile.missing_time)"), "null");
  CompileError e = Error("days_since(1)");
  EXPECT_EQ(e.offset, 11u);
  EXPECT_EQ(e.message, "argument 1 of 'days_since' must be a time, got number");
  // `now` is a reference even though not written.
  auto x = Compile("days_since(agg.last_topup) > 20");
  ASSERT_NE(x, nullptr);
  ASSERT_EQ(x->references().size(), 2u);
  EXPECT_EQ(x->references()[0].name, "agg.last_topup");
  EXPECT_EQ(x->references()[1].name, "now");
  EXPECT_EQ(x->references()[1].slot, SlotOf("now"));
}

TEST_F(ExprTest, SymbolCalls) {
  EXPECT_EQ(Show("history.impressions(\"G5_UPGRADE\", 7d)"), "1");
  EXPECT_EQ(Show("history.impressions('OTHER', 7d)"), "0");
  EXPECT_EQ(Show("agg.data_mb(15d * 2)"), "900");
  auto e =
      Compile("agg.data_mb(15d * 2) + agg.data_mb(30d) + history.impressions('G5_UPGRADE', 168h)");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->references().size(), 2u);
  EXPECT_EQ(e->references()[0].name, "agg.data_mb(30d)");
  EXPECT_EQ(e->references()[1].name, "history.impressions(\"G5_UPGRADE\", 7d)");
  EXPECT_NE(e->references()[0].slot, e->references()[1].slot);

  CompileError err = Error("history.impressions(ctx.channel, 7d) > 1");
  EXPECT_EQ(err.offset, 20u);
  EXPECT_NE(err.message.find("must be constants"), std::string::npos) << err.message;
  err = Error("1 + history.impressions(7d)");
  EXPECT_EQ(err.offset, 4u);
  EXPECT_EQ(err.message, "history.impressions(target, window) needs a string and a duration");
  err = Error("agg.nope(1d)");
  EXPECT_EQ(err.offset, 0u);
  EXPECT_EQ(err.message, "unknown function 'agg.nope'");
}

TEST_F(ExprTest, UnknownNamesAndFunctions) {
  CompileError e = Error("profile.plan == 'x'");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "unknown attribute 'plan'; known: plan_type, consents.sms");
  e = Error("1 + (2 * profile.nope)");
  EXPECT_EQ(e.offset, 9u);
  EXPECT_EQ(e.message, "unknown attribute 'nope'; known: plan_type, consents.sms");
  e = Error("1 + foo(1)");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.message,
            "unknown function 'foo'; known: abs, ceil, clamp, coalesce, days_since, days_until, "
            "floor, if, max, min, round");
}

TEST_F(ExprTest, LexicalErrors) {
  CompileError e = Error("ctx.channel == 'app");
  EXPECT_EQ(e.offset, 15u);
  EXPECT_EQ(e.message, "unterminated string");
  e = Error("ctx.channel == \"a\\\"");
  EXPECT_EQ(e.offset, 15u);
  EXPECT_EQ(e.message, "unterminated string");
  e = Error("'a\\q'");
  EXPECT_EQ(e.offset, 2u);
  e = Error("1 = 1");
  EXPECT_EQ(e.offset, 2u);
  e = Error("3x > 1");
  EXPECT_EQ(e.offset, 0u);
  e = Error("1 # 2");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "unexpected character '#'");
  e = Error("1e999");
  EXPECT_EQ(e.offset, 0u);
  e = Error("profile. plan_type");
  EXPECT_EQ(e.offset, 7u);
  // Escapes decode.
  EXPECT_EQ(Show("'it\\'s' == \"it's\""), "true");
  EXPECT_EQ(Show("'a\\nb\\t\\\\'"), "\"a\\nb\\t\\\\\"");
}

TEST_F(ExprTest, SyntaxErrors) {
  CompileError e = Error("1 + 2 3");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "unexpected '3' after the end of the expression");
  e = Error("ctx.channel == 'app' x");
  EXPECT_EQ(e.offset, 21u);
  EXPECT_EQ(e.message, "unexpected 'x' after the end of the expression");
  e = Error("");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "empty expression");
  e = Error("   ");
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.message, "empty expression");
  e = Error("1 +");
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.message, "unexpected end of expression; expected an operand");
  e = Error("(1 + 2");
  EXPECT_EQ(e.offset, 6u);
  e = Error("min(1, 2");
  EXPECT_EQ(e.offset, 8u);
  e = Error("1 + )");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.message, "expected an operand, found ')'");
}

TEST_F(ExprTest, WantedType) {
  CompileError e = Error("1 + 2", Type::kBool);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "expected a bool expression, got number");
  e = Error("1 < 2", Type::kNumber);
  EXPECT_EQ(e.message, "expected a number expression, got bool");
  EXPECT_NE(Compile("1 < 2", Type::kBool), nullptr);
  EXPECT_NE(Compile("profile.plan_type", Type::kNull), nullptr);
  EXPECT_EQ(Compile("profile.plan_type", Type::kNull)->type(), Type::kString);
}

TEST_F(ExprTest, NestingAndLengthLimits) {
  // 64 levels are fine, 65 are not.
  std::string ok = std::string(64, '(') + "1" + std::string(64, ')');
  EXPECT_EQ(Show(ok), "1");
  CompileError e = Error(std::string(65, '(') + "1" + std::string(65, ')'));
  EXPECT_EQ(e.offset, 64u);
  EXPECT_EQ(e.message, "expression nested too deeply");
  // Far deeper inputs are rejected without exhausting the stack.
  e = Error(std::string(10000, '('));
  EXPECT_EQ(e.message, "expression nested too deeply");
  std::string nots;
  for (int i = 0; i < 3000; ++i) nots += "not ";
  e = Error(nots + "true");
  EXPECT_EQ(e.message, "expression nested too deeply");
  EXPECT_EQ(e.offset, 256u);
  e = Error(std::string(10000, '-') + "1");
  EXPECT_EQ(e.message, "expression nested too deeply");
  std::string calls;
  for (int i = 0; i < 100; ++i) calls += "abs(";
  e = Error(calls + "1" + std::string(100, ')'));
  EXPECT_EQ(e.message, "expression nested too deeply");
  EXPECT_EQ(e.offset, 64u * 4 + 3);

  // Long flat chains are not nesting.
  std::string chain = "profile.data_allowance_mb";
  for (int i = 0; i < 2000; ++i) chain += " + 1";
  EXPECT_EQ(Show(chain), "3000");
  std::string ands = "profile.consents.sms";
  for (int i = 0; i < 500; ++i) ands += " and profile.consents.sms";
  EXPECT_EQ(Show(ands), "true");

  // Right-nested operands that need many stack slots evaluate correctly.
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += "profile.list_like + (";
  deep += "1";
  deep.append(60, ')');
  EXPECT_EQ(Show(deep), "121");
  // ...and too many pending operands are refused at compile time.
  std::string wide;
  for (int i = 0; i < 64; ++i) wide += "clamp(profile.list_like, profile.list_like, ";
  wide += "1";
  wide.append(64, ')');
  e = Error(wide);
  EXPECT_NE(e.message.find("expression too complex"), std::string::npos) << e.message;

  std::string too_long = "1";
  while (too_long.size() <= 16384) too_long += " + 1";
  e = Error(too_long);
  EXPECT_EQ(e.offset, 16384u);
  EXPECT_EQ(e.message,
            "expression too long: " + std::to_string(too_long.size()) + " bytes, at most 16384");
  std::string just_fits(16384, ' ');
  just_fits[0] = '1';
  EXPECT_EQ(Show(just_fits), "1");
}

TEST_F(ExprTest, ReferencesAndConstness) {
  auto e = Compile(
      "profile.plan_type == 'x' or ctx.channel == 'app' or profile.plan_type == 'y' or "
      "days_since(agg.last_topup) > 1 or ctx.channel == 'z'");
  ASSERT_NE(e, nullptr);
  const auto& refs = e->references();
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0].name, "profile.plan_type");
  EXPECT_EQ(refs[0].slot, SlotOf("profile.plan_type"));
  EXPECT_EQ(refs[1].name, "ctx.channel");
  EXPECT_EQ(refs[2].name, "agg.last_topup");
  EXPECT_EQ(refs[3].name, "now");
  EXPECT_FALSE(e->is_constant());
  EXPECT_EQ(e->source(),
            "profile.plan_type == 'x' or ctx.channel == 'app' or profile.plan_type == 'y' or "
            "days_since(agg.last_topup) > 1 or ctx.channel == 'z'");
  EXPECT_EQ(e->type(), Type::kBool);

  auto c = Compile("min(1, 2) + 3 < 5 and 'a' in ['a', 'b'] and 2d > 1d");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->is_constant());
  EXPECT_TRUE(c->references().empty());
  TestReader r(env_);
  EXPECT_TRUE(c->Test(r));
  EXPECT_TRUE(r.reads.empty());
}

TEST_F(ExprTest, ReaderTypeMismatchReadsAsNull) {
  class Liar : public SymbolReader {
   public:
    Value Read(int) override { return Value::Number(1); }
  } liar;
  auto e = Compile("profile.plan_type == 'x'");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->Evaluate(liar).is_null);
}

TEST_F(ExprTest, AppendValueAndTypeName) {
  auto show = [](const Value& v) {
    std::string s;
    AppendValue(v, &s);
    return s;
  };
  EXPECT_EQ(show(Value::Null(Type::kNumber)), "null");
  EXPECT_EQ(show(Value::Bool(true)), "true");
  EXPECT_EQ(show(Value::Bool(false)), "false");
  EXPECT_EQ(show(Value::Number(3)), "3");
  EXPECT_EQ(show(Value::Number(3.5)), "3.5");
  EXPECT_EQ(show(Value::Number(0.05)), "0.05");
  EXPECT_EQ(show(Value::Number(-1e21)), "-1e+21");
  EXPECT_EQ(show(Value::String("a\"b\\c\n\x01")), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(show(Value::Duration(7 * kDay)), "7d");
  EXPECT_EQ(show(Value::Duration(36 * 3600e3)), "36h");
  EXPECT_EQ(show(Value::Duration(90 * 60e3)), "90m");
  EXPECT_EQ(show(Value::Duration(45e3)), "45s");
  EXPECT_EQ(show(Value::Duration(250)), "250ms");
  EXPECT_EQ(show(Value::Duration(0.5)), "0.5ms");
  EXPECT_EQ(show(Value::Duration(-2 * kDay)), "-2d");
  EXPECT_EQ(show(Value::Time(kNow)), "2026-11-23T10:00:00Z");
  EXPECT_EQ(show(Value::Time(kNow + 250)), "2026-11-23T10:00:00.250Z");
  EXPECT_EQ(show(Value::Time(0)), "1970-01-01T00:00:00Z");
  EXPECT_STREQ(TypeName(Type::kBool), "bool");
  EXPECT_STREQ(TypeName(Type::kNumber), "number");
  EXPECT_STREQ(TypeName(Type::kString), "string");
  EXPECT_STREQ(TypeName(Type::kTime), "time");
  EXPECT_STREQ(TypeName(Type::kDuration), "duration");
  EXPECT_STREQ(TypeName(Type::kStringList), "string list");
  EXPECT_STREQ(TypeName(Type::kNumberList), "number list");
  EXPECT_STREQ(TypeName(Type::kNull), "null");
}

TEST_F(ExprTest, EvaluateDoesNotAllocate) {
  const char* kSources[] = {
      "profile.plan_type == 'prepaid' and forecast.data.days_to_depletion < 3",
      "coalesce(forecast.data.remaining, 0) / 1024 * 2.5 + min(1, profile.data_allowance_mb)",
      "ctx.channel in ['app', 'web'] or days_since(agg.last_topup) > 20",
      "if(profile.missing_bool, 'a', profile.plan_type)",
      "history.impressions('G5_UPGRADE', 7d) < 2",
  };
  std::vector<std::shared_ptr<const Expr>> exprs;
  for (const char* s : kSources) {
    exprs.push_back(Compile(s));
    ASSERT_NE(exprs.back(), nullptr) << s << ": " << error_.message;
  }
  class Plain : public SymbolReader {
   public:
    explicit Plain(const TestEnv& env) : env_(env) {}
    Value Read(int slot) override {
      if (slot >= 100) return env_.call_values().at(slot);
      return env_.table()[static_cast<size_t>(slot)].value;
    }

   private:
    const TestEnv& env_;
  } reader(env_);
  int passed = 0;
  const long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    for (const auto& e : exprs) {
      const Value v = e->Evaluate(reader);
      passed += v.type == Type::kBool && !v.is_null && v.b;
      passed += e->Test(reader);
    }
  }
  const long after = g_allocations.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(passed, 1000 * 2 * 3);
  // The counter itself works.
  static std::unique_ptr<int> keep;
  keep = std::make_unique<int>(1);
  EXPECT_GT(g_allocations.load(), after);
}

TEST_F(ExprTest, GarbledInputsNeverCrash) {
  std::mt19937 rng(20261123);
  const std::vector<std::string> pieces = {"profile.plan_type",
                                           "forecast.data.remaining",
                                           "ctx.channel",
                                           "now",
                                           "agg.last_topup",
                                           "profile.consents.sms",
                                           "history.impressions('G5_UPGRADE', 7d)",
                                           "agg.data_mb(30d)",
                                           "min(",
                                           "max(",
                                           "coalesce(",
                                           "if(",
                                           "abs(",
                                           "clamp(",
                                           "days_since(",
                                           "foo(",
                                           "(",
                                           ")",
                                           "[",
                                           "]",
                                           ",",
                                           ".",
                                           "+",
                                           "-",
                                           "*",
                                           "/",
                                           "%",
                                           "==",
                                           "!=",
                                           "<",
                                           "<=",
                                           ">",
                                           ">=",
                                           "and",
                                           "or",
                                           "not",
                                           "in",
                                           "&&",
                                           "||",
                                           "!",
                                           "true",
                                           "false",
                                           "null",
                                           "1",
                                           "0",
                                           "2.5",
                                           ".5",
                                           "1e3",
                                           "7d",
                                           "36h",
                                           "'app'",
                                           "\"x\"",
                                           "'unterminated",
                                           "\\",
                                           "=",
                                           "&",
                                           "|",
                                           "#",
                                           " ",
                                           "\xff",
                                           "\n",
                                           "1e999",
                                           "profile.",
                                           "x.y.z"};
  const std::vector<std::string> seeds = {
      "profile.plan_type == \"prepaid\" and forecast.data.days_to_depletion < 3",
      "coalesce(forecast.data.remaining, 0) / 1024 * 2.5",
      "if(profile.plan_type == 'postpaid', 5, 3.5) * max(1, agg.topups(90d))",
      "ctx.channel in [\"app\", \"web\"]",
  };
  int compiled = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string src;
    if (i % 2 == 0) {
      const int n = static_cast<int>(rng() % 24);
      for (int j = 0; j < n; ++j) {
        src += pieces[rng() % pieces.size()];
        if (rng() % 2) src += ' ';
      }
    } else {
      src = seeds[rng() % seeds.size()];
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < edits && !src.empty(); ++j) {
        const size_t at = rng() % src.size();
        switch (rng() % 3) {
          case 0:
            src.erase(at, 1 + rng() % 3);
            break;
          case 1:
            src.insert(at, 1, static_cast<char>(rng() % 256));
            break;
          default:
            src[at] = static_cast<char>(rng() % 256);
            break;
        }
      }
    }
    CompileError err;
    auto e = Expr::Compile(src, env_, Type::kNull, &err);
    if (e == nullptr) {
      EXPECT_LE(err.offset, src.size()) << src;
      EXPECT_FALSE(err.message.empty()) << src;
    } else {
      ++compiled;
      TestReader r(env_);
      const Value v = e->Evaluate(r);
      EXPECT_EQ(v.type, e->type()) << src;
    }
  }
  EXPECT_GT(compiled, 50);  // the generator also produces valid expressions
}

}  // namespace
}  // namespace kairos::expr
