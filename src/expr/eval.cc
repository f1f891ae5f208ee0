// The stack machine, the evaluation entry points and value formatting.
#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/time_format.h"
#include "expr/expr.h"
#include "expr/program.h"

namespace kairos::expr {

namespace {

inline void SetNull(Cell& c) { c = NullCell(); }
inline void SetBool(Cell& c, bool b) { c = BoolCell(b); }
// An arithmetic result; not finite (overflow, inf - inf) is null.
inline void SetNum(Cell& c, double x) {
  if (std::isfinite(x)) {
    c.num = x;
  } else {
    SetNull(c);
  }
}
inline bool IsFalse(const Cell& c) { return !c.null && c.num == 0; }
inline bool IsTrue(const Cell& c) { return !c.null && c.num != 0; }

}  // namespace

Cell Run(const Instr* code, size_t size, const Cell* list_items, SymbolReader* reader) {
  Cell stack[kMaxStack];  // deliberately uninitialized: Cell is trivial
  int sp = 0;
  size_t pc = 0;
  while (pc < size) {
    const Instr& in = code[pc++];
    switch (in.op) {
      case Op::kPush:
        stack[sp++] = in.k;
        break;
      case Op::kLoad: {
        const Value v = reader->Read(in.a);
        Cell& c = stack[sp++];
        if (v.is_null || v.type != in.type) {
          SetNull(c);
        } else {
          c.null = false;
          c.num = in.type == Type::kBool ? (v.b ? 1.0 : 0.0) : v.num;
          c.s = v.str.data();
          c.n = v.str.size();
        }
        break;
      }

#define KAIROS_EXPR_BINARY(a, b)                             \
  const Cell b = in.use_k ? in.k : stack[--sp]; /* NOLINT */ \
  Cell& a = stack[sp - 1];                                   \
  if (a.null || b.null) {                                    \
    SetNull(a);                                              \
    break;                                                   \
  }

      case Op::kAdd: {
        KAIROS_EXPR_BINARY(x, y);
        SetNum(x, x.num + y.num);
        break;
      }
      case Op::kSub: {
        KAIROS_EXPR_BINARY(x, y);
        SetNum(x, x.num - y.num);
        break;
      }
      case Op::kMul: {
        KAIROS_EXPR_BINARY(x, y);
        SetNum(x, x.num * y.num);
        break;
      }
      case Op::kDiv: {
        KAIROS_EXPR_BINARY(x, y);
        if (y.num == 0) {
          SetNull(x);
        } else {
          SetNum(x, x.num / y.num);
        }
        break;
      }
      case Op::kMod: {
        KAIROS_EXPR_BINARY(x, y);
        if (y.num == 0) {
          SetNull(x);
        } else {
          SetNum(x, std::fmod(x.num, y.num));
        }
        break;
      }
      case Op::kEqN: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.num == y.num);
        break;
      }
      case Op::kNeN: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.num != y.num);
        break;
      }
      case Op::kLtN: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.num < y.num);
        break;
      }
      case Op::kLeN: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.num <= y.num);
        break;
      }
      case Op::kGtN: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.num > y.num);
        break;
      }
      case Op::kGeN: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.num >= y.num);
        break;
      }
      case Op::kEqS: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.str() == y.str());
        break;
      }
      case Op::kNeS: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.str() != y.str());
        break;
      }
      case Op::kLtS: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.str() < y.str());
        break;
      }
      case Op::kLeS: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.str() <= y.str());
        break;
      }
      case Op::kGtS: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.str() > y.str());
        break;
      }
      case Op::kGeS: {
        KAIROS_EXPR_BINARY(x, y);
        SetBool(x, x.str() >= y.str());
        break;
      }
      case Op::kDaysBetween: {
        KAIROS_EXPR_BINARY(x, y);
        SetNum(x, (y.num - x.num) / kMsPerDayF);
        break;
      }
