#include "server/input_limits.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/json_limits.h"

namespace kairos {

namespace {

// The media type of a Content-Type header, lower-cased, without parameters.
std::string MediaTypeOf(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<HttpResponse> CheckJsonBodyLimits(const HttpRequest& req, const ServerOptions& options,
                                                const HttpMetrics& metrics) {
  if (req.body.empty()) return std::nullopt;
  const std::string media = MediaTypeOf(req.content_type);
  const bool ndjson = media == "application/x-ndjson" || media == "application/ndjson";
  if (!ndjson && !media.empty() && media != "application/json") return std::nullopt;
  JsonLimits limits;
  limits.max_depth = static_cast<int>(std::clamp<int64_t>(options.max_json_depth, 1, 1 << 20));
  limits.max_string_bytes = options.max_string_bytes;
  JsonLimit which = JsonLimit::kNone;
  const Status s = CheckJsonLimits(req.body, limits, ndjson, &which);
  if (s.ok()) return std::nullopt;
  metrics.CountLimit(which == JsonLimit::kDepth ? InputLimit::kJsonDepth : InputLimit::kStringBytes);
  return ErrorResponse(400, s.code(), s.message(), s.field());
}

}  // namespace kairos
