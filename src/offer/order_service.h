// OrderService: what accepting an offer link does — the order, its payment, its expiry.
//
// Accept(claims, now), for claims the server has verified (token signature, key, expiry):
//   1. the token's nonce already has an order → that order, created = false (idempotent; a
//      token makes at most one order: single use);
//   2. otherwise the offer must not have expired (claims.expires_at > now) and the action must
//      be in the catalog; the price comes from the treatment (see PriceOf);
//   3. the acceptance is recorded in the subscriber's interaction history
//      (DecisionService::RecordOfferAcceptance, idempotent per token), then the order is stored
//      (exactly once per nonce, even under concurrent accepts), then its payment is started
//      with the provider. A provider that refuses to start it fails the order at once.
// The payment's outcome arrives by webhook (payment_webhook.h); orders with no outcome within
// payments.timeout are expired by SweepExpired, which a server calls periodically.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "decide/decision_service.h"
#include "offer/order.h"
#include "offer/order_store.h"
#include "offer/payment_provider.h"
#include "offer/token.h"

namespace kairos::offer {

// The claims of a verified token as the order flow takes them: nonce = NonceHex() (24 hex),
// expires_at in milliseconds.
OfferClaims ToOfferClaims(const TokenClaims& token);

struct OfferPrice {
  int64_t amount_minor = 0;
  std::string currency;
  std::string source;  // "treatment" (content price), "action value" or "none"
};

// Parses a decimal amount ("12", "12.5", "12.50", "0.99") into minor units (cents). At most two
// decimals, no sign, no exponent, at most 1e12. kInvalidArgument naming `field` otherwise.
Result<int64_t> ParseAmountMinor(std::string_view text, const std::string& field);

// The treatment an offer refers to: `treatment_id` ("<action>/<channel>") when given (it must be
// one of the action's, else kInvalidArgument), otherwise the action's `web` treatment, otherwise
// its first. Null only for an action without treatments.
Result<const Treatment*> FindOfferTreatment(const Decisioning& d, const Action& action,
                                          std::string_view treatment_id);

// The price of accepting `action` with `treatment` (may be null):
//   - the treatment's content `price` (a decimal, e.g. price: 9.99) and `currency` (default
//     `default_currency`) when the treatment has a price;
//   - otherwise the action's `value` when it is a constant (a value expression needs a
//     profile: then the price is 0 with source "none").
// kFailedPrecondition when the catalog's price text is not an amount (names the action).
Result<OfferPrice> PriceOf(const Action& action, const Treatment* treatment,
                           std::string_view default_currency);

struct AcceptResult {
  Order order;
  bool created = false;  // false: the token had been accepted before; `order` is that order
};

struct OrderServiceStats {
  int64_t accepted = 0;           // orders created
  int64_t repeated_accepts = 0;   // accepts that returned an existing order
  int64_t payment_start_failures = 0;
  int64_t expired = 0;
};

class OrderService {
 public:
  struct Options {
    int64_t payment_timeout_ms = 15 * 60 * 1000;  // payments.timeout
    std::string default_currency = "EUR";
    size_t sweep_batch = 1000;                    // orders per store read in SweepExpired
  };

  // Everything must outlive the service. `decisions` may be null (no history recorded, no
  // catalog: then orders are priced 0 and the action is not checked — tests only).
  OrderService(OrderStore* store, PaymentProvider* provider, DecisionService* decisions,
               const Clock* clock, Options options);
  OrderService(OrderStore* store, PaymentProvider* provider, DecisionService* decisions,
               const Clock* clock)
      : OrderService(store, provider, decisions, clock, Options()) {}

  // See the file comment. Errors (nothing stored, nothing charged):
  //   kInvalidArgument    claims without nonce / subscriber / action (field set), an unknown
  //                       treatment of the action
  //   kFailedPrecondition the offer expired (claims.expires_at <= now) and was never accepted;
  //                       a catalog price that is not an amount
  //   kNotFound           the action is no longer in the catalog
  //   store / engine errors (kIoError, kTooLarge, ...)
  Result<AcceptResult> Accept(const OfferClaims& claims, TimestampMs now);

  // kNotFound when unknown.
  Result<Order> Get(std::string_view order_id) const { return store_->Get(order_id); }
  // `limit` 1..1000 (kInvalidArgument "limit"); cursor = the previous page's next_cursor.
  Result<OrderPage> List(std::string_view cursor, size_t limit) const {
    return store_->List(cursor, limit);
  }
  Result<std::vector<Order>> BySubscriber(std::string_view subscriber_id) const {
    return store_->BySubscriber(subscriber_id);
  }
  // The order a token made, or nullopt (the landing page shows "already accepted").
  Result<std::optional<Order>> FindByNonce(std::string_view nonce) const {
    return store_->FindByNonce(nonce);
  }

  // Expires every order still `created` whose created_at <= now - payment_timeout. Returns how
  // many. An order a webhook settles meanwhile is left alone.
  Result<int64_t> SweepExpired(TimestampMs now);

  // Privacy: erases the personal fields of the subscriber's orders (OrderStore). Durable.
  Result<int64_t> ErasePersonalData(std::string_view subscriber_id, TimestampMs now) {
    return store_->ErasePersonalData(subscriber_id, now);
  }

  OrderServiceStats Stats() const;
  const Options& options() const { return options_; }

 private:
  std::string NewOrderId();

  OrderStore* const store_;
  PaymentProvider* const provider_;
  DecisionService* const decisions_;
  const Clock* const clock_;
  const Options options_;
  const uint64_t salt_;
  std::atomic<uint64_t> sequence_{0};
  std::atomic<int64_t> accepted_{0}, repeated_{0}, start_failures_{0}, expired_{0};
};

}  // namespace kairos::offer
