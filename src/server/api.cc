#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/file_util.h"
#include "common/time_format.h"
#include "schema/json_write.h"
#include "segment/segment_job.h"
#include "server/http_json.h"
#include "server/input_limits.h"
#include "server/openapi.h"
#include "server/static_files.h"

namespace kairos {
namespace {


bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsBlankText(std::string_view s) { return std::all_of(s.begin(), s.end(), IsBlank); }

// Counts the lines holding something other than blanks (the engine skips the others), stopping
// early once `limit` is exceeded: the caller only needs to know whether it is.
int64_t CountEventLines(std::string_view body, int64_t limit) {
  int64_t n = 0;
  size_t pos = 0;
  while (pos < body.size() && n <= limit) {
    const void* nl = std::memchr(body.data() + pos, '\n', body.size() - pos);
    size_t end = nl ? static_cast<const char*>(nl) - body.data() : body.size();
    if (!IsBlankText(body.substr(pos, end - pos))) ++n;
    pos = end + 1;
  }
  return n;
}

HttpResponse JsonResponse(unsigned status, const rapidjson::StringBuffer& sb) {
  HttpResponse res;
  res.status = status;
  res.body.assign(sb.GetString(), sb.GetSize());
  return res;
}

// Reads the one query parameter a route takes (`name`) into *value ("" when absent); any other
// parameter or a malformed one is a 400, returned.
std::optional<HttpResponse> QueryParam(std::string_view query, std::string_view name, std::string* value) {
  value->clear();
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (eq == std::string_view::npos || !PercentDecode(pair.substr(eq + 1), value)) {
      return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed query parameter " + std::string(key.substr(0, 64)),
                           std::string(key.substr(0, 64)));
    }
    if (key != name) {
      return ErrorResponse(400, ErrorCode::kInvalidArgument,
                           "unknown query parameter " + std::string(key.substr(0, 64)) + "; known: " + std::string(name),
                           std::string(key.substr(0, 64)));
    }
  }
  return std::nullopt;
}


void WriteCounts(JsonWriter* w, const IngestResult& r) {
  w->Key("accepted");
  w->Int64(r.accepted);
  w->Key("duplicates");
  w->Int64(r.duplicates);
  w->Key("rejected");
  w->StartArray();
  for (const Rejection& rej : r.rejected) {
    w->StartObject();
    w->Key("line");
    w->Int64(rej.line);
    w->Key("code");
    WriteString(w, ErrorCodeName(rej.code));
    w->Key("error");
    WriteString(w, rej.error);
    if (!rej.field.empty()) {
      w->Key("field");
      WriteString(w, rej.field);
    }
    w->EndObject();
  }
  w->EndArray();
}

HttpResponse Unavailable() {
  return ErrorResponse(503, ErrorCode::kUnavailable,
                       "not ready: recovery in progress or shutting down");
}

}  // namespace

HttpResponse ErrorResponse(unsigned status, ErrorCode code, std::string_view message,
                           std::string_view field) {
  HttpResponse res;
  res.status = status;
  res.body = ErrorJson(code, message, field);
  return res;
}

HttpResponse ErrorResponse(const Status& status) {
  return ErrorResponse(HttpStatusFor(status.code()), status.code(), status.message(),
                       status.field());
}

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

Api::Api(const ServerOptions& options, const Clock* clock, const HttpMetrics* metrics,
         Authenticator* auth)
    : options_(options),
      clock_(clock),
      metrics_(metrics),
      auth_(auth),
      audit_(options.audit_path),
      openapi_(OpenApiJson(options.max_body_bytes, options.max_batch_events)),
      console_(clock) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) exe_path_ = exe.string();
}

bool Api::IsBlocking(const RouteMatch& match) const {
  return match.kind == RouteMatch::Kind::kFound && match.route->blocking && engine() != nullptr;
}

