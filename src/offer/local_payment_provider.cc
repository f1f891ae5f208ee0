#include "offer/local_payment_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <cstdio>
#include <exception>
#include <utility>

#include "channel/backoff.h"
#include "channel/signature.h"
#include "channel/webhook.h"
#include "common/hash.h"

namespace kairos::offer {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct LocalPaymentProvider::Endpoint {
  channel::HttpEndpoint http;
};

namespace {

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string EventJson(const std::string& event_id, const std::string& payment_id,
                      const std::string& order_id, const std::string& status,
                      const std::string& reason, TimestampMs created) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("event_id");
  w.String(event_id.c_str(), static_cast<rapidjson::SizeType>(event_id.size()));
  w.Key("payment_id");
  w.String(payment_id.c_str(), static_cast<rapidjson::SizeType>(payment_id.size()));
  w.Key("order_id");
  w.String(order_id.c_str(), static_cast<rapidjson::SizeType>(order_id.size()));
  w.Key("status");
  w.String(status.c_str(), static_cast<rapidjson::SizeType>(status.size()));
  w.Key("reason");
  w.String(reason.c_str(), static_cast<rapidjson::SizeType>(reason.size()));
  w.Key("created");
  w.Int64(created);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

Result<std::unique_ptr<LocalPaymentProvider>> LocalPaymentProvider::Make(
    const PaymentsConfig& config, const Clock* clock) {
  KAIROS_RETURN_IF_ERROR(ValidatePaymentsConfig(config));
  KAIROS_ASSIGN_OR_RETURN(channel::HttpEndpoint http,
                          channel::ParseHttpUrl(config.webhook_url, "payments.webhook_url"));
  auto endpoint = std::make_unique<Endpoint>();
  endpoint->http = std::move(http);
  return std::unique_ptr<LocalPaymentProvider>(
      new LocalPaymentProvider(config, clock, std::move(endpoint)));
}

LocalPaymentProvider::LocalPaymentProvider(const PaymentsConfig& config, const Clock* clock,
                                           std::unique_ptr<Endpoint> endpoint)
    : config_(config), clock_(clock), endpoint_(std::move(endpoint)), retry_rng_(config.seed) {
  worker_ = std::thread([this] { Run(); });
}

LocalPaymentProvider::~LocalPaymentProvider() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void LocalPaymentProvider::Force(const std::string& order_id, Outcome outcome, bool deliver_twice) {
  std::lock_guard lock(mu_);
  forced_[order_id] = {outcome, deliver_twice};
}

LocalPaymentStats LocalPaymentProvider::Stats() const {
  std::lock_guard lock(mu_);
  LocalPaymentStats s = stats_;
  s.pending = static_cast<int64_t>(queue_.size());
  return s;
}

Result<std::string> LocalPaymentProvider::Charge(const Order& order) {
  if (order.id.empty()) return InvalidArgument("order without an id", "order_id");
  const uint64_t key = StableHash64(order.id);
  // Ids follow from the order id: a provider restarted with the same seed never reuses one.
  const std::string payment_id = "pay_" + Hex16(MixKey(config_.seed, key, 1));
  Rng rng(config_.seed, key, 2);
  const double u = rng.Uniform();
  Outcome outcome = u < config_.fail_rate                          ? Outcome::kFail
                    : u < config_.fail_rate + config_.timeout_rate ? Outcome::kNoAnswer
                                                                   : Outcome::kSucceed;
  bool twice = rng.Bernoulli(config_.duplicate_rate);
  std::lock_guard lock(mu_);
  if (auto it = forced_.find(order.id); it != forced_.end()) {
    if (it->second.first != Outcome::kRandom) outcome = it->second.first;
    twice = twice || it->second.second;
  }
  ++stats_.charges;
  if (outcome == Outcome::kNoAnswer) {
    ++stats_.unanswered;
    return payment_id;
  }
  Delivery d;
  d.due = SteadyClock::now() + std::chrono::milliseconds(config_.delay_ms);
  d.payment_id = payment_id;
  d.order_id = order.id;
  d.status = outcome == Outcome::kFail ? "failed" : "succeeded";
  d.reason = outcome == Outcome::kFail ? "card_declined" : "";
  d.event_id = "evt_" + Hex16(MixKey(config_.seed, key, 3));
  d.created = clock_->Now();
  d.send_twice = twice;
  queue_.emplace(d.due, std::move(d));
  cv_.notify_all();
  return payment_id;
}

void LocalPaymentProvider::Run() {
  const channel::Backoff backoff(config_.retry_initial_ms, config_.retry_max_ms);
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto due = queue_.begin()->first;
    if (SteadyClock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    Delivery d = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    lock.unlock();
    int status = -1;
    try {
      status = Post(d);
    } catch (const std::exception&) {
      status = -1;  // Asio throws on resource exhaustion: retried like a connect failure
    }
    lock.lock();
    ++stats_.attempts;
    ++d.attempts;
    if (status >= 200 && status < 300) {
      ++stats_.delivered;
      if (d.send_twice) {  // at-least-once: the same event again, a little later
        d.send_twice = false;
        d.attempts = 0;
        d.due = SteadyClock::now() + std::chrono::milliseconds(config_.retry_initial_ms);
        queue_.emplace(d.due, std::move(d));
      }
      continue;
    }
    const bool retryable = status < 0 || status == 408 || status == 429 || status >= 500;
    if (!retryable || d.attempts >= config_.max_attempts) {
      ++stats_.given_up;
      continue;
    }
    ++stats_.retries;
    d.due = SteadyClock::now() +
            std::chrono::milliseconds(std::max<int64_t>(1, backoff.DelayMs(d.attempts, retry_rng_)));
    queue_.emplace(d.due, std::move(d));
  }
}

int LocalPaymentProvider::Post(const Delivery& d) {
  const channel::HttpEndpoint& ep = endpoint_->http;
  const TimestampMs ts = clock_->Now();
  const std::string body = EventJson(d.event_id, d.payment_id, d.order_id, d.status, d.reason,
                                     d.created);
  const std::string ts_text = std::to_string(ts);
  const std::string mac = channel::HmacSha256Hex(config_.webhook_secret, ts_text + "." + body);
  if (mac.empty()) return -1;

  http::request<http::string_body> req{http::verb::post, ep.target, 11};
  const std::string host = ep.host.find(':') == std::string::npos ? ep.host : "[" + ep.host + "]";
  req.set(http::field::host, ep.port == "80" ? host : host + ":" + ep.port);
  req.set(http::field::user_agent, "kairos-local-payments");
  req.set(http::field::content_type, "application/json");
  req.set("X-Kairos-Payment-Timestamp", ts_text);
  req.set("X-Kairos-Payment-Signature", "sha256=" + mac);
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();

  // One deadline over resolve, connect, write and read; handlers run inside run_for on this
  // thread and nothing outlives the call.
  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  tcp::resolver resolver{ioc};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  const auto timeout = std::chrono::milliseconds(config_.http_timeout_ms);
  stream.expires_after(timeout);
  int status = -1;
  const auto on_read = [&status, &parser](beast::error_code ec, size_t) {
    if (!ec) status = static_cast<int>(parser.get().result_int());
  };
  const auto on_write = [&](beast::error_code ec, size_t) {
    if (!ec) http::async_read(stream, buffer, parser, on_read);
  };
  const auto on_connect = [&](beast::error_code ec) {
    if (!ec) http::async_write(stream, req, on_write);
  };
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    stream.async_connect(tcp::endpoint(address, static_cast<unsigned short>(std::stoi(ep.port))),
                         on_connect);
  } else {
    resolver.async_resolve(ep.host, ep.port,
                           [&](beast::error_code rec, const tcp::resolver::results_type& r) {
                             if (rec) return;
                             stream.async_connect(r, [&](beast::error_code cec,
                                                         const tcp::endpoint&) { on_connect(cec); });
                           });
  }
  ioc.run_for(timeout + std::chrono::milliseconds(20));
  if (!ioc.stopped()) {
    resolver.cancel();
    stream.socket().close(ec);
    ioc.restart();
    ioc.run();  // the cancelled handlers complete at once
    return -1;
  }
  return status;
}

}  // namespace kairos::offer
