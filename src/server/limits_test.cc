// Input limits and TLS at the HTTP edge, end to end: a real Server on an ephemeral loopback
// port, a real Engine on a temporary workspace, raw sockets for the misbehaving clients.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>  // before Boost: Asio 1.74 in C++20 uses std::exchange without including it
#include <vector>

#include "common/clock.h"
#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "server/api_keys.h"
#include "server/server.h"

namespace kairos {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock_ = std::chrono::steady_clock;

struct Reply {
  unsigned status = 0;
  std::string body;
  rapidjson::Document Json() const {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << body;
    return doc;
  }
  std::string Error(const char* member) const {
    rapidjson::Document doc = Json();
    if (!doc.IsObject() || !doc.HasMember("error") || !doc["error"].HasMember(member)) return "";
    return doc["error"][member].GetString();
  }
};

// One request on a new plain connection, with the admin key.
Reply Request(int port, const std::string& key, http::verb method, std::string_view target,
              std::string body = "", std::string_view content_type = "") {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  timeval tv{10, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  http::request<http::string_body> req(method, beast::string_view(target.data(), target.size()),
                                       11);
  req.set(http::field::host, "127.0.0.1");
  if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
  if (!content_type.empty()) {
    req.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
  }
  req.body() = std::move(body);
  req.prepare_payload();
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code ec;
  http::read(socket, buffer, parser, ec);
  if (ec) {
    ADD_FAILURE() << "reading the response: " << ec.message();
    return {};
  }
  return Reply{parser.get().result_int(), parser.get().body()};
}

// A raw loopback connection for clients that misbehave on purpose.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False once the server has closed (EPIPE, reset).
  bool Send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Reads until the server closes (EOF or reset) or 10 s pass; `first_byte` is when the first
  // byte came.
  std::string ReadUntilClosed(Clock_::time_point* first_byte = nullptr, bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        if (out.empty() && first_byte != nullptr) *first_byte = Clock_::now();
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (closed != nullptr) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
  }

 private:
  int fd_ = -1;
};

unsigned StatusOf(std::string_view raw) {
  // "HTTP/1.1 408 Request Timeout"
  if (raw.size() < 12 || raw.substr(0, 5) != "HTTP/") return 0;
  return static_cast<unsigned>(std::atoi(std::string(raw.substr(9, 3)).c_str()));
}

std::string Usage(const std::string& id, const std::string& sub) {
  return R"({"event_id":")" + id + R"(","subscriber_id":")" + sub +
         R"(","type":"usage","ts":"2026-01-01T10:00:00Z","kind":"data","amount":1})";
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kairos-limits-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
    Result<Workspace> ws = Workspace::Load(dir_.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::make_unique<Workspace>(std::move(ws).value());
    keys_path_ = KeyFile::PathIn(dir_.string());
    auto key = KeyFile::Create(keys_path_, Role::kAdmin, "test", 0, clock_.Now());
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = key->key;
    Result<std::unique_ptr<Engine>> engine = Engine::Open(*ws_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    engine_.reset();
    fs::remove_all(dir_);
  }

  ServerOptions Options() const {
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.worker_threads = 4;
    o.max_body_bytes = 1 << 20;
    o.max_batch_events = 100;
    o.idle_timeout_ms = 5000;
    o.keys_path = keys_path_;
    return o;
  }

  void StartServer(const ServerOptions& options) {
    server_ = std::make_unique<Server>(options, &clock_);
    Result<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->AttachEngine(engine_.get());
  }

  Reply Get(std::string_view target) { return Request(port_, key_, http::verb::get, target); }
  Reply Post(std::string body, std::string_view content_type = "application/json") {
    return Request(port_, key_, http::verb::post, "/v1/events", std::move(body), content_type);
  }
  // The value of kairos_http_limit_rejections_total{limit="<limit>"}.
  double LimitCount(const std::string& limit) {
    Reply m = Get("/metrics");
    const std::string needle = "kairos_http_limit_rejections_total{limit=\"" + limit + "\"} ";
    size_t at = m.body.find(needle);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no " << needle << " in /metrics";
      return -1;
    }
    return std::atof(m.body.c_str() + at + needle.size());
  }
  void ExpectServingAndConsistent() {
    EXPECT_EQ(Get("/healthz").status, 200u);
    Reply r = Post(Usage("ok-" + std::to_string(++serial_), "fine"));
    EXPECT_EQ(r.status, 200u) << r.body;
  }

  ManualClock clock_{*ParseRfc3339("2026-01-02T00:00:00Z")};
  fs::path dir_;
  std::string keys_path_;
  std::string key_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  int serial_ = 0;
};