HttpResponse Api::Handle(const RouteMatch& match, const HttpRequest& req) const {
  switch (match.kind) {
    case RouteMatch::Kind::kNotFound:
      // Any other GET outside the API is the console (its files, or one of its pages).
      if (ConsoleFiles::Serves(req.method, req.path)) return ConsoleFile(req);
      return ErrorResponse(404, ErrorCode::kNotFound, "no route for " + req.path);
    case RouteMatch::Kind::kMethodNotAllowed: {
      HttpResponse res = ErrorResponse(
          405, ErrorCode::kInvalidArgument,
          "method " + req.method + " is not allowed on " + req.path + "; allowed: " + match.allow);
      res.allow = match.allow;
      return res;
    }
    case RouteMatch::Kind::kFound:
      break;
  }
  // Depth and string limits before any parser sees a JSON body (the models snapshot is binary).
  if (match.route->id != RouteId::kPostModelsImport) {
    if (std::optional<HttpResponse> bad = CheckJsonBodyLimits(req, options_, *metrics_)) return *bad;
  }
  Engine* engine = this->engine();
  if (match.route->needs_engine && engine == nullptr) return Unavailable();
  switch (match.route->id) {
    case RouteId::kPostEvents:
      return PostEvents(req, engine);
    case RouteId::kGetSubscriber:
      return GetSubscriber(match, engine);
    case RouteId::kHealthz: {
      HttpResponse res;
      res.body = R"({"status":"ok"})";
      return res;
    }
    case RouteId::kReadyz: {
      if (!ready()) return Unavailable();
      HttpResponse res;
      res.body = R"({"status":"ready"})";
      return res;
    }
    case RouteId::kMetrics:
      return Metrics(engine);
    case RouteId::kOpenApi: {
      HttpResponse res;
      res.body = openapi_;
      return res;
    }
    case RouteId::kGetWhoAmI:
      return WhoAmI(req);
    case RouteId::kGetAudit:
      return GetAudit(req);
    case RouteId::kGetSubscriberExport:
      return GetSubscriberExport(match, req, engine);
    case RouteId::kDeleteSubscriber:
      return DeleteSubscriber(match, req, engine);
    case RouteId::kPostOfferLink:
    case RouteId::kGetOfferPage:
    case RouteId::kGetOfferQrPng:
    case RouteId::kGetOfferQrSvg:
    case RouteId::kPostOfferAccept:
    case RouteId::kGetOrders:
    case RouteId::kGetOrder:
    case RouteId::kPostPaymentWebhook:
      return HandleOffers(match, req);
    case RouteId::kSearchSubscribers: {
      ConsoleResponse c = console_.SearchSubscribers(req.query, engine);
      HttpResponse res;
      res.status = c.status;
      res.body = std::move(c.body);
      return res;
    }
    case RouteId::kGetConfig:
      return GetConsoleConfig(match, engine);
    case RouteId::kGetOverview:
    case RouteId::kPutConfig:
      break;
    case RouteId::kPostDecide:
    case RouteId::kPostResponses:
    case RouteId::kGetActions:
    case RouteId::kGetDecision:
    case RouteId::kGetDecisionReplay:
    case RouteId::kPostReload:
    case RouteId::kGetModels:
    case RouteId::kGetModel:
    case RouteId::kGetModelsExport:
    case RouteId::kPostModelsImport:
    case RouteId::kGetUplift:
      break;
    case RouteId::kGetTriggers:
    case RouteId::kGetJourneys:
    case RouteId::kGetDeadLetters:
    case RouteId::kPostRetryDelivery:
      return HandleAutomation(match, req, engine);
    case RouteId::kGetSegments: {
      // Written atomically by the segmentation job (kairos segment, or serve's schedule).
      const std::string path = SegmentReportPath(engine->workspace().dir);
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        return ErrorResponse(404, ErrorCode::kNotFound,
                             "no segmentation run yet: run kairos segment, or set schedule in segments.yaml");
      }
      Result<std::string> body = ReadFile(path);
      if (!body.ok()) return ErrorResponse(500, body.status().code(), body.status().message());
      HttpResponse res;
      res.body = std::move(*body);
      return res;
    }
  }
  DecisionService* decisions = this->decisions();
  if (decisions == nullptr) return Unavailable();
  switch (match.route->id) {
    case RouteId::kPostDecide:
      return PostDecide(req, decisions);
    case RouteId::kPostResponses:
      return PostResponses(req, decisions);
    case RouteId::kGetActions:
      return GetActions(decisions);
    case RouteId::kGetDecision:
      return GetDecision(match, decisions, false);
    case RouteId::kGetDecisionReplay:
      return GetDecision(match, decisions, true);
    case RouteId::kPostReload: {
      HttpResponse res = PostReload(engine, decisions);
      Status audited = Audit(req, "config.reload", "catalog.yaml, policies.yaml, learning.yaml, triggers.yaml",
                             res.status == 200 ? "ok" : "refused: " + std::to_string(res.status));
      if (!audited.ok()) return ErrorResponse(audited);
      return res;
    }
    case RouteId::kGetModels: {
      HttpResponse res;
      res.body = decisions->ModelsJson();
      return res;
    }
    case RouteId::kGetModel:
      return GetModel(match, decisions);
    case RouteId::kGetModelsExport: {
      HttpResponse res;
      res.content_type = "application/octet-stream";
      res.body = decisions->ExportModels();
      return res;
    }
    case RouteId::kPostModelsImport: {
      Status s = decisions->ImportModels(req.body);
      Status audited = Audit(req, "models.import", std::to_string(req.body.size()) + " bytes",
                             s.ok() ? "ok" : "refused: " + s.message());
      if (!audited.ok()) return ErrorResponse(audited);
      if (s.code() == ErrorCode::kFailedPrecondition) return ErrorResponse(409, s.code(), s.message());
      if (!s.ok()) {
        return ErrorResponse(s.code() == ErrorCode::kIoError ? 500 : 400,
                             s.code() == ErrorCode::kIoError ? s.code() : ErrorCode::kInvalidArgument,
                             s.message() + " (the running models stay in use)");
      }
      HttpResponse res;
      res.body = R"({"imported":true})";
      return res;
    }
    case RouteId::kGetUplift:
      return GetUplift(req, decisions);
    case RouteId::kGetOverview: {
      ConsoleResponse c = console_.Overview(engine, decisions);
      HttpResponse res;
      res.status = c.status;
      res.body = std::move(c.body);
      return res;
    }
    case RouteId::kPutConfig:
      return PutConsoleConfig(match, req, engine, decisions);
    default:
      break;
  }
  return ErrorResponse(500, ErrorCode::kInternal, "route without a handler");
}

