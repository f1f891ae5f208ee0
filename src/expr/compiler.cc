// Expr::Compile: name resolution, type checking, constant folding and code generation over the
// tree built by the parser.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "expr/expr.h"
#include "expr/parser.h"
#include "expr/program.h"

namespace kairos::expr {

namespace {

bool IsNumeric(Type t) { return t == Type::kNumber || t == Type::kTime || t == Type::kDuration; }
bool IsUsableSymbolType(Type t) {
  return t == Type::kBool || t == Type::kNumber || t == Type::kString || t == Type::kTime ||
         t == Type::kDuration;
}

const char* BuiltinName(Builtin f) {
  switch (f) {
    case Builtin::kMin:
      return "min";
    case Builtin::kMax:
      return "max";
    case Builtin::kCoalesce:
      return "coalesce";
    case Builtin::kAbs:
      return "abs";
    case Builtin::kRound:
      return "round";
    case Builtin::kFloor:
      return "floor";
    case Builtin::kCeil:
      return "ceil";
    case Builtin::kClamp:
      return "clamp";
    case Builtin::kIf:
      return "if";
    case Builtin::kDaysSince:
      return "days_since";
    case Builtin::kDaysUntil:
      return "days_until";
  }
  return "?";
}

std::string OpName(const OpToken& op) { return "operator '" + std::string(op.text) + "'"; }

// The typing table of the binary operators other than comparisons.
struct BinaryRule {
  Tok op;
  Type left;
  Type right;
  Type result;
};
constexpr BinaryRule kBinaryRules[] = {
    {Tok::kAnd, Type::kBool, Type::kBool, Type::kBool},
    {Tok::kOr, Type::kBool, Type::kBool, Type::kBool},
    {Tok::kPlus, Type::kNumber, Type::kNumber, Type::kNumber},
    {Tok::kPlus, Type::kTime, Type::kDuration, Type::kTime},
    {Tok::kPlus, Type::kDuration, Type::kTime, Type::kTime},
    {Tok::kPlus, Type::kDuration, Type::kDuration, Type::kDuration},
    {Tok::kMinus, Type::kNumber, Type::kNumber, Type::kNumber},
    {Tok::kMinus, Type::kTime, Type::kTime, Type::kDuration},
    {Tok::kMinus, Type::kTime, Type::kDuration, Type::kTime},
    {Tok::kMinus, Type::kDuration, Type::kDuration, Type::kDuration},
    {Tok::kStar, Type::kNumber, Type::kNumber, Type::kNumber},
    {Tok::kStar, Type::kDuration, Type::kNumber, Type::kDuration},
    {Tok::kStar, Type::kNumber, Type::kDuration, Type::kDuration},
    {Tok::kSlash, Type::kNumber, Type::kNumber, Type::kNumber},
    {Tok::kSlash, Type::kDuration, Type::kNumber, Type::kDuration},
    {Tok::kSlash, Type::kDuration, Type::kDuration, Type::kNumber},
    {Tok::kPercent, Type::kNumber, Type::kNumber, Type::kNumber},
};

// The result type and machine op of `l <op> r` for arithmetic and logic, or false. Times and
// durations are milliseconds, so the machine ops are those of numbers.
bool BinaryType(Tok op, Type l, Type r, Op* vm, Type* out) {
  for (const BinaryRule& rule : kBinaryRules) {
    if (rule.op != op || rule.left != l || rule.right != r) continue;
    *out = rule.result;
    switch (op) {
      case Tok::kAnd:
        *vm = Op::kAnd;
        return true;
      case Tok::kOr:
        *vm = Op::kOr;
        return true;
      case Tok::kPlus:
        *vm = Op::kAdd;
        return true;
      case Tok::kMinus:
        *vm = Op::kSub;
        return true;
      case Tok::kStar:
        *vm = Op::kMul;
        return true;
      case Tok::kSlash:
        *vm = Op::kDiv;
        return true;
      default:
        *vm = Op::kMod;
        return true;
    }
  }
  return false;
}

// The machine op of a comparison of two values of type t, or false.
bool CompareOp(Tok op, Type t, Op* vm) {
  const bool str = t == Type::kString;
  if (op == Tok::kEq || op == Tok::kNe) {
    if (!IsNumeric(t) && t != Type::kBool && !str) return false;
  } else if (!IsNumeric(t) && !str) {
    return false;
  }
  switch (op) {
    case Tok::kEq:
      *vm = str ? Op::kEqS : Op::kEqN;
      return true;
    case Tok::kNe:
      *vm = str ? Op::kNeS : Op::kNeN;
      return true;
    case Tok::kLt:
      *vm = str ? Op::kLtS : Op::kLtN;
      return true;
    case Tok::kLe:
      *vm = str ? Op::kLeS : Op::kLeN;
      return true;
    case Tok::kGt:
      *vm = str ? Op::kGtS : Op::kGtN;
      return true;
    case Tok::kGe:
      *vm = str ? Op::kGeS : Op::kGeN;
      return true;
    default:
      return false;
  }
}

// Appends instructions to `out`, tracking the stack depth they need.
struct Emitter {
  std::vector<Instr>* out;
  int depth = 0;
  int max_depth = 0;

