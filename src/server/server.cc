// <utility> first: in C++20, Boost 1.74's asio/awaitable.hpp uses std::exchange without
// including it (see BUILD-NOTES.md).
#include "server/server.h"

#include <pthread.h>

#include <algorithm>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <filesystem>
#include <exception>
#include <latch>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/api.h"
#include "server/http_json.h"
#include "server/metrics.h"
#include "server/routes.h"

namespace kairos {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

ServerOptions ServerOptions::FromConfig(const ServerConfig& config) {
  ServerOptions o;
  o.host = config.host;
  o.port = config.port;
  o.threads = config.threads;
  o.max_body_bytes = config.max_body_bytes;
  o.max_batch_events = config.max_batch_events;
  o.idle_timeout_ms = config.idle_timeout_ms;
  o.max_header_bytes = config.max_header_bytes;
  o.max_json_depth = config.max_json_depth;
  o.max_string_bytes = config.max_string_bytes;
  o.request_timeout_ms = config.request_timeout_ms;
  o.max_connections = config.max_connections;
  o.tls_cert = config.tls_cert;
  o.tls_key = config.tls_key;
  return o;
}

namespace {

// What Stop() needs of a connection, whatever its stream.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // On stop: drops the connection unless a request is being served.
  virtual void CloseIfIdle() = 0;
};

std::vector<std::string> RouteLabels() {
  std::vector<std::string> labels;
  for (const Route& r : Routes()) labels.emplace_back(r.pattern);
  return labels;
}

// State every connection reads: created before the first thread starts, destroyed after the
// last one is joined.
struct Shared {
  Shared(ServerOptions o, const Clock* clock)
      : options(std::move(o)),
        metrics(RouteLabels()),
        auth(options.keys_path, RateLimit{options.rate_limit_per_second, options.rate_limit_burst},
             options.metrics_public),
        api(options, clock, &metrics, &auth) {}

  const ServerOptions options;
  HttpMetrics metrics;
  Authenticator auth;
  Api api;
  std::atomic<bool> stopping{false};
  // Set by Start() when server.tls is configured: every connection then speaks TLS.
  std::optional<asio::ssl::context> tls;
  // Runs Engine calls; created by Start(), joined by Stop() while the I/O threads still run so
  // that the responses it posts back are written.
  std::optional<asio::thread_pool> pool;
};

// One I/O thread with its own io_context. A connection lives on one thread for its whole life,
// so its handlers never run concurrently and need no strand or lock.
struct IoThread {
  IoThread() : io(1) {}  // concurrency hint: one thread runs it (posts from others still safe)

  // Closes the connections that are waiting for (or draining) input; the others finish the
  // request they are serving and close after their response. Runs on this thread.
  void CloseIdleSessions();

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // Live connections, for Stop(). Touched only on this thread. weak_ptr: a session may be
  // destroyed on a worker thread (last reference) without unregistering itself.
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::thread thread;
};

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// The API key a request carries: "Authorization: Bearer <key>" or "X-API-Key: <key>".
std::string_view PresentedKey(const HttpRequest& req) {
  std::string_view auth = req.Header("authorization");
  if (auth.size() > 7 && beast::iequals(beast::string_view(auth.data(), 7), "bearer ")) {
    auth.remove_prefix(7);
    while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
    while (!auth.empty() && auth.back() == ' ') auth.remove_suffix(1);
    return auth;
  }
  return req.Header("x-api-key");
}

// The target without its query string.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// True when a failed TLS handshake read an HTTP request instead of a ClientHello.
bool IsPlainHttpOnTlsPort(const beast::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST;
}

// One connection. `Stream` is beast::tcp_stream (HTTP) or beast::ssl_stream<beast::tcp_stream>
// (HTTPS, after a handshake); the HTTP handling is the same.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(tcp::socket&& socket, Shared* shared, IoThread* home)
      : shared_(shared),
        home_(home),
        stream_(MakeStream(std::move(socket), shared)),
        deadline_(stream_.get_executor()) {
    shared_->metrics.connections_accepted.Add();
    shared_->metrics.connections_open.Add(1);
  }
  ~Session() override { shared_->metrics.connections_open.Add(-1); }

