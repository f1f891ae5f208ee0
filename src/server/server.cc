// <utility> first: in C++20, Boost 1.74's asio/awaitable.hpp uses std::exchange without
// including it (see BUILD-NOTES.md).
#include "server/server.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
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
  return o;
}

namespace {

class Session;

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
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
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

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared* shared, IoThread* home)
      : shared_(shared), home_(home), stream_(std::move(socket)) {
    shared_->metrics.connections_accepted.Add();
    shared_->metrics.connections_open.Add(1);
  }
  ~Session() { shared_->metrics.connections_open.Add(-1); }

  void Start() {
    beast::error_code ec;
    // Responses go out in one write; Nagle would hold the tail of one back for a delayed ACK.
    stream_.socket().set_option(tcp::no_delay(true), ec);
    ReadHeader();
  }

  // On stop: drops the connection unless a request is being served.
  void CloseIfIdle() {
    if (phase_ == Phase::kReading || phase_ == Phase::kLingering) stream_.close();
  }

 private:
  enum class Phase { kReading, kProcessing, kWriting, kLingering, kClosed };

  std::chrono::milliseconds IdleTimeout() const {
    return std::chrono::milliseconds(std::max<int64_t>(shared_->options.idle_timeout_ms, 1));
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    request_ = HttpRequest();
    route_ = -1;
    linger_ = false;
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<uint32_t>(
        std::clamp<int64_t>(shared_->options.max_header_bytes, 1024, 1 << 30)));
    // The Content-Length check is ours (a 413 with a message, before the body). Beast 1.74
    // treats an unset body limit as exceeded, so "unlimited" is spelled as the maximum.
    header_parser_->body_limit(std::numeric_limits<uint64_t>::max());
    // One deadline for the whole head: a client trickling header bytes is dropped too.
    stream_.expires_after(IdleTimeout());
    http::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit) {
        shared_->metrics.requests_malformed.Add();
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
      stream_.expires_after(IdleTimeout());
      http::async_write(stream_, continue_,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Finish();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // Reads the body piece by piece, renewing the deadline each time: an idle timeout, not a cap
  // on the duration of a large upload.
  void ReadBody() {
    if (body_parser_->is_done()) return Dispatch();
    stream_.expires_after(IdleTimeout());
    http::async_read_some(
        stream_, buffer_, *body_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBodyPart(ec); });
  }

  void OnBodyPart(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::body_limit) {
        shared_->metrics.requests_too_large.Add();
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
    request_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    if (!shared_->api.IsBlocking(match_)) return Respond(shared_->api.Handle(match_, request_));

    // Engine calls may wait for a group commit: run them on the worker pool and come back to
    // this connection's thread with the response. The session stays untouched meanwhile (no
    // read is pending), so the worker may read request_ and match_ without a lock.
    phase_ = Phase::kProcessing;
    shared_->metrics.engine_calls_in_flight.Add(1);
    asio::post(*shared_->pool, [self = shared_from_this(),
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
    stream_.expires_after(IdleTimeout());
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWritten(ec); });
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
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Finish();
    stream_.expires_after(std::min(IdleTimeout(), std::chrono::milliseconds(2000)));
    DrainSome();
  }

  void DrainSome() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(16 << 10),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
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
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    home_->sessions.erase(this);
  }

  Shared* shared_;
  IoThread* home_;
  beast::tcp_stream stream_;
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
  std::vector<std::shared_ptr<Session>> live;
  live.reserve(sessions.size());
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->CloseIfIdle();
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
  int port() const { return port_.load(); }
  bool ready() const { return shared_.api.ready(); }

 private:
  enum class State { kNew, kRunning, kStopped };

  void Accept();
  void StartSession(IoThread* home, tcp::socket socket);

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
  auto session = std::make_shared<Session>(std::move(socket), &shared_, home);
  home->sessions.emplace(session.get(), session);
  session->Start();
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
void Server::Stop() { impl_->Stop(); }
int Server::port() const { return impl_->port(); }
bool Server::ready() const { return impl_->ready(); }

}  // namespace kairos
