#include "expr/parser.h"

#include <utility>

namespace kairos::expr {

namespace {

struct BuiltinEntry {
  const char* name;
  Builtin id;
};

// Sorted by name, as BuiltinNames() lists them.
constexpr BuiltinEntry kBuiltins[] = {
    {"abs", Builtin::kAbs},
    {"ceil", Builtin::kCeil},
    {"clamp", Builtin::kClamp},
    {"coalesce", Builtin::kCoalesce},
    {"days_since", Builtin::kDaysSince},
    {"days_until", Builtin::kDaysUntil},
    {"floor", Builtin::kFloor},
    {"if", Builtin::kIf},
    {"max", Builtin::kMax},
    {"min", Builtin::kMin},
    {"round", Builtin::kRound},
};

bool IsComparison(Tok t) {
  return t == Tok::kEq || t == Tok::kNe || t == Tok::kLt || t == Tok::kLe || t == Tok::kGt ||
         t == Tok::kGe;
}

class Parser {
 public:
  Parser(std::string_view source, std::deque<std::string>* strings, Ast* ast, CompileError* error)
      : strings_(strings), ast_(ast), error_(error), tokens_(Lex(source)) {}

  bool Run() {
    if (Cur().kind == Tok::kEnd) return Fail(Cur().offset, "empty expression");
    const int root = ParseOr();
    if (root < 0) return false;
    if (Cur().kind == Tok::kError) return LexError();
    if (Cur().kind != Tok::kEnd) {
      return Fail(Cur().offset,
                  "unexpected " + Describe(Cur()) + " after the end of the expression");
    }
    ast_->root = root;
    return true;
  }

 private:
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Peek() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  void Advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }

  bool Fail(size_t offset, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_->offset = offset;
      error_->message = std::move(message);
    }
    return false;
  }
  bool LexError() { return Fail(Cur().offset, Cur().str); }
  // An error about the current token when something else was expected.
  int Unexpected(std::string_view expected) {
    if (Cur().kind == Tok::kError) {
      LexError();
    } else if (Cur().kind == Tok::kEnd) {
      Fail(Cur().offset, "unexpected end of expression; expected " + std::string(expected));
    } else {
      Fail(Cur().offset, "expected " + std::string(expected) + ", found " + Describe(Cur()));
    }
    return -1;
  }

  bool Enter(size_t offset) {
    if (++depth_ > kMaxNesting) return Fail(offset, "expression nested too deeply");
    return true;
  }
  void Leave() { --depth_; }

  int Add(Node n) {
    ast_->nodes.push_back(std::move(n));
    return static_cast<int>(ast_->nodes.size() - 1);
  }
  OpToken TakeOp() {
    OpToken op{Cur().kind, Cur().offset, Cur().text};
    Advance();
    return op;
  }

  // A left-associative run of operators accepted by `match`, operands parsed by `next`.
  template <typename Match, typename Next>
  int ParseChain(Match match, Next next) {
    const int first = next();
    if (first < 0) return -1;
    if (!match(Cur().kind)) return first;
    Node n;
    n.kind = NodeKind::kChain;
    n.offset = ast_->nodes[first].offset;
    n.kids.push_back(first);
    while (match(Cur().kind)) {
      n.ops.push_back(TakeOp());
      const int kid = next();
      if (kid < 0) return -1;
      n.kids.push_back(kid);
    }
    return Add(std::move(n));
  }

  int ParseOr() {
    return ParseChain([](Tok t) { return t == Tok::kOr; }, [this] { return ParseAnd(); });
  }
  int ParseAnd() {
    return ParseChain([](Tok t) { return t == Tok::kAnd; }, [this] { return ParseNot(); });
  }

  int ParseNot() {
    if (Cur().kind != Tok::kNot) return ParseCmp();
    if (!Enter(Cur().offset)) return -1;
    Node n;
    n.kind = NodeKind::kUnary;
    n.offset = Cur().offset;
    n.ops.push_back(TakeOp());
    const int kid = ParseNot();
    if (kid < 0) return -1;
    Leave();
    n.kids.push_back(kid);
    return Add(std::move(n));
  }

  bool AtIn() const {
    return Cur().kind == Tok::kIn || (Cur().kind == Tok::kNot && Peek().kind == Tok::kIn);
  }

  int ParseCmp() {
    const int left = ParseAdd();
    if (left < 0) return -1;
    int result = left;
    if (IsComparison(Cur().kind)) {
      Node n;
      n.kind = NodeKind::kCompare;
      n.offset = ast_->nodes[left].offset;
      n.ops.push_back(TakeOp());
      const int right = ParseAdd();
      if (right < 0) return -1;
      n.kids = {left, right};
      result = Add(std::move(n));
    } else if (AtIn()) {
      Node n;
      n.kind = NodeKind::kIn;
      n.offset = ast_->nodes[left].offset;
      if (Cur().kind == Tok::kNot) {
        n.negated = true;
        Advance();
      }
      n.ops.push_back(TakeOp());
      n.kids.push_back(left);
      if (!ParseList(&n)) return -1;
      result = Add(std::move(n));
    } else {
      return left;
    }
    if (IsComparison(Cur().kind) || AtIn()) {
      Fail(Cur().offset,
           "comparisons cannot be chained; combine them with 'and' (a < b and b < c)");
      return -1;
    }
    return result;
  }

