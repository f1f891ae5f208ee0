// http_load: a closed-loop HTTP load generator for a running `kairos serve` on this machine.
//
//   http_load --host 127.0.0.1 --port P --mode ingest|profile|decide --connections C --seconds S
//             [--batch 1000] [--subscribers N] [--threads T] [--seed S] [--channel app]
//             [--dry-run]
//
// Each connection sends a request, waits for its response, and sends the next (keep-alive),
// until --seconds have passed. ingest: POST /v1/events with an NDJSON batch of --batch valid
// usage events with unique event ids for random subscribers s0000001..s<N> (the ids `kairos
// generate` writes). profile: GET /v1/subscribers/s<k> for random k (404s for subscribers never ingested are counted, not
// errors). decide: POST /v1/decide for random subscribers on --channel (recorded, or --dry-run).
// Prints requests/s, events/s and latency percentiles. Loopback targets only: this is
// a benchmark, not a tool to load someone else's server.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>  // before Boost: Asio 1.74 in C++20 uses std::exchange without including it
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string mode = "ingest";
  int connections = 16;
  int seconds = 10;
  int batch = 1000;
  int64_t subscribers = 100000;
  int threads = 1;
  uint64_t seed = 1;
  std::string channel = "app";
  bool dry_run = false;
  std::string api_key;  // --api-key, default $KAIROS_API_KEY
};

void Usage() {
  std::fprintf(stderr,
               "usage: http_load --host 127.0.0.1 --port P --mode ingest|profile|decide|health|whoami "
               "--connections C --seconds S [--batch 1000] [--subscribers N] [--threads T] "
               "[--seed S] [--channel app] [--dry-run] [--api-key KEY (default $KAIROS_API_KEY)]\n"
               "  health: GET /healthz (no key checked); whoami: GET /v1/auth/whoami (key checked, "
               "nothing else done) — their difference is the cost of the key check\n");
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") return false;
    if (flag == "--dry-run") {
      o->dry_run = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "http_load: %s needs a value\n", argv[i]);
      return false;
    }
    std::string value = argv[++i];
    char* end = nullptr;
    auto number = [&](int64_t lo, int64_t hi) -> int64_t {
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || v < lo || v > hi) {
        std::fprintf(stderr, "http_load: %s: expected an integer in [%lld, %lld], got '%s'\n",
                     std::string(flag).c_str(), static_cast<long long>(lo),
                     static_cast<long long>(hi), value.c_str());
        std::exit(2);
      }
      return v;
    };
    if (flag == "--host") {
      o->host = value;
    } else if (flag == "--port") {
      o->port = static_cast<int>(number(1, 65535));
    } else if (flag == "--mode") {
      o->mode = value;
    } else if (flag == "--channel") {
      o->channel = value;
    } else if (flag == "--api-key") {
      o->api_key = value;
    } else if (flag == "--connections") {
      o->connections = static_cast<int>(number(1, 10000));
    } else if (flag == "--seconds") {
      o->seconds = static_cast<int>(number(1, 3600));
    } else if (flag == "--batch") {
      o->batch = static_cast<int>(number(1, 1000000));
    } else if (flag == "--subscribers") {
      o->subscribers = number(1, int64_t{1} << 40);
    } else if (flag == "--threads") {
      o->threads = static_cast<int>(number(1, 256));
    } else if (flag == "--seed") {
      o->seed = static_cast<uint64_t>(number(0, INT64_MAX));
    } else {
      std::fprintf(stderr, "http_load: unknown flag %s\n", argv[i - 1]);
      return false;
    }
  }
  if (o->mode != "ingest" && o->mode != "profile" && o->mode != "decide" && o->mode != "health" &&
      o->mode != "whoami") {
    std::fprintf(stderr, "http_load: --mode must be ingest, profile, decide, health or whoami\n");
    return false;
  }
  if (o->api_key.empty()) {
    if (const char* env = std::getenv("KAIROS_API_KEY")) o->api_key = env;
  }
  return true;
}

