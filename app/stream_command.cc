// kairos stream: keeps a live synthetic event stream flowing into a running server (the demo).
#include <signal.h>

#include <utility>  // before Boost: asio's awaitable uses std::exchange (see BUILD-NOTES.md)

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "app/commands.h"
#include "common/clock.h"
#include "sim/generator.h"

namespace kairos::app {

namespace {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::atomic<bool> g_stop{false};  // set by the signal handler only
void OnSignal(int) { g_stop.store(true); }

// Loopback only: this tool feeds a local demo server.
bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}
}  // namespace

int RunStream(const StreamArgs& args) {
  if (!IsLoopback(args.host)) return Fail("stream only targets a server on this machine (127.0.0.0/8, ::1)");
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGPIPE, SIG_IGN);
  std::string api_key = args.api_key;
  if (api_key.empty()) {
    if (const char* env = std::getenv("KAIROS_API_KEY")) api_key = env;
  }
  SystemClock clock;
  sim::LiveStream live(args.seed, args.subscribers);
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  bool connected = false;
  int64_t sent = 0, accepted = 0, failed_batches = 0;
  const auto start = std::chrono::steady_clock::now();
  double carry = 0;
  while (!g_stop.load()) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (args.seconds > 0 && elapsed >= args.seconds) break;
    carry += args.rate * args.batch_interval_ms / 1000.0;
    const int n = static_cast<int>(carry);
    carry -= n;
    if (n > 0) {
      try {
        if (!connected) {
          stream.connect(resolver.resolve(args.host, std::to_string(args.port)));
          connected = true;
        }
        http::request<http::string_body> req{http::verb::post, "/v1/events", 11};
        req.set(http::field::host, args.host);
        req.set(http::field::content_type, "application/x-ndjson");
        if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + api_key);
        req.body() = live.NextBatch(clock.Now(), n);
        req.prepare_payload();
        stream.expires_after(std::chrono::seconds(30));
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        sent += n;
        if (res.result() == http::status::ok) {
          const auto pos = res.body().find("\"accepted\":");
          if (pos != std::string::npos) accepted += std::atoll(res.body().c_str() + pos + 11);
        } else {
          ++failed_batches;
          std::fprintf(stderr, "kairos stream: HTTP %d: %.200s\n", res.result_int(), res.body().c_str());
        }
        if (!res.keep_alive()) {
          beast::error_code ec;
          stream.socket().shutdown(tcp::socket::shutdown_both, ec);
          stream.close();
          connected = false;
        }
      } catch (const std::exception& e) {
        // The server may be restarting: report, reconnect on the next tick.
        ++failed_batches;
        std::fprintf(stderr, "kairos stream: %s (retrying)\n", e.what());
        beast::error_code ec;
        stream.socket().close(ec);
        connected = false;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(args.batch_interval_ms));
  }
  std::printf("stream: sent %lld events, %lld accepted, %lld failed batches\n", static_cast<long long>(sent),
              static_cast<long long>(accepted), static_cast<long long>(failed_batches));
  return 0;
}

}  // namespace kairos::app