Status Api::Audit(const HttpRequest& req, std::string action, std::string target,
                  std::string outcome, std::string detail_json) const {
  if (audit_.path().empty()) return Status::Ok();
  AuditEntry e;
  e.actor = req.principal.key_id.empty() ? "anonymous" : "key:" + req.principal.key_id;
  if (!req.principal.key_id.empty()) e.role = std::string(RoleName(req.principal.role));
  e.action = std::move(action);
  e.target = std::move(target);
  e.outcome = std::move(outcome);
  e.detail_json = std::move(detail_json);
  return audit_.Append(e, clock_->Now());
}

HttpResponse Api::HandleOffers(const RouteMatch& match, const HttpRequest& req) const {
  const OfferRoutes* offers = this->offers();
  if (offers == nullptr) return Unavailable();
  switch (match.route->id) {
    case RouteId::kPostOfferLink:
      return offers->CreateLink(req);
    case RouteId::kGetOfferPage:
      return offers->LandingPage(match.param);
    case RouteId::kGetOfferQrPng:
      return offers->QrCode(match.param, true);
    case RouteId::kGetOfferQrSvg:
      return offers->QrCode(match.param, false);
    case RouteId::kPostOfferAccept:
      return offers->Accept(req, match.param);
    case RouteId::kGetOrders:
      return offers->ListOrders(req);
    case RouteId::kGetOrder:
      return offers->GetOrder(match.param);
    case RouteId::kPostPaymentWebhook:
      return offers->PaymentWebhook(req);
    default:
      return ErrorResponse(500, ErrorCode::kInternal, "route without a handler");
  }
}

HttpResponse Api::WhoAmI(const HttpRequest& req) const {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("id");
  WriteString(&w, req.principal.key_id);
  w.Key("name");
  WriteString(&w, req.principal.name);
  w.Key("role");
  WriteString(&w, RoleName(req.principal.role));
  w.EndObject();
  HttpResponse res;
  res.body.assign(sb.GetString(), sb.GetSize());
  return res;
}

HttpResponse Api::ConsoleFile(const HttpRequest& req) const {
  // console.dir in kairos.yaml once the workspace is open, else next to this binary.
  Engine* engine = this->engine();
  const ConsoleFiles files(ConsoleFiles::Locate(engine ? engine->workspace().config.console.dir : "",
                                                engine ? engine->workspace().dir : "", exe_path_));
  StaticFile f = files.Get(req.path);
  HttpResponse res;
  res.status = f.status;
  res.content_type = std::move(f.content_type);
  res.body = std::move(f.body);
  res.headers = std::move(f.headers);
  return res;
}

