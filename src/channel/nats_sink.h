// NatsSink: publishes each delivery's payload on the channel's subject, with the header
// Nats-Msg-Id: <id> (JetStream drops duplicates within its window; core subscribers dedupe
// themselves), then flushes: a delivery counts as made once the server acknowledged the flush.
//
// One connection per sink, opened at the first attempt. While the server is down, connect
// failures and a connection that is reconnecting are retryable outcomes: nothing is published
// into libnats' reconnect buffer, so nothing can be lost or sent twice from there; the outbox
// keeps the delivery and the dispatcher retries it with backoff.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <mutex>
#include <string>

#include "channel/sink.h"

namespace kairos::channel {

class NatsSink final : public Sink {
 public:
  static Result<std::unique_ptr<NatsSink>> Make(std::string_view channel,
                                                const AdapterConfig& config);
  ~NatsSink() override;

  size_t max_batch() const override { return 256; }
  void Deliver(std::span<const SinkItem> items, std::span<Outcome> out) override;

 private:
  explicit NatsSink(const AdapterConfig& config)
      : url_(config.nats_url), subject_(config.subject), timeout_ms_(config.timeout_ms) {}
  // Connected, or the retryable reason why not. Called with mu_ held.
  std::string EnsureConnectedLocked();

  const std::string url_;
  const std::string subject_;
  const int64_t timeout_ms_;

  std::mutex mu_;  // one batch at a time on the one connection
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
};

}  // namespace kairos::channel