  void Start() {
    beast::error_code ec;
    // Responses go out in one write; Nagle would hold the tail of one back for a delayed ACK.
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
      // The handshake counts towards the first request's deadline: a client that opens a TLS
      // connection and stalls is dropped like one that stalls in its request head.
      phase_ = Phase::kReading;
      Lowest().expires_after(std::min(IdleTimeout(), RequestTimeout()));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code hec) {
                                self->OnHandshake(hec);
                              });
    } else {
      ReadHeader();
    }
  }

  void CloseIfIdle() override {
    if (phase_ == Phase::kReading || phase_ == Phase::kLingering) Lowest().close();
  }

 private:
  enum class Phase { kReading, kProcessing, kWriting, kLingering, kClosed };

  static Stream MakeStream(tcp::socket&& socket, Shared* shared) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *shared->tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  std::chrono::milliseconds IdleTimeout() const {
    return std::chrono::milliseconds(std::max<int64_t>(shared_->options.idle_timeout_ms, 1));
  }
  std::chrono::milliseconds RequestTimeout() const {
    return std::chrono::milliseconds(std::max<int64_t>(shared_->options.request_timeout_ms, 1));
  }

  void OnHandshake(beast::error_code ec) {
    if (!ec) return ReadHeader();
    shared_->metrics.tls_handshake_failures.Add();
    if (!IsPlainHttpOnTlsPort(ec) || shared_->stopping.load(std::memory_order_relaxed)) {
      return Finish();
    }
    // A plain-HTTP client: say so in plain HTTP (what it can read), then close.
    static const std::string kPlainHttpAnswer = [] {
      const std::string body = ErrorJson(ErrorCode::kInvalidArgument,
                                         "this port speaks HTTPS only (server.tls); use https://");
      return "HTTP/1.1 400 Bad Request\r\nServer: kairos\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    phase_ = Phase::kWriting;
    Lowest().expires_after(std::min(IdleTimeout(), std::chrono::milliseconds(2000)));
    asio::async_write(Lowest().socket(), asio::buffer(kPlainHttpAnswer),
                      [self = this->shared_from_this()](beast::error_code, size_t) {
                        self->Finish();
                      });
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    request_ = HttpRequest();
    route_ = -1;
    linger_ = false;
    timed_out_ = false;
    // Between requests a connection may stay silent for the idle timeout; the request deadline
    // starts with the first byte of the next request.
    if (buffer_.size() > 0) return BeginRequest();
    Lowest().expires_after(IdleTimeout());
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](
                                                       beast::error_code ec, size_t n) {
      if (ec) return self->Finish();  // silent too long, closed by the peer, or stopped
      self->buffer_.commit(n);
      self->BeginRequest();
    });
  }

  // Reads a request's head under both deadlines: the idle timeout and the whole-request
  // deadline (server.request_timeout), which also bounds the body.
  void BeginRequest() {
    deadline_.expires_after(RequestTimeout());
    deadline_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the request was read in time (or the connection closed)
      if (auto self = weak.lock()) self->OnDeadline();
    });
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<uint32_t>(
        std::clamp<int64_t>(shared_->options.max_header_bytes, 1024, 1 << 30)));
    // The Content-Length check is ours (a 413 with a message, before the body). Beast 1.74
    // treats an unset body limit as exceeded, so "unlimited" is spelled as the maximum.
    header_parser_->body_limit(std::numeric_limits<uint64_t>::max());
    Lowest().expires_after(IdleTimeout());
    http::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // The request deadline passed while the head or body was still arriving: stop reading; the
  // pending read completes (aborted) and answers 408.
  void OnDeadline() {
    if (phase_ != Phase::kReading || timed_out_) return;
    timed_out_ = true;
    shared_->metrics.CountLimit(InputLimit::kRequestTimeout);
    Lowest().cancel();
  }

  void RespondTimedOut() {
    RespondAndClose(ErrorResponse(
        408, ErrorCode::kTimeout,
        "the request did not arrive within " + std::to_string(RequestTimeout().count()) +
            " ms (server.request_timeout)"));
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      if (timed_out_) return RespondTimedOut();
      if (ec == http::error::header_limit) {
        shared_->metrics.requests_malformed.Add();
        shared_->metrics.CountLimit(InputLimit::kHeaderBytes);
        return RespondAndClose(ErrorResponse(431, ErrorCode::kTooLarge,
                                             "request header larger than " +
                                                 std::to_string(shared_->options.max_header_bytes) +
                                                 " bytes"));
      }
      if (IsHttpParseError(ec) && ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        shared_->metrics.requests_malformed.Add();
        return RespondAndClose(ErrorResponse(400, ErrorCode::kInvalidArgument,
                                             "malformed HTTP request: " + ec.message()));
      }
      return Finish();  // closed by the peer, timed out, or stopped
    }
    if (shared_->stopping.load(std::memory_order_relaxed)) return Finish();
    started_ = std::chrono::steady_clock::now();
    const auto& head = header_parser_->get();
    version_ = head.version();
    keep_alive_ = head.keep_alive();
    request_.method = std::string(head.method_string());
    beast::string_view target = head.target();
    request_.path = std::string(PathOf(std::string_view(target.data(), target.size())));
    const size_t question = target.find('?');
    request_.query = question == beast::string_view::npos ? std::string()
                                                          : std::string(target.substr(question + 1));
    request_.content_type = std::string(head[http::field::content_type]);
    for (const auto& field : head) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    match_ = MatchRoute(request_.method, request_.path);
    route_ = match_.kind == RouteMatch::Kind::kFound ? match_.route_index : -1;

    boost::optional<uint64_t> length = header_parser_->content_length();
    // The key is checked before the body is read: a caller without the right to a route cannot
    // make the server take in a large body for it.
    if (match_.kind == RouteMatch::Kind::kFound) {
      AuthOutcome auth = shared_->auth.Check(PresentedKey(request_), match_.route->access);
      if (!auth.status.ok()) {
        HttpResponse res = ErrorResponse(auth.status);
        if (auth.status.code() == ErrorCode::kUnauthenticated) {
          res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kairos\"");
        }
        if (auth.retry_after_s > 0) {
          res.headers.emplace_back("Retry-After", std::to_string(auth.retry_after_s));
        }
        const bool has_body = head.chunked() || (length && *length > 0);
        if (has_body) return RespondAndClose(std::move(res));
        return Respond(std::move(res));
      }
      request_.principal = std::move(auth.principal);
    }
    const int64_t limit = shared_->options.max_body_bytes;
    if (length && *length > static_cast<uint64_t>(limit)) {
      shared_->metrics.requests_too_large.Add();
      shared_->metrics.CountLimit(InputLimit::kBodyBytes);
      return RespondAndClose(ErrorResponse(
          413, ErrorCode::kTooLarge,
          "request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
              std::to_string(limit) + " bytes (server.max_body_bytes)"));
    }
    bool expect_continue = beast::iequals(head[http::field::expect], "100-continue");
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    // Also bounds chunked bodies, whose size is known only while reading them.
    body_parser_->body_limit(static_cast<uint64_t>(limit));
    if (expect_continue && !body_parser_->is_done()) {
      // The client waits for this before sending the body (curl does for large uploads).
      continue_ = http::response<http::empty_body>(http::status::continue_, version_);
      Lowest().expires_after(IdleTimeout());
      http::async_write(stream_, continue_,
                        [self = this->shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->timed_out_ ? self->RespondTimedOut() : self->Finish();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // Reads the body piece by piece, renewing the idle timeout each time; the request deadline
  // (armed in BeginRequest) bounds the whole.
  void ReadBody() {
    if (body_parser_->is_done()) return Dispatch();
    Lowest().expires_after(IdleTimeout());
    http::async_read_some(
        stream_, buffer_, *body_parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBodyPart(ec); });
  }

  void OnBodyPart(beast::error_code ec) {
    if (ec) {
      if (timed_out_) return RespondTimedOut();
      if (ec == http::error::body_limit) {
        shared_->metrics.requests_too_large.Add();
        shared_->metrics.CountLimit(InputLimit::kBodyBytes);
        return RespondAndClose(ErrorResponse(413, ErrorCode::kTooLarge,
                                             "request body exceeds the limit of " +
                                                 std::to_string(shared_->options.max_body_bytes) +
                                                 " bytes (server.max_body_bytes)"));
      }
      if (IsHttpParseError(ec) && ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        shared_->metrics.requests_malformed.Add();
        return RespondAndClose(ErrorResponse(400, ErrorCode::kInvalidArgument,
                                             "malformed HTTP request body: " + ec.message()));
      }
      return Finish();
    }
    if (shared_->stopping.load(std::memory_order_relaxed)) return Finish();
    ReadBody();
  }

  void Dispatch() {
    deadline_.cancel();
    request_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    if (!shared_->api.IsBlocking(match_)) return Respond(shared_->api.Handle(match_, request_));

    // Engine calls may wait for a group commit: run them on the worker pool and come back to
    // this connection's thread with the response. The session stays untouched meanwhile (no
    // read is pending), so the worker may read request_ and match_ without a lock.
    phase_ = Phase::kProcessing;
    shared_->metrics.engine_calls_in_flight.Add(1);
    asio::post(*shared_->pool, [self = this->shared_from_this(),
                                home = stream_.get_executor()]() mutable {
      HttpResponse res;
      try {
        res = self->shared_->api.Handle(self->match_, self->request_);
      } catch (const std::exception& e) {
        // No exception should cross the engine API; if one does (bad_alloc), answer instead of
        // taking the pool thread, and the process, down.
        res = ErrorResponse(500, ErrorCode::kInternal, std::string("internal error: ") + e.what());
      }
      self->shared_->metrics.engine_calls_in_flight.Add(-1);
      // Move our reference into the completion so that the session is released on its own
      // thread, not here.
      asio::post(home, [self = std::move(self), res = std::move(res)]() mutable {
        self->Respond(std::move(res));
      });
    });
  }

  void RespondAndClose(HttpResponse res) {
    if (started_ == std::chrono::steady_clock::time_point()) {
      started_ = std::chrono::steady_clock::now();
    }
    res.close = true;
    // The request was refused unread or half read: close with a linger (see Linger()).
    linger_ = true;
    Respond(std::move(res));
  }

  void Respond(HttpResponse res) {
    phase_ = Phase::kWriting;
    deadline_.cancel();
    bool keep_alive =
        keep_alive_ && !res.close && !shared_->stopping.load(std::memory_order_relaxed);
    response_ = http::response<http::string_body>(static_cast<http::status>(res.status), version_);
    response_.set(http::field::server, "kairos");
    response_.set(http::field::content_type, res.content_type);
    if (!res.allow.empty()) response_.set(http::field::allow, res.allow);
    for (const auto& [name, value] : res.headers) response_.set(name, value);
    response_.body() = std::move(res.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    status_ = res.status;
    // Counted before the write: once a client has its answer, /metrics already shows it.
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    shared_->metrics.Record(route_, status_, std::chrono::duration<double>(elapsed).count());
    Lowest().expires_after(IdleTimeout());
    http::async_write(
        stream_, response_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWritten(ec); });
  }

  void OnWritten(beast::error_code ec) {
    started_ = std::chrono::steady_clock::time_point();
    bool close = response_.need_eof();
    response_ = http::response<http::string_body>();  // release the body now, not at next use
    if (ec) return Finish();
    if (close) {
      if (linger_ && !shared_->stopping.load(std::memory_order_relaxed)) return Linger();
      return Finish();
    }
    // A large body grew the buffer; do not keep megabytes per idle keep-alive connection.
    if (buffer_.capacity() > (64 << 10) && buffer_.size() == 0) buffer_.shrink_to_fit();
    ReadHeader();
  }

  // After answering a request whose body we did not read (413, malformed), closing at once
  // would make the kernel reset the connection (unread data), and a client still sending would
  // see the reset instead of our response. So: stop sending, discard input for a short while,
  // then close.
  void Linger() {
    phase_ = Phase::kLingering;
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Finish();
    Lowest().expires_after(std::min(IdleTimeout(), std::chrono::milliseconds(2000)));
    DrainSome();
  }

  void DrainSome() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(16 << 10),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec || self->shared_->stopping.load(std::memory_order_relaxed)) {
                                return self->Finish();
                              }
                              self->DrainSome();
                            });
  }

  void Finish() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    beast::error_code ec;
    deadline_.cancel();
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
    home_->sessions.erase(this);
  }

  Shared* shared_;
  IoThread* home_;
  Stream stream_;
  // The whole-request deadline (server.request_timeout), armed when a request's first byte
  // arrives, cancelled once it is read.
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  Phase phase_ = Phase::kReading;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  // The request being served; read by a worker thread while phase_ == kProcessing.
  HttpRequest request_;
  RouteMatch match_;  // its param views into request_.path
  int route_ = -1;    // metrics label index; -1 = unmatched
  unsigned version_ = 11;
  unsigned status_ = 0;
  bool keep_alive_ = true;
  bool linger_ = false;
  // Latency is measured with the steady clock, not the injected Clock: it is a duration of
  // this process's work, not business time.
  std::chrono::steady_clock::time_point started_;
};