HttpResponse Api::GetConsoleConfig(const RouteMatch& match, Engine* engine) const {
  std::string file;
  if (!PercentDecode(match.param, &file)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed percent-encoding in the file name", "file");
  }
  ConsoleResponse c = console_.GetConfig(file, engine->workspace().dir);
  HttpResponse res;
  res.status = c.status;
  res.body = std::move(c.body);
  return res;
}

HttpResponse Api::PutConsoleConfig(const RouteMatch& match, const HttpRequest& req, Engine* engine,
                                   DecisionService* decisions) const {
  std::string file;
  if (!PercentDecode(match.param, &file)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed percent-encoding in the file name", "file");
  }
  std::string outcome;
  ConsoleResponse c = console_.PutConfig(file, req.body, engine->workspace().dir, decisions, automation(), &outcome);
  // Accepted or refused, a configuration change is audited with the key that asked for it.
  Status audited = Audit(req, "config.write", file, outcome,
                         "{\"bytes\":" + std::to_string(req.body.size()) + "}");
  if (!audited.ok()) return ErrorResponse(audited);
  HttpResponse res;
  res.status = c.status;
  res.body = std::move(c.body);
  return res;
}

HttpResponse Api::GetAudit(const HttpRequest& req) const {
  int64_t limit = 100;
  std::string v;
  if (std::optional<HttpResponse> bad = QueryParam(req.query, "limit", &v)) return *bad;
  if (!v.empty()) {
    char* end = nullptr;
    limit = std::strtoll(v.c_str(), &end, 10);
    if (*end != '\0' || limit < 1 || limit > 10000) {
      return ErrorResponse(400, ErrorCode::kInvalidArgument, "limit must be an integer in 1..10000",
                           "limit");
    }
  }
  Result<std::vector<std::string>> lines = audit_.Tail(static_cast<size_t>(limit));
  if (!lines.ok()) return ErrorResponse(lines.status());
  HttpResponse res;
  res.body = "{\"entries\":[";
  for (size_t i = 0; i < lines->size(); ++i) {
    if (i > 0) res.body.push_back(',');
    res.body += (*lines)[i];
  }
  res.body += "]}";
  return res;
}

HttpResponse Api::PostEvents(const HttpRequest& req, Engine* engine) const {
  std::string media = MediaType(req.content_type);
  bool ndjson = media == "application/x-ndjson" || media == "application/ndjson";
  if (!ndjson && !media.empty() && media != "application/json") {
    return ErrorResponse(415, ErrorCode::kInvalidArgument,
                         "Content-Type must be application/json (one event) or "
                         "application/x-ndjson (a batch), got " +
                             req.content_type,
                         "Content-Type");
  }
  if (IsBlankText(req.body)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "empty body: expected an event");
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  if (!ndjson) {
    Result<IngestResult> r = engine->IngestJson(req.body);
    if (!r.ok()) return ErrorResponse(r.status());
    w.StartObject();
    WriteCounts(&w, *r);
    w.EndObject();
    return JsonResponse(200, sb);
  }

  int64_t lines = CountEventLines(req.body, options_.max_batch_events);
  if (lines > options_.max_batch_events) {
    metrics_->CountLimit(InputLimit::kBatchEvents);
    return ErrorResponse(413, ErrorCode::kTooLarge,
                         "the batch has more than " + std::to_string(options_.max_batch_events) +
                             " events (server.max_batch_events); split it");
  }
  IngestResult r = engine->IngestNdjson(req.body, 1);
  bool none_valid = r.accepted + r.duplicates == 0 && !r.rejected.empty();
  w.StartObject();
  if (none_valid) {
    const Rejection& first = r.rejected.front();
    std::string message = "no valid event in the batch (" + std::to_string(r.rejected.size()) +
                          " rejected); line " + std::to_string(first.line) + ": " + first.error;
    // The field is unambiguous only when a single line was sent.
    WriteErrorMember(&w, ErrorCode::kInvalidArgument, message,
                     r.rejected.size() == 1 ? std::string_view(first.field) : std::string_view());
  }
  WriteCounts(&w, r);
  w.EndObject();
  return JsonResponse(none_valid ? 400 : 200, sb);
}

HttpResponse Api::GetSubscriber(const RouteMatch& match, Engine* engine) const {
  std::string id;
  if (!PercentDecode(match.param, &id)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument,
                         "malformed percent-encoding in the subscriber id", "id");
  }
  Result<std::string> profile = engine->ProfileJson(id, clock_->Now());
  if (!profile.ok()) return ErrorResponse(profile.status());
  HttpResponse res;
  res.body = std::move(profile).value();
  return res;
}

