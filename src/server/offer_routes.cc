#include "server/offer_routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>

#include "offer/landing_page.h"
#include "server/api.h"
#include "server/http_json.h"
#include "server/metrics.h"

namespace kairos {
namespace {

using offer::OfferPageProblem;
using offer::TokenError;
using offer::WebhookError;

HttpResponse Html(unsigned status, std::string body) {
  HttpResponse res;
  res.status = status;
  res.content_type = "text/html; charset=utf-8";
  res.body = std::move(body);
  // A page for one customer's link: no shared cache may keep it.
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  return res;
}

// Forged, altered, unknown key: one answer for all, so the page tells a prober nothing.
unsigned TokenStatus(TokenError e) {
  switch (e) {
    case TokenError::kExpired:
    case TokenError::kRetiredKey:
      return 410;
    default:
      return 404;
  }
}

bool WantsHtml(const HttpRequest& req) {
  // A browser posting the landing page's form asks for HTML; API clients get JSON.
  const std::string_view accept = req.Header("accept");
  return accept.find("text/html") != std::string_view::npos;
}

}  // namespace

OfferRoutes::OfferRoutes(offer::OfferLinks* links, offer::OrderService* orders,
                         const offer::PaymentWebhook* webhook, const DecisionService* decisions,
                         const Clock* clock)
    : links_(links), orders_(orders), webhook_(webhook), decisions_(decisions), clock_(clock) {}

Result<offer::TokenClaims> OfferRoutes::VerifyPathToken(std::string_view raw_token,
                                                        std::string* token,
                                                        TokenError* error) const {
  *error = TokenError::kMalformed;
  if (!PercentDecode(raw_token, token)) {
    token_refusals_[static_cast<size_t>(TokenError::kMalformed)].fetch_add(1);
    return InvalidArgument("malformed percent-encoding in the token", "token");
  }
  Result<offer::TokenClaims> claims = links_->Verify(*token, clock_->Now(), error);
  if (!claims.ok()) {
    const size_t i = static_cast<size_t>(*error);
    if (i < kTokenErrors) token_refusals_[i].fetch_add(1, std::memory_order_relaxed);
  }
  return claims;
}

HttpResponse OfferRoutes::CreateLink(const HttpRequest& req) const {
  Result<offer::LinkRequest> request = offer::ParseLinkRequestJson(req.body);
  if (!request.ok()) return ErrorResponse(request.status());
  Result<offer::Link> link = links_->Create(*request);
  if (!link.ok()) return ErrorResponse(link.status());
  links_created_.fetch_add(1, std::memory_order_relaxed);
  HttpResponse res;
  res.status = 201;
  res.body = offer::LinkToJson(*link);
  return res;
}

HttpResponse OfferRoutes::LandingPage(std::string_view raw_token) const {
  std::string token;
  TokenError error;
  Result<offer::TokenClaims> claims = VerifyPathToken(raw_token, &token, &error);
  if (!claims.ok()) {
    return Html(TokenStatus(error), offer::RenderOfferErrorPage(error == TokenError::kExpired ||
                                                                        error == TokenError::kRetiredKey
                                                                    ? OfferPageProblem::kExpired
                                                                    : OfferPageProblem::kInvalid));
  }
  const offer::OfferClaims offer_claims = offer::ToOfferClaims(*claims);
  std::shared_ptr<const Decisioning> d = decisions_->decisioning();
  Result<offer::OfferPageView> view = offer::MakeOfferPageView(*d, offer_claims, token);
  if (!view.ok()) {
    return Html(view.status().code() == ErrorCode::kNotFound ? 410 : 503,
                offer::RenderOfferErrorPage(view.status().code() == ErrorCode::kNotFound
                                                ? OfferPageProblem::kWithdrawn
                                                : OfferPageProblem::kUnavailable));
  }
  // Accepted before: show the order rather than a second "Accept".
  Result<std::optional<offer::Order>> existing = orders_->FindByNonce(offer_claims.nonce);
  pages_shown_.fetch_add(1, std::memory_order_relaxed);
  if (existing.ok() && existing->has_value()) {
    return Html(200, offer::RenderAcceptedPage(**existing, view->title));
  }
  return Html(200, offer::RenderOfferPage(*view));
}

HttpResponse OfferRoutes::QrCode(std::string_view raw_token, bool png) const {
  std::string token;
  TokenError error;
  Result<offer::TokenClaims> claims = VerifyPathToken(raw_token, &token, &error);
  if (!claims.ok()) {
    return ErrorResponse(TokenStatus(error), ErrorCode::kNotFound,
                         "no usable offer link: " + std::string(offer::TokenErrorName(error)), "token");
  }
  const std::string url = links_->base_url() + "/o/" + offer::PercentEncodeSegment(token);
  Result<std::string> image = png ? links_->RenderPng(url) : links_->RenderSvg(url);
  if (!image.ok()) return ErrorResponse(image.status());
  HttpResponse res;
  res.content_type = png ? "image/png" : "image/svg+xml";
  res.body = std::move(image).value();
  res.headers.emplace_back("Cache-Control", "private, max-age=86400");
  return res;
}

HttpResponse OfferRoutes::Accept(const HttpRequest& req, std::string_view raw_token) const {
  std::string token;
  TokenError error;
  Result<offer::TokenClaims> claims = VerifyPathToken(raw_token, &token, &error);
  const bool html = WantsHtml(req);
  if (!claims.ok()) {
    if (html) {
      return Html(TokenStatus(error), offer::RenderOfferErrorPage(error == TokenError::kExpired
                                                                      ? OfferPageProblem::kExpired
                                                                      : OfferPageProblem::kInvalid));
    }
    HttpResponse res = ErrorResponse(claims.status());
    res.status = TokenStatus(error);
    return res;
  }
  Result<offer::AcceptResult> accepted = orders_->Accept(offer::ToOfferClaims(*claims), clock_->Now());
  if (!accepted.ok()) return ErrorResponse(accepted.status());
  accepts_.fetch_add(1, std::memory_order_relaxed);
  const unsigned status = accepted->created ? 201 : 200;
  if (html) return Html(status, offer::RenderAcceptedPage(accepted->order, claims->action_id));
  HttpResponse res;
  res.status = status;
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("order_id");
  w.String(accepted->order.id.c_str());
  w.Key("state");
  const std::string_view state = offer::OrderStateName(accepted->order.state);
  w.String(state.data(), static_cast<rapidjson::SizeType>(state.size()));
  w.Key("created");
  w.Bool(accepted->created);
  w.EndObject();
  res.body.assign(sb.GetString(), sb.GetSize());
  return res;
}

HttpResponse OfferRoutes::ListOrders(const HttpRequest& req) const {
  std::string cursor;
  size_t limit = 100;
  std::string_view query = req.query;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    std::string value;
    if (eq == std::string_view::npos || !PercentDecode(pair.substr(eq + 1), &value)) {
      return ErrorResponse(400, ErrorCode::kInvalidArgument,
                           "malformed query parameter " + std::string(key.substr(0, 64)),
                           std::string(key.substr(0, 64)));
    }
    if (key == "cursor") {
      cursor = std::move(value);
    } else if (key == "limit") {
      char* end = nullptr;
      const long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 1000) {
        return ErrorResponse(400, ErrorCode::kInvalidArgument, "limit must be an integer in 1..1000",
                             "limit");
      }
      limit = static_cast<size_t>(n);
    } else {
      return ErrorResponse(400, ErrorCode::kInvalidArgument,
                           "unknown query parameter " + std::string(key.substr(0, 64)) +
                               "; known: cursor, limit",
                           std::string(key.substr(0, 64)));
    }
  }
  Result<offer::OrderPage> page = orders_->List(cursor, limit);
  if (!page.ok()) return ErrorResponse(page.status());
  HttpResponse res;
  res.body = "{\"orders\":[";
  for (size_t i = 0; i < page->orders.size(); ++i) {
    if (i > 0) res.body.push_back(',');
    res.body += offer::OrderToJson(page->orders[i]);
  }
  res.body += "],\"next_cursor\":";
  if (page->next_cursor.empty()) {
    res.body += "null";
  } else {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.String(page->next_cursor.data(), static_cast<rapidjson::SizeType>(page->next_cursor.size()));
    res.body.append(sb.GetString(), sb.GetSize());
  }
  res.body += "}";
  return res;
}