TEST_F(LimitsTest, DeepJsonIs400NamingThePointerAndNothingIsApplied) {
  StartServer(Options());
  // 100,000 '[': refused by the scan, no parser recursion.
  Reply r = Post(std::string(100000, '['));
  ASSERT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Error("code"), "invalid_argument");
  std::string pointer;
  for (int i = 0; i < 32; ++i) pointer += "/0";
  EXPECT_EQ(r.Error("field"), pointer);
  EXPECT_NE(r.Error("message").find("nested deeper than 32 levels (server.max_json_depth)"),
            std::string::npos)
      << r.body;

  // Inside an event, in an NDJSON batch: the line and the pointer.
  std::string deep = "{\"event_id\":\"d1\",\"subscriber_id\":\"deep\",\"type\":\"usage\",\"x\":" +
                     std::string(40, '[') + std::string(40, ']') + "}";
  r = Post(Usage("n1", "deep") + "\n" + deep + "\n", "application/x-ndjson");
  ASSERT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Error("message").rfind("line 2: /x/0/0", 0), 0u) << r.body;
  EXPECT_EQ(Get("/v1/subscribers/deep").status, 404u);  // the batch was refused as a whole
  EXPECT_EQ(LimitCount("json_depth"), 2);
  ExpectServingAndConsistent();
}

TEST_F(LimitsTest, LongStringIs400NamingTheField) {
  ServerOptions o = Options();
  o.max_string_bytes = 1024;
  StartServer(o);
  Reply r = Post(Usage("e1", std::string(2000, 's')));
  ASSERT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.Error("field"), "/subscriber_id");
  EXPECT_NE(r.Error("message").find("string of 2000 bytes exceeds the limit of 1024 bytes "
                                    "(server.max_string_bytes)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(LimitCount("string_bytes"), 1);
  // Other content types are not JSON and not scanned (the route answers 415).
  r = Post(std::string(4000, 'x'), "text/plain");
  EXPECT_EQ(r.status, 415u) << r.body;
  ExpectServingAndConsistent();
}

TEST_F(LimitsTest, BodyHeaderAndBatchLimitsAreCountedByLimit) {
  ServerOptions o = Options();
  o.max_batch_events = 2;
  o.max_body_bytes = 4096;
  StartServer(o);
  std::string batch;
  for (int i = 0; i < 3; ++i) batch += Usage("b" + std::to_string(i), "batch") + "\n";
  EXPECT_EQ(Post(batch, "application/x-ndjson").status, 413u);
  EXPECT_EQ(Post(std::string(5000, ' ')).status, 413u);
  {
    RawConnection c(port_);
    c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 << 10, 'a') + "\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadUntilClosed()), 431u);
  }
  EXPECT_EQ(LimitCount("batch_events"), 1);
  EXPECT_EQ(LimitCount("body_bytes"), 1);
  EXPECT_EQ(LimitCount("header_bytes"), 1);
  EXPECT_EQ(Get("/v1/subscribers/batch").status, 404u);
  ExpectServingAndConsistent();
}

// A slowloris client trickles a header byte every 100 ms: it gets a 408 once the request
// deadline passes and is disconnected, while another client is served meanwhile.
TEST_F(LimitsTest, SlowlorisIsDisconnectedAtTheDeadlineWhileOthersAreServed) {
  ServerOptions o = Options();
  o.request_timeout_ms = 1000;
  o.idle_timeout_ms = 5000;
  StartServer(o);
  for (bool slow_body : {false, true}) {
    SCOPED_TRACE(slow_body ? "slow body" : "slow head");
    RawConnection slow(port_);
    const auto start = Clock_::now();
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
      std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key_ +
                         "\r\nContent-Type: application/json\r\n";
      if (slow_body) {
        if (!slow.Send(head + "Content-Length: 1000\r\n\r\n")) return;
      } else if (!slow.Send(head)) {
        return;
      }
      while (!stop.load()) {
        if (!slow.Send(slow_body ? " " : "X")) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    // Another connection is served while the slow one trickles.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(Get("/healthz").status, 200u);
    Reply ok = Post(Usage(std::string("during-") + (slow_body ? "b" : "h"), "normal"));
    EXPECT_EQ(ok.status, 200u) << ok.body;

    Clock_::time_point first_byte;
    bool closed = false;
    const std::string answer = slow.ReadUntilClosed(&first_byte, &closed);
    const auto ended = Clock_::now();
    stop = true;
    trickle.join();
    EXPECT_EQ(StatusOf(answer), 408u) << answer;
    EXPECT_NE(answer.find("\"code\":\"timeout\""), std::string::npos) << answer;
    EXPECT_NE(answer.find("server.request_timeout"), std::string::npos) << answer;
    EXPECT_GE(first_byte - start, std::chrono::milliseconds(900));
    EXPECT_LT(first_byte - start, std::chrono::milliseconds(2500));
    EXPECT_TRUE(closed);
    EXPECT_LT(ended - start, std::chrono::milliseconds(5000));  // 408, then at most a 2 s linger
  }
  EXPECT_EQ(LimitCount("request_timeout"), 2);
  EXPECT_EQ(Get("/v1/subscribers/normal").Json()["events_applied"].GetInt64(), 2);
  ExpectServingAndConsistent();
}

TEST_F(LimitsTest, ConnectionsBeyondTheLimitAreRefused) {
  ServerOptions o = Options();
  o.max_connections = 2;
  StartServer(o);
  auto a = std::make_unique<RawConnection>(port_);
  auto b = std::make_unique<RawConnection>(port_);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both sessions started
  {
    RawConnection c(port_);
    c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    bool closed = false;
    const std::string answer = c.ReadUntilClosed(nullptr, &closed);
    EXPECT_TRUE(closed);
    // The 503 is best effort (the close may reset it away); a 200 would be wrong.
    if (!answer.empty()) {
      EXPECT_EQ(StatusOf(answer), 503u) << answer;
    }
  }
  a.reset();
  b.reset();
  // Served again once the idle connections are gone.
  Reply r;
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = Get("/healthz");
    if (r.status == 200u) break;
  }
  EXPECT_EQ(r.status, 200u);
  EXPECT_GE(LimitCount("connections"), 1);
}