namespace {
// Decide and responses take one JSON object.
std::optional<HttpResponse> CheckJsonBody(const HttpRequest& req) {
  const std::string media = MediaType(req.content_type);
  if (!media.empty() && media != "application/json") {
    return ErrorResponse(415, ErrorCode::kInvalidArgument,
                         "Content-Type must be application/json, got " + req.content_type, "Content-Type");
  }
  if (IsBlankText(req.body)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "empty body: expected a JSON object");
  }
  return std::nullopt;
}
}  // namespace

HttpResponse Api::PostDecide(const HttpRequest& req, DecisionService* decisions) const {
  if (auto bad = CheckJsonBody(req)) return *bad;
  Result<DecideOutcome> out = decisions->Decide(req.body);
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse res;
  res.body = std::move(out->json);
  return res;
}

HttpResponse Api::PostResponses(const HttpRequest& req, DecisionService* decisions) const {
  if (auto bad = CheckJsonBody(req)) return *bad;
  Result<ResponseOutcome> out = decisions->Respond(req.body);
  if (!out.ok()) return ErrorResponse(out.status());
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("recorded");
  w.Bool(out->recorded);
  w.Key("duplicate");
  w.Bool(!out->recorded);
  w.Key("subscriber_id");
  WriteString(&w, out->subscriber_id);
  w.EndObject();
  return JsonResponse(out->recorded ? 201 : 200, sb);
}

HttpResponse Api::GetActions(DecisionService* decisions) const {
  const auto d = decisions->decisioning();
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("catalog_version");
  WriteString(&w, d->version);
  w.Key("channels");
  w.StartArray();
  for (const ChannelDef& c : d->policies.channels) WriteString(&w, c.name);
  w.EndArray();
  w.Key("actions");
  w.StartArray();
  for (const Action& a : d->catalog.actions) {
    w.StartObject();
    w.Key("action_id");
    WriteString(&w, a.id);
    w.Key("name");
    WriteString(&w, a.name);
    w.Key("type");
    w.String(ActionTypeName(a.type));
    w.Key("issue");
    WriteString(&w, d->catalog.issues[a.issue].name);
    w.Key("group");
    WriteString(&w, d->catalog.groups[a.group].name);
    w.Key("value");
    if (a.value_expr) WriteString(&w, a.value_expr->source());
    else w.Double(a.value);
    w.Key("cost");
    w.Double(a.cost);
    w.Key("propensity");
    w.Double(a.propensity);
    w.Key("lever");
    w.Double(a.lever);
    w.Key("channels");
    w.StartArray();
    for (const Treatment& t : a.treatments) WriteString(&w, d->policies.channels[t.channel].name);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, sb);
}

HttpResponse Api::GetDecision(const RouteMatch& match, DecisionService* decisions, bool replay) const {
  std::string id;
  if (!PercentDecode(match.param, &id)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed percent-encoding in the decision id", "id");
  }
  Result<std::string> out = replay ? decisions->Replay(id) : decisions->DecisionRecord(id);
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse res;
  res.body = std::move(out).value();
  return res;
}

HttpResponse Api::GetModel(const RouteMatch& match, DecisionService* decisions) const {
  std::string id;
  if (!PercentDecode(match.param, &id)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed percent-encoding in the model id", "id");
  }
  Result<std::string> out = decisions->ModelJson(id);
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse res;
  res.body = std::move(out).value();
  return res;
}

HttpResponse Api::GetUplift(const HttpRequest& req, DecisionService* decisions) const {
  TimestampMs since = clock_->Now() - 30LL * 86400000;
  std::string value;
  if (std::optional<HttpResponse> bad = QueryParam(req.query, "since", &value)) return *bad;
  if (!value.empty()) {
    auto t = ParseRfc3339(value);
    if (!t.ok()) {
      return ErrorResponse(400, ErrorCode::kInvalidArgument, "since: " + t.status().message(), "since");
    }
    since = *t;
  }
  Result<std::string> out = decisions->UpliftJson(since);
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse res;
  res.body = std::move(out).value();
  return res;
}