void IoThread::CloseIdleSessions() {
  // Copy first: closing completes operations later (never inline), but do not rely on it while
  // iterating the map that Finish() edits.
  std::vector<std::shared_ptr<SessionBase>> live;
  live.reserve(sessions.size());
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->CloseIfIdle();
}

// The TLS context of server.tls, when set: certificate chain and key from PEM files, TLS 1.2+.
// Errors (kInvalidArgument) name the setting and the file.
Status LoadTls(const ServerOptions& o, std::optional<asio::ssl::context>* out) {
  if (o.tls_cert.empty() && o.tls_key.empty()) return Status::Ok();
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    return InvalidArgument("server.tls needs both cert and key (PEM files)", "tls");
  }
  const std::pair<const char*, const std::string*> files[] = {{"server.tls.cert", &o.tls_cert},
                                                              {"server.tls.key", &o.tls_key}};
  for (const auto& [what, path] : files) {
    std::error_code fec;
    if (!std::filesystem::is_regular_file(*path, fec)) {
      return InvalidArgument(std::string(what) + ": " + *path + ": no such file", what);
    }
  }
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  ctx.use_certificate_chain_file(o.tls_cert, ec);
  if (ec) {
    return InvalidArgument("server.tls.cert: " + o.tls_cert +
                               ": not a readable PEM certificate (" + ec.message() + ")",
                           "server.tls.cert");
  }
  ctx.use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
  if (ec && ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return InvalidArgument("server.tls.key: " + o.tls_key + ": does not match the certificate " +
                               o.tls_cert,
                           "server.tls.key");
  }
  if (ec) {
    return InvalidArgument("server.tls.key: " + o.tls_key +
                               ": not a readable, unencrypted PEM private key (" + ec.message() +
                               ")",
                           "server.tls.key");
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return InvalidArgument("server.tls.key: " + o.tls_key + ": does not match the certificate " +
                               o.tls_cert,
                           "server.tls.key");
  }
  out->emplace(std::move(ctx));
  return Status::Ok();
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Clock* clock) : shared_(std::move(options), clock) {}
  ~Impl() { Stop(); }

  Result<int> Start();
  void Stop();
  void AttachEngine(Engine* engine) { shared_.api.AttachEngine(engine); }
  void AttachDecisions(DecisionService* d) { shared_.api.AttachDecisions(d); }
  void AttachAutomation(Automation* a) { shared_.api.AttachAutomation(a); }
  void AttachOffers(const OfferRoutes* o) { shared_.api.AttachOffers(o); }
  int port() const { return port_.load(); }
  bool ready() const { return shared_.api.ready(); }

 private:
  enum class State { kNew, kRunning, kStopped };

  void Accept();
  void StartSession(IoThread* home, tcp::socket socket);
  void RefuseConnection(tcp::socket socket);

  // Declaration order is destruction order in reverse: threads and sockets go before the state
  // they use.
  Shared shared_;
  std::vector<std::unique_ptr<IoThread>> io_;
  std::optional<tcp::acceptor> acceptor_;      // on io_[0]
  std::optional<asio::steady_timer> backoff_;  // on io_[0]: accept retry after EMFILE etc.
  size_t next_io_ = 0;                         // round-robin; touched only on io_[0]
  std::mutex lifecycle_mu_;
  State state_ = State::kNew;
  std::atomic<int> port_{0};
};