  bool ParseList(Node* n) {
    if (Cur().kind != Tok::kLBracket) return Unexpected("'[' to start a list") >= 0;
    const size_t open = Cur().offset;
    Advance();
    if (Cur().kind == Tok::kRBracket) return Fail(open, "empty list");
    while (true) {
      const size_t at = Cur().offset;
      bool negative = false;
      if (Cur().kind == Tok::kMinus && Peek().kind == Tok::kNumber) {
        negative = true;
        Advance();
      }
      Type t;
      Cell c;
      if (Cur().kind == Tok::kNumber) {
        t = Type::kNumber;
        c = NumCell(negative ? -Cur().num : Cur().num);
      } else if (Cur().kind == Tok::kString) {
        t = Type::kString;
        strings_->push_back(Cur().str);
        c = StrCell(strings_->back());
      } else {
        return Unexpected("a string or number literal in the list") >= 0;
      }
      if (n->items.empty()) {
        n->list_type = t == Type::kNumber ? Type::kNumberList : Type::kStringList;
      } else if ((n->list_type == Type::kNumberList) != (t == Type::kNumber)) {
        return Fail(at, "a list must hold only strings or only numbers");
      }
      n->items.push_back(c);
      Advance();
      if (Cur().kind == Tok::kComma) {
        Advance();
        continue;
      }
      if (Cur().kind == Tok::kRBracket) {
        Advance();
        return true;
      }
      return Unexpected("',' or ']' in the list") >= 0;
    }
  }

  int ParseAdd() {
    return ParseChain([](Tok t) { return t == Tok::kPlus || t == Tok::kMinus; },
                      [this] { return ParseMul(); });
  }
  int ParseMul() {
    return ParseChain(
        [](Tok t) { return t == Tok::kStar || t == Tok::kSlash || t == Tok::kPercent; },
        [this] { return ParseUnary(); });
  }

  int ParseUnary() {
    if (Cur().kind != Tok::kMinus) return ParsePrimary();
    if (!Enter(Cur().offset)) return -1;
    Node n;
    n.kind = NodeKind::kUnary;
    n.offset = Cur().offset;
    n.ops.push_back(TakeOp());
    const int kid = ParseUnary();
    if (kid < 0) return -1;
    Leave();
    n.kids.push_back(kid);
    return Add(std::move(n));
  }

  int Literal(Type type, Cell value) {
    Node n;
    n.kind = NodeKind::kLiteral;
    n.offset = Cur().offset;
    n.lit_type = type;
    n.lit = value;
    Advance();
    return Add(std::move(n));
  }

  int ParsePrimary() {
    const Token& t = Cur();
    switch (t.kind) {
      case Tok::kNumber:
        return Literal(Type::kNumber, NumCell(t.num));
      case Tok::kDuration:
        return Literal(Type::kDuration, NumCell(t.num));
      case Tok::kTrue:
        return Literal(Type::kBool, BoolCell(true));
      case Tok::kFalse:
        return Literal(Type::kBool, BoolCell(false));
      case Tok::kNull:
        return Literal(Type::kNull, NullCell());
      case Tok::kString:
        strings_->push_back(t.str);
        return Literal(Type::kString, StrCell(strings_->back()));
      case Tok::kName:
        return ParseName();
      case Tok::kLParen: {
        if (!Enter(t.offset)) return -1;
        Advance();
        const int inner = ParseOr();
        if (inner < 0) return -1;
        if (Cur().kind != Tok::kRParen) return Unexpected("')'");
        Advance();
        Leave();
        return inner;
      }
      default:
        return Unexpected("an operand");
    }
  }

  int ParseName() {
    Node n;
    n.offset = Cur().offset;
    n.name = Cur().text;
    Advance();
    if (Cur().kind != Tok::kLParen) {
      n.kind = NodeKind::kName;
      return Add(std::move(n));
    }
    const bool dotted = n.name.find('.') != std::string_view::npos;
    if (dotted) {
      n.kind = NodeKind::kCall;
    } else if (LookupBuiltin(n.name, &n.func)) {
      n.kind = NodeKind::kFunc;
    } else {
      Fail(n.offset, "unknown function '" + std::string(n.name) + "'; known: " + BuiltinNames());
      return -1;
    }
    if (!Enter(Cur().offset)) return -1;
    Advance();  // (
    if (Cur().kind == Tok::kRParen) {
      Advance();
    } else {
      while (true) {
        const int arg = ParseOr();
        if (arg < 0) return -1;
        n.kids.push_back(arg);
        if (Cur().kind == Tok::kComma) {
          Advance();
          continue;
        }
        if (Cur().kind == Tok::kRParen) {
          Advance();
          break;
        }
        return Unexpected("',' or ')' after an argument of '" + std::string(n.name) + "'");
      }
    }
    Leave();
    return Add(std::move(n));
  }

  std::deque<std::string>* strings_;
  Ast* ast_;
  CompileError* error_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool failed_ = false;
};

}  // namespace

bool LookupBuiltin(std::string_view name, Builtin* out) {
  for (const BuiltinEntry& e : kBuiltins) {
    if (name == e.name) {
      *out = e.id;
      return true;
    }
  }
  return false;
}

const char* BuiltinNames() {
  return "abs, ceil, clamp, coalesce, days_since, days_until, floor, if, max, min, round";
}

bool Parse(std::string_view source, std::deque<std::string>* strings, Ast* ast,
           CompileError* error) {
  return Parser(source, strings, ast, error).Run();
}

}  // namespace kairos::expr