HttpResponse Api::PostReload(Engine* engine, DecisionService* decisions) const {
  Automation* automation = this->automation();
  Status s = automation != nullptr ? automation->Reload() : decisions->Reload(engine->workspace().dir);
  if (!s.ok()) {
    // The files are the operator's input: an invalid file is a 400 naming file:line:column.
    return ErrorResponse(s.code() == ErrorCode::kIoError ? 500 : 400, s.code(),
                         s.message() + " (the running catalog and policies stay in use)", s.field());
  }
  const auto d = decisions->decisioning();
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("reloaded");
  w.Bool(true);
  w.Key("catalog_version");
  WriteString(&w, d->version);
  w.Key("actions");
  w.Int64(static_cast<int64_t>(d->catalog.actions.size()));
  w.EndObject();
  return JsonResponse(200, sb);
}

HttpResponse Api::Metrics(Engine* engine) const {
  HttpResponse res;
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  PrometheusWriter w(&res.body);
  w.Family("kairos_ready", "gauge", "1 when the node serves /v1/, 0 during recovery or shutdown.");
  w.Sample("kairos_ready", {}, ready() ? 1 : 0);
  if (auth_ != nullptr) {
    const Authenticator::Counts c = auth_->counts();
    w.Family("kairos_auth_requests_total", "counter",
             "Key checks on protected routes by outcome: ok, missing (no key), unknown (malformed or "
             "not a key of this workspace), revoked, forbidden (role), rate_limited.");
    const std::pair<std::string_view, uint64_t> outcomes[] = {
        {"ok", c.ok},           {"missing", c.missing},     {"unknown", c.unknown},
        {"revoked", c.revoked}, {"forbidden", c.forbidden}, {"rate_limited", c.rate_limited}};
    for (const auto& [outcome, n] : outcomes) {
      w.Sample("kairos_auth_requests_total", {{"outcome", outcome}}, static_cast<double>(n));
    }
    w.Family("kairos_api_keys", "gauge", "API keys in force (not revoked).");
    w.Sample("kairos_api_keys", {}, static_cast<double>(auth_->active_keys()));
  }
  if (const OfferRoutes* offers = this->offers()) offers->Metrics(w);
  if (engine != nullptr) {
    EngineStats s = engine->Stats();
    struct Item {
      std::string_view name, type, help;
      double value;
    };
    const Item items[] = {
        {"kairos_events_accepted_total", "counter", "Events applied.",
         static_cast<double>(s.events_accepted)},
        {"kairos_events_duplicate_total", "counter",
         "Events skipped because their event_id was already applied.",
         static_cast<double>(s.events_duplicate)},
        {"kairos_events_rejected_total", "counter", "Events refused as invalid.",
         static_cast<double>(s.events_rejected)},
        {"kairos_wal_commits_total", "counter", "WAL group commits (fsyncs).",
         static_cast<double>(s.commits)},
        {"kairos_wal_bytes_total", "counter", "Bytes appended to the WAL.",
         static_cast<double>(s.wal_bytes)},
        {"kairos_checkpoints_total", "counter", "Store checkpoints.",
         static_cast<double>(s.checkpoints)},
        {"kairos_subscribers", "gauge", "Subscriber profiles in the store.",
         static_cast<double>(s.subscribers)},
        {"kairos_recovered_events", "gauge", "Events replayed from the WAL at start-up.",
         static_cast<double>(s.recovered_events)},
        {"kairos_recovery_seconds", "gauge", "Duration of the start-up recovery.",
         static_cast<double>(s.recovery_ms) / 1000.0},
    };
    for (const Item& item : items) {
      w.Family(item.name, item.type, item.help);
      w.Sample(item.name, {}, item.value);
    }
  }
  if (DecisionService* decisions = this->decisions()) {
    const DecisionStats s = decisions->Stats();
    struct Item {
      std::string_view name, help;
      int64_t value;
    };
    const Item items[] = {
        {"kairos_decisions_total", "Decisions made (dry runs included).", s.decisions},
        {"kairos_decisions_no_action_total", "Decisions that chose no action.", s.no_action},
        {"kairos_decisions_control_group_total", "Decisions for control-group subscribers.", s.control_group},
        {"kairos_actions_shown_total", "Actions returned by decisions.", s.actions_shown},
        {"kairos_responses_total", "Responses recorded.", s.responses},
        {"kairos_responses_duplicate_total", "Responses already recorded (counted once).", s.duplicate_responses},
        {"kairos_catalog_reloads_total", "Successful catalog reloads.", s.reloads},
        {"kairos_catalog_reload_failures_total", "Reloads refused (the running catalog stayed).", s.failed_reloads},
        {"kairos_model_updates_total", "Responses the adaptive models learned from.", s.model_updates},
        {"kairos_response_timeouts_total", "Shown actions recorded as ignored after responses.timeout.", s.timeouts},
        {"kairos_decisions_explored_total", "Decisions that explored with a random order (epsilon-greedy).", s.explored},
    };
    for (const Item& item : items) {
      w.Family(item.name, "counter", item.help);
      w.Sample(item.name, {}, static_cast<double>(item.value));
    }
  }
  AutomationMetrics(w);
  metrics_->AppendText(&w);
  return res;
}

