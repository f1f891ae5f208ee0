// PaymentWebhook: verifies and applies a payment provider's outcome event
// (POST /v1/payments/webhook; format in local_payment_provider.h and docs/offers.md).
//
// Checks, in order; the first that fails refuses the event and nothing changes:
//   1. X-Kairos-Payment-Signature is "sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>"
//      (compared in constant time)                                → kBadSignature
//   2. X-Kairos-Payment-Timestamp (ms) within ±tolerance of the Clock → kStaleTimestamp
//   3. the body is a JSON object with string event_id, payment_id, order_id, status
//      ("succeeded" | "failed"), optional string reason, integer created → kMalformed (field =
//      JSON pointer)
//   4. the event id was not applied before (durable, in the order store) → kReplay
//   5. the order exists                                            → kUnknownOrder
//   6. the order may move to paid / failed (it is still created, and the event's payment_id
//      is the order's payment, when it has one)                    → kIllegalTransition
// A malformed timestamp header is kStaleTimestamp's sibling kMalformed (field: the header).
//
// Thread-safety: Handle may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "offer/order.h"
#include "offer/order_store.h"

namespace kairos::offer {

enum class WebhookError {
  kNone = 0,
  kMalformed,          // bad JSON, a missing / mistyped field, a bad header: 400
  kBadSignature,       // missing or wrong signature: 401
  kStaleTimestamp,     // timestamp outside the tolerance: 401 (a replayed capture)
  kReplay,             // event id already applied: 409
  kUnknownOrder,       // 404
  kIllegalTransition,  // the order is already paid / failed / expired: 409
  kInternal,           // the store failed: 500 (the provider retries)
};

// Stable names for JSON error codes and metrics: "malformed", "bad_signature",
// "stale_timestamp", "replay", "unknown_order", "illegal_transition", "internal".
std::string_view WebhookErrorName(WebhookError e);

struct WebhookResult {
  WebhookError error = WebhookError::kNone;
  Status status;  // ok, or what was wrong (field set for kMalformed)
  Order order;    // kNone: the order in its new state
  bool ok() const { return error == WebhookError::kNone; }
};

// The parsed body of a payment event.
struct PaymentEvent {
  std::string event_id, payment_id, order_id, status, reason;
  TimestampMs created = 0;
};
// kInvalidArgument naming the JSON pointer of the first problem. Never crashes on any input.
Result<PaymentEvent> ParsePaymentEvent(std::string_view body);

class PaymentWebhook {
 public:
  static constexpr int64_t kDefaultToleranceMs = 5 * 60 * 1000;
  static constexpr size_t kMaxBodyBytes = 64 * 1024;

  // `store` and `clock` must outlive the webhook.
  PaymentWebhook(OrderStore* store, const Clock* clock, std::string secret,
                 int64_t tolerance_ms = kDefaultToleranceMs)
      : store_(store), clock_(clock), secret_(std::move(secret)), tolerance_ms_(tolerance_ms) {}

  // `timestamp` and `signature` are the header values (empty when absent).
  WebhookResult Handle(std::string_view timestamp, std::string_view signature,
                       std::string_view body) const;

 private:
  OrderStore* const store_;
  const Clock* const clock_;
  const std::string secret_;
  const int64_t tolerance_ms_;
};

}  // namespace kairos::offer
