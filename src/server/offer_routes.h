// OfferRoutes: the HTTP side of signed offer links, landing pages, orders and payments
// (docs/offers.md). The offer module does the work; this turns requests into its calls and its
// results into status codes, counting every refusal for /metrics.
//
//   POST /v1/offers/links          decision  sign a link: {token, url, qr_png_url, qr_svg_url}
//   GET  /o/{token}                public    the offer page (HTML)
//   GET  /o/{token}/qr.png|qr.svg  public    the link's QR code
//   POST /o/{token}/accept         public    201 {"order_id"} (200, same id, when accepted before)
//   GET  /v1/orders[/{id}]         viewer    orders, paginated
//   POST /v1/payments/webhook      public    the payment provider's signed outcome
//
// Thread-safe; every part must outlive it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "decide/decision_service.h"
#include "offer/link.h"
#include "offer/order_service.h"
#include "offer/payment_webhook.h"
#include "offer/token.h"

namespace kairos {

struct HttpRequest;
struct HttpResponse;
class PrometheusWriter;

class OfferRoutes {
 public:
  OfferRoutes(offer::OfferLinks* links, offer::OrderService* orders,
              const offer::PaymentWebhook* webhook, const DecisionService* decisions,
              const Clock* clock);

  HttpResponse CreateLink(const HttpRequest& req) const;
  HttpResponse LandingPage(std::string_view raw_token) const;
  HttpResponse QrCode(std::string_view raw_token, bool png) const;
  HttpResponse Accept(const HttpRequest& req, std::string_view raw_token) const;
  HttpResponse ListOrders(const HttpRequest& req) const;
  HttpResponse GetOrder(std::string_view raw_id) const;
  HttpResponse PaymentWebhook(const HttpRequest& req) const;

  // Privacy: the subscriber's orders as a JSON array; erasing their personal fields.
  std::string SubscriberOrdersJson(std::string_view subscriber_id) const;
  Result<int64_t> ErasePersonalData(std::string_view subscriber_id, TimestampMs now) const {
    return orders_->ErasePersonalData(subscriber_id, now);
  }

  void Metrics(PrometheusWriter& w) const;

 private:
  // The token of a path (percent-decoded into *token), verified; a refusal is counted.
  Result<offer::TokenClaims> VerifyPathToken(std::string_view raw_token, std::string* token,
                                             offer::TokenError* error) const;

  offer::OfferLinks* const links_;
  offer::OrderService* const orders_;
  const offer::PaymentWebhook* const webhook_;
  const DecisionService* const decisions_;
  const Clock* const clock_;

  static constexpr size_t kTokenErrors = 8;    // offer::TokenError values
  static constexpr size_t kWebhookErrors = 8;  // offer::WebhookError values
  mutable std::array<std::atomic<uint64_t>, kTokenErrors> token_refusals_{};
  mutable std::array<std::atomic<uint64_t>, kWebhookErrors> webhook_outcomes_{};
  mutable std::atomic<uint64_t> links_created_{0}, pages_shown_{0}, accepts_{0};
};

}  // namespace kairos