  size_t Add(Instr in, int delta) {
    out->push_back(in);
    depth += delta;
    if (depth > max_depth) max_depth = depth;
    return out->size() - 1;
  }
  void Push(const Cell& k) {
    Instr in;
    in.op = Op::kPush;
    in.k = k;
    Add(in, +1);
  }
  void Load(int slot, Type t) {
    Instr in;
    in.op = Op::kLoad;
    in.a = slot;
    in.type = t;
    Add(in, +1);
  }
  void Simple(Op op, int delta) {
    Instr in;
    in.op = op;
    Add(in, delta);
  }
  void WithK(Op op, const Cell& k) {
    Instr in;
    in.op = op;
    in.use_k = true;
    in.k = k;
    Add(in, 0);
  }
  size_t Jump(Op op, int delta) {
    Instr in;
    in.op = op;
    in.a = -1;
    return Add(in, delta);
  }
  void Patch(size_t at) { (*out)[at].a = static_cast<int32_t>(out->size()); }
};

class Compiler {
 public:
  Compiler(const Environment& env, Expr::Impl* impl, Ast* ast, CompileError* error)
      : env_(env), impl_(*impl), ast_(*ast), error_(error) {}

  bool Check(int id) {
    Node& n = ast_.nodes[id];
    switch (n.kind) {
      case NodeKind::kLiteral:
        n.type = n.lit_type;
        n.is_const = true;
        n.k = n.lit;
        return true;
      case NodeKind::kName: {
        Symbol sym;
        if (!Resolve(n.name, n.offset, &sym)) return false;
        n.slot = sym.slot;
        n.type = sym.type;
        AddReference(std::string(n.name), sym.slot);
        return true;
      }
      case NodeKind::kCall:
        return CheckCall(n);
      case NodeKind::kFunc:
        return CheckFunc(n);
      case NodeKind::kUnary:
        return CheckUnary(n);
      case NodeKind::kChain:
        return CheckChain(n);
      case NodeKind::kCompare:
        return CheckCompare(n);
      case NodeKind::kIn:
        return CheckIn(n);
    }
    return Fail(n.offset, "internal error: unknown node");
  }

  void Emit(int id, Emitter& e) {
    Node& n = ast_.nodes[id];
    if (n.is_const) {
      e.Push(n.k);
      return;
    }
    switch (n.kind) {
      case NodeKind::kLiteral:  // always constant
        e.Push(n.lit);
        return;
      case NodeKind::kName:
      case NodeKind::kCall:
        e.Load(n.slot, n.type);
        return;
      case NodeKind::kUnary:
        Emit(n.kids[0], e);
        e.Simple(n.ops[0].tok == Tok::kMinus ? Op::kNeg : Op::kNot, 0);
        return;
      case NodeKind::kChain:
        EmitChain(n, e);
        return;
      case NodeKind::kCompare:
        if (n.null_tested >= 0) {
          Emit(n.kids[n.null_tested], e);
          e.Simple(n.step_ops[0], 0);
          return;
        }
        Emit(n.kids[0], e);
        EmitOperand(n.step_ops[0], n.kids[1], e);
        return;
      case NodeKind::kIn: {
        Emit(n.kids[0], e);
        if (n.list_begin < 0) {
          n.list_begin = static_cast<int>(impl_.list_items.size());
          impl_.list_items.insert(impl_.list_items.end(), n.items.begin(), n.items.end());
        }
        Instr in;
        in.op = n.list_type == Type::kStringList ? Op::kInS : Op::kInN;
        in.a = n.list_begin;
        in.b = static_cast<int32_t>(n.items.size());
        e.Add(in, 0);
        if (n.negated) e.Simple(Op::kNot, 0);
        return;
      }
      case NodeKind::kFunc:
        EmitFunc(n, e);
        return;
    }
  }