Result<int> Server::Impl::Start() {
  std::lock_guard lock(lifecycle_mu_);
  if (state_ != State::kNew) {
    return Status(ErrorCode::kFailedPrecondition, "the server was already started");
  }
  const ServerOptions& o = shared_.options;
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(o.host, ec);
  if (ec) return InvalidArgument("server.host: not an IP address: " + o.host, "host");
  if (o.port < 0 || o.port > 65535) {
    return InvalidArgument("server.port: out of range: " + std::to_string(o.port), "port");
  }
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  if (Status s = LoadTls(o, &shared_.tls); !s.ok()) return s;

  std::vector<std::unique_ptr<IoThread>> io;
  for (int i = 0; i < threads; ++i) io.push_back(std::make_unique<IoThread>());
  tcp::acceptor acceptor(io[0]->io);
  tcp::endpoint endpoint(address, static_cast<uint16_t>(o.port));
  std::string where = o.host + ":" + std::to_string(o.port);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return IoError(where + ": open: " + ec.message());
  // A restarted server binds while the old connections sit in TIME_WAIT.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) return IoError(where + ": bind: " + ec.message());
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return IoError(where + ": listen: " + ec.message());
  port_ = acceptor.local_endpoint(ec).port();

  io_ = std::move(io);
  acceptor_.emplace(std::move(acceptor));
  backoff_.emplace(io_[0]->io);
  shared_.pool.emplace(static_cast<size_t>(std::max(shared_.options.worker_threads, 1)));
  Accept();
  for (size_t i = 0; i < io_.size(); ++i) {
    IoThread* t = io_[i].get();
    t->work.emplace(t->io.get_executor());
    t->thread = std::thread([t, i] {
      std::string name = "kairos-io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      t->io.run();
    });
  }
  state_ = State::kRunning;
  return port_.load();
}

