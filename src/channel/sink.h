// Sink: one channel's way out (webhook, NDJSON file, NATS subject).
//
// A sink makes attempts and reports what each came to; it never decides about retries, never
// touches the outbox and never sleeps beyond one attempt's timeout. Deliver may be called
// concurrently from the channel's worker threads, so every sink is thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "channel/delivery.h"
#include "common/clock.h"
#include "common/status.h"

namespace kairos::channel {

// One delivery as a sink sees it (views into the dispatcher's copy of the outbox record).
struct SinkItem {
  std::string_view id;
  std::string_view channel;
  std::string_view subscriber_id;
  TimestampMs created_ms = 0;
  std::string_view payload;  // a JSON object (Enqueue checked it)
};

class Sink {
 public:
  virtual ~Sink() = default;
  // How many items one Deliver call may take. Sinks whose acknowledgement is per batch (one
  // fsync, one flush) take many; the webhook takes one, so that one slow request never holds
  // others hostage.
  virtual size_t max_batch() const { return 1; }
  // Attempts every item; out[i] is the outcome of items[i] (same size).
  virtual void Deliver(std::span<const SinkItem> items, std::span<Outcome> out) = 0;
};

// Validates `config` and builds the sink for `channel`. kInvalidArgument naming the field
// (e.g. "channels.sms.url") when the config is unusable; kIoError when a file sink's file cannot
// be opened. Nothing is connected yet for webhooks and NATS (a receiver that is down is a
// retry, not a configuration error).
Result<std::shared_ptr<Sink>> MakeSink(std::string_view channel, const AdapterConfig& config,
                                       const Clock* clock);

// Checks the fields every kind shares (timeouts, attempts, backoff). Used by MakeSink.
Status ValidateCommon(std::string_view channel, const AdapterConfig& config);

}  // namespace kairos::channel
