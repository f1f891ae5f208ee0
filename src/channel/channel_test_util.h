// Test helpers for src/channel: a scratch folder, polling, and a real HTTP receiver on
// 127.0.0.1 that misbehaves on request (errors, hangs, garbage).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace kairos::channel::testing {

// A fresh folder under the system temp dir, removed with everything in it at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("kairos-channel-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Polls `pred` every 5 ms until it holds or `timeout_ms` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& pred, int timeout_ms = 4000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// What the test receiver does with one request.
enum class HttpAction {
  kStatus,   // answer `status` (with Retry-After when set)
  kHang,     // read the request, never answer (until the server stops)
  kGarbage,  // answer bytes that are not HTTP, then close
};
struct HttpReply {
  HttpReply() = default;
  HttpReply(HttpAction a, int s = 200, std::string ra = {})  // NOLINT: brace lists in tests
      : action(a), status(s), retry_after(std::move(ra)) {}
  HttpAction action = HttpAction::kStatus;
  int status = 200;
  std::string retry_after;
};

// An HTTP/1.1 receiver on 127.0.0.1:<ephemeral port>, one thread per connection. Replies follow
// the script in order, then the fallback.
class TestHttpServer {
 public:
  using Action = HttpAction;
  using Reply = HttpReply;
  struct Request {
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::chrono::steady_clock::time_point at;
  };

  explicit TestHttpServer(std::vector<HttpReply> script = {}, HttpReply fallback = HttpReply())
      : script_(script.begin(), script.end()), fallback_(fallback), acceptor_(ioc_) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestHttpServer() { Stop(); }

  void Stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // unblocks accept()
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks reads of idle connections
    }
    for (std::thread& t : connection_threads_) t.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  int successes() const { return successes_.load(); }
  void SetFallback(Reply r) {
    std::lock_guard lock(mu_);
    fallback_ = r;
  }

 private:
  void AcceptLoop() {
    for (;;) {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopped_) return;
      std::lock_guard lock(mu_);
      open_fds_.push_back(socket.native_handle());
      connection_threads_.emplace_back(
          [this, s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket))]() mutable {
            Serve(*s);
            // Unregister before the descriptor is closed, so Stop never shuts down a reused one.
            {
              std::lock_guard l(mu_);
              std::erase(open_fds_, s->native_handle());
            }
            boost::system::error_code ignored;
            s->close(ignored);
          });
    }
  }

  void Serve(boost::asio::ip::tcp::socket& socket) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(socket, buffer, req, ec);
      if (ec) return;
      Reply reply;
      {
        std::lock_guard lock(mu_);
        Request r;
        r.target = std::string(req.target());
        for (const auto& field : req) {
          std::string name(field.name_string());
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          r.headers[name] = std::string(field.value());
        }
        r.body = req.body();
        r.at = std::chrono::steady_clock::now();
        requests_.push_back(std::move(r));
        if (!script_.empty()) {
          reply = script_.front();
          script_.pop_front();
        } else {
          reply = fallback_;
        }
      }
      switch (reply.action) {
        case Action::kHang:
          while (!stopped_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return;
        case Action::kGarbage: {
          static const std::string kGarbage = "THIS IS NOT HTTP AT ALL\r\n\r\n";
          boost::asio::write(socket, boost::asio::buffer(kGarbage), ec);
          return;
        }
        case Action::kStatus: {
          http::response<http::string_body> res{static_cast<http::status>(reply.status),
                                                req.version()};
          res.set(http::field::content_type, "text/plain");
          if (!reply.retry_after.empty()) res.set(http::field::retry_after, reply.retry_after);
          if (reply.status != 204 && reply.status != 304 && reply.status >= 200) {
            res.body() = "status " + std::to_string(reply.status);
          }
          res.keep_alive(req.keep_alive());
          res.prepare_payload();
          http::write(socket, res, ec);
          if (ec) return;
          if (reply.status >= 200 && reply.status < 300) ++successes_;
          if (!req.keep_alive()) return;
          break;
        }
      }
    }
  }

  mutable std::mutex mu_;
  std::deque<Reply> script_;
  Reply fallback_;
  std::vector<Request> requests_;
  std::atomic<int> successes_{0};
  std::atomic<bool> stopped_{false};
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> connection_threads_;
  std::vector<int> open_fds_;
};

}  // namespace kairos::channel::testing
