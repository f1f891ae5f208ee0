// The JSON shapes of the HTTP edge and the one mapping from ErrorCode to HTTP status.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace kairos {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// invalid_argument 400, not_found 404, already_exists 409, out_of_range 400,
// too_large 413, failed_precondition 409, unavailable 503, corruption/io_error/internal 500.
unsigned HttpStatusFor(ErrorCode code);

// Returns `text` if it is valid UTF-8, else a copy with each invalid byte replaced by U+FFFD.
// Messages can quote client bytes (a subscriber id, a JSON fragment); JSON output must stay
// valid whatever the client sent, and RapidJSON's Writer copies bytes through unchecked.
std::string ValidUtf8(std::string_view text);

// Writes a string member value, made valid UTF-8 first.
void WriteString(JsonWriter* w, std::string_view text);

// Writes the member "error": {"code": ..., "message": ..., "field": ...} into an open object;
// "field" only when non-empty.
void WriteErrorMember(JsonWriter* w, ErrorCode code, std::string_view message,
                      std::string_view field = {});

// {"error":{...}} as a whole body.
std::string ErrorJson(ErrorCode code, std::string_view message, std::string_view field = {});
inline std::string ErrorJson(const Status& s) {
  return ErrorJson(s.code(), s.message(), s.field());
}

// The media type of a Content-Type header, lower-cased, without parameters ("; charset=...").
std::string MediaType(std::string_view content_type);

}  // namespace kairos
