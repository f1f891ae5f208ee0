// Api: what each route does, independent of the network code. Takes a request already read
// off the wire, returns the response to write; knows the Engine, the clock and the metrics.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "server/api_keys.h"
#include "server/audit_log.h"
#include "server/console_api.h"
#include "server/metrics.h"
#include "server/offer_routes.h"
#include "server/routes.h"
#include "server/server.h"
#include "trigger/automation.h"

namespace kairos {

struct HttpRequest {
  std::string method;        // "GET"
  std::string path;          // the target without its query string, still percent-encoded
  std::string query;         // after '?', still percent-encoded ("" when none)
  std::string content_type;  // the Content-Type header as sent, possibly empty
  std::string body;
  // Every header, names in lower case, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Who sent it (set by the server after the key check; empty for public routes).
  Principal principal;

  // The first header called `lower_name`, or "".
  std::string_view Header(std::string_view lower_name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;   // the Allow header of a 405
  bool close = false;  // close the connection after this response
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Retry-After, ...)
};

class Api {
 public:
  // `clock` and `metrics` must outlive the Api.
  // `auth` may be null (tests of routing alone); then protected routes' counts are not shown.
  Api(const ServerOptions& options, const Clock* clock, const HttpMetrics* metrics,
      Authenticator* auth = nullptr);

  void AttachEngine(Engine* engine) { engine_.store(engine, std::memory_order_release); }
  Engine* engine() const { return engine_.load(std::memory_order_acquire); }
  // Decisioning routes answer 503 until a DecisionService is attached (after the engine).
  void AttachDecisions(DecisionService* decisions) {
    decisions_.store(decisions, std::memory_order_release);
  }
  DecisionService* decisions() const { return decisions_.load(std::memory_order_acquire); }
  // Triggers, journeys and outbound delivery (503 on their routes until attached); reloads go
  // through it once attached, so that triggers.yaml is reloaded with the catalog.
  void AttachAutomation(Automation* automation) { automation_.store(automation, std::memory_order_release); }
  Automation* automation() const { return automation_.load(std::memory_order_acquire); }
  // Offer links, landing pages, orders and payments (503 on their routes until attached).
  void AttachOffers(const OfferRoutes* offers) { offers_.store(offers, std::memory_order_release); }
  const OfferRoutes* offers() const { return offers_.load(std::memory_order_acquire); }
  // After this /readyz answers 503 so that a load balancer drains the node.
  void SetStopping() { stopping_.store(true, std::memory_order_relaxed); }
  bool ready() const { return engine() != nullptr && !stopping_.load(std::memory_order_relaxed); }

  // True when serving `match` calls into the engine (which may block for a group commit), so
  // the caller must run Handle() on a worker thread rather than an I/O thread.
  bool IsBlocking(const RouteMatch& match) const;

  // Produces the response for `req`, matched as `match` (with MatchRoute on req.path).
  // Thread-safe; blocks only when IsBlocking(match).
  HttpResponse Handle(const RouteMatch& match, const HttpRequest& req) const;

 private:
  HttpResponse PostEvents(const HttpRequest& req, Engine* engine) const;
  HttpResponse GetSubscriber(const RouteMatch& match, Engine* engine) const;
  HttpResponse Metrics(Engine* engine) const;
  HttpResponse PostDecide(const HttpRequest& req, DecisionService* decisions) const;
  HttpResponse PostResponses(const HttpRequest& req, DecisionService* decisions) const;
  HttpResponse GetActions(DecisionService* decisions) const;
  HttpResponse GetDecision(const RouteMatch& match, DecisionService* decisions, bool replay) const;
  HttpResponse PostReload(Engine* engine, DecisionService* decisions) const;
  HttpResponse GetModel(const RouteMatch& match, DecisionService* decisions) const;
  HttpResponse GetUplift(const HttpRequest& req, DecisionService* decisions) const;
  HttpResponse HandleAutomation(const RouteMatch& match, const HttpRequest& req, Engine* engine) const;
  void AutomationMetrics(PrometheusWriter& w) const;
  HttpResponse WhoAmI(const HttpRequest& req) const;
  HttpResponse HandleOffers(const RouteMatch& match, const HttpRequest& req) const;
  HttpResponse GetSubscriberExport(const RouteMatch& match, const HttpRequest& req, Engine* engine) const;
  HttpResponse DeleteSubscriber(const RouteMatch& match, const HttpRequest& req, Engine* engine) const;
  HttpResponse GetAudit(const HttpRequest& req) const;
  // The console: its files (GET of any non-API path) and its config editor.
  HttpResponse ConsoleFile(const HttpRequest& req) const;
  HttpResponse GetConsoleConfig(const RouteMatch& match, Engine* engine) const;
  HttpResponse PutConsoleConfig(const RouteMatch& match, const HttpRequest& req, Engine* engine,
                                DecisionService* decisions) const;
  // Writes an audit line for a change made through the API; false (and a 500 to answer) when
  // the line could not be made durable.
  Status Audit(const HttpRequest& req, std::string action, std::string target,
               std::string outcome, std::string detail_json = {}) const;

  const ServerOptions& options_;
  const Clock* clock_;
  const HttpMetrics* metrics_;
  Authenticator* auth_;
  const AuditLog audit_;
  const std::string openapi_;  // built once: it depends only on the route table and limits
  std::atomic<Engine*> engine_{nullptr};
  std::atomic<DecisionService*> decisions_{nullptr};
  std::atomic<Automation*> automation_{nullptr};
  std::atomic<const OfferRoutes*> offers_{nullptr};
  std::atomic<bool> stopping_{false};
  ConsoleApi console_;
  std::string exe_path_;  // this binary, for the console next to it (../web/dist)
};

// Helpers shared with the network layer.
HttpResponse ErrorResponse(unsigned status, ErrorCode code, std::string_view message,
                           std::string_view field = {});
HttpResponse ErrorResponse(const Status& status);

}  // namespace kairos
