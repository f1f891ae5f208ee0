// Internal to src/expr: the syntax tree and the recursive-descent parser.
//
// Runs of one binary operator level (`a + b - c`, `a and b and c`) are a single kChain node, so
// the tree is only as deep as the nesting of parentheses, calls and unary operators, which the
// parser bounds (kMaxNesting). The compiler's recursion is therefore bounded too.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "expr/lexer.h"
#include "expr/program.h"

namespace kairos::expr {

enum class NodeKind : uint8_t {
  kLiteral,  // lit_type, lit
  kName,     // name
  kCall,     // name(kids...): a symbol call resolved by Environment::ResolveCall
  kFunc,     // func(kids...): a built-in function
  kUnary,    // ops[0] kids[0]: '-' or 'not'
  kChain,    // kids[0] ops[0] kids[1] ops[1] kids[2] ...: one precedence level, left-associative
  kCompare,  // kids[0] ops[0] kids[1]
  kIn,       // kids[0] ['not'] in [items]; ops[0] is the 'in' token
};

enum class Builtin : uint8_t {
  kMin,
  kMax,
  kCoalesce,
  kAbs,
  kRound,
  kFloor,
  kCeil,
  kClamp,
  kIf,
  kDaysSince,
  kDaysUntil,
};

// The built-in function called `name`, if any.
bool LookupBuiltin(std::string_view name, Builtin* out);
// "abs, ceil, clamp, ..." for messages.
const char* BuiltinNames();

struct OpToken {
  Tok tok = Tok::kEnd;
  size_t offset = 0;
  std::string_view text;  // as written: "and" or "&&"
};

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  size_t offset = 0;  // first character of the node (of the name for names and calls)
  std::string_view name;
  Builtin func = Builtin::kMin;
  std::vector<int> kids;
  std::vector<OpToken> ops;
  // kLiteral
  Type lit_type = Type::kNull;
  Cell lit = NullCell();
  // kIn
  bool negated = false;
  Type list_type = Type::kNull;
  std::vector<Cell> items;

  // Filled in by the compiler.
  Type type = Type::kNull;
  bool is_const = false;  // k holds the value
  Cell k = NullCell();
  int slot = -1;             // kName, kCall
  std::vector<Op> step_ops;  // kChain: the machine op of each step
  size_t const_prefix = 1;   // kChain: leading kids folded into prefix_k (when > 1)
  Cell prefix_k = NullCell();
  int list_begin = -1;   // kIn: index into Expr::Impl::list_items once emitted
  int null_tested = -1;  // kCompare of `x == null`: the kid tested for null-ness
};

struct Ast {
  std::vector<Node> nodes;
  int root = -1;
};

// Parses `source` into `ast`. Decoded string literals are appended to `strings` (cells point
// into them). On failure fills `error` and returns false.
bool Parse(std::string_view source, std::deque<std::string>* strings, Ast* ast,
           CompileError* error);

}  // namespace kairos::expr
