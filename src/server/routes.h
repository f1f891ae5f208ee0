// The route table of the HTTP edge, kept as data so that the router, the metrics labels, the
// OpenAPI document and the tests all enumerate the same list.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace kairos {

enum class RouteId {
  kPostEvents,
  kGetSubscriber,
  kHealthz,
  kReadyz,
  kMetrics,
  kOpenApi,
  kPostDecide,
  kPostResponses,
  kGetActions,
  kGetDecision,
  kGetDecisionReplay,
  kPostReload,
  kGetModels,
  kGetModel,
  kGetModelsExport,
  kPostModelsImport,
  kGetUplift,
  kGetSegments,
  kGetTriggers,
  kGetJourneys,
  kGetDeadLetters,
  kPostRetryDelivery,
  kGetWhoAmI,
  kGetAudit,
  kGetOverview,
  kSearchSubscribers,
  kGetConfig,
  kPutConfig,
  kGetSubscriberExport,
  kDeleteSubscriber,
  kPostOfferLink,
  kGetOfferPage,
  kGetOfferQrPng,
  kGetOfferQrSvg,
  kPostOfferAccept,
  kGetOrders,
  kGetOrder,
  kPostPaymentWebhook,
};

// Who may call a route. Roles nest: viewer ⊂ decision ⊂ admin and viewer ⊂ operator ⊂ admin
// (api_keys.h says which role reaches which level).
enum class Access {
  kPublic,    // no key: health probes, the console's files, offer landing pages, signed webhooks
  kMetrics,   // viewer, or nobody when kairos.yaml says metrics.public: true
  kViewer,    // read-only reports and lookups
  kDecision,  // decide, events, responses
  kOperator,  // catalog, policies, triggers, deliveries
  kAdmin,     // keys, models import, privacy
};

struct Route {
  RouteId id;
  std::string_view method;   // "GET", "POST"
  std::string_view pattern;  // "/v1/subscribers/{id}": a "{name}" segment matches one segment
  // Served only once an Engine (and, for decisioning routes, a DecisionService) is attached
  // (503 "unavailable" before).
  bool needs_engine;
  // Calls into the Engine, which may block (group commit): runs on the worker pool, never on
  // an I/O thread.
  bool blocking;
  Access access;
  std::string_view summary;
};

// Every route the server serves, in a stable order (metrics label index = position).
std::span<const Route> Routes();

// The outcome of matching a request line against the table.
struct RouteMatch {
  enum class Kind { kFound, kMethodNotAllowed, kNotFound };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;  // kFound only
  int route_index = -1;          // kFound only: position in Routes()
  // The raw (still percent-encoded) value of the pattern's single "{name}" segment, if any.
  std::string_view param;
  // kMethodNotAllowed: the methods the path accepts, "GET, POST" (for the Allow header).
  std::string allow;
};

// Matches `path` (no query string) against Routes(). `param` views into `path`.
RouteMatch MatchRoute(std::string_view method, std::string_view path);

// Decodes %XX escapes of a path segment ('+' stays '+': it is a path, not a form). Returns false
// on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out);

}  // namespace kairos
