#include "offer/landing_page.h"

#include "common/time_format.h"
#include "offer/order_service.h"

namespace kairos::offer {

namespace {

// Mobile first: one column, system fonts, a large button; nothing loaded from elsewhere.
constexpr std::string_view kStyle = R"(
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
background:#f3f5f8;color:#1c2430;line-height:1.5}
main{max-width:30rem;margin:0 auto;padding:1.5rem 1rem}
.card{background:#fff;border-radius:14px;box-shadow:0 2px 10px rgba(20,30,50,.08);padding:1.5rem}
h1{font-size:1.45rem;margin:0 0 .75rem}
p{margin:.5rem 0}
.price{font-size:1.6rem;font-weight:700;margin:1rem 0}
.muted{color:#5b6675;font-size:.9rem}
button{display:block;width:100%;min-height:3rem;margin-top:1.25rem;border:0;border-radius:10px;
background:#0b63ce;color:#fff;font-size:1.1rem;font-weight:600;cursor:pointer}
button:focus{outline:3px solid #8ab8f0;outline-offset:2px}
dl{display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem;margin:1rem 0}
dt{color:#5b6675}dd{margin:0;word-break:break-all}
.state{font-weight:700}
)";

std::string Page(std::string_view title, const std::string& body) {
  std::string html;
  html.reserve(1024 + kStyle.size() + body.size());
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<meta name=\"robots\" content=\"noindex\">\n";
  html += "<title>" + HtmlEscape(title) + "</title>\n<style>";
  html += kStyle;
  html += "</style>\n</head>\n<body>\n<main>\n<div class=\"card\">\n";
  html += body;
  html += "</div>\n</main>\n</body>\n</html>\n";
  return html;
}

std::string_view ContentOf(const Treatment* t, std::string_view key) {
  if (!t) return {};
  for (const auto& [k, v] : t->content) {
    if (k == key) return v;
  }
  return {};
}

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default: {
        const size_t n = Utf8Length(text, i);
        if (n == 0) {
          out += "\xEF\xBF\xBD";  // U+FFFD
          ++i;
          continue;
        }
        const unsigned char u = static_cast<unsigned char>(c);
        if (n == 1 && u < 0x20 && c != '\n' && c != '\t') {
          out += ' ';  // control characters have no place on the page
        } else {
          out.append(text.substr(i, n));
        }
        i += n;
        continue;
      }
    }
    ++i;
  }
  return out;
}

std::string PercentEncodeSegment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

Result<OfferPageView> MakeOfferPageView(const Decisioning& d, const OfferClaims& claims,
                                        std::string_view token,
                                        std::string_view default_currency) {
  const int a = d.catalog.ActionIndex(claims.action_id);
  if (a < 0) return NotFound("action " + claims.action_id.substr(0, 64) + " is not in the catalog");
  const Action& action = d.catalog.actions[a];
  KAIROS_ASSIGN_OR_RETURN(const Treatment* t, FindOfferTreatment(d, action, claims.treatment));
  KAIROS_ASSIGN_OR_RETURN(OfferPrice price, PriceOf(action, t, default_currency));
  OfferPageView v;
  v.token = std::string(token);
  v.title = std::string(ContentOf(t, "title"));
  if (v.title.empty()) v.title = action.name.empty() ? action.id : action.name;
  for (std::string_view key : {"body", "text", "description"}) {
    if (std::string_view text = ContentOf(t, key); !text.empty()) {
      v.description = std::string(text);
      break;
    }
  }
  if (price.amount_minor > 0) v.price = FormatAmount(price.amount_minor) + " " + price.currency;
  v.expires_at = claims.expires_at;
  return v;
}

std::string RenderOfferPage(const OfferPageView& v) {
  std::string body;
  body += "<h1>" + HtmlEscape(v.title) + "</h1>\n";
  if (!v.description.empty()) body += "<p>" + HtmlEscape(v.description) + "</p>\n";
  if (!v.price.empty()) body += "<p class=\"price\">" + HtmlEscape(v.price) + "</p>\n";
  if (v.expires_at > 0) {
    std::string until = FormatRfc3339(v.expires_at);  // 2026-03-18T10:00:00Z
    if (until.size() >= 16) until = until.substr(0, 10) + " " + until.substr(11, 5) + " UTC";
    body += "<p class=\"muted\">Valid until " + HtmlEscape(until) + "</p>\n";
  }
  body += "<form method=\"post\" action=\"/o/" + HtmlEscape(PercentEncodeSegment(v.token)) +
          "/accept\">\n<button type=\"submit\">Accept</button>\n</form>\n";
  return Page(v.title, body);
}

std::string RenderAcceptedPage(const Order& order, std::string_view title) {
  std::string_view headline = "Thank you!";
  std::string_view text = "Your order is confirmed. We are processing the payment.";
  switch (order.state) {
    case OrderState::kCreated:
      break;
    case OrderState::kPaid:
      text = "Your order is confirmed and paid.";
      break;
    case OrderState::kFailed:
      headline = "Payment not completed";
      text = "We could not complete the payment for this order. Please contact us.";
      break;
    case OrderState::kExpired:
      headline = "Payment not completed";
      text = "The payment for this order did not go through in time. Please contact us.";
      break;
  }
  std::string body;
  body += "<h1>" + HtmlEscape(headline) + "</h1>\n";
  if (!title.empty()) body += "<p><strong>" + HtmlEscape(title) + "</strong></p>\n";
  body += "<p>" + HtmlEscape(text) + "</p>\n<dl>\n";
  body += "<dt>Order</dt><dd>" + HtmlEscape(order.id) + "</dd>\n";
  body += "<dt>Status</dt><dd class=\"state\">" + HtmlEscape(OrderStateName(order.state)) +
          "</dd>\n";
  if (order.amount_minor > 0) {
    body += "<dt>Amount</dt><dd>" +
            HtmlEscape(FormatAmount(order.amount_minor) + " " + order.currency) + "</dd>\n";
  }
  body += "</dl>\n";
  return Page(headline, body);
}

std::string RenderOfferErrorPage(OfferPageProblem problem) {
  std::string_view title, text;
  switch (problem) {
    case OfferPageProblem::kExpired:
      title = "This offer has expired";
      text = "Sorry, this offer is no longer available. Keep an eye out for new offers from us.";
      break;
    case OfferPageProblem::kInvalid:
      title = "Offer not found";
      text = "We could not find this offer. Please check that the link is complete.";
      break;
    case OfferPageProblem::kWithdrawn:
      title = "This offer is no longer available";
      text = "Sorry, this offer has been withdrawn. Keep an eye out for new offers from us.";
      break;
    case OfferPageProblem::kUnavailable:
      title = "Please try again later";
      text = "We cannot show this offer right now. Please try again in a few minutes.";
      break;
  }
  return Page(title, "<h1>" + HtmlEscape(title) + "</h1>\n<p>" + HtmlEscape(text) + "</p>\n");
}

}  // namespace kairos::offer