HttpResponse OfferRoutes::GetOrder(std::string_view raw_id) const {
  std::string id;
  if (!PercentDecode(raw_id, &id)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed percent-encoding in the order id",
                         "id");
  }
  Result<offer::Order> order = orders_->Get(id);
  if (!order.ok()) return ErrorResponse(order.status());
  HttpResponse res;
  res.body = offer::OrderToJson(*order);
  return res;
}

HttpResponse OfferRoutes::PaymentWebhook(const HttpRequest& req) const {
  const offer::WebhookResult r = webhook_->Handle(req.Header("x-kairos-payment-timestamp"),
                                                  req.Header("x-kairos-payment-signature"), req.body);
  const size_t i = static_cast<size_t>(r.error);
  if (i < kWebhookErrors) webhook_outcomes_[i].fetch_add(1, std::memory_order_relaxed);
  if (r.ok()) {
    HttpResponse res;
    res.body = offer::OrderToJson(r.order);
    return res;
  }
  unsigned status = 500;
  switch (r.error) {
    case WebhookError::kMalformed: status = 400; break;
    case WebhookError::kBadSignature:
    case WebhookError::kStaleTimestamp: status = 401; break;
    case WebhookError::kReplay:
    case WebhookError::kIllegalTransition: status = 409; break;
    case WebhookError::kUnknownOrder: status = 404; break;
    case WebhookError::kInternal:
    case WebhookError::kNone: status = 500; break;
  }
  HttpResponse res = ErrorResponse(status, r.status.code(),
                                   std::string(offer::WebhookErrorName(r.error)) + ": " + r.status.message(),
                                   r.status.field());
  return res;
}

