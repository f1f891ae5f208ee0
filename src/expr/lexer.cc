#include "expr/lexer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace kairos::expr {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Milliseconds per duration unit, or 0 when `unit` is not one.
double UnitMs(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60e3;
  if (unit == "h") return 3600e3;
  if (unit == "d") return 86400e3;
  if (unit == "w") return 7 * 86400e3;
  return 0;
}

Tok Keyword(std::string_view word) {
  if (word == "and") return Tok::kAnd;
  if (word == "or") return Tok::kOr;
  if (word == "not") return Tok::kNot;
  if (word == "in") return Tok::kIn;
  if (word == "true") return Tok::kTrue;
  if (word == "false") return Tok::kFalse;
  if (word == "null") return Tok::kNull;
  return Tok::kName;
}

std::string Quoted(std::string_view text) {
  std::string out = "'";
  if (text.size() > 40) {
    out.append(text.substr(0, 37));
    out += "...";
  } else {
    out.append(text);
  }
  out += '\'';
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    while (true) {
      Token t = Next();
      const bool last = t.kind == Tok::kEnd || t.kind == Tok::kError;
      out.push_back(std::move(t));
      if (last) break;
    }
    return out;
  }

 private:
  Token Make(Tok kind, size_t begin, size_t end) {
    Token t;
    t.kind = kind;
    t.offset = begin;
    t.text = src_.substr(begin, end - begin);
    pos_ = end;
    return t;
  }

  Token Error(size_t offset, std::string message) {
    Token t;
    t.kind = Tok::kError;
    t.offset = offset;
    t.text = src_.substr(offset, offset < src_.size() ? 1 : 0);
    t.str = std::move(message);
    return t;
  }

  Token Next() {
    while (pos_ < src_.size() &&
           (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r')) {
      ++pos_;
    }
    const size_t p = pos_;
    if (p >= src_.size()) return Make(Tok::kEnd, p, p);
    const char c = src_[p];
    const char c1 = p + 1 < src_.size() ? src_[p + 1] : '\0';
    if (IsIdentStart(c)) return Name(p);
    if (IsDigit(c) || (c == '.' && IsDigit(c1))) return Number(p);
    if (c == '"' || c == '\'') return String(p);
    switch (c) {
      case '+':
        return Make(Tok::kPlus, p, p + 1);
      case '-':
        return Make(Tok::kMinus, p, p + 1);
      case '*':
        return Make(Tok::kStar, p, p + 1);
      case '/':
        return Make(Tok::kSlash, p, p + 1);
      case '%':
        return Make(Tok::kPercent, p, p + 1);
      case '(':
        return Make(Tok::kLParen, p, p + 1);
      case ')':
        return Make(Tok::kRParen, p, p + 1);
      case '[':
        return Make(Tok::kLBracket, p, p + 1);
      case ']':
        return Make(Tok::kRBracket, p, p + 1);
      case ',':
        return Make(Tok::kComma, p, p + 1);
      case '.':
        return Make(Tok::kDot, p, p + 1);
      case '<':
        return c1 == '=' ? Make(Tok::kLe, p, p + 2) : Make(Tok::kLt, p, p + 1);
      case '>':
        return c1 == '=' ? Make(Tok::kGe, p, p + 2) : Make(Tok::kGt, p, p + 1);
      case '!':
        return c1 == '=' ? Make(Tok::kNe, p, p + 2) : Make(Tok::kNot, p, p + 1);
      case '=':
        if (c1 == '=') return Make(Tok::kEq, p, p + 2);
        return Error(p, "unexpected '='; use '==' to compare");
      case '&':
        if (c1 == '&') return Make(Tok::kAnd, p, p + 2);
        return Error(p, "unexpected '&'; use 'and' or '&&'");
      case '|':
        if (c1 == '|') return Make(Tok::kOr, p, p + 2);
        return Error(p, "unexpected '|'; use 'or' or '||'");
      default:
        break;
    }
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f) return Error(p, std::string("unexpected character '") + c + "'");
    char buf[48];
    std::snprintf(buf, sizeof buf, "unexpected byte 0x%02x", u);
    return Error(p, buf);
  }

  Token Name(size_t p) {
    size_t e = p;
    while (e < src_.size() && IsIdentChar(src_[e])) ++e;
    bool dotted = false;
    while (e + 1 < src_.size() && src_[e] == '.' && IsIdentStart(src_[e + 1])) {
      dotted = true;
      e += 1;
      while (e < src_.size() && IsIdentChar(src_[e])) ++e;
    }
    const std::string_view word = src_.substr(p, e - p);
    return Make(dotted ? Tok::kName : Keyword(word), p, e);
  }

  Token Number(size_t p) {
    size_t e = p;
    while (e < src_.size() && IsDigit(src_[e])) ++e;
    if (e + 1 < src_.size() && src_[e] == '.' && IsDigit(src_[e + 1])) {
      ++e;
      while (e < src_.size() && IsDigit(src_[e])) ++e;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && IsDigit(src_[x])) {
        while (x < src_.size() && IsDigit(src_[x])) ++x;
        e = x;
      }
    }
    const size_t number_end = e;
    double value = 0;
    const auto [ptr, ec] = std::from_chars(src_.data() + p, src_.data() + number_end, value);
    size_t unit_end = number_end;
    while (unit_end < src_.size() && IsIdentChar(src_[unit_end])) ++unit_end;
    const std::string_view literal = src_.substr(p, unit_end - p);
    if (ec == std::errc::result_out_of_range || !std::isfinite(value)) {
      return Error(p, "number out of range: " + Quoted(literal));
    }
    if (ec != std::errc() || ptr != src_.data() + number_end) {
      return Error(p, "invalid number " + Quoted(literal));
    }
    if (unit_end == number_end) {
      Token t = Make(Tok::kNumber, p, number_end);
      t.num = value;
      return t;
    }
    const double unit = UnitMs(src_.substr(number_end, unit_end - number_end));
    if (unit == 0) {
      return Error(p, "invalid number " + Quoted(literal) +
                          " (a duration unit must be one of ms, s, m, h, d, w)");
    }
    if (!std::isfinite(value * unit)) return Error(p, "duration out of range: " + Quoted(literal));
    Token t = Make(Tok::kDuration, p, unit_end);
    t.num = value * unit;
    return t;
  }

  Token String(size_t p) {
    const char quote = src_[p];
    std::string value;
    size_t i = p + 1;
    while (true) {
      if (i >= src_.size()) return Error(p, "unterminated string");
      const char c = src_[i];
      if (c == quote) break;
      if (c == '\\') {
        if (i + 1 >= src_.size()) return Error(p, "unterminated string");
        const char x = src_[i + 1];
        switch (x) {
          case '\\':
            value += '\\';
            break;
          case '"':
            value += '"';
            break;
          case '\'':
            value += '\'';
            break;
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          default: {
            const unsigned char u = static_cast<unsigned char>(x);
            if (u >= 0x21 && u < 0x7f) {
              return Error(
                  i, std::string("invalid escape '\\") + x + "' (known: \\\\ \\\" \\' \\n \\t)");
            }
            return Error(i, "invalid escape (known: \\\\ \\\" \\' \\n \\t)");
          }
        }
        i += 2;
        continue;
      }
      value += c;
      ++i;
    }
    Token t = Make(Tok::kString, p, i + 1);
    t.str = std::move(value);
    return t;
  }

  std::string_view src_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Token> Lex(std::string_view source) { return Lexer(source).Run(); }

std::string Describe(const Token& t) {
  if (t.kind == Tok::kEnd) return "end of expression";
  return Quoted(t.text);
}

}  // namespace kairos::expr
