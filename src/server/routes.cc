#include "server/routes.h"

#include <array>

namespace kairos {
namespace {

constexpr auto kRoutes = std::to_array<Route>({
    {RouteId::kPostEvents, "POST", "/v1/events", true, true, Access::kDecision,
     "Ingest one event (JSON) or a batch (NDJSON)"},
    {RouteId::kGetSubscriber, "GET", "/v1/subscribers/{id}", true, false, Access::kViewer,
     "The profile of one subscriber"},
    {RouteId::kHealthz, "GET", "/healthz", false, false, Access::kPublic, "Liveness: 200 while the process lives"},
    {RouteId::kReadyz, "GET", "/readyz", false, false, Access::kPublic,
     "Readiness: 200 when the engine can serve, 503 during recovery or shutdown"},
    {RouteId::kMetrics, "GET", "/metrics", false, false, Access::kMetrics, "Prometheus metrics"},
    {RouteId::kOpenApi, "GET", "/v1/openapi.json", false, false, Access::kViewer, "This OpenAPI document"},
    {RouteId::kPostDecide, "POST", "/v1/decide", true, true, Access::kDecision,
     "Decide the next best actions for one subscriber on one channel"},
    {RouteId::kPostResponses, "POST", "/v1/responses", true, true, Access::kDecision,
     "Record a subscriber's response to an action a decision showed"},
    {RouteId::kGetActions, "GET", "/v1/actions", true, false, Access::kViewer, "The action catalog in use"},
    {RouteId::kGetDecision, "GET", "/v1/decisions/{id}", true, false, Access::kViewer,
     "A logged decision: request, catalog version, what was offered with which probability"},
    {RouteId::kGetDecisionReplay, "GET", "/v1/decisions/{id}/replay", true, true, Access::kViewer,
     "Re-run a logged decision on the profile it saw, with the current catalog"},
    {RouteId::kPostReload, "POST", "/v1/admin/reload", true, true, Access::kOperator,
     "Reload catalog.yaml, policies.yaml, learning.yaml and triggers.yaml; on any error the running ones stay"},
    {RouteId::kGetModels, "GET", "/v1/models", true, false, Access::kViewer,
     "Health of every adaptive model: responses, positives, AUC, calibration, predictors, flags"},
    {RouteId::kGetModel, "GET", "/v1/models/{id}", true, false, Access::kViewer,
     "Health of one adaptive model; the id is <action>/<channel>, percent-encoded (DATA_5GB%2Fsms)"},
    {RouteId::kGetModelsExport, "GET", "/v1/admin/models/export", true, false, Access::kOperator,
     "The adaptive models as a snapshot (application/octet-stream) to import elsewhere"},
    {RouteId::kPostModelsImport, "POST", "/v1/admin/models/import", true, true, Access::kAdmin,
     "Replace the adaptive models with a snapshot; a corrupt snapshot changes nothing"},
    {RouteId::kGetUplift, "GET", "/v1/reports/uplift", true, true, Access::kViewer,
     "Target vs control group per action and overall: acceptance, conversion, churn, revenue "
     "with 95% intervals; ?since=RFC3339 (default 30 days ago)"},
    {RouteId::kGetSegments, "GET", "/v1/segments", true, true, Access::kViewer,
     "The latest segmentation run: subscribers, revenue, margin and effort per value tier, "
     "behavioural segment, RFM segment and cluster; CLV fit; churn scoring"},
    {RouteId::kGetTriggers, "GET", "/v1/triggers", true, false, Access::kViewer,
     "The triggers and journeys in force (triggers.yaml) with their counts"},
    {RouteId::kGetJourneys, "GET", "/v1/journeys/{id}", true, true, Access::kViewer,
     "A subscriber's active journeys (contact chains) and their next steps"},
    {RouteId::kGetDeadLetters, "GET", "/v1/deliveries/dead-letters", true, true, Access::kViewer,
     "Outbound deliveries given up on (refused, or out of attempts), newest first; ?limit=N"},
    {RouteId::kPostRetryDelivery, "POST", "/v1/deliveries/retry", true, true, Access::kOperator,
     "Queue a dead letter again with a fresh attempt budget: {\"id\":\"<delivery id>\"}"},
    {RouteId::kGetWhoAmI, "GET", "/v1/auth/whoami", false, false, Access::kViewer,
     "The API key this request was made with: id, name and role"},
    {RouteId::kGetAudit, "GET", "/v1/admin/audit", false, false, Access::kAdmin,
     "The audit log (key operations, configuration changes, model imports, erasures), newest "
     "first; ?limit=N (default 100)"},
    {RouteId::kGetOverview, "GET", "/v1/reports/overview", true, true, Access::kViewer,
     "The console's overview: events/s and decisions/s over the last minute, acceptance and "
     "conversion, uplift, top actions, contacts per channel today against capacity and caps"},
    {RouteId::kSearchSubscribers, "GET", "/v1/subscribers", true, false, Access::kViewer,
     "Subscriber ids starting with ?prefix= (sorted, at most ?limit=, 1..100, default 20)"},
    {RouteId::kGetConfig, "GET", "/v1/admin/config/{file}", true, true, Access::kOperator,
     "catalog.yaml, policies.yaml or triggers.yaml as text, for the console's editor"},
    {RouteId::kPutConfig, "PUT", "/v1/admin/config/{file}", true, true, Access::kOperator,
     "Replace catalog.yaml, policies.yaml or triggers.yaml: checked like kairos check, written "
     "atomically and reloaded; on any problem nothing changes and the problems are listed"},
    {RouteId::kGetSubscriberExport, "GET", "/v1/subscribers/{id}/export", true, true, Access::kAdmin,
     "Everything held about a subscriber: profile and interaction history, decisions, journeys, "
     "orders (privacy access request; audited)"},
    {RouteId::kDeleteSubscriber, "DELETE", "/v1/subscribers/{id}", true, true, Access::kAdmin,
     "Erase a subscriber: profile, history, journeys, orders' personal fields (audited; survives "
     "a restart)"},
    {RouteId::kPostOfferLink, "POST", "/v1/offers/links", true, false, Access::kDecision,
     "Sign an offer link for a subscriber and action: {token, url, qr_png_url, qr_svg_url}"},
    {RouteId::kGetOfferPage, "GET", "/o/{token}", true, false, Access::kPublic,
     "The offer's landing page (HTML) for the customer who got the link"},
    {RouteId::kGetOfferQrPng, "GET", "/o/{token}/qr.png", true, false, Access::kPublic,
     "The link's QR code as PNG"},
    {RouteId::kGetOfferQrSvg, "GET", "/o/{token}/qr.svg", true, false, Access::kPublic,
     "The link's QR code as SVG"},
    {RouteId::kPostOfferAccept, "POST", "/o/{token}/accept", true, true, Access::kPublic,
     "Accept the offer: 201 {order_id} creates the order and starts its payment; the same token "
     "again → 200 with the same order"},
    {RouteId::kGetOrders, "GET", "/v1/orders", true, false, Access::kViewer,
     "Orders in id order; ?limit=N (1..1000, default 100)&cursor=<next_cursor>"},
    {RouteId::kGetOrder, "GET", "/v1/orders/{id}", true, false, Access::kViewer,
     "One order: state (created, paid, failed, expired), amount, payment, history"},
    {RouteId::kPostPaymentWebhook, "POST", "/v1/payments/webhook", true, true, Access::kPublic,
     "The payment provider's outcome event, authenticated by its X-Kairos-Payment-Signature"},
});

// Matches a path against one pattern segment by segment; on success stores the "{name}"
// segment in `param`. A trailing slash is a segment of its own, so "/healthz/" does not match.
bool PathMatches(std::string_view pattern, std::string_view path, std::string_view* param) {
  if (path.empty() || path[0] != '/') return false;
  std::string_view p = pattern.substr(1);
  std::string_view q = path.substr(1);
  while (true) {
    size_t p_end = p.find('/');
    size_t q_end = q.find('/');
    std::string_view ps = p.substr(0, p_end);
    std::string_view qs = q.substr(0, q_end);
    if (ps.size() >= 2 && ps.front() == '{' && ps.back() == '}') {
      if (qs.empty()) return false;  // "{id}" never matches an empty segment
      *param = qs;
    } else if (ps != qs) {
      return false;
    }
    bool p_last = p_end == std::string_view::npos;
    bool q_last = q_end == std::string_view::npos;
    if (p_last || q_last) return p_last && q_last;
    p.remove_prefix(p_end + 1);
    q.remove_prefix(q_end + 1);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

RouteMatch MatchRoute(std::string_view method, std::string_view path) {
  RouteMatch match;
  for (size_t i = 0; i < kRoutes.size(); ++i) {
    const Route& r = kRoutes[i];
    std::string_view param;
    if (!PathMatches(r.pattern, path, &param)) continue;
    if (r.method == method) {
      match.kind = RouteMatch::Kind::kFound;
      match.route = &r;
      match.route_index = static_cast<int>(i);
      match.param = param;
      match.allow.clear();
      return match;
    }
    match.kind = RouteMatch::Kind::kMethodNotAllowed;
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += r.method;
  }
  return match;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace kairos
