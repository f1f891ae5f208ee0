// <utility> first: in C++20, Boost 1.74's Asio uses std::exchange without including it
// (BUILD-NOTES.md); the CMake target also force-includes it.
#include "channel/webhook.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <exception>
#include <utility>

#include "channel/signature.h"

namespace kairos::channel {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxIdleConnections = 8;
// Receivers commonly close idle keep-alive connections after 5–60 s; older ones are not reused.
constexpr auto kMaxIdleAge = std::chrono::seconds(4);
constexpr uint64_t kMaxResponseBodyBytes = 64 * 1024;
constexpr uint32_t kMaxResponseHeaderBytes = 16 * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Retry-After as delta-seconds; -1 when absent or an HTTP date (then our own backoff applies).
int64_t RetryAfterMs(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  int64_t seconds = -1;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return -1;
  if (seconds > 365LL * 24 * 3600) seconds = 365LL * 24 * 3600;
  return seconds * 1000;
}

// The receiver closed a pooled connection while it sat idle: nothing of ours was processed.
bool IsStaleConnectionError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

}  // namespace

struct WebhookSink::Connection {
  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  SteadyClock::time_point last_used;
};

Result<HttpEndpoint> ParseHttpUrl(std::string_view url, const std::string& field) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("webhook url \"" + std::string(url) + "\": " + why, field);
  };
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("expected http://host[:port]/path");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (IEquals(scheme, "https")) {
    return bad("https is not supported (plain http only; terminate TLS in a local proxy)");
  }
  if (!IEquals(scheme, "http")) return bad("the scheme must be http");
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string target(path_start == std::string_view::npos ? "/" : rest.substr(path_start));
  if (const size_t hash = target.find('#'); hash != std::string::npos) target.erase(hash);
  // "http://h?x=1" is path "/" with a query.
  if (target.empty() || target.front() != '/') target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials in the url are not supported");
  }
  HttpEndpoint endpoint;
  std::string_view port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    endpoint.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (endpoint.host.empty()) return bad("no host");
  int port_number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (ec != std::errc() || end != port.data() + port.size() || port_number < 1 ||
      port_number > 65535) {
    return bad("bad port \"" + std::string(port) + "\"");
  }
  endpoint.port = std::to_string(port_number);
  endpoint.target = std::move(target);
  return endpoint;
}

Result<std::unique_ptr<WebhookSink>> WebhookSink::Make(std::string_view channel,
                                                       const AdapterConfig& config,
                                                       const Clock* clock) {
  const std::string field = "channels." + std::string(channel) + ".url";
  KAIROS_ASSIGN_OR_RETURN(HttpEndpoint endpoint, ParseHttpUrl(config.url, field));
  return std::unique_ptr<WebhookSink>(new WebhookSink(std::move(endpoint), config, clock));
}

WebhookSink::WebhookSink(HttpEndpoint endpoint, const AdapterConfig& config, const Clock* clock)
    : endpoint_(std::move(endpoint)),
      url_(config.url),
      secret_(config.secret),
      timeout_(config.timeout_ms),
      clock_(clock) {}

WebhookSink::~WebhookSink() = default;

std::unique_ptr<WebhookSink::Connection> WebhookSink::TakeIdle() {
  std::lock_guard lock(mu_);
  const auto now = SteadyClock::now();
  while (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    if (now - c->last_used < kMaxIdleAge) return c;
  }
  return nullptr;
}

void WebhookSink::GiveBack(std::unique_ptr<Connection> connection) {
  connection->last_used = SteadyClock::now();
  std::lock_guard lock(mu_);
  if (idle_.size() >= kMaxIdleConnections) idle_.erase(idle_.begin());
  idle_.push_back(std::move(connection));
}

namespace {

struct Exchange {
  beast::error_code ec;
  const char* stage = "connect";  // where it failed
  bool finished = false;          // the handler chain ran to its end
  bool timed_out = false;
};

// Runs [resolve →] [connect →] write → read on `c` within `deadline`. Handlers run on this
// thread inside run_for; nothing outlives the call.
Exchange RunExchange(WebhookSink::Connection& c, const HttpEndpoint& endpoint,
                     const http::request<http::string_body>& req,
                     http::response_parser<http::string_body>& parser, bool connect,
                     SteadyClock::time_point deadline) {
  Exchange x;
  const auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (remaining.count() <= 0) {
    x.timed_out = true;
    x.ec = beast::error::timeout;
    return x;
  }
  c.ioc.restart();
  // One expiry for the whole exchange: it applies to connect, write and read alike.
  c.stream.expires_after(remaining);
  tcp::resolver resolver(c.ioc);

  const auto on_read = [&x](beast::error_code ec, size_t) {
    x.ec = ec;
    x.stage = "read";
    x.finished = true;
  };
  const auto on_write = [&x, &c, &parser, on_read](beast::error_code ec, size_t) {
    if (ec) {
      x.ec = ec;
      x.stage = "write";
      x.finished = true;
      return;
    }
    http::async_read(c.stream, c.buffer, parser, on_read);
  };
  const auto on_connect = [&x, &c, &req, on_write](beast::error_code ec) {
    if (ec) {
      x.ec = ec;
      x.stage = "connect";
      x.finished = true;
      return;
    }
    c.stream.socket().set_option(tcp::no_delay(true), ec);
    http::async_write(c.stream, req, on_write);
  };

  if (!connect) {
    http::async_write(c.stream, req, on_write);
  } else {
    beast::error_code ec;
    const asio::ip::address address = asio::ip::make_address(endpoint.host, ec);
    if (!ec) {
      const tcp::endpoint ep(address, static_cast<unsigned short>(std::stoi(endpoint.port)));
      c.stream.async_connect(ep, on_connect);
    } else {
      resolver.async_resolve(
          endpoint.host, endpoint.port,
          [&x, &c, on_connect](beast::error_code rec, const tcp::resolver::results_type& results) {
            if (rec) {
              x.ec = rec;
              x.stage = "resolve";
              x.finished = true;
              return;
            }
            c.stream.async_connect(
                results,
                [on_connect](beast::error_code cec, const tcp::endpoint&) { on_connect(cec); });
          });
    }
  }
  // A little grace over the stream's own expiry, which normally fires first; run_for is the
  // backstop for the resolver, which the stream's timer does not cover.
  c.ioc.run_for(remaining + std::chrono::milliseconds(20));
  if (!x.finished) {
    beast::error_code ignored;
    resolver.cancel();
    c.stream.socket().close(ignored);
    c.ioc.restart();
    c.ioc.run();  // the cancelled handlers complete at once; nothing may outlive this frame
    x.timed_out = true;
    x.ec = beast::error::timeout;
  } else if (x.ec == beast::error::timeout) {
    x.timed_out = true;
  }
  return x;
}

}  // namespace

