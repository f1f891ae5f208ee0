#include "server/input_limits.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/json_limits.h"
#include "server/http_json.h"

namespace kairos {

std::optional<HttpResponse> CheckJsonBodyLimits(const HttpRequest& req, const ServerOptions& options,
                                                const HttpMetrics& metrics) {
  if (req.body.empty()) return std::nullopt;
  const std::string media = MediaType(req.content_type);
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