// One acceptor on io_[0]; accepted sockets are dealt round-robin to the I/O threads. (Chosen
// over one SO_REUSEPORT acceptor per thread: that spreads connections by hash, unevenly for a
// few connections, and a second server started by mistake on the same port would silently
// share its traffic instead of failing to bind. Accepting is rare with keep-alive.)
void Server::Impl::Accept() {
  IoThread* home = io_[next_io_++ % io_.size()].get();
  acceptor_->async_accept(home->io, [this, home](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || shared_.stopping.load()) return;
    if (ec) {
      // Typically EMFILE/ENFILE: accepting again at once would spin; retry shortly.
      backoff_->expires_after(std::chrono::milliseconds(50));
      backoff_->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !shared_.stopping.load()) Accept();
      });
      return;
    }
    asio::post(home->io,
               [this, home, s = std::move(socket)]() mutable { StartSession(home, std::move(s)); });
    Accept();
  });
}

void Server::Impl::StartSession(IoThread* home, tcp::socket socket) {
  // Stop() may have closed this thread's sessions already; do not start a new one after it.
  if (shared_.stopping.load()) return;
  if (shared_.metrics.connections_open.Value() >= shared_.options.max_connections) {
    return RefuseConnection(std::move(socket));
  }
  if (shared_.tls) {
    auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        std::move(socket), &shared_, home);
    home->sessions.emplace(session.get(), session);
    session->Start();
  } else {
    auto session = std::make_shared<Session<beast::tcp_stream>>(std::move(socket), &shared_, home);
    home->sessions.emplace(session.get(), session);
    session->Start();
  }
}