Outcome WebhookSink::Post(const SinkItem& item) {
  const auto deadline = SteadyClock::now() + timeout_;
  const TimestampMs ts = clock_->Now();
  const std::string ts_text = std::to_string(ts);

  http::request<http::string_body> req{http::verb::post, endpoint_.target, 11};
  // An IPv6 literal goes in brackets (RFC 7230 §5.4); the default port is left out.
  const std::string host =
      endpoint_.host.find(':') == std::string::npos ? endpoint_.host : "[" + endpoint_.host + "]";
  req.set(http::field::host, endpoint_.port == "80" ? host : host + ":" + endpoint_.port);
  req.set(http::field::user_agent, "kairos-channel");
  req.set(http::field::content_type, "application/json");
  req.set("Idempotency-Key", std::string(item.id));
  req.set("X-Kairos-Timestamp", ts_text);
  if (!secret_.empty()) {
    std::string signature = WebhookSignature(secret_, ts, item.payload);
    if (signature.empty()) return Outcome{Outcome::Kind::kRetry, "cannot sign: HMAC failed", -1};
    req.set("X-Kairos-Signature", signature);
  }
  req.keep_alive(true);
  req.body().assign(item.payload);
  req.prepare_payload();

  std::unique_ptr<Connection> conn = TakeIdle();
  bool reused = conn != nullptr;
  for (;;) {
    if (!conn) {
      conn = std::make_unique<Connection>();
      reused = false;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBodyBytes);
    parser.header_limit(kMaxResponseHeaderBytes);
    const Exchange x = RunExchange(*conn, endpoint_, req, parser, !reused, deadline);
    if (x.timed_out) {
      return Outcome{Outcome::Kind::kRetry,
                     "timeout after " + std::to_string(timeout_.count()) + " ms (" + x.stage +
                         ") posting to " + url_,
                     -1};
    }
    if (x.ec) {
      if (reused && !parser.got_some() && IsStaleConnectionError(x.ec)) {
        conn.reset();  // the receiver dropped the idle connection; try a fresh one once
        reused = false;
        continue;
      }
      const bool garbage = std::string_view(x.stage) == "read" && parser.got_some();
      return Outcome{Outcome::Kind::kRetry,
                     std::string(garbage ? "unreadable reply" : x.stage) + " from " + url_ + ": " +
                         x.ec.message(),
                     -1};
    }
    const http::response<http::string_body>& res = parser.get();
    const int code = static_cast<int>(res.result_int());
    const bool reusable = res.keep_alive() && conn->buffer.size() == 0;
    int64_t retry_after_ms = -1;
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      retry_after_ms = RetryAfterMs(std::string_view(it->value().data(), it->value().size()));
    }
    if (reusable) {
      GiveBack(std::move(conn));
    }
    if (code >= 200 && code < 300) return Outcome{Outcome::Kind::kDelivered, {}, -1};
    std::string error = "HTTP " + std::to_string(code) + " from " + url_;
    if (code == 408 || code == 429 || code >= 500 || code < 200) {
      return Outcome{Outcome::Kind::kRetry, std::move(error), retry_after_ms};
    }
    return Outcome{Outcome::Kind::kPermanent, std::move(error), -1};
  }
}

void WebhookSink::Deliver(std::span<const SinkItem> items, std::span<Outcome> out) {
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      out[i] = Post(items[i]);
    } catch (const std::exception& e) {
      // Asio reports resource exhaustion (no file descriptors for an io_context) by throwing;
      // it is transient, so the delivery is retried like any connect failure.
      out[i] =
          Outcome{Outcome::Kind::kRetry, std::string("posting to ") + url_ + ": " + e.what(), -1};
    }
  }
}

}  // namespace kairos::channel