struct ConnStats {
  std::vector<uint32_t> latency_us;
  std::map<unsigned, int64_t> by_status;
  int64_t events = 0;  // accepted events reported by the server (ingest)
  int64_t transport_errors = 0;
};

// One keep-alive connection in a closed loop.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, const Options& o, tcp::endpoint endpoint, int index,
       SteadyClock::time_point deadline, int64_t run_id)
      : o_(o),
        endpoint_(endpoint),
        index_(index),
        deadline_(deadline),
        run_id_(run_id),
        stream_(io),
        rng_(o.seed * 1000003 + static_cast<uint64_t>(index)),
        pick_(1, o.subscribers) {
    stats_.latency_us.reserve(1 << 16);
  }

  void Start() {
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        ++self->stats_.transport_errors;
        return;
      }
      beast::error_code ignored;
      self->stream_.socket().set_option(tcp::no_delay(true), ignored);
      self->Send();
    });
  }

  const ConnStats& stats() const { return stats_; }

 private:
  void BuildIngest() {
    rapidjson::StringBuffer line;
    std::string body;
    body.reserve(static_cast<size_t>(o_.batch) * 140);
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    char id[96];
    char sub[32];
    for (int i = 0; i < o_.batch; ++i) {
      line.Clear();
      rapidjson::Writer<rapidjson::StringBuffer> w(line);
      int id_len =
          std::snprintf(id, sizeof(id), "h%lld-%d-%lld-%d", static_cast<long long>(run_id_), index_,
                        static_cast<long long>(seq_), i);
      int sub_len = std::snprintf(sub, sizeof(sub), "s%07lld", static_cast<long long>(pick_(rng_)));
      w.StartObject();
      w.Key("event_id");
      w.String(id, static_cast<rapidjson::SizeType>(id_len));
      w.Key("subscriber_id");
      w.String(sub, static_cast<rapidjson::SizeType>(sub_len));
      w.Key("type");
      w.String("usage");
      w.Key("ts");
      w.Int64(now_ms);
      w.Key("kind");
      w.String(i % 3 == 0 ? "voice" : "data");
      w.Key("amount");
      w.Double(static_cast<double>((seq_ + i) % 500) + 0.5);
      w.EndObject();
      body.append(line.GetString(), line.GetSize());
      body.push_back('\n');
    }
    ++seq_;
    req_ = http::request<http::string_body>(http::verb::post, "/v1/events", 11);
    req_.set(http::field::content_type, "application/x-ndjson");
    req_.body() = std::move(body);
  }

  void BuildProfile() {
    char target[48];
    std::snprintf(target, sizeof target, "/v1/subscribers/s%07lld", static_cast<long long>(pick_(rng_)));
    req_ = http::request<http::string_body>(http::verb::get, target, 11);
  }

  void BuildDecide() {
    char body[160];
    std::snprintf(body, sizeof body, R"({"subscriber_id":"s%07lld","channel":"%s","dry_run":%s})",
                  static_cast<long long>(pick_(rng_)), o_.channel.c_str(), o_.dry_run ? "true" : "false");
    req_ = http::request<http::string_body>(http::verb::post, "/v1/decide", 11);
    req_.set(http::field::content_type, "application/json");
    req_.body() = body;
  }

  void Send() {
    if (SteadyClock::now() >= deadline_) return Close();
    if (o_.mode == "ingest") {
      BuildIngest();
    } else if (o_.mode == "decide") {
      BuildDecide();
    } else if (o_.mode == "health") {
      req_ = http::request<http::string_body>(http::verb::get, "/healthz", 11);
    } else if (o_.mode == "whoami") {
      req_ = http::request<http::string_body>(http::verb::get, "/v1/auth/whoami", 11);
    } else {
      BuildProfile();
    }
    req_.set(http::field::host, o_.host);
    if (!o_.api_key.empty()) req_.set(http::field::authorization, "Bearer " + o_.api_key);
    req_.keep_alive(true);
    req_.prepare_payload();
    // Latency starts after the body is built: we measure the server, not our generator.
    sent_ = SteadyClock::now();
    stream_.expires_after(std::chrono::seconds(60));
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail();
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec2, size_t) { self->OnResponse(ec2); });
    });
  }

  void OnResponse(beast::error_code ec) {
    if (ec) return Fail();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - sent_);
    stats_.latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX)));
    unsigned status = res_.result_int();
    ++stats_.by_status[status];
    if (o_.mode == "ingest" && status == 200) stats_.events += AcceptedCount(res_.body());
    if (!res_.keep_alive()) return Close();
    Send();
  }

  // The "accepted" member of an ingest response.
  static int64_t AcceptedCount(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) return 0;
    auto it = doc.FindMember("accepted");
    return it != doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
  }

  void Fail() {
    ++stats_.transport_errors;
    Close();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  const Options& o_;
  tcp::endpoint endpoint_;
  int index_;
  SteadyClock::time_point deadline_;
  int64_t run_id_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<int64_t> pick_;
  int64_t seq_ = 0;
  SteadyClock::time_point sent_;
  ConnStats stats_;
};

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    Usage();
    return 2;
  }
  beast::error_code ec;
  asio::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || results.empty()) {
    std::fprintf(stderr, "http_load: cannot resolve %s: %s\n", o.host.c_str(),
                 ec.message().c_str());
    return 2;
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  for (const auto& r : results) {
    if (!r.endpoint().address().is_loopback()) {
      std::fprintf(stderr, "http_load: %s is not a loopback address; refusing\n",
                   r.endpoint().address().to_string().c_str());
      return 2;
    }
  }

  int64_t run_id = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto start = SteadyClock::now();
  auto deadline = start + std::chrono::seconds(o.seconds);
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (int t = 0; t < o.threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
  std::vector<std::shared_ptr<Conn>> conns;
  for (int c = 0; c < o.connections; ++c) {
    auto conn = std::make_shared<Conn>(*ios[c % o.threads], o, endpoint, c, deadline, run_id);
    conn->Start();
    conns.push_back(std::move(conn));
  }
  std::vector<std::thread> threads;
  for (auto& io : ios) threads.emplace_back([&io] { io->run(); });
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();

  std::vector<uint32_t> latency;
  std::map<unsigned, int64_t> by_status;
  int64_t events = 0;
  int64_t transport_errors = 0;
  for (const auto& c : conns) {
    const ConnStats& s = c->stats();
    latency.insert(latency.end(), s.latency_us.begin(), s.latency_us.end());
    for (const auto& [status, n] : s.by_status) by_status[status] += n;
    events += s.events;
    transport_errors += s.transport_errors;
  }
  std::sort(latency.begin(), latency.end());
  int64_t requests = static_cast<int64_t>(latency.size());

  std::printf("mode=%s connections=%d threads=%d seconds=%.2f", o.mode.c_str(), o.connections,
              o.threads, elapsed);
  if (o.mode == "ingest") std::printf(" batch=%d", o.batch);
  std::printf(" subscribers=%lld\n", static_cast<long long>(o.subscribers));
  std::printf("requests: %lld  (%.0f/s)\n", static_cast<long long>(requests),
              static_cast<double>(requests) / elapsed);
  if (o.mode == "ingest") {
    std::printf("events accepted: %lld  (%.0f/s)\n", static_cast<long long>(events),
                static_cast<double>(events) / elapsed);
  }
  std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", Percentile(latency, 0.5),
              Percentile(latency, 0.9), Percentile(latency, 0.99), Percentile(latency, 1.0));
  std::printf("status:");
  for (const auto& [status, n] : by_status) {
    std::printf(" %u=%lld", status, static_cast<long long>(n));
  }
  std::printf("\ntransport errors: %lld\n", static_cast<long long>(transport_errors));
  return transport_errors > 0 && requests == 0 ? 1 : 0;
}