  bool Fail(size_t offset, std::string message) {
    error_->offset = offset;
    error_->message = std::move(message);
    return false;
  }

 private:
  Node& At(int id) { return ast_.nodes[id]; }

  bool Resolve(std::string_view name, size_t offset, Symbol* out) {
    const std::string key(name);
    auto it = symbols_.find(key);
    if (it == symbols_.end()) {
      Result<Symbol> r = env_.Resolve(name);
      if (!r.ok()) return Fail(offset, r.status().message());
      if (!IsUsableSymbolType(r->type)) {
        return Fail(offset, "'" + key + "' has type " + TypeName(r->type) +
                                ", which expressions cannot use");
      }
      it = symbols_.emplace(key, *r).first;
    }
    *out = it->second;
    return true;
  }

  void AddReference(std::string name, int slot) {
    for (const Reference& r : impl_.references) {
      if (r.slot == slot) return;
    }
    impl_.references.push_back(Reference{std::move(name), slot});
  }

  // Runs `code` (constants only) and returns the value.
  Cell RunConst(const std::vector<Instr>& code) {
    return Run(code.data(), code.size(), impl_.list_items.data(), nullptr);
  }

  // Folds a node whose operands are all constant.
  void Fold(Node& n, int id) {
    std::vector<Instr> code;
    Emitter e{&code};
    Emit(id, e);
    n.k = RunConst(code);
    n.is_const = true;
  }

  Cell Fold2(const Cell& a, Op op, const Cell& b) {
    std::vector<Instr> code;
    Emitter e{&code};
    e.Push(a);
    e.Push(b);
    e.Simple(op, -1);
    return RunConst(code);
  }

  int IdOf(const Node& n) { return static_cast<int>(&n - ast_.nodes.data()); }

  bool CheckKids(Node& n) {
    for (int kid : n.kids) {
      if (!Check(kid)) return false;
    }
    return true;
  }
  bool AllKidsConst(const Node& n) {
    for (int kid : n.kids) {
      if (!At(kid).is_const) return false;
    }
    return true;
  }

  bool CheckCall(Node& n) {
    if (!CheckKids(n)) return false;
    std::vector<ConstArg> args;
    std::string text(n.name);
    text += '(';
    for (size_t i = 0; i < n.kids.size(); ++i) {
      const Node& a = At(n.kids[i]);
      if (!a.is_const) {
        return Fail(a.offset, "the arguments of '" + std::string(n.name) +
                                  "' must be constants (literals or expressions of literals)");
      }
      ConstArg c;
      c.type = a.k.null ? Type::kNull : a.type;
      c.num = a.k.num;
      c.b = a.type == Type::kBool && a.k.num != 0;
      if (a.type == Type::kString && !a.k.null) c.str = std::string(a.k.str());
      if (i > 0) text += ", ";
      AppendValue(ToValue(a.k, a.type), &text);
      args.push_back(std::move(c));
    }
    text += ')';
    auto it = symbols_.find(text);
    if (it == symbols_.end()) {
      Result<Symbol> r = env_.ResolveCall(n.name, args);
      if (!r.ok()) return Fail(n.offset, r.status().message());
      if (!IsUsableSymbolType(r->type)) {
        return Fail(n.offset, "'" + text + "' has type " + TypeName(r->type) +
                                  ", which expressions cannot use");
      }
      it = symbols_.emplace(text, *r).first;
    }
    n.slot = it->second.slot;
    n.type = it->second.type;
    AddReference(std::move(text), n.slot);
    return true;
  }

  bool CheckUnary(Node& n) {
    if (!CheckKids(n)) return false;
    const Node& kid = At(n.kids[0]);
    if (n.ops[0].tok == Tok::kMinus) {
      if (kid.type != Type::kNumber && kid.type != Type::kDuration) {
        return Fail(n.ops[0].offset,
                    OpName(n.ops[0]) + " cannot be applied to " + TypeName(kid.type));
      }
    } else if (kid.type != Type::kBool) {
      return Fail(n.ops[0].offset,
                  OpName(n.ops[0]) + " cannot be applied to " + TypeName(kid.type));
    }
    n.type = kid.type;
    if (kid.is_const) Fold(n, IdOf(n));
    return true;
  }

