// Webhook signatures: X-Kairos-Signature = "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
//
// The timestamp is inside the MAC so that a captured request cannot be replayed later with a
// fresh X-Kairos-Timestamp; receivers recompute the MAC and compare in constant time.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"

namespace kairos::channel {

// Lower-case hex of HMAC-SHA256(key, data). Empty on an OpenSSL failure; the webhook then
// fails the attempt (retryable) rather than send the request unsigned.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// "sha256=<hex>" for the X-Kairos-Signature header; empty on an OpenSSL failure.
std::string WebhookSignature(std::string_view secret, TimestampMs timestamp_ms,
                             std::string_view body);

}  // namespace kairos::channel
