// Internal to src/expr: the compiled form of an expression (a flat program for a stack machine)
// and the machine itself. Not part of the public API; see expr.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"

namespace kairos::expr {

// Limits (documented in docs/rule-language.md).
inline constexpr size_t kMaxSourceBytes = 16384;
inline constexpr int kMaxNesting = 64;
inline constexpr int kMaxStack = 128;
inline constexpr double kMsPerDayF = 86400000.0;

// A stack-machine value. The static type is known at compile time, so a cell carries none:
// bool is num 0/1; number, time and duration are num; string is (s, n). Trivially constructible
// so that the evaluation stack costs nothing to set up.
struct Cell {
  double num;
  const char* s;
  size_t n;
  bool null;

  std::string_view str() const { return std::string_view(s, n); }
};

inline Cell NullCell() { return Cell{0, nullptr, 0, true}; }
inline Cell NumCell(double x) { return Cell{x, nullptr, 0, false}; }
inline Cell BoolCell(bool b) { return Cell{b ? 1.0 : 0.0, nullptr, 0, false}; }
inline Cell StrCell(std::string_view s) { return Cell{0, s.data(), s.size(), false}; }

// The public form of a cell of static type `t`.
inline Value ToValue(const Cell& c, Type t) {
  if (c.null) return Value::Null(t);
  switch (t) {
    case Type::kBool:
      return Value::Bool(c.num != 0);
    case Type::kNumber:
      return Value::Number(c.num);
    case Type::kTime:
      return Value::Time(c.num);
    case Type::kDuration:
      return Value::Duration(c.num);
    case Type::kString:
      return Value::String(c.str());
    default:
      return Value::Null(t);
  }
}

enum class Op : uint8_t {
  kPush,  // push k
  kLoad,  // push reader.Read(a), checked against `type`
  // Binary: pop b (or use k when use_k), replace top a with the result; null in, null out.
  kAdd,
  kSub,
  kMul,
  kDiv,  // by zero: null
  kMod,  // by zero: null
  kEqN,
  kNeN,
  kLtN,
  kLeN,
  kGtN,
  kGeN,
  kEqS,
  kNeS,
  kLtS,
  kLeS,
  kGtS,
  kGeS,
  kMin2,  // a null operand is ignored
  kMax2,
  kDaysBetween,  // (b - a) / 1 day
  kAnd,          // Kleene
  kOr,
  // Unary, on the top.
  kNot,
  kNeg,
  kAbs,
  kRound,
  kFloor,
  kCeil,
  kIsNull,
  kIsNotNull,
  kInS,  // top in list_items[a, a + b)
  kInN,
  kClamp,  // pop hi, lo; top = min(max(top, lo), hi)
  // Control flow; a is the target index.
  kJump,
  kJumpIfNotTrue,  // pop; jump if null or false
  kAndJump,        // jump if the top is a non-null false (keep it)
  kOrJump,         // jump if the top is a non-null true (keep it)
  kCoalesceJump,   // jump if the top is non-null (keep it), else pop
};

struct Instr {
  Cell k = NullCell();  // kPush, and the right operand of a binary op when use_k
  int32_t a = 0;
  int32_t b = 0;
  Op op = Op::kPush;
  Type type = Type::kNull;  // kLoad: the declared type
  bool use_k = false;
};

// Runs `code` and returns the top of the stack. `reader` may be null when the code loads nothing
// (constant folding). `list_items` holds the elements of `in` lists.
Cell Run(const Instr* code, size_t size, const Cell* list_items, SymbolReader* reader);

}  // namespace kairos::expr

namespace kairos::expr {

struct Expr::Impl {
  std::string source;
  Type type = Type::kNull;
  std::vector<Instr> code;
  std::vector<Cell> list_items;
  // String constants; a deque never moves its elements, so cells may point into them.
  std::deque<std::string> strings;
  std::vector<Reference> references;
  int max_stack = 0;
};

}  // namespace kairos::expr
