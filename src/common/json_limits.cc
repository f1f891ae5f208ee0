#include "common/json_limits.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace kairos {

namespace {

// A pointer segment for a key as sent (escapes left as written), per RFC 6901 ('~' → "~0",
// '/' → "~1"), cut at 64 bytes so that messages stay short.
void AppendKey(std::string* out, std::string_view raw_key) {
  out->push_back('/');
  for (char c : raw_key.substr(0, 64)) {
    if (c == '~') {
      out->append("~0");
    } else if (c == '/') {
      out->append("~1");
    } else {
      out->push_back(c);
    }
  }
  if (raw_key.size() > 64) out->append("...");
}

struct Level {
  bool object = false;
  int64_t index = 0;         // arrays: the element being read
  std::string_view key;      // objects: the member being read
  bool expect_key = false;   // objects: the next string is a key
};

// Scans one JSON text; `line` > 0 prefixes messages with it.
Status Scan(std::string_view text, const JsonLimits& limits, int64_t line, JsonLimit* which,
            std::string_view depth_setting, std::string_view string_setting) {
  const int max_depth = std::max(limits.max_depth, 1);
  const int64_t max_string = std::max<int64_t>(limits.max_string_bytes, 1);
  std::vector<Level> stack;  // never deeper than max_depth

  auto pointer = [&](bool with_current, std::string_view extra_key = {}, bool has_extra = false) {
    std::string p;
    for (size_t i = 0; i < stack.size(); ++i) {
      const Level& l = stack[i];
      const bool last = i + 1 == stack.size();
      if (last && !with_current) break;
      if (l.object) {
        AppendKey(&p, l.key);
      } else {
        p += '/';
        p += std::to_string(l.index);
      }
    }
    if (has_extra) AppendKey(&p, extra_key);
    return p;
  };
  auto fail = [&](JsonLimit limit, const std::string& ptr, std::string message) {
    if (which != nullptr) *which = limit;
    std::string where = ptr.empty() ? std::string("the document") : ptr;
    std::string prefix = line > 0 ? "line " + std::to_string(line) + ": " : std::string();
    return InvalidArgument(prefix + where + ": " + message, ptr);
  };

  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char c = *p;
    switch (c) {
      case '[':
      case '{': {
        if (static_cast<int>(stack.size()) >= max_depth) {
          return fail(JsonLimit::kDepth, pointer(true),
                      "nested deeper than " + std::to_string(max_depth) + " levels (" +
                          std::string(depth_setting) + ")");
        }
        Level l;
        l.object = c == '{';
        l.expect_key = l.object;
        stack.push_back(l);
        ++p;
        break;
      }
      case ']':
      case '}':
        if (!stack.empty()) stack.pop_back();
        ++p;
        break;
      case ',':
        if (!stack.empty()) {
          Level& l = stack.back();
          if (l.object) {
            l.expect_key = true;
          } else {
            ++l.index;
          }
        }
        ++p;
        break;
      case '"': {
        // Find the closing quote: the first '"' not preceded by an odd run of backslashes.
        const char* s = p + 1;
        const char* q = s;
        for (;;) {
          q = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end - q)));
          if (q == nullptr) {
            q = end;
            break;
          }
          const char* b = q;
          while (b > s && b[-1] == '\\') --b;
          if ((q - b) % 2 == 0) break;
          ++q;
        }
        const std::string_view str(s, static_cast<size_t>(q - s));
        const bool is_key = !stack.empty() && stack.back().object && stack.back().expect_key;
        if (static_cast<int64_t>(str.size()) > max_string) {
          const std::string ptr = is_key ? pointer(false, str, true) : pointer(true);
          return fail(JsonLimit::kStringBytes, ptr,
                      std::string(is_key ? "key" : "string") + " of " +
                          std::to_string(str.size()) + " bytes exceeds the limit of " +
                          std::to_string(max_string) + " bytes (" + std::string(string_setting) +
                          ")");
        }
        if (is_key) {
          stack.back().key = str;
          stack.back().expect_key = false;
        }
        p = q == end ? end : q + 1;
        break;
      }
      default:
        ++p;
        break;
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckJsonLimits(std::string_view text, const JsonLimits& limits, bool lines,
                       JsonLimit* which, std::string_view depth_setting,
                       std::string_view string_setting) {
  if (which != nullptr) *which = JsonLimit::kNone;
  if (!lines) return Scan(text, limits, 0, which, depth_setting, string_setting);
  // NDJSON: each line on its own, as the engine splits them.
  int64_t line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    Status s = Scan(text.substr(pos, nl - pos), limits, line, which, depth_setting, string_setting);
    if (!s.ok()) return s;
    pos = nl + 1;
    ++line;
  }
  return Status::Ok();
}

}  // namespace kairos
