// Privacy routes: GET /v1/subscribers/{id}/export (everything held about a subscriber) and
// DELETE /v1/subscribers/{id} (erasure). Both are admin-only; the erasure is audited under the
// SHA-256 of the id, so that the audit log does not keep what was erased.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <deque>

#include "server/api.h"
#include "server/http_json.h"
#include "schema/json_write.h"
#include "trigger/journey_runner.h"

namespace kairos {
namespace {

// Decisions in the export: the newest ones, up to this many (the log keeps 30 days by default).
constexpr size_t kMaxExportedDecisions = 1000;

std::optional<HttpResponse> DecodeId(const RouteMatch& match, std::string* id) {
  if (!PercentDecode(match.param, id)) {
    return ErrorResponse(400, ErrorCode::kInvalidArgument,
                         "malformed percent-encoding in the subscriber id", "id");
  }
  return std::nullopt;
}

}  // namespace

HttpResponse Api::GetSubscriberExport(const RouteMatch& match, const HttpRequest& req,
                                      Engine* engine) const {
  std::string id;
  if (auto bad = DecodeId(match, &id)) return *bad;
  const TimestampMs now = clock_->Now();
  Result<std::string> profile = engine->ProfileJson(id, now);
  if (!profile.ok()) return ErrorResponse(profile.status());

  std::deque<StoredDecision> decisions;
  size_t decisions_total = 0;
  Status scan = engine->ForEachDecision("", [&](const StoredDecision& d) {
    if (d.subscriber_id != id) return true;
    ++decisions_total;
    decisions.push_back(d);
    if (decisions.size() > kMaxExportedDecisions) decisions.pop_front();
    return true;
  });
  if (!scan.ok()) return ErrorResponse(scan);

  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("subscriber_id");
  w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  w.Key("exported_at");
  json::Time(w, now);
  w.Key("profile");
  w.RawValue(profile->data(), profile->size(), rapidjson::kObjectType);
  w.Key("decisions_total");
  w.Uint64(decisions_total);
  w.Key("decisions");
  w.StartArray();
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    w.StartObject();
    w.Key("decision_id");
    w.String(it->decision_id.data(), static_cast<rapidjson::SizeType>(it->decision_id.size()));
    w.Key("channel");
    w.String(it->channel.data(), static_cast<rapidjson::SizeType>(it->channel.size()));
    w.Key("actions");
    w.String(it->actions.data(), static_cast<rapidjson::SizeType>(it->actions.size()));
    if (!it->record.empty()) {
      w.Key("record");
      w.RawValue(it->record.data(), it->record.size(), rapidjson::kObjectType);
    }
    w.EndObject();
  }
  w.EndArray();
  if (Automation* automation = this->automation()) {
    const std::string journeys = automation->journeys().SubscriberJson(id);
    w.Key("journeys");
    w.RawValue(journeys.data(), journeys.size(), rapidjson::kObjectType);
  }
  if (const OfferRoutes* offers = this->offers()) {
    const std::string orders = offers->SubscriberOrdersJson(id);
    w.Key("orders");
    w.RawValue(orders.data(), orders.size(), rapidjson::kArrayType);
  }
  w.EndObject();
  // Reading everything about someone is itself worth a line in the audit log.
  if (Status s = Audit(req, "subscriber.export", SubscriberRef(id), "ok"); !s.ok()) {
    return ErrorResponse(s);
  }
  HttpResponse res;
  res.body.assign(sb.GetString(), sb.GetSize());
  return res;
}

HttpResponse Api::DeleteSubscriber(const RouteMatch& match, const HttpRequest& req,
                                   Engine* engine) const {
  std::string id;
  if (auto bad = DecodeId(match, &id)) return *bad;
  const TimestampMs now = clock_->Now();
  // Audited first: an erasure that happened is never missing from the log (a line for an
  // erasure that then failed says so in the line after it).
  const std::string ref = SubscriberRef(id);
  if (Status s = Audit(req, "subscriber.erase", ref, "started"); !s.ok()) return ErrorResponse(s);

  Status erased = engine->EraseSubscriber(id);
  const bool had_profile = erased.ok();
  if (!erased.ok() && erased.code() != ErrorCode::kNotFound) {
    (void)Audit(req, "subscriber.erase", ref, "failed: " + erased.message());
    return ErrorResponse(erased);
  }
  int64_t journeys_ended = 0;
  if (Automation* automation = this->automation()) {
    JourneyStore& store = automation->journeys().store();
    Result<std::vector<JourneyInstance>> active = store.ForSubscriber(id);
    if (active.ok()) {
      for (const JourneyInstance& j : *active) {
        // A step running right now makes Finish stale; the runner then ends the journey itself
        // ("gone": the profile no longer exists).
        if (store.Finish(j).ok()) ++journeys_ended;
      }
    }
  }
  int64_t orders_erased = 0;
  if (const OfferRoutes* offers = this->offers()) {
    Result<int64_t> n = offers->ErasePersonalData(id, now);
    if (!n.ok()) {
      (void)Audit(req, "subscriber.erase", ref, "failed: " + n.status().message());
      return ErrorResponse(n.status());
    }
    orders_erased = *n;
  }
  if (!had_profile && journeys_ended == 0 && orders_erased == 0) {
    (void)Audit(req, "subscriber.erase", ref, "not found");
    return ErrorResponse(404, ErrorCode::kNotFound, "no data held about subscriber " + id, "id");
  }
  const std::string detail = "{\"profile\":" + std::string(had_profile ? "true" : "false") +
                             ",\"journeys\":" + std::to_string(journeys_ended) +
                             ",\"orders\":" + std::to_string(orders_erased) + "}";
  if (Status s = Audit(req, "subscriber.erase", ref, "ok", detail); !s.ok()) return ErrorResponse(s);
  HttpResponse res;
  res.body = "{\"erased\":true,\"profile\":" + std::string(had_profile ? "true" : "false") +
             ",\"journeys_ended\":" + std::to_string(journeys_ended) +
             ",\"orders_erased\":" + std::to_string(orders_erased) + "}";
  return res;
}

}  // namespace kairos
