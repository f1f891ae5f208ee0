// JSON input limits: nesting depth and string length, checked by one fast pass over the text
// before any parser sees it. Parsers that recurse (RapidJSON's reader and DOM) or keep a value
// per level must never meet an unbounded depth, and one huge string should not have to be
// copied to be refused.
//
// The pass only tracks brackets and strings: it does not validate the JSON (the real parser
// does that after it), and any input, valid or not, is scanned in linear time with memory
// bounded by the depth limit.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace kairos {

struct JsonLimits {
  int max_depth = 32;                  // arrays and objects nested deeper → error
  int64_t max_string_bytes = 64 << 10; // any string, key or value, longer (as sent) → error
};

// Which limit a JsonLimitError is about.
enum class JsonLimit : uint8_t { kNone, kDepth, kStringBytes };

// Checks `text`: one JSON value, or several separated by whitespace (an NDJSON body; `lines`
// then makes messages name the 1-based line). On a breach: kInvalidArgument whose field() is
// the JSON pointer of the array or object that is one level too deep, or of the string that is
// too long (for a key: the pointer the key would add), and whose message names that pointer,
// the limit and `depth_setting` / `string_setting` (the configuration key that sets it).
// `*which` (when given) tells which limit, kNone when both hold.
Status CheckJsonLimits(std::string_view text, const JsonLimits& limits, bool lines = false,
                       JsonLimit* which = nullptr,
                       std::string_view depth_setting = "server.max_json_depth",
                       std::string_view string_setting = "server.max_string_bytes");

}  // namespace kairos
