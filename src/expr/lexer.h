// Internal to src/expr: splits an expression into tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kairos::expr {

enum class Tok : uint8_t {
  kEnd,
  kError,  // a lexical error; the message is in Token::str
  kNumber,
  kDuration,  // num is milliseconds
  kString,    // str is the decoded text
  kName,      // identifier or dotted name (`profile.plan_type`)
  kAnd,       // and, &&
  kOr,        // or, ||
  kNot,       // not, !
  kIn,
  kTrue,
  kFalse,
  kNull,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,  // a '.' that is not part of a name or a number (always a syntax error)
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;      // byte offset of the first character
  std::string_view text;  // as written
  double num = 0;         // kNumber, kDuration
  std::string str;        // kString: decoded text; kError: the message
};

// Lexes all of `source`. The last token is kEnd (at source.size()) or kError at the first
// lexical error; every other token precedes it.
std::vector<Token> Lex(std::string_view source);

// "'x'" for messages: the token as written (shortened), or "end of expression".
std::string Describe(const Token& t);

}  // namespace kairos::expr
