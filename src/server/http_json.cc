#include "server/http_json.h"

#include <cctype>

namespace kairos {

unsigned HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    // A value outside an allowed range (e.g. a timestamp too far ahead) is bad input like any
    // other; 400 keeps client handling to one "fix your request" status.
    case ErrorCode::kOutOfRange:
      return 400;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kCorruption:
      return 500;
    case ErrorCode::kIoError:
      return 500;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kTimeout:
      return 408;
  }
  return 500;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid (overlongs,
// surrogates and code points above U+10FFFF count as invalid, as RFC 3629 says).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  while (i < text.size()) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

void WriteString(JsonWriter* w, std::string_view text) {
  std::string valid = ValidUtf8(text);
  w->String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

void WriteErrorMember(JsonWriter* w, ErrorCode code, std::string_view message,
                      std::string_view field) {
  w->Key("error");
  w->StartObject();
  w->Key("code");
  WriteString(w, ErrorCodeName(code));
  w->Key("message");
  WriteString(w, message);
  if (!field.empty()) {
    w->Key("field");
    WriteString(w, field);
  }
  w->EndObject();
}

std::string ErrorJson(ErrorCode code, std::string_view message, std::string_view field) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  WriteErrorMember(&w, code, message, field);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace kairos
