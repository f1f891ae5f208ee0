// The Kairos rule language: typed expressions over a subscriber's profile, the request context
// and the interaction history, compiled once at load and evaluated without allocation.
//
// Setup and hot path are separate (as in a Vespa blueprint/executor pair):
//  * Compile (once per catalog load): lex, parse, resolve every name through an Environment,
//    type-check, fold constants, and emit a flat program. All errors carry the byte offset in
//    the source text, so that the loader can report file:line:column.
//  * Evaluate (per candidate, per request): a small stack machine reads symbol values through a
//    SymbolReader and never allocates. The Environment decides what a symbol is (a profile
//    attribute, an aggregate window, a forecast figure, a context field, a history count); the
//    expression module knows nothing of profiles.
//
// Grammar and semantics: docs/rule-language.md.
//
// Thread-safety: a compiled Expr is immutable and may be evaluated from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kairos::expr {

// Static types. Time is milliseconds since the epoch; Duration is milliseconds (`7d`, `12h`,
// `30m`, `45s` literals). List types exist only for list literals on the right of `in`.
enum class Type : uint8_t {
  kNull,  // only the literal `null`
  kBool,
  kNumber,
  kString,
  kTime,
  kDuration,
  kStringList,
  kNumberList,
};
const char* TypeName(Type t);

// A runtime value: 32 bytes, no ownership. Strings point into storage owned by whoever produced
// them (the SymbolReader or the compiled program) and live at least as long as the evaluation.
// `null` is a state of any type: a missing attribute, a division by zero, an absent forecast.
struct Value {
  Type type = Type::kNull;
  bool is_null = true;
  bool b = false;
  double num = 0;          // kNumber; kTime and kDuration as milliseconds
  std::string_view str;    // kString

  static Value Null(Type t) { Value v; v.type = t; return v; }
  static Value Bool(bool x) { Value v; v.type = Type::kBool; v.is_null = false; v.b = x; return v; }
  static Value Number(double x) { Value v; v.type = Type::kNumber; v.is_null = false; v.num = x; return v; }
  static Value Time(double ms) { Value v; v.type = Type::kTime; v.is_null = false; v.num = ms; return v; }
  static Value Duration(double ms) { Value v; v.type = Type::kDuration; v.is_null = false; v.num = ms; return v; }
  static Value String(std::string_view s) { Value v; v.type = Type::kString; v.is_null = false; v.str = s; return v; }
};

// Appends a readable form of `v` to `out` ("null", "true", "3.5", "\"prepaid\"", "7d",
// "2026-11-23T10:00:00Z"), used by explanations.
void AppendValue(const Value& v, std::string* out);

// What a name or a call in an expression refers to, decided by the Environment at compile time.
struct Symbol {
  int slot = -1;   // the environment's own id; handed back to SymbolReader::Read
  Type type = Type::kNull;
};

// A constant argument of a symbol call, e.g. the "G5_UPGRADE" and 7d of
// `history.impressions("G5_UPGRADE", 7d)`. Arguments of symbol calls must be constants.
struct ConstArg {
  Type type = Type::kNull;
  double num = 0;
  bool b = false;
  std::string str;
};

// Resolves names at compile time. Implemented by the catalog (profile.*, agg.*, forecast.*,
// ctx.*, history.*, action.*, now) and by tests.
class Environment {
 public:
  virtual ~Environment() = default;
  // A dotted name such as `profile.plan_type` or `forecast.data.days_to_depletion`. On an
  // unknown name: an error whose message says what is known ("unknown attribute 'plan'; known:
  // plan_type, plan_id, ..."); the compiler adds the position.
  virtual Result<Symbol> Resolve(std::string_view dotted_name) const = 0;
  // A call of a dotted name that is not a built-in function, such as
  // `history.impressions("X", 7d)`, with its constant arguments.
  virtual Result<Symbol> ResolveCall(std::string_view dotted_name,
                                     std::span<const ConstArg> args) const = 0;
};

// Supplies symbol values during evaluation. Read is called at most once per symbol occurrence in
// the program (short-circuit evaluation may skip it); implementations memoize when computing a
// value is costly. The returned value must have the type the Environment declared (or be null).
class SymbolReader {
 public:
  virtual ~SymbolReader() = default;
  virtual Value Read(int slot) = 0;
};

// A name the expression reads, for explanations: the name as written and its slot.
struct Reference {
  std::string name;  // "profile.plan_type", "history.impressions(\"X\", 7d)"
  int slot = -1;
};

// Where a compile error is: byte offset into the expression text.
struct CompileError {
  size_t offset = 0;
  std::string message;  // "unknown attribute 'plan'", "cannot compare string with number"
};

class Expr {
 public:
  // Compiles `source`. `want` is the type the caller needs: kBool for rules, kNumber for values
  // and weights, kNull for any type. Returns nullptr and fills `error` on failure.
  static std::shared_ptr<const Expr> Compile(std::string_view source, const Environment& env,
                                             Type want, CompileError* error);

  ~Expr();
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  // Evaluates. Never allocates, never throws. Division by zero and any operation on null give
  // null; rules treat a null result as false.
  Value Evaluate(SymbolReader& reader) const;
  // Rule helper: true only when the result is a non-null true.
  bool Test(SymbolReader& reader) const;

  Type type() const;
  const std::string& source() const;
  // Symbols read by the expression, each slot once, in order of first appearance.
  const std::vector<Reference>& references() const;
  // True when the expression reads no symbol (a constant after folding).
  bool is_constant() const;

  struct Impl;

 private:
  explicit Expr(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kairos::expr
