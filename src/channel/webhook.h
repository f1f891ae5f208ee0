// WebhookSink: HTTP POST of each delivery to the channel's URL.
//
// Request: the payload as body; Content-Type: application/json, Idempotency-Key: <id>,
// X-Kairos-Timestamp: <clock ms at the attempt>, and with a secret
// X-Kairos-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>.
// Reply: 2xx delivered; 408, 429, 5xx, 1xx, connect errors, timeouts and unparsable replies are
// retried (Retry-After in seconds is passed on); any other status (3xx, 4xx) is permanent.
//
// Each attempt runs on its own io_context with one deadline (timeout_ms) over name resolution,
// connect, write and read, so a receiver that accepts and then never answers costs one worker
// at most timeout_ms. Keep-alive connections are pooled; a pooled connection that the receiver
// closed while idle is replaced once within the same attempt.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "channel/sink.h"

namespace kairos::channel {

struct HttpEndpoint {
  std::string host;    // name or address (IPv6 without brackets)
  std::string port;    // "80" by default
  std::string target;  // path and query, "/" by default
};

// Parses "http://host[:port][/path][?query]". kInvalidArgument naming `field` otherwise
// (https is refused: this client speaks plain HTTP; put a TLS proxy in front if needed).
Result<HttpEndpoint> ParseHttpUrl(std::string_view url, const std::string& field);

class WebhookSink final : public Sink {
 public:
  static Result<std::unique_ptr<WebhookSink>> Make(std::string_view channel,
                                                   const AdapterConfig& config, const Clock* clock);
  ~WebhookSink() override;

  void Deliver(std::span<const SinkItem> items, std::span<Outcome> out) override;

  struct Connection;  // a keep-alive connection with its own io_context (webhook.cc)

 private:
  WebhookSink(HttpEndpoint endpoint, const AdapterConfig& config, const Clock* clock);
  Outcome Post(const SinkItem& item);
  std::unique_ptr<Connection> TakeIdle();
  void GiveBack(std::unique_ptr<Connection> connection);

  const HttpEndpoint endpoint_;
  const std::string url_;  // for error messages
  const std::string secret_;
  const std::chrono::milliseconds timeout_;
  const Clock* const clock_;

  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // most recently used last
};

}  // namespace kairos::channel
