// The OpenAPI 3.0 document served at /v1/openapi.json, generated from the route table so that a
// route cannot be served without being described (the compiler refuses a RouteId without an
// operation, and a test checks every Routes() entry against the document).
#pragma once

#include <string>

namespace kairos {

// The whole document as JSON. `max_body_bytes` and `max_batch_events` are quoted in the
// descriptions so that clients see the limits this server enforces.
std::string OpenApiJson(int64_t max_body_bytes, int64_t max_batch_events);

}  // namespace kairos