#undef KAIROS_EXPR_BINARY

      case Op::kMin2:
      case Op::kMax2: {
        const Cell y = in.use_k ? in.k : stack[--sp];
        Cell& x = stack[sp - 1];
        if (y.null) break;
        if (x.null) {
          x = y;
        } else {
          x.num = in.op == Op::kMin2 ? std::min(x.num, y.num) : std::max(x.num, y.num);
        }
        break;
      }
      case Op::kAnd: {
        const Cell y = stack[--sp];
        Cell& x = stack[sp - 1];
        if (IsFalse(x) || IsFalse(y)) {
          SetBool(x, false);
        } else if (x.null || y.null) {
          SetNull(x);
        } else {
          SetBool(x, true);
        }
        break;
      }
      case Op::kOr: {
        const Cell y = stack[--sp];
        Cell& x = stack[sp - 1];
        if (IsTrue(x) || IsTrue(y)) {
          SetBool(x, true);
        } else if (x.null || y.null) {
          SetNull(x);
        } else {
          SetBool(x, false);
        }
        break;
      }
      case Op::kNot: {
        Cell& x = stack[sp - 1];
        if (!x.null) x.num = x.num == 0 ? 1.0 : 0.0;
        break;
      }
      case Op::kNeg: {
        Cell& x = stack[sp - 1];
        if (!x.null) x.num = -x.num;
        break;
      }
      case Op::kAbs: {
        Cell& x = stack[sp - 1];
        if (!x.null) x.num = std::fabs(x.num);
        break;
      }
      case Op::kRound: {
        Cell& x = stack[sp - 1];
        if (!x.null) x.num = std::round(x.num);
        break;
      }
      case Op::kFloor: {
        Cell& x = stack[sp - 1];
        if (!x.null) x.num = std::floor(x.num);
        break;
      }
      case Op::kCeil: {
        Cell& x = stack[sp - 1];
        if (!x.null) x.num = std::ceil(x.num);
        break;
      }
      case Op::kIsNull: {
        Cell& x = stack[sp - 1];
        SetBool(x, x.null);
        break;
      }
      case Op::kIsNotNull: {
        Cell& x = stack[sp - 1];
        SetBool(x, !x.null);
        break;
      }
      case Op::kInS: {
        Cell& x = stack[sp - 1];
        if (x.null) break;
        bool found = false;
        const std::string_view s = x.str();
        for (int i = in.a; i < in.a + in.b; ++i) {
          if (list_items[i].str() == s) {
            found = true;
            break;
          }
        }
        SetBool(x, found);
        break;
      }
      case Op::kInN: {
        Cell& x = stack[sp - 1];
        if (x.null) break;
        bool found = false;
        for (int i = in.a; i < in.a + in.b; ++i) {
          if (list_items[i].num == x.num) {
            found = true;
            break;
          }
        }
        SetBool(x, found);
        break;
      }
      case Op::kClamp: {
        const Cell hi = stack[--sp];
        const Cell lo = stack[--sp];
        Cell& x = stack[sp - 1];
        if (x.null || lo.null || hi.null) {
          SetNull(x);
        } else {
          x.num = std::min(std::max(x.num, lo.num), hi.num);
        }
        break;
      }
      case Op::kJump:
        pc = static_cast<size_t>(in.a);
        break;
      case Op::kJumpIfNotTrue:
        if (!IsTrue(stack[--sp])) pc = static_cast<size_t>(in.a);
        break;
      case Op::kAndJump:
        if (IsFalse(stack[sp - 1])) pc = static_cast<size_t>(in.a);
        break;
      case Op::kOrJump:
        if (IsTrue(stack[sp - 1])) pc = static_cast<size_t>(in.a);
        break;
      case Op::kCoalesceJump:
        if (!stack[sp - 1].null) {
          pc = static_cast<size_t>(in.a);
        } else {
          --sp;
        }
        break;
    }
    assert(sp >= 0 && sp <= kMaxStack);
  }
  assert(sp == 1);
  return stack[0];
}

Expr::Expr(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Expr::~Expr() = default;

Value Expr::Evaluate(SymbolReader& reader) const {
  const Cell c = Run(impl_->code.data(), impl_->code.size(), impl_->list_items.data(), &reader);
  return ToValue(c, impl_->type);
}

bool Expr::Test(SymbolReader& reader) const {
  if (impl_->type != Type::kBool) return false;
  const Cell c = Run(impl_->code.data(), impl_->code.size(), impl_->list_items.data(), &reader);
  return IsTrue(c);
}

Type Expr::type() const { return impl_->type; }
const std::string& Expr::source() const { return impl_->source; }
const std::vector<Reference>& Expr::references() const { return impl_->references; }
bool Expr::is_constant() const { return impl_->references.empty(); }

const char* TypeName(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "bool";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kTime:
      return "time";
    case Type::kDuration:
      return "duration";
    case Type::kStringList:
      return "string list";
    case Type::kNumberList:
      return "number list";
  }
  return "?";
}

namespace {

void AppendNumber(double x, std::string* out) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  if (ec == std::errc()) out->append(buf, static_cast<size_t>(end - buf));
}

void AppendDuration(double ms, std::string* out) {
  struct Unit {
    double ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400e3, "d"}, {3600e3, "h"}, {60e3, "m"}, {1e3, "s"}};
  // Exact integers only (|ms| < 2^53); anything else is printed in milliseconds.
  if (ms != 0 && std::fabs(ms) < 9007199254740992.0 && ms == std::trunc(ms)) {
    for (const Unit& u : kUnits) {
      const double n = ms / u.ms;
      if (n == std::trunc(n)) {
        AppendNumber(n, out);
        out->append(u.name);
        return;
      }
    }
  }
  if (ms == 0) {
    out->append("0s");
    return;
  }
  AppendNumber(ms, out);
  out->append("ms");
}

void AppendTime(double ms, std::string* out) {
  // Years 0001..9999; outside that range (or not finite), the raw milliseconds.
  constexpr double kMin = -62135596800000.0;
  constexpr double kMax = 253402300799999.0;
  if (!(ms >= kMin && ms <= kMax)) {
    AppendNumber(ms, out);
    out->append("ms");
    return;
  }
  char buf[kRfc3339Max];
  const size_t n = FormatRfc3339(static_cast<TimestampMs>(std::floor(ms)), buf);
  out->append(buf, n);
}

void AppendQuoted(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default: {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        } else {
          out->push_back(c);
        }
      }
    }
  }
  out->push_back('"');
}

}  // namespace

void AppendValue(const Value& v, std::string* out) {
  if (v.is_null) {
    out->append("null");
    return;
  }
  switch (v.type) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(v.b ? "true" : "false");
      break;
    case Type::kNumber:
      AppendNumber(v.num, out);
      break;
    case Type::kString:
      AppendQuoted(v.str, out);
      break;
    case Type::kTime:
      AppendTime(v.num, out);
      break;
    case Type::kDuration:
      AppendDuration(v.num, out);
      break;
    case Type::kStringList:
    case Type::kNumberList:
      out->append("[...]");
      break;
  }
}

}  // namespace kairos::expr