  bool CheckChain(Node& n) {
    if (!CheckKids(n)) return false;
    Type t = At(n.kids[0]).type;
    for (size_t i = 0; i < n.ops.size(); ++i) {
      const Node& r = At(n.kids[i + 1]);
      Op op;
      Type out;
      if (!BinaryType(n.ops[i].tok, t, r.type, &op, &out)) {
        return Fail(n.ops[i].offset, OpName(n.ops[i]) + " cannot be applied to " + TypeName(t) +
                                         " and " + TypeName(r.type));
      }
      if ((op == Op::kDiv || op == Op::kMod) && r.is_const && !r.k.null && r.k.num == 0) {
        return Fail(n.ops[i].offset, "division by zero");
      }
      n.step_ops.push_back(op);
      t = out;
    }
    n.type = t;
    // Fold the longest constant prefix (left-associative, so only a prefix can be folded).
    const Node& first = At(n.kids[0]);
    if (!first.is_const) return true;
    Cell acc = first.k;
    size_t prefix = 1;
    while (prefix < n.kids.size() && At(n.kids[prefix]).is_const) {
      acc = Fold2(acc, n.step_ops[prefix - 1], At(n.kids[prefix]).k);
      ++prefix;
    }
    n.const_prefix = prefix;
    n.prefix_k = acc;
    if (prefix == n.kids.size()) {
      n.is_const = true;
      n.k = acc;
    }
    return true;
  }

  bool CheckCompare(Node& n) {
    if (!CheckKids(n)) return false;
    const Node& l = At(n.kids[0]);
    const Node& r = At(n.kids[1]);
    const OpToken& op = n.ops[0];
    n.type = Type::kBool;
    Op vm;
    if ((op.tok == Tok::kEq || op.tok == Tok::kNe) &&
        (l.type == Type::kNull || r.type == Type::kNull)) {
      n.null_tested = l.type == Type::kNull ? 1 : 0;
      if (l.type == Type::kNull && r.type == Type::kNull) n.null_tested = 0;
      vm = op.tok == Tok::kEq ? Op::kIsNull : Op::kIsNotNull;
    } else if (l.type != r.type || !CompareOp(op.tok, l.type, &vm)) {
      return Fail(op.offset,
                  OpName(op) + " cannot compare " + TypeName(l.type) + " with " + TypeName(r.type));
    }
    n.step_ops.push_back(vm);
    if (n.null_tested >= 0 ? At(n.kids[n.null_tested]).is_const : l.is_const && r.is_const) {
      Fold(n, IdOf(n));
    }
    return true;
  }

  bool CheckIn(Node& n) {
    if (!CheckKids(n)) return false;
    const Node& kid = At(n.kids[0]);
    const Type want = n.list_type == Type::kStringList ? Type::kString : Type::kNumber;
    if (kid.type != want) {
      return Fail(n.ops[0].offset, std::string("operator '") + (n.negated ? "not in" : "in") +
                                       "' cannot be applied to " + TypeName(kid.type) + " and " +
                                       TypeName(n.list_type));
    }
    n.type = Type::kBool;
    if (kid.is_const) Fold(n, IdOf(n));
    return true;
  }

  // The common type of the arguments from `first` on, ignoring null literals; kNull if all are.
  bool Unify(const Node& n, size_t first, Type* out) {
    Type t = Type::kNull;
    for (size_t i = first; i < n.kids.size(); ++i) {
      const Node& a = At(n.kids[i]);
      if (a.type == Type::kNull) continue;
      if (t == Type::kNull) {
        t = a.type;
      } else if (a.type != t) {
        return Fail(a.offset, std::string("the arguments of '") + BuiltinName(n.func) +
                                  "' must have one type, got " + TypeName(t) + " and " +
                                  TypeName(a.type));
      }
    }
    *out = t;
    return true;
  }

