// Input limits of the HTTP edge that need the request body: JSON nesting depth and string
// length (server.max_json_depth, server.max_string_bytes), checked in one pass before any
// parser reads the body. The limits on the wire (body and header size, request deadline,
// connections) are in server.cc; the batch size in api.cc.
#pragma once

#include <optional>

#include "server/api.h"
#include "server/metrics.h"
#include "server/server.h"

namespace kairos {

// For a request with a JSON or NDJSON body (by Content-Type; an empty one counts as JSON):
// the 400 answer when the body breaks a limit, counted in `metrics` by limit; nullopt when the
// body keeps to the limits or is not JSON. The error names the JSON pointer (as "field") and,
// for NDJSON, the line.
std::optional<HttpResponse> CheckJsonBodyLimits(const HttpRequest& req, const ServerOptions& options,
                                                const HttpMetrics& metrics);

}  // namespace kairos
