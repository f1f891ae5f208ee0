// Orders: what accepting an offer link creates, and the claims of the link it came from.
//
// An order moves created → paid | failed | expired and nowhere else; the three outcomes are
// terminal. Every change is appended to the order's history. Amounts are integer minor units
// (cents) so that accounting never sees a rounding error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace kairos::offer {

// What the server hands to the order flow after it has verified an offer token (signature, key,
// expiry): the acceptance code never sees the token's bytes or keys.
struct OfferClaims {
  std::string nonce;          // the token's nonce (bytes or hex): one order per nonce
  std::string subscriber_id;
  std::string action_id;
  std::string treatment;      // "<action id>/<channel>"; empty: the action's web treatment
  TimestampMs expires_at = 0;
};

enum class OrderState : uint8_t { kCreated = 0, kPaid = 1, kFailed = 2, kExpired = 3 };

// "created", "paid", "failed", "expired".
std::string_view OrderStateName(OrderState s);
// Whether `from` → `to` is allowed: only created → paid | failed | expired.
bool IsLegalTransition(OrderState from, OrderState to);
inline bool IsTerminal(OrderState s) { return s != OrderState::kCreated; }

struct OrderStateChange {
  OrderState state = OrderState::kCreated;
  TimestampMs at = 0;
  std::string note;  // why: "accepted", the provider's event id and reason, "payment timeout"
};

struct Order {
  std::string id;             // "ord_" + 16 lower-case hex
  std::string nonce;          // the offer token's nonce (unique across orders)
  std::string subscriber_id;  // "erased:<hash>" once the subscriber's data was erased
  std::string action_id;
  std::string treatment;
  int64_t amount_minor = 0;   // price in minor units (cents)
  std::string currency;       // ISO 4217, "EUR" by default
  OrderState state = OrderState::kCreated;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  std::string payment_id;     // the provider's id once the payment started
  std::string failure_reason; // failed / expired: why
  bool erased = false;        // personal fields erased (privacy)
  std::vector<OrderStateChange> history;  // oldest first; starts with kCreated
};

// "12.50" for (1250); "-0.05" for (-5).
std::string FormatAmount(int64_t amount_minor);

// The order as JSON (the server's GET /v1/orders/{id} body): {"order_id","state",
// "subscriber_id","action_id","treatment","amount":"12.50","amount_minor":1250,"currency",
// "created_at","updated_at" (RFC 3339),"payment_id","failure_reason","erased",
// "history":[{"state","at","note"}]}. The nonce is not shown.
std::string OrderToJson(const Order& order);

}  // namespace kairos::offer