  bool Arity(const Node& n, size_t want, bool at_least) {
    const size_t got = n.kids.size();
    if (at_least ? got >= want : got == want) return true;
    std::string msg = std::string("function '") + BuiltinName(n.func) + "' takes " +
                      (at_least ? "at least " : "") + std::to_string(want) +
                      (want == 1 ? " argument" : " arguments") + ", got " + std::to_string(got);
    return Fail(n.offset, std::move(msg));
  }

  bool ArgType(const Node& n, size_t i, Type want) {
    const Node& a = At(n.kids[i]);
    if (a.type == want) return true;
    return Fail(a.offset, "argument " + std::to_string(i + 1) + " of '" + BuiltinName(n.func) +
                              "' must be a " + TypeName(want) + ", got " + TypeName(a.type));
  }

  bool CheckFunc(Node& n) {
    switch (n.func) {
      case Builtin::kMin:
      case Builtin::kMax:
      case Builtin::kCoalesce:
        if (!Arity(n, 2, true)) return false;
        break;
      case Builtin::kClamp:
      case Builtin::kIf:
        if (!Arity(n, 3, false)) return false;
        break;
      default:
        if (!Arity(n, 1, false)) return false;
        break;
    }
    if (!CheckKids(n)) return false;
    const std::string fname = BuiltinName(n.func);
    switch (n.func) {
      case Builtin::kMin:
      case Builtin::kMax:
        if (!Unify(n, 0, &n.type)) return false;
        if (!IsNumeric(n.type)) {
          return Fail(n.offset, "function '" + fname +
                                    "' needs number, time or duration arguments, got " +
                                    TypeName(n.type));
        }
        break;
      case Builtin::kCoalesce:
        if (!Unify(n, 0, &n.type)) return false;
        break;
      case Builtin::kAbs: {
        const Node& a = At(n.kids[0]);
        if (a.type != Type::kNumber && a.type != Type::kDuration) {
          return Fail(a.offset, "function 'abs' needs a number or duration argument, got " +
                                    std::string(TypeName(a.type)));
        }
        n.type = a.type;
        break;
      }
      case Builtin::kRound:
      case Builtin::kFloor:
      case Builtin::kCeil:
        if (!ArgType(n, 0, Type::kNumber)) return false;
        n.type = Type::kNumber;
        break;
      case Builtin::kClamp:
        for (size_t i = 0; i < 3; ++i) {
          if (!ArgType(n, i, Type::kNumber)) return false;
        }
        n.type = Type::kNumber;
        break;
      case Builtin::kIf:
        if (At(n.kids[0]).type != Type::kNull && !ArgType(n, 0, Type::kBool)) return false;
        if (!Unify(n, 1, &n.type)) return false;
        break;
      case Builtin::kDaysSince:
      case Builtin::kDaysUntil: {
        if (!ArgType(n, 0, Type::kTime)) return false;
        Symbol now;
        if (!Resolve("now", n.offset, &now)) return false;
        if (now.type != Type::kTime) {
          return Fail(n.offset, "'now' must be a time, got " + std::string(TypeName(now.type)));
        }
        n.slot = now.slot;
        AddReference("now", now.slot);
        n.type = Type::kNumber;
        return true;  // reads `now`: never constant
      }
    }
    if (AllKidsConst(n)) Fold(n, IdOf(n));
    return true;
  }

  // The right operand of a binary op: inline when constant.
  void EmitOperand(Op op, int kid, Emitter& e) {
    const Node& r = At(kid);
    if (r.is_const) {
      e.WithK(op, r.k);
    } else {
      Emit(kid, e);
      e.Simple(op, -1);
    }
  }

  void EmitChain(Node& n, Emitter& e) {
    size_t i = 1;
    if (n.const_prefix > 1) {
      e.Push(n.prefix_k);
      i = n.const_prefix;
    } else {
      Emit(n.kids[0], e);
    }
    const bool logic = n.step_ops[0] == Op::kAnd || n.step_ops[0] == Op::kOr;
    if (!logic) {
      for (; i < n.kids.size(); ++i) EmitOperand(n.step_ops[i - 1], n.kids[i], e);
      return;
    }
    // Short-circuit: on a deciding value (false for and, true for or) jump to the end with it.
    const Op jump = n.step_ops[0] == Op::kAnd ? Op::kAndJump : Op::kOrJump;
    std::vector<size_t> jumps;
    for (; i < n.kids.size(); ++i) {
      jumps.push_back(e.Jump(jump, 0));
      Emit(n.kids[i], e);
      e.Simple(n.step_ops[i - 1], -1);
    }
    for (size_t j : jumps) e.Patch(j);
  }