// Over server.max_connections: a plain-HTTP client gets a short 503 (best effort: a fresh
// socket's send buffer takes it without blocking); a TLS one is just closed.
void Server::Impl::RefuseConnection(tcp::socket socket) {
  shared_.metrics.CountLimit(InputLimit::kConnections);
  beast::error_code ec;
  if (!shared_.tls) {
    static const std::string kAnswer = [] {
      const std::string body =
          ErrorJson(ErrorCode::kUnavailable,
                    "too many open connections (server.max_connections); retry shortly");
      return "HTTP/1.1 503 Service Unavailable\r\nServer: kairos\r\nContent-Type: "
             "application/json\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(kAnswer), ec);
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

void Server::Impl::Stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (state_ != State::kRunning) {
    state_ = State::kStopped;
    return;
  }
  state_ = State::kStopped;
  shared_.stopping.store(true);
  shared_.api.SetStopping();

  // 1. On each I/O thread: stop accepting and close the connections not serving a request.
  //    Wait until every thread has done it, so that no connection can hand new work to the
  //    pool afterwards (each checks `stopping` before dispatching).
  std::latch closed(static_cast<std::ptrdiff_t>(io_.size()));
  for (auto& t : io_) {
    asio::post(t->io, [this, t = t.get(), &closed] {
      if (t == io_[0].get()) {
        beast::error_code ec;
        acceptor_->close(ec);
        backoff_->cancel();
      }
      t->CloseIdleSessions();
      closed.count_down();
    });
  }
  closed.wait();
  // 2. Let the engine calls in flight finish; their responses are posted to the I/O threads,
  //    which still run and write them (then close, since we are stopping).
  shared_.pool->join();
  // 3. Nothing new can start: let each io_context run out of work (bounded by the write
  //    timeout of a client that does not read its response) and join its thread.
  for (auto& t : io_) t->work.reset();
  for (auto& t : io_) t->thread.join();
  // 4. Destroy sockets before their io_contexts; anything still queued is destroyed with them.
  backoff_.reset();
  acceptor_.reset();
  io_.clear();
  shared_.pool.reset();
}

Server::Server(ServerOptions options, const Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}
Server::~Server() = default;
Result<int> Server::Start() { return impl_->Start(); }
void Server::AttachEngine(Engine* engine) { impl_->AttachEngine(engine); }
void Server::AttachDecisions(DecisionService* decisions) { impl_->AttachDecisions(decisions); }
void Server::AttachAutomation(Automation* automation) { impl_->AttachAutomation(automation); }
void Server::AttachOffers(const OfferRoutes* offers) { impl_->AttachOffers(offers); }
void Server::Stop() { impl_->Stop(); }
int Server::port() const { return impl_->port(); }
bool Server::ready() const { return impl_->ready(); }

}  // namespace kairos
