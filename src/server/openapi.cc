#include "server/openapi.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdint>
#include <string_view>

#include "server/routes.h"

namespace kairos {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The parts of one operation that are fixed JSON. They are literals written by us (no client
// data), so inserting them as raw JSON cannot break escaping; the test parses the result.
struct Operation {
  std::string_view operation_id;
  std::string_view tag;
  std::string_view parameters;    // raw JSON array, or empty
  std::string_view request_body;  // raw JSON object, or empty
  std::string_view responses;     // raw JSON object
};

Operation OperationFor(RouteId id) {
  // No default: -Wswitch (an error here) flags a route added without its description.
  switch (id) {
    case RouteId::kPostEvents:
      return {"postEvents", "events", "",
              R"({"required":true,"content":{
"application/json":{"schema":{"$ref":"#/components/schemas/Event"}},
"application/x-ndjson":{"schema":{"type":"string",
 "description":"One Event object per line; empty lines are skipped."}}}})",
              R"({
"200":{
 "description":"Applied. NDJSON: valid lines are applied, invalid ones listed in rejected.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/IngestResult"}}}},
"400":{
 "description":"Invalid event (nothing applied), empty body, or no valid NDJSON line.",
 "content":{"application/json":{"schema":{"allOf":[{"$ref":"#/components/schemas/ErrorBody"},
  {"type":"object","properties":{"accepted":{"type":"integer"},"duplicates":{"type":"integer"},
   "rejected":{"type":"array","items":{"$ref":"#/components/schemas/Rejection"}}}}]}}}},
"413":{"$ref":"#/components/responses/Error"},
"415":{"$ref":"#/components/responses/Error"},
"503":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetSubscriber:
      return {"getSubscriber", "profiles",
              R"([{"name":"id","in":"path","required":true,
"description":"Subscriber id, percent-encoded.","schema":{"type":"string"}}])",
              "",
              R"({
"200":{
 "description":"The profile: attributes, events_applied, aggregates evaluated now, forecasts.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/Profile"}}}},