// --- TLS ---

// A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI.
struct TestCert {
  std::string cert, key;
};
TestCert MakeCert(const fs::path& dir, const std::string& name) {
  fs::create_directories(dir);
  TestCert c{(dir / (name + "-cert.pem")).string(), (dir / (name + "-key.pem")).string()};
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
      c.key + "' -out '" + c.cert + "' >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return c;
}

// GET over HTTPS, trusting only `ca_file`.
Reply HttpsGet(int port, const std::string& ca_file, std::string_view target,
               const std::string& key = "") {
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::empty_body> req(http::verb::get,
                                      beast::string_view(target.data(), target.size()), 11);
  req.set(http::field::host, "127.0.0.1");
  if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return Reply{res.result_int(), res.body()};
}

TEST_F(LimitsTest, TlsServesHttpsAndRefusesPlainHttpCleanly) {
  const TestCert c = MakeCert(dir_ / "tls", "good");
  ServerOptions o = Options();
  o.tls_cert = c.cert;
  o.tls_key = c.key;
  StartServer(o);
  Reply r = HttpsGet(port_, c.cert, "/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"status":"ok"})");

  // Plain HTTP to the HTTPS port: a plain 400 that says so, then closed.
  {
    RawConnection plain(port_);
    plain.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    bool closed = false;
    const std::string answer = plain.ReadUntilClosed(nullptr, &closed);
    EXPECT_EQ(StatusOf(answer), 400u) << answer;
    EXPECT_NE(answer.find("HTTPS only"), std::string::npos) << answer;
    EXPECT_TRUE(closed);
  }
  // Garbage instead of a ClientHello: closed.
  {
    RawConnection junk(port_);
    junk.Send(std::string(64, '\x16'));
    bool closed = false;
    junk.ReadUntilClosed(nullptr, &closed);
    EXPECT_TRUE(closed);
  }
  // The server is undisturbed, and counted the failed handshakes.
  r = HttpsGet(port_, c.cert, "/metrics", key_);
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("kairos_http_tls_handshake_failures_total 2\n"), std::string::npos)
      << r.body.substr(0, 200);
  EXPECT_EQ(HttpsGet(port_, c.cert, "/v1/subscribers/nobody", key_).status, 404u);
}

TEST_F(LimitsTest, TlsStartupErrorsNameTheFile) {
  const TestCert good = MakeCert(dir_ / "tls", "good");
  const TestCert other = MakeCert(dir_ / "tls", "other");
  const std::string garbage = (dir_ / "tls" / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";
  struct Case {
    std::string cert, key, expect;
  };
  const Case cases[] = {
      {(dir_ / "tls/missing.pem").string(), good.key, "server.tls.cert: " + (dir_ / "tls/missing.pem").string() + ": no such file"},
      {good.cert, (dir_ / "tls/nokey.pem").string(), "server.tls.key: " + (dir_ / "tls/nokey.pem").string() + ": no such file"},
      {garbage, good.key, "server.tls.cert: " + garbage + ": not a readable PEM certificate"},
      {good.cert, garbage, "server.tls.key: " + garbage + ": not a readable"},
      {good.cert, other.key, "server.tls.key: " + other.key + ": does not match the certificate"},
  };
  for (const Case& k : cases) {
    ServerOptions o = Options();
    o.tls_cert = k.cert;
    o.tls_key = k.key;
    Server server(o, &clock_);
    Result<int> port = server.Start();
    ASSERT_FALSE(port.ok()) << k.expect;
    EXPECT_EQ(port.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(port.status().message().rfind(k.expect, 0), 0u) << port.status().message();
  }
}

}  // namespace
}  // namespace kairos
