// The vocabulary of outbound delivery: what is delivered (Delivery), where to (AdapterConfig)
// and what an attempt came to (Outcome). Plain values, shared by the dispatcher and the sinks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace kairos::channel {

// One message for one channel. The id is the idempotency key: it travels with every attempt
// (the webhook's Idempotency-Key, the NATS Nats-Msg-Id, the file line's "id"), so receivers can
// drop the duplicates that at-least-once delivery may produce after a crash or a lost reply.
struct Delivery {
  std::string id;       // e.g. "<decision_id>/<action_id>"; unique, at most kMaxIdBytes
  std::string channel;  // e.g. "sms"; must have an adapter (Dispatcher::Configure)
  std::string subscriber_id;
  TimestampMs created_ms = 0;  // 0: the dispatcher's clock at Enqueue
  std::string payload;  // one JSON object: the webhook body, the NATS message, the line's "payload"
};

// LMDB keys are at most 511 bytes and the time-ordered indexes prefix 8 bytes.
constexpr size_t kMaxIdBytes = 256;

enum class AdapterKind { kWebhook, kFile, kNats };

// How one channel delivers. Validated by Dispatcher::Configure.
struct AdapterConfig {
  AdapterKind kind = AdapterKind::kWebhook;
  std::string url;            // webhook: http://host[:port]/path (plain HTTP only)
  std::string secret;         // webhook: HMAC-SHA256 key of X-Kairos-Signature; empty: unsigned
  std::string path;           // file: the NDJSON file, opened for append (the caller resolves it)
  std::string nats_url;       // nats: e.g. nats://127.0.0.1:4222
  std::string subject;        // nats: the subject published to
  int64_t timeout_ms = 5000;  // per attempt: connect + send + response (or flush)
  int max_attempts = 8;       // attempts before a delivery becomes a dead letter
  int64_t backoff_initial_ms = 500;  // exponential backoff with full jitter between attempts
  int64_t backoff_max_ms = 300000;

  bool operator==(const AdapterConfig&) const = default;
};

std::string_view AdapterKindName(AdapterKind kind);  // "webhook", "file", "nats"

// What one attempt of one delivery came to.
struct Outcome {
  enum class Kind {
    kDelivered,  // the receiver acknowledged it (2xx, fsync'd line, flushed publish)
    kRetry,      // transient: connect error, timeout, 408/429/5xx, garbage reply
    kPermanent,  // the receiver refused it for good (other 4xx): dead letter at once
  };
  Kind kind = Kind::kRetry;
  std::string error;            // why, when not delivered; names the endpoint
  int64_t retry_after_ms = -1;  // the receiver's Retry-After, when it sent one
};

}  // namespace kairos::channel