  void EmitFunc(Node& n, Emitter& e) {
    switch (n.func) {
      case Builtin::kMin:
      case Builtin::kMax: {
        const Op op = n.func == Builtin::kMin ? Op::kMin2 : Op::kMax2;
        Emit(n.kids[0], e);
        for (size_t i = 1; i < n.kids.size(); ++i) EmitOperand(op, n.kids[i], e);
        return;
      }
      case Builtin::kCoalesce: {
        std::vector<size_t> jumps;
        for (size_t i = 0; i + 1 < n.kids.size(); ++i) {
          Emit(n.kids[i], e);
          jumps.push_back(e.Jump(Op::kCoalesceJump, -1));  // falls through having popped
        }
        Emit(n.kids.back(), e);
        for (size_t j : jumps) e.Patch(j);
        return;
      }
      case Builtin::kAbs:
      case Builtin::kRound:
      case Builtin::kFloor:
      case Builtin::kCeil: {
        Emit(n.kids[0], e);
        const Op op = n.func == Builtin::kAbs     ? Op::kAbs
                      : n.func == Builtin::kRound ? Op::kRound
                      : n.func == Builtin::kFloor ? Op::kFloor
                                                  : Op::kCeil;
        e.Simple(op, 0);
        return;
      }
      case Builtin::kClamp:
        for (int kid : n.kids) Emit(kid, e);
        e.Simple(Op::kClamp, -2);
        return;
      case Builtin::kIf: {
        Emit(n.kids[0], e);
        const size_t to_else = e.Jump(Op::kJumpIfNotTrue, -1);
        Emit(n.kids[1], e);
        const size_t to_end = e.Jump(Op::kJump, -1);  // the else branch starts without it
        e.Patch(to_else);
        Emit(n.kids[2], e);
        e.Patch(to_end);
        return;
      }
      case Builtin::kDaysSince:
        Emit(n.kids[0], e);
        e.Load(n.slot, Type::kTime);
        e.Simple(Op::kDaysBetween, -1);
        return;
      case Builtin::kDaysUntil:
        e.Load(n.slot, Type::kTime);
        Emit(n.kids[0], e);
        e.Simple(Op::kDaysBetween, -1);
        return;
    }
  }

  const Environment& env_;
  Expr::Impl& impl_;
  Ast& ast_;
  CompileError* error_;
  std::unordered_map<std::string, Symbol> symbols_;  // by name, and calls by normalized text
};

const char* WantName(Type t) {
  switch (t) {
    case Type::kBool:
      return "a bool";
    case Type::kNumber:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kTime:
      return "a time";
    case Type::kDuration:
      return "a duration";
    default:
      return "a";
  }
}

}  // namespace

std::shared_ptr<const Expr> Expr::Compile(std::string_view source, const Environment& env,
                                          Type want, CompileError* error) {
  CompileError ignored;
  if (error == nullptr) error = &ignored;
  if (source.size() > kMaxSourceBytes) {
    error->offset = kMaxSourceBytes;
    error->message = "expression too long: " + std::to_string(source.size()) + " bytes, at most " +
                     std::to_string(kMaxSourceBytes);
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->source = std::string(source);
  Ast ast;
  if (!Parse(source, &impl->strings, &ast, error)) return nullptr;
  Compiler compiler(env, impl.get(), &ast, error);
  if (!compiler.Check(ast.root)) return nullptr;
  const Type got = ast.nodes[ast.root].type;
  if (want != Type::kNull && want != got) {
    compiler.Fail(0,
                  std::string("expected ") + WantName(want) + " expression, got " + TypeName(got));
    return nullptr;
  }
  Emitter e{&impl->code};
  compiler.Emit(ast.root, e);
  if (e.max_depth > kMaxStack) {
    compiler.Fail(0, "expression too complex: it needs " + std::to_string(e.max_depth) +
                         " evaluation stack slots, at most " + std::to_string(kMaxStack));
    return nullptr;
  }
  impl->type = got;
  impl->max_stack = e.max_depth;
  // Expr's constructor is private, so std::make_shared cannot reach it.
  return std::shared_ptr<const Expr>(new Expr(std::move(impl)));
}

}  // namespace kairos::expr