std::string OfferRoutes::SubscriberOrdersJson(std::string_view subscriber_id) const {
  Result<std::vector<offer::Order>> orders = orders_->BySubscriber(subscriber_id);
  std::string out = "[";
  if (orders.ok()) {
    for (size_t i = 0; i < orders->size(); ++i) {
      if (i > 0) out.push_back(',');
      out += offer::OrderToJson((*orders)[i]);
    }
  }
  out += "]";
  return out;
}

void OfferRoutes::Metrics(PrometheusWriter& w) const {
  w.Family("kairos_offer_links_created_total", "counter", "Signed offer links created.");
  w.Sample("kairos_offer_links_created_total", {}, static_cast<double>(links_created_.load()));
  w.Family("kairos_offer_pages_total", "counter", "Offer landing pages shown.");
  w.Sample("kairos_offer_pages_total", {}, static_cast<double>(pages_shown_.load()));
  w.Family("kairos_offer_token_refusals_total", "counter",
           "Offer tokens refused on landing pages, QR codes and accepts, by reason.");
  for (size_t i = 1; i < kTokenErrors; ++i) {
    w.Sample("kairos_offer_token_refusals_total",
             {{"reason", offer::TokenErrorName(static_cast<TokenError>(i))}},
             static_cast<double>(token_refusals_[i].load()));
  }
  const offer::OrderServiceStats s = orders_->Stats();
  w.Family("kairos_orders_total", "counter", "Orders by event: created, repeated accepts, expired, payment start failures.");
  w.Sample("kairos_orders_total", {{"event", "created"}}, static_cast<double>(s.accepted));
  w.Sample("kairos_orders_total", {{"event", "repeated_accept"}}, static_cast<double>(s.repeated_accepts));
  w.Sample("kairos_orders_total", {{"event", "expired"}}, static_cast<double>(s.expired));
  w.Sample("kairos_orders_total", {{"event", "payment_start_failed"}},
           static_cast<double>(s.payment_start_failures));
  w.Family("kairos_payment_webhooks_total", "counter",
           "Payment webhooks by outcome: none (applied), bad_signature, stale_timestamp, replay, ...");
  for (size_t i = 0; i < kWebhookErrors; ++i) {
    w.Sample("kairos_payment_webhooks_total",
             {{"outcome", i == 0 ? std::string_view("applied")
                                 : offer::WebhookErrorName(static_cast<WebhookError>(i))}},
             static_cast<double>(webhook_outcomes_[i].load()));
  }
}

}  // namespace kairos
