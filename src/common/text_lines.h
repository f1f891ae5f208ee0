// Line-by-line reading of a text file already in memory, for parsers that report file:line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kairos {

// "source:line", the prefix of every row error.
inline std::string SourceLine(std::string_view source, int64_t line) {
  return std::string(source) + ":" + std::to_string(line);
}

// Splits `text` into lines (without "\n" or a trailing "\r"), calling fn(line, line_no, last)
// where line numbers start at 1 and `last` says the line had no terminating newline (a possibly
// truncated file). Stops at the first non-ok Status fn returns and returns it.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn&& fn) {
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool unterminated = end == std::string_view::npos;
    if (unterminated) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    KAIROS_RETURN_IF_ERROR(fn(line, line_no, unterminated));
    pos = end + 1;
  }
  return Status::Ok();
}

}  // namespace kairos
