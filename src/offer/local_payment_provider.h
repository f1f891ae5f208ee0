// LocalPaymentProvider: a payment provider for tests, demos and development that behaves like a
// real one, over real HTTP.
//
// Charge returns a payment id at once. After `delay_ms` a worker thread POSTs the outcome as a
// JSON event to `webhook_url` (the Kairos server's own POST /v1/payments/webhook):
//   {"event_id":"evt_…","payment_id":"pay_…","order_id":"ord_…","status":"succeeded"|"failed",
//    "reason":"…","created":<clock ms>}
// with headers
//   X-Kairos-Payment-Timestamp: <clock ms at the attempt>
//   X-Kairos-Payment-Signature: sha256=<hex HMAC-SHA256(webhook_secret, timestamp + "." + body)>
// A 2xx reply ends the delivery. 408, 429, 5xx and transport errors are retried with exponential
// backoff (full jitter, up to max_attempts); other statuses (e.g. 409 for a replay) end it.
// Like real providers it delivers at least once: with `duplicate_rate` (or a per-order
// override) it sends the same event a second time after a 2xx.
//
// Outcomes are deterministic: Rng(seed, hash(order id)) picks failure (fail_rate), no answer at
// all (timeout_rate: the order then expires on the Kairos side) or success; Force() overrides
// one order. Timestamps come from the injected Clock; delays are real time.
//
// Thread-safety: Charge, Force and Stats may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/rng.h"
#include "offer/payment_config.h"
#include "offer/payment_provider.h"

namespace kairos::offer {

struct LocalPaymentStats {
  int64_t charges = 0;
  int64_t attempts = 0;     // HTTP requests made
  int64_t delivered = 0;    // events acknowledged with 2xx (duplicates included)
  int64_t retries = 0;      // attempts scheduled again
  int64_t given_up = 0;     // events dropped after max_attempts or a permanent refusal
  int64_t unanswered = 0;   // payments deliberately never answered
  int64_t pending = 0;      // deliveries queued
};

class LocalPaymentProvider final : public PaymentProvider {
 public:
  enum class Outcome { kRandom, kSucceed, kFail, kNoAnswer };

  // kInvalidArgument for a bad config. `clock` must outlive the provider.
  static Result<std::unique_ptr<LocalPaymentProvider>> Make(const PaymentsConfig& config,
                                                            const Clock* clock);
  // Stops the worker; queued deliveries are dropped (as if the provider went away).
  ~LocalPaymentProvider() override;

  Result<std::string> Charge(const Order& order) override;

  // Fixes the outcome of `order_id`'s payment (before Charge), and whether its event is
  // delivered twice.
  void Force(const std::string& order_id, Outcome outcome, bool deliver_twice = false);

  LocalPaymentStats Stats() const;

 private:
  struct Delivery {
    std::chrono::steady_clock::time_point due;
    std::string event_id, payment_id, order_id, status, reason;
    TimestampMs created = 0;
    int attempts = 0;
    bool send_twice = false;
  };
  struct Endpoint;

  LocalPaymentProvider(const PaymentsConfig& config, const Clock* clock,
                       std::unique_ptr<Endpoint> endpoint);
  void Run();
  // One POST; returns the HTTP status, or -1 for a transport error / timeout.
  int Post(const Delivery& d);

  const PaymentsConfig config_;
  const Clock* const clock_;
  const std::unique_ptr<Endpoint> endpoint_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::multimap<std::chrono::steady_clock::time_point, Delivery> queue_;
  std::map<std::string, std::pair<Outcome, bool>> forced_;
  Rng retry_rng_;  // backoff jitter
  LocalPaymentStats stats_;
  std::thread worker_;
};

}  // namespace kairos::offer