HttpResponse Api::HandleAutomation(const RouteMatch& match, const HttpRequest& req, Engine* engine) const {
  Automation* automation = this->automation();
  if (automation == nullptr) return Unavailable();
  HttpResponse res;
  switch (match.route->id) {
    case RouteId::kGetTriggers:
      res.body = automation->triggers().TriggersJson();
      return res;
    case RouteId::kGetJourneys: {
      std::string id;
      if (!PercentDecode(match.param, &id)) {
        return ErrorResponse(400, ErrorCode::kInvalidArgument, "malformed percent-encoding in the subscriber id", "id");
      }
      Profile profile;
      if (Status s = engine->ReadProfile(id, &profile); !s.ok()) return ErrorResponse(s);
      res.body = automation->journeys().SubscriberJson(id);
      return res;
    }
    case RouteId::kGetDeadLetters: {
      int64_t limit = 100;
      std::string q;
      if (std::optional<HttpResponse> bad = QueryParam(req.query, "limit", &q)) return *bad;
      if (!q.empty()) {
        char* end = nullptr;
        limit = std::strtoll(q.c_str(), &end, 10);
        if (end != q.c_str() + q.size() || limit < 1 || limit > 1000) {
          return ErrorResponse(400, ErrorCode::kInvalidArgument, "limit must be an integer 1..1000, got \"" + q.substr(0, 32) + "\"", "limit");
        }
      }
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      w.StartObject();
      w.Key("dead_letters");
      w.StartArray();
      for (const channel::DeadLetter& d : automation->dispatcher().DeadLetters(static_cast<size_t>(limit))) {
        w.StartObject();
        w.Key("id");
        WriteString(&w, d.id);
        w.Key("channel");
        WriteString(&w, d.channel);
        w.Key("subscriber_id");
        WriteString(&w, d.subscriber_id);
        w.Key("attempts");
        w.Int(d.attempts);
        w.Key("last_error");
        WriteString(&w, d.last_error);
        w.Key("created_at");
        json::Time(w, d.created_ms);
        w.Key("dead_at");
        json::Time(w, d.dead_ms);
        w.Key("payload");
        w.RawValue(d.payload.data(), d.payload.size(), rapidjson::kObjectType);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      return JsonResponse(200, sb);
    }
    case RouteId::kPostRetryDelivery: {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      std::string_view id;
      if (parser.parse(req.body).get(doc) || !doc.is_object()) {
        return ErrorResponse(400, ErrorCode::kInvalidArgument, "the body must be a JSON object {\"id\": \"<delivery id>\"}");
      }
      if (doc["id"].get(id)) {
        return ErrorResponse(400, ErrorCode::kInvalidArgument, "/id: a string delivery id is required", "/id");
      }
      const Status s = automation->dispatcher().Retry(id);
      if (s.code() == ErrorCode::kFailedPrecondition) return ErrorResponse(409, s.code(), s.message(), "/id");
      if (!s.ok()) return ErrorResponse(s);
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      w.StartObject();
      w.Key("retried");
      WriteString(&w, id);
      w.EndObject();
      return JsonResponse(200, sb);
    }
    default:
      return Unavailable();
  }
}

void Api::AutomationMetrics(PrometheusWriter& w) const {
  if (DecisionService* decisions = this->decisions()) {
    const auto d = decisions->decisioning();
    w.Family("kairos_channel_capacity_used", "gauge", "Contacts a capacity-limited channel has taken this period.");
    w.Family("kairos_channel_capacity", "gauge", "Contacts a capacity-limited channel takes per period.");
    for (const ChannelDef& c : d->policies.channels) {
      if (c.capacity < 0) continue;
      w.Sample("kairos_channel_capacity_used", {{"channel", c.name}}, static_cast<double>(decisions->CapacityUsed(c)));
      w.Sample("kairos_channel_capacity", {{"channel", c.name}}, static_cast<double>(c.capacity));
    }
  }
  Automation* automation = this->automation();
  if (automation == nullptr) return;
  const TriggerStats t = automation->triggers().Stats();
  struct Family {
    std::string_view name, help;
    int64_t TriggerCounts::*field;
  };
  const Family families[] = {
      {"kairos_trigger_firings_total", "Trigger conditions that held (a decision or a journey entry followed).", &TriggerCounts::fired},
      {"kairos_trigger_debounced_total", "Trigger matches skipped: fired for the subscriber within debounce.", &TriggerCounts::debounced},
      {"kairos_trigger_not_met_total", "Trigger evaluations whose condition did not hold.", &TriggerCounts::not_met},
      {"kairos_trigger_offers_total", "Trigger decisions that chose an action.", &TriggerCounts::offers},
      {"kairos_trigger_errors_total", "Trigger decisions or deliveries that failed.", &TriggerCounts::errors},
  };
  for (const Family& f : families) {
    w.Family(f.name, "counter", f.help);
    for (const auto& [name, c] : t.by_trigger) w.Sample(f.name, {{"trigger", name}}, static_cast<double>(c.*f.field));
  }
  w.Family("kairos_trigger_events_dropped_total", "counter", "Applied events not evaluated because the trigger queue was full.");
  w.Sample("kairos_trigger_events_dropped_total", {}, static_cast<double>(t.dropped));
  w.Family("kairos_trigger_queue", "gauge", "Applied events waiting for a trigger worker.");
  w.Sample("kairos_trigger_queue", {}, static_cast<double>(t.queued));
  w.Family("kairos_trigger_latency_p99_seconds", "gauge", "Event applied to decision handed to the channel, p99 of the last 65,536 firings.");
  w.Sample("kairos_trigger_latency_p99_seconds", {}, t.latency_p99_ms / 1000.0);

  const channel::DispatcherStats ds = automation->dispatcher().Stats();
  struct ChannelFamily {
    std::string_view name, type, help;
    int64_t channel::ChannelStats::*field;
  };
  const ChannelFamily channel_families[] = {
      {"kairos_deliveries_total", "counter", "Outbound deliveries acknowledged by the receiver.", &channel::ChannelStats::delivered},
      {"kairos_delivery_retries_total", "counter", "Failed delivery attempts scheduled for another attempt.", &channel::ChannelStats::retries},
      {"kairos_delivery_failures_total", "counter", "Failed delivery attempts.", &channel::ChannelStats::failures},
      {"kairos_dead_letters_total", "counter", "Deliveries given up on (refused, or out of attempts).", &channel::ChannelStats::dead_letters},
      {"kairos_deliveries_pending", "gauge", "Deliveries in the outbox not yet delivered.", &channel::ChannelStats::pending},
  };
  for (const ChannelFamily& f : channel_families) {
    w.Family(f.name, f.type, f.help);
    for (const auto& [name, c] : ds.channels) w.Sample(f.name, {{"channel", name}}, static_cast<double>(c.*f.field));
  }
  const JourneyStats js = automation->journeys().Stats();
  w.Family("kairos_journeys_active", "gauge", "Journey instances waiting for their next step.");
  w.Sample("kairos_journeys_active", {}, static_cast<double>(js.active));
  w.Family("kairos_journey_steps_total", "counter", "Journey steps executed.");
  w.Sample("kairos_journey_steps_total", {}, static_cast<double>(js.steps));
  w.Family("kairos_journey_exits_total", "counter", "Journeys ended, by reason.");
  w.Sample("kairos_journey_exits_total", {{"reason", "responded"}}, static_cast<double>(js.exits_responded));
  w.Sample("kairos_journey_exits_total", {{"reason", "exit_condition"}}, static_cast<double>(js.exits_condition));
  w.Sample("kairos_journey_exits_total", {{"reason", "completed"}}, static_cast<double>(js.exits_completed));
  w.Sample("kairos_journey_exits_total", {{"reason", "expired"}}, static_cast<double>(js.exits_expired));
  w.Sample("kairos_journey_exits_total", {{"reason", "other"}}, static_cast<double>(js.exits_other));
  w.Family("kairos_journey_timer_lag_p99_seconds", "gauge", "Journey step firing lag behind its due time, p99.");
  w.Sample("kairos_journey_timer_lag_p99_seconds", {}, js.lag_p99_ms / 1000.0);
}

}  // namespace kairos