"400":{"$ref":"#/components/responses/Error"},
"404":{"$ref":"#/components/responses/Error"},
"503":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kHealthz:
      return {"healthz", "operations", "", "",
              R"({"200":{"description":"The process lives.",
"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Health"}}}}})"};
    case RouteId::kReadyz:
      return {"readyz", "operations", "", "",
              R"({"200":{"description":"Ready to serve.",
"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Health"}}}},
"503":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kMetrics:
      return {"metrics", "operations", "", "",
              R"({"200":{"description":"Prometheus text exposition format 0.0.4.",
"content":{"text/plain; version=0.0.4":{"schema":{"type":"string"}}}}})"};
    case RouteId::kOpenApi:
      return {"openapi", "operations", "", "",
              R"({"200":{"description":"This document.",
"content":{"application/json":{"schema":{"type":"object"}}}}})"};
    case RouteId::kPostDecide:
      return {"decide", "decisions", "",
              R"({"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/DecideRequest"}}}})",
              R"({
"200":{"description":"The decision: chosen actions in priority order, or none with a reason.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/Decision"}}}},
"400":{"$ref":"#/components/responses/Error"},
"404":{"$ref":"#/components/responses/Error"},
"415":{"$ref":"#/components/responses/Error"},
"503":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPostResponses:
      return {"recordResponse", "decisions", "",
              R"({"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/ResponseRequest"}}}})",
              R"({
"201":{"description":"Recorded.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ResponseResult"}}}},
"200":{"description":"Already recorded: the same outcome counts once.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ResponseResult"}}}},
"400":{"$ref":"#/components/responses/Error"},
"404":{"$ref":"#/components/responses/Error"},
"503":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetActions:
      return {"listActions", "catalog", "", "",
              R"({"200":{"description":"catalog_version, channels and every action with its figures.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"503":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetDecision:
      return {"getDecision", "decisions",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"The decision log record (request, catalog version, actions with probabilities, ranked candidates, profile snapshot).",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetDecisionReplay:
      return {"replayDecision", "decisions",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"{decision_id, same_catalog, identical, logged, replayed, replay (explained)}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"},
"409":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPostReload:
      return {"reloadCatalog", "catalog", "", "",
              R"({"200":{"description":"Reloaded: {reloaded, catalog_version, actions}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"description":"A file is invalid (file:line:column); the running catalog stays.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetModels:
      return {"listModels", "learning", "", "",
              R"({"200":{"description":"{models:[{id, action_id, channel, kind, responses, positives, auc (0.5-1), performance (50-100), mean_predicted, observed_rate, calibration, predictors:[{name, auc, performance, bins, active}], flags}]}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"503":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetModel:
      return {"getModel", "learning",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"},
"description":"<action>/<channel>, percent-encoded"}])", "",
              R"({"200":{"description":"One model's health (as in listModels).",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetModelsExport:
      return {"exportModels", "learning", "", "",
              R"({"200":{"description":"Model snapshot (binary, checksummed).",
"content":{"application/octet-stream":{"schema":{"type":"string","format":"binary"}}}},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPostModelsImport:
      return {"importModels", "learning", "",
              R"({"required":true,"content":{"application/octet-stream":{"schema":{"type":"string","format":"binary"}}}})",
              R"({"200":{"description":"{imported: true}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"description":"Not a valid snapshot (corrupt, truncated, another format); the running models stay.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
"409":{"description":"Learning is off (no learning.yaml).",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetUplift:
      return {"upliftReport", "reports",
              R"([{"name":"since","in":"query","required":false,"schema":{"type":"string","format":"date-time"}}])", "",
              R"({"200":{"description":"{since, until, horizon_days, control_share, skipped, overall:{target, control, uplift}, actions:[{action_id, target, control, uplift}]}; uplift values are {value, ci95:[lo,hi]} or null.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetSegments:
      return {"segmentReport", "reports", "", "",
              R"({"200":{"description":"{run, at, subscribers, total, thresholds, value_tiers, behaviour, buyer, usage, rfm: {segment: {subscribers, share, revenue, revenue_share, margin, margin_share, effort, effort_share}}, clusters:{selection, silhouette, clusters:[{id, name, description, figures, centroid}]}, clv:{status, bgnbd, gamma_gamma, mean_expected_12m}, churn:{status, scored, mean}}",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"description":"No segmentation run yet.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetTriggers:
      return {"listTriggers", "automation", "", "",
              R"({"200":{"description":"{triggers:[{name, event, when, debounce_ms, channel, outbound, journey, scope, sizing:{need, packages}, counts:{fired, debounced, not_met, offers, no_action, journeys, errors}}], journeys:[{name, steps:[{channel, wait_ms}]}], queued, dropped, latency_p99_ms}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"503":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetJourneys:
      return {"subscriberJourneys", "automation",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"{subscriber_id, journeys:[{journey, step, steps, next_at, next_channel, started_at, origin, decisions}]}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetDeadLetters:
      return {"listDeadLetters", "automation",
              R"([{"name":"limit","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":1000}}])", "",
              R"({"200":{"description":"{dead_letters:[{id, channel, subscriber_id, attempts, last_error, created_at, dead_at, payload}]}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPostRetryDelivery:
      return {"retryDelivery", "automation", "",
              R"({"required":true,"content":{"application/json":{"schema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}}}})",
              R"({"200":{"description":"{retried: id}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"},
"404":{"$ref":"#/components/responses/Error"},
"409":{"description":"Not a dead letter (pending or delivered).",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetWhoAmI:
      return {"whoAmI", "auth", "", "",
              R"({"200":{"description":"{id, name, role} of the key the request carries.",
"content":{"application/json":{"schema":{"type":"object","properties":{"id":{"type":"string"},"name":{"type":"string"},"role":{"type":"string","enum":["viewer","decision","operator","admin"]}}}}}}})"};
    case RouteId::kGetAudit:
      return {"auditLog", "auth",
              R"([{"name":"limit","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":10000}}])", "",
              R"({"200":{"description":"{entries:[{ts, actor, role, action, target, outcome, detail}]}, newest first.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetOverview:
      return {"consoleOverview", "reports", "", "",
              R"({"200":{"description":"{as_of, window_seconds, subscribers, events_per_second, decisions_per_second, series:[{t, events_per_second, decisions_per_second}], totals:{events, decisions, actions_shown, responses}, rates:{shown, accepted, converted, acceptance, conversion}, uplift:{the uplift report}, top_actions:[{action_id, name, shown, accepted, converted, acceptance, conversion}], channels:[{channel, contacts_today, caps:[{max, window_hours, all_channels}], capacity, capacity_period, capacity_used}]}",
"content":{"application/json":{"schema":{"type":"object"}}}},
"default":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kSearchSubscribers:
      return {"searchSubscribers", "profiles",
              R"([{"name":"prefix","in":"query","required":false,"schema":{"type":"string","maxLength":256}},
{"name":"limit","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":100}}])", "",
              R"({"200":{"description":"{prefix, subscribers:[ids, sorted], more}",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetConfig:
      return {"getConfigFile", "admin",
              R"([{"name":"file","in":"path","required":true,"schema":{"type":"string","enum":["catalog.yaml","policies.yaml","triggers.yaml"]}}])", "",
              R"({"200":{"description":"{file, exists, content}",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPutConfig:
      return {"putConfigFile", "admin",
              R"([{"name":"file","in":"path","required":true,"schema":{"type":"string","enum":["catalog.yaml","policies.yaml","triggers.yaml"]}}])",
              R"({"required":true,"content":{"application/yaml":{"schema":{"type":"string"}}}})",
              R"({"200":{"description":"{saved, file, reloaded, catalog_version, actions}",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"description":"Invalid: {error, problems:[{file, line, column, message}]}; nothing changed.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetSubscriberExport:
      return {"exportSubscriber", "privacy",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"{subscriber_id, exported_at, profile (attributes, aggregates, forecasts, scores, interaction history), decisions_total, decisions:[{decision_id, channel, actions, record}] (newest 1000), journeys, orders}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kDeleteSubscriber:
      return {"eraseSubscriber", "privacy",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"{erased: true, profile, journeys_ended, orders_erased}. Audited as subscriber.erase with the SHA-256 of the id.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"description":"Nothing is held about this subscriber.",
 "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}}})"};
    case RouteId::kPostOfferLink:
      return {"createOfferLink", "offers", "",
              R"({"required":true,"content":{"application/json":{"schema":{"type":"object","required":["subscriber_id","action_id"],"additionalProperties":false,"properties":{"subscriber_id":{"type":"string","maxLength":64},"action_id":{"type":"string"},"treatment":{"type":"string","description":"A treatment id or a channel; default: the action's web treatment."},"expires_in":{"oneOf":[{"type":"integer","minimum":1,"maximum":31622400},{"type":"string","example":"7d"}]}}}}}})",
              R"({"201":{"description":"{token, url, qr_png_url, qr_svg_url, subscriber_id, action_id, treatment, expires_at, nonce}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetOfferPage:
      return {"offerPage", "offers",
              R"([{"name":"token","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"The offer page (or, once accepted, its order).","content":{"text/html":{"schema":{"type":"string"}}}},
"404":{"description":"Not a valid link (forged, altered, unknown key).","content":{"text/html":{"schema":{"type":"string"}}}},
"410":{"description":"Expired, signed with a retired key, or the offer was withdrawn.","content":{"text/html":{"schema":{"type":"string"}}}}})"};
    case RouteId::kGetOfferQrPng:
      return {"offerQrPng", "offers",
              R"([{"name":"token","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"QR code of the link's URL.","content":{"image/png":{"schema":{"type":"string","format":"binary"}}}},
"404":{"$ref":"#/components/responses/Error"},"410":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetOfferQrSvg:
      return {"offerQrSvg", "offers",
              R"([{"name":"token","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"QR code of the link's URL.","content":{"image/svg+xml":{"schema":{"type":"string"}}}},
"404":{"$ref":"#/components/responses/Error"},"410":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPostOfferAccept:
      return {"acceptOffer", "offers",
              R"([{"name":"token","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"201":{"description":"{order_id, state, created: true}: the order was created and its payment started (HTML when the request accepts text/html).",
"content":{"application/json":{"schema":{"type":"object"}}}},
"200":{"description":"The token was accepted before: the same order_id (created: false).",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"},"409":{"$ref":"#/components/responses/Error"},
"410":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetOrders:
      return {"listOrders", "offers",
              R"([{"name":"limit","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":1000}},{"name":"cursor","in":"query","required":false,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"{orders:[order], next_cursor (null on the last page)}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kGetOrder:
      return {"getOrder", "offers",
              R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}}])", "",
              R"({"200":{"description":"{order_id, state, subscriber_id, action_id, treatment, amount, amount_minor, currency, created_at, updated_at, payment_id, failure_reason, erased, history:[{state, at, note}]}.",
"content":{"application/json":{"schema":{"type":"object"}}}},
"404":{"$ref":"#/components/responses/Error"}})"};
    case RouteId::kPostPaymentWebhook:
      return {"paymentWebhook", "offers",
              R"([{"name":"X-Kairos-Payment-Timestamp","in":"header","required":true,"schema":{"type":"integer"}},{"name":"X-Kairos-Payment-Signature","in":"header","required":true,"schema":{"type":"string","example":"sha256=..."}}])",
              R"({"required":true,"content":{"application/json":{"schema":{"type":"object","required":["event_id","payment_id","order_id","status","created"],"properties":{"event_id":{"type":"string"},"payment_id":{"type":"string"},"order_id":{"type":"string"},"status":{"type":"string","enum":["succeeded","failed"]},"reason":{"type":"string"},"created":{"type":"integer"}}}}}})",
              R"({"200":{"description":"Applied: the order in its new state.","content":{"application/json":{"schema":{"type":"object"}}}},
"400":{"$ref":"#/components/responses/Error"},
"401":{"description":"Bad signature or stale timestamp.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
"404":{"$ref":"#/components/responses/Error"},
"409":{"description":"A replayed event, or an order already settled.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}}})"};
  }
  return {};
}

std::string_view RequiredRole(Access access) {
  switch (access) {
    case Access::kPublic: return "";
    case Access::kMetrics:
    case Access::kViewer: return "viewer";
    case Access::kDecision: return "decision";
    case Access::kOperator: return "operator";
    case Access::kAdmin: return "admin";
  }
  return "";
}

constexpr std::string_view kComponents = R"({
"schemas":{
 "Error":{"type":"object","required":["code","message"],"properties":{
  "code":{"type":"string","enum":["invalid_argument","not_found","already_exists","out_of_range",
   "too_large","failed_precondition","unavailable","corruption","io_error","internal",
   "unauthenticated","permission_denied","rate_limited"],
   "description":"Stable symbolic code; match on it, never on the message."},
  "message":{"type":"string"},
  "field":{"type":"string",
   "description":"JSON pointer or name of the offending field, when known."}}},
 "ErrorBody":{"type":"object","required":["error"],"properties":{
  "error":{"$ref":"#/components/schemas/Error"}}},
 "Rejection":{"type":"object","required":["line","code","error"],"properties":{
  "line":{"type":"integer","description":"1-based line of the NDJSON body."},
  "code":{"type":"string"},"error":{"type":"string"},"field":{"type":"string"}}},
 "IngestResult":{"type":"object","required":["accepted","duplicates","rejected"],"properties":{
  "accepted":{"type":"integer"},
  "duplicates":{"type":"integer","description":"Events whose event_id was already applied."},
  "rejected":{"type":"array","items":{"$ref":"#/components/schemas/Rejection"}}}},
 "Event":{"type":"object","required":["event_id","subscriber_id","type","ts"],
  "description":"Envelope plus the type's fields (top level, see schema.yaml); no others.",
  "properties":{
   "event_id":{"type":"string","minLength":1,"maxLength":128,
     "description":"Unique; ingestion is idempotent on it."},
   "subscriber_id":{"type":"string","minLength":1,"maxLength":64},
   "type":{"type":"string","example":"usage"},
   "ts":{"oneOf":[{"type":"string","format":"date-time"},
     {"type":"integer","description":"epoch milliseconds"}]}},
  "additionalProperties":true},
 "Profile":{"type":"object","properties":{"events_applied":{"type":"integer"}},
  "additionalProperties":true},
 "Health":{"type":"object","properties":{"status":{"type":"string"}}},
 "DecideRequest":{"type":"object","required":["subscriber_id","channel"],"properties":{
  "subscriber_id":{"type":"string"},
  "channel":{"type":"string","description":"One of the channels of policies.yaml."},
  "context":{"type":"object","description":"Fields declared under context: in catalog.yaml."},
  "limit":{"type":"integer","minimum":1,"maximum":100},
  "explain":{"type":"boolean","description":"Add every candidate's stage, reason, values and scores."},
  "dry_run":{"type":"boolean","description":"Decide without recording impressions or logging."}},
  "additionalProperties":false},
 "Decision":{"type":"object","required":["decision_id","actions","no_action_reason"],"properties":{
  "decision_id":{"type":"string"},"subscriber_id":{"type":"string"},"channel":{"type":"string"},
  "ts":{"type":"string","format":"date-time"},
  "actions":{"type":"array","items":{"type":"object","properties":{
   "action_id":{"type":"string"},"name":{"type":"string"},"issue":{"type":"string"},
   "group":{"type":"string"},"type":{"type":"string"},"treatment":{"type":"string"},
   "channel":{"type":"string"},"content":{"type":"object"},"priority":{"type":"number"},
   "propensity":{"type":"number"},"value":{"type":"number"},"cost":{"type":"number"},
   "mandatory":{"type":"boolean"}}}},
  "no_action_reason":{"type":"string","nullable":true},
  "control_group":{"type":"boolean"},"catalog_version":{"type":"string"},
  "dry_run":{"type":"boolean"},"explanation":{"type":"object"}}},
 "ResponseRequest":{"type":"object","required":["decision_id","action_id","outcome"],"properties":{
  "decision_id":{"type":"string"},"action_id":{"type":"string"},
  "outcome":{"type":"string","enum":["accepted","rejected","clicked","converted","ignored"]},
  "subscriber_id":{"type":"string","description":"Optional: checked against the decision's."}},
  "additionalProperties":false},
 "ResponseResult":{"type":"object","properties":{"recorded":{"type":"boolean"},
  "duplicate":{"type":"boolean"},"subscriber_id":{"type":"string"}}}},
"securitySchemes":{
 "bearer":{"type":"http","scheme":"bearer","description":"An API key from `kairos keys create`."},
 "apiKey":{"type":"apiKey","in":"header","name":"X-API-Key"}},
"responses":{
 "Error":{"description":"An error object.",
  "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
 "Unauthenticated":{"description":"No API key, a malformed, unknown or revoked one.",
  "headers":{"WWW-Authenticate":{"schema":{"type":"string"}}},
  "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
 "Forbidden":{"description":"The key's role may not call this operation.",
  "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}},
 "RateLimited":{"description":"The key is over its rate limit.",
  "headers":{"Retry-After":{"schema":{"type":"integer"},"description":"Seconds to wait."}},
  "content":{"application/json":{"schema":{"$ref":"#/components/schemas/ErrorBody"}}}}}})";

}  // namespace

std::string OpenApiJson(int64_t max_body_bytes, int64_t max_batch_events) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  auto raw = [&w](std::string_view json, rapidjson::Type type) {
    w.RawValue(json.data(), json.size(), type);
  };
  w.StartObject();
  w.Key("openapi");
  w.String("3.0.3");
  w.Key("info");
  w.StartObject();
  w.Key("title");
  w.String("Kairos");
  w.Key("version");
  w.String("1");
  w.Key("description");
  std::string description =
      "Real-time next-best-action engine. Errors are {\"error\":{\"code\",\"message\","
      "\"field\"}} with a fitting HTTP status. Limits of this server: request bodies up to " +
      std::to_string(max_body_bytes) +
      " bytes (413 before the body is read), NDJSON batches up "
      "to " +
      std::to_string(max_batch_events) + " events (413).";
  w.String(description.data(), static_cast<rapidjson::SizeType>(description.size()));
  w.EndObject();

  w.Key("paths");
  w.StartObject();
  // Group operations by path: routes sharing a pattern become methods of one path item.
  std::span<const Route> routes = Routes();
  for (size_t i = 0; i < routes.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen = seen || routes[j].pattern == routes[i].pattern;
    if (seen) continue;
    w.Key(routes[i].pattern.data(), static_cast<rapidjson::SizeType>(routes[i].pattern.size()));
    w.StartObject();
    for (size_t j = i; j < routes.size(); ++j) {
      const Route& r = routes[j];
      if (r.pattern != routes[i].pattern) continue;
      std::string method(r.method);
      for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      w.Key(method.data(), static_cast<rapidjson::SizeType>(method.size()));
      Operation op = OperationFor(r.id);
      w.StartObject();
      w.Key("operationId");
      w.String(op.operation_id.data(), static_cast<rapidjson::SizeType>(op.operation_id.size()));
      w.Key("summary");
      w.String(r.summary.data(), static_cast<rapidjson::SizeType>(r.summary.size()));
      w.Key("tags");
      w.StartArray();
      w.String(op.tag.data(), static_cast<rapidjson::SizeType>(op.tag.size()));
      w.EndArray();
      if (!op.parameters.empty()) {
        w.Key("parameters");
        raw(op.parameters, rapidjson::kArrayType);
      }
      if (!op.request_body.empty()) {
        w.Key("requestBody");
        raw(op.request_body, rapidjson::kObjectType);
      }
      const std::string_view role = RequiredRole(r.access);
      w.Key("security");
      w.StartArray();
      if (!role.empty()) {
        for (const char* scheme : {"bearer", "apiKey"}) {
          w.StartObject();
          w.Key(scheme);
          w.StartArray();
          w.EndArray();
          w.EndObject();
        }
      }
      w.EndArray();
      if (!role.empty()) {
        w.Key("x-kairos-role");
        w.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
      }
      w.Key("responses");
      if (role.empty()) {
        raw(op.responses, rapidjson::kObjectType);
      } else {
        // Every protected operation also answers 401, 403 and 429: appended to its own list.
        std::string responses(op.responses);
        responses.pop_back();  // the closing brace
        responses +=
            R"(,"401":{"$ref":"#/components/responses/Unauthenticated"},)"
            R"("403":{"$ref":"#/components/responses/Forbidden"},)"
            R"("429":{"$ref":"#/components/responses/RateLimited"}})";
        raw(responses, rapidjson::kObjectType);
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();

  w.Key("components");
  raw(kComponents, rapidjson::kObjectType);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos
