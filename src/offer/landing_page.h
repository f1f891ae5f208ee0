// Landing pages of offer links: GET /o/{token}, the page after acceptance, and the error pages.
//
// Pure functions returning complete, self-contained HTML5 documents: inline CSS, no scripts, no
// external resources (no fonts, images or trackers), readable on a phone (viewport meta, fluid
// layout, large touch target). Every string that comes from the catalog, a token or an order is
// HTML-escaped; the token in the form's action is also percent-encoded. HTTP (status codes,
// headers such as Content-Type: text/html; charset=utf-8, Cache-Control: no-store) is the
// server's business.
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "common/status.h"
#include "offer/order.h"

namespace kairos::offer {

// &, <, >, ", ' → entities. Bytes that are not valid UTF-8 become U+FFFD.
std::string HtmlEscape(std::string_view text);
// Percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ (one path segment).
std::string PercentEncodeSegment(std::string_view text);

// What the offer page shows.
struct OfferPageView {
  std::string token;        // as it appeared in the URL
  std::string title;        // treatment `title`, else the action's name, else its id
  std::string description;  // treatment `body`, else `text`, else `description` (may be empty)
  std::string price;        // "9.99 EUR"; empty when the offer is free / has no price
  TimestampMs expires_at = 0;
};

// Builds the view of `claims`' offer from the catalog (treatment resolved as in
// order_service.h: the claims' treatment, else web, else the first). kNotFound when the action
// is no longer in the catalog, kInvalidArgument for an unknown treatment, kFailedPrecondition
// for a catalog price that is not an amount.
Result<OfferPageView> MakeOfferPageView(const Decisioning& d, const OfferClaims& claims,
                                        std::string_view token,
                                        std::string_view default_currency = "EUR");

// The offer with an "Accept" button: <form method="post" action="/o/{token}/accept">.
std::string RenderOfferPage(const OfferPageView& view);

// After acceptance (or when the token was accepted before): the order id and its state.
std::string RenderAcceptedPage(const Order& order, std::string_view title);

// Friendly pages for links that cannot be used. Suggested statuses (the server decides):
// kExpired 410, kInvalid 404 (forged, altered, unknown key: say nothing more), kWithdrawn 410
// (the action left the catalog), kUnavailable 503.
enum class OfferPageProblem { kExpired, kInvalid, kWithdrawn, kUnavailable };
std::string RenderOfferErrorPage(OfferPageProblem problem);

}  // namespace kairos::offer
