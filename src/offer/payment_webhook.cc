#include "offer/payment_webhook.h"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <charconv>

#include "channel/signature.h"

namespace kairos::offer {

namespace {

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxReasonBytes = 512;

WebhookResult Refuse(WebhookError e, Status s) {
  WebhookResult r;
  r.error = e;
  r.status = std::move(s);
  return r;
}

// A string member of `doc` at "/name": required unless `optional`; at most `max` bytes.
Status GetStringField(const rapidjson::Document& doc, const char* name, bool optional, size_t max,
                      std::string* out) {
  const std::string pointer = std::string("/") + name;
  const auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || it->value.IsNull()) {
    if (optional) return Status::Ok();
    return InvalidArgument(pointer + ": required", pointer);
  }
  if (!it->value.IsString()) return InvalidArgument(pointer + ": must be a string", pointer);
  if (it->value.GetStringLength() > max) {
    return InvalidArgument(pointer + ": longer than " + std::to_string(max) + " bytes", pointer);
  }
  if (!optional && it->value.GetStringLength() == 0) {
    return InvalidArgument(pointer + ": must not be empty", pointer);
  }
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

}  // namespace

std::string_view WebhookErrorName(WebhookError e) {
  switch (e) {
    case WebhookError::kNone:
      return "none";
    case WebhookError::kMalformed:
      return "malformed";
    case WebhookError::kBadSignature:
      return "bad_signature";
    case WebhookError::kStaleTimestamp:
      return "stale_timestamp";
    case WebhookError::kReplay:
      return "replay";
    case WebhookError::kUnknownOrder:
      return "unknown_order";
    case WebhookError::kIllegalTransition:
      return "illegal_transition";
    case WebhookError::kInternal:
      return "internal";
  }
  return "internal";
}

Result<PaymentEvent> ParsePaymentEvent(std::string_view body) {
  if (body.size() > PaymentWebhook::kMaxBodyBytes) {
    return Status(ErrorCode::kTooLarge,
                  "payment event larger than " + std::to_string(PaymentWebhook::kMaxBodyBytes) +
                      " bytes");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return InvalidArgument("payment event is not valid JSON at byte " +
                               std::to_string(doc.GetErrorOffset()) + ": " +
                               rapidjson::GetParseError_En(doc.GetParseError()),
                           "");
  }
  if (!doc.IsObject()) return InvalidArgument("payment event must be a JSON object", "");
  PaymentEvent ev;
  KAIROS_RETURN_IF_ERROR(GetStringField(doc, "event_id", false, kMaxIdBytes, &ev.event_id));
  KAIROS_RETURN_IF_ERROR(GetStringField(doc, "payment_id", false, kMaxIdBytes, &ev.payment_id));
  KAIROS_RETURN_IF_ERROR(GetStringField(doc, "order_id", false, kMaxIdBytes, &ev.order_id));
  KAIROS_RETURN_IF_ERROR(GetStringField(doc, "status", false, 32, &ev.status));
  if (ev.status != "succeeded" && ev.status != "failed") {
    return InvalidArgument("/status: must be \"succeeded\" or \"failed\", got \"" + ev.status + "\"",
                           "/status");
  }
  KAIROS_RETURN_IF_ERROR(GetStringField(doc, "reason", true, kMaxReasonBytes, &ev.reason));
  const auto created = doc.FindMember("created");
  if (created == doc.MemberEnd()) return InvalidArgument("/created: required", "/created");
  if (!created->value.IsInt64()) {
    return InvalidArgument("/created: must be an integer (ms since the epoch)", "/created");
  }
  ev.created = created->value.GetInt64();
  return ev;
}

WebhookResult PaymentWebhook::Handle(std::string_view timestamp, std::string_view signature,
                                     std::string_view body) const {
  // 1. Signature over the timestamp exactly as sent and the raw body.
  constexpr std::string_view kPrefix = "sha256=";
  if (signature.empty()) {
    return Refuse(WebhookError::kBadSignature,
                  Status(ErrorCode::kInvalidArgument, "missing X-Kairos-Payment-Signature",
                         "X-Kairos-Payment-Signature"));
  }
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).push_back('.');
  signed_text.append(body);
  const std::string expected = channel::HmacSha256Hex(secret_, signed_text);
  if (expected.empty()) {
    return Refuse(WebhookError::kInternal, Internal("cannot compute HMAC-SHA256"));
  }
  const bool match = signature.size() == kPrefix.size() + expected.size() &&
                     signature.starts_with(kPrefix) &&
                     CRYPTO_memcmp(signature.data() + kPrefix.size(), expected.data(),
                                   expected.size()) == 0;
  if (!match) {
    return Refuse(WebhookError::kBadSignature,
                  Status(ErrorCode::kInvalidArgument,
                         "X-Kairos-Payment-Signature does not match the body and timestamp",
                         "X-Kairos-Payment-Signature"));
  }
  // 2. Timestamp: signed, so it cannot be changed; a captured request is stale after a while.
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size()) {
    return Refuse(WebhookError::kMalformed,
                  InvalidArgument("X-Kairos-Payment-Timestamp must be integer milliseconds",
                                  "X-Kairos-Payment-Timestamp"));
  }
  const TimestampMs now = clock_->Now();
  if (ts < now - tolerance_ms_ || ts > now + tolerance_ms_) {
    return Refuse(WebhookError::kStaleTimestamp,
                  Status(ErrorCode::kOutOfRange,
                         "X-Kairos-Payment-Timestamp is " + std::to_string((now - ts) / 1000) +
                             " s away from the server clock (allowed: ±" +
                             std::to_string(tolerance_ms_ / 1000) + " s)",
                         "X-Kairos-Payment-Timestamp"));
  }
  // 3. Body.
  auto ev = ParsePaymentEvent(body);
  if (!ev.ok()) return Refuse(WebhookError::kMalformed, ev.status());
  // 4–6 in one store transaction: replay, unknown order, legal transition.
  TransitionRequest req;
  req.order_id = ev->order_id;
  req.to = ev->status == "succeeded" ? OrderState::kPaid : OrderState::kFailed;
  req.at = now;
  req.event_id = ev->event_id;
  req.payment_id = ev->payment_id;
  req.reason = ev->reason.empty() && req.to == OrderState::kFailed ? "payment failed" : ev->reason;
  req.note = "payment " + ev->status + " (event " + ev->event_id + ")";
  auto order = store_->Transition(req);
  if (!order.ok()) {
    switch (order.status().code()) {
      case ErrorCode::kAlreadyExists:
        return Refuse(WebhookError::kReplay, order.status());
      case ErrorCode::kNotFound:
        return Refuse(WebhookError::kUnknownOrder,
                      Status(ErrorCode::kNotFound, order.status().message(), "/order_id"));
      case ErrorCode::kFailedPrecondition:
        return Refuse(WebhookError::kIllegalTransition, order.status());
      default:
        return Refuse(WebhookError::kInternal, order.status());
    }
  }
  WebhookResult r;
  r.order = std::move(*order);
  return r;
}

}  // namespace kairos::offer
