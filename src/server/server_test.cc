// End-to-end tests of the HTTP edge: a real Server on an ephemeral loopback port, a real Engine
// on a temporary workspace, and a small synchronous Beast client.
#include "server/server.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
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
#include "server/routes.h"

namespace kairos {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string www_authenticate;
  std::string retry_after;
  bool keep_alive = false;

  rapidjson::Document Json() const {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << body;
    return doc;
  }
  // Top-level error.code, or "" when the body carries no error object.
  std::string ErrorCodeName() const {
    rapidjson::Document doc = Json();
    if (!doc.IsObject() || !doc.HasMember("error")) return "";
    return doc["error"]["code"].GetString();
  }
};

// The admin key of the current test's workspace: every Client sends it unless told otherwise.
std::string g_key;
std::string g_keys_path;

// The header line that carries g_key, for requests written by hand.
std::string Bearer() { return "Authorization: Bearer " + g_key + "\r\n"; }

// A blocking HTTP/1.1 client on one connection. Reads time out after 10 s so that a server bug
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(int port, std::string key = g_key) : key_(std::move(key)), socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  Reply Send(http::verb method, std::string_view target, std::string body = "",
             std::string_view content_type = "",
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req(method, beast::string_view(target.data(), target.size()),
                                         11);
    req.set(http::field::host, "127.0.0.1");
    if (!key_.empty()) req.set(http::field::authorization, "Bearer " + key_);
    if (!content_type.empty()) {
      req.set(http::field::content_type,
              beast::string_view(content_type.data(), content_type.size()));
    }
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket_, req);
    return Read();
  }

  void WriteRaw(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }

  Reply Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    if (ec) {
      ADD_FAILURE() << "reading the response: " << ec.message();
      return {};
    }
    const auto& res = parser.get();
    Reply r;
    r.status = res.result_int();
    r.body = res.body();
    r.content_type = std::string(res[http::field::content_type]);
    r.allow = std::string(res[http::field::allow]);
    r.www_authenticate = std::string(res[http::field::www_authenticate]);
    r.retry_after = std::string(res[http::field::retry_after]);
    r.keep_alive = res.keep_alive();
    return r;
  }

  // True when the server closed the connection (EOF or reset) instead of sending more bytes.
  bool PeerClosed() {
    char c;
    beast::error_code ec;
    size_t n = socket_.read_some(asio::buffer(&c, 1), ec);
    return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

 private:
  std::string key_;
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string Usage(const std::string& id, const std::string& sub, const std::string& amount,
                  const std::string& ts = "2026-01-01T10:00:00Z") {
  return R"({"event_id":")" + id + R"(","subscriber_id":")" + sub + R"(","type":"usage","ts":")" +
         ts + R"(","kind":"data","amount":)" + amount + "}";
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kairos-server-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
    Result<Workspace> ws = Workspace::Load(dir_.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::make_unique<Workspace>(std::move(ws).value());
    g_keys_path = KeyFile::PathIn(dir_.string());
    auto key = KeyFile::Create(g_keys_path, Role::kAdmin, "test", 0, clock_.Now());
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    g_key = key->key;
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

  static ServerOptions TestOptions() {
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.worker_threads = 4;
    o.max_body_bytes = 1 << 20;
    o.max_batch_events = 100;
    o.idle_timeout_ms = 5000;
    o.keys_path = g_keys_path;
    return o;
  }

  void StartServer(ServerOptions options = TestOptions(), bool attach = true) {
    server_ = std::make_unique<Server>(options, &clock_);
    Result<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    ASSERT_GT(port_, 0);
    if (attach) server_->AttachEngine(engine_.get());
  }

  Reply Get(std::string_view target) { return Client(port_).Send(http::verb::get, target); }
  Reply Post(std::string_view target, std::string body, std::string_view content_type) {
    return Client(port_).Send(http::verb::post, target, std::move(body), content_type);
  }
  Reply PostJson(std::string body) {
    return Post("/v1/events", std::move(body), "application/json");
  }
  Reply PostNdjson(std::string body) {
    return Post("/v1/events", std::move(body), "application/x-ndjson");
  }

  // Every bad request must leave the server serving.
  void ExpectServing() {
    Reply r = Get("/healthz");
    EXPECT_EQ(r.status, 200u);
  }

  ManualClock clock_{*ParseRfc3339("2026-01-02T00:00:00Z")};
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(ServerTest, PostOneEventThenGetTheSubscriber) {
  StartServer();
  Reply r = PostJson(Usage("e1", "s1", "120.5"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  rapidjson::Document doc = r.Json();
  EXPECT_EQ(doc["accepted"].GetInt64(), 1);
  EXPECT_EQ(doc["duplicates"].GetInt64(), 0);
  EXPECT_EQ(doc["rejected"].Size(), 0u);

  Reply p = Get("/v1/subscribers/s1");
  ASSERT_EQ(p.status, 200u) << p.body;
  EXPECT_EQ(p.Json()["events_applied"].GetInt64(), 1);

  // The same event again is a duplicate, not an error.
  r = PostJson(Usage("e1", "s1", "120.5"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json()["accepted"].GetInt64(), 0);
  EXPECT_EQ(r.Json()["duplicates"].GetInt64(), 1);
}

TEST_F(ServerTest, JsonWithoutContentTypeIsOneEvent) {
  StartServer();
  Reply r = Post("/v1/events", Usage("e1", "s1", "1"), "");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json()["accepted"].GetInt64(), 1);
  r = Post("/v1/events", Usage("e2", "s1", "1"), "application/json; charset=utf-8");
  ASSERT_EQ(r.status, 200u) << r.body;
}

TEST_F(ServerTest, NdjsonWithABadLineInTheMiddle) {
  StartServer();
  std::string body = Usage("e1", "s1", "1") + "\n" + Usage("e2", "s1", "\"lots\"") + "\n" +
                     Usage("e3", "s2", "3") + "\n";
  Reply r = PostNdjson(body);
  ASSERT_EQ(r.status, 200u) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_EQ(doc["accepted"].GetInt64(), 2);
  EXPECT_EQ(doc["duplicates"].GetInt64(), 0);
  ASSERT_EQ(doc["rejected"].Size(), 1u);
  const auto& rej = doc["rejected"][0];
  EXPECT_EQ(rej["line"].GetInt64(), 2);
  EXPECT_STREQ(rej["code"].GetString(), "invalid_argument");
  EXPECT_NE(std::string(rej["error"].GetString()).find("amount"), std::string::npos);
  EXPECT_STREQ(rej["field"].GetString(), "/amount");
  EXPECT_FALSE(doc.HasMember("error"));
  EXPECT_EQ(Get("/v1/subscribers/s2").Json()["events_applied"].GetInt64(), 1);
}

TEST_F(ServerTest, NdjsonBatchWithoutAValidLineIs400WithTheRejectedList) {
  StartServer();
  Reply r = PostNdjson("{not json}\n" + Usage("e2", "s1", "-1") + "\n");
  ASSERT_EQ(r.status, 400u) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_STREQ(doc["error"]["code"].GetString(), "invalid_argument");
  EXPECT_EQ(doc["accepted"].GetInt64(), 0);
  ASSERT_EQ(doc["rejected"].Size(), 2u);
  EXPECT_EQ(doc["rejected"][0]["line"].GetInt64(), 1);
  EXPECT_EQ(doc["rejected"][1]["line"].GetInt64(), 2);
  EXPECT_EQ(Get("/v1/subscribers/s1").status, 404u);
  ExpectServing();
}

TEST_F(ServerTest, EmptyBodiesAre400) {
  StartServer();
  Reply r = PostNdjson("");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "invalid_argument");
  r = PostNdjson("\n\r\n  \n");
  EXPECT_EQ(r.status, 400u) << r.body;
  r = PostJson("");
  EXPECT_EQ(r.status, 400u) << r.body;
  ExpectServing();
}

TEST_F(ServerTest, MalformedJsonIs400InvalidArgument) {
  StartServer();
  Reply r = PostJson(R"({"event_id": "e1", )");
  ASSERT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.ErrorCodeName(), "invalid_argument");
  EXPECT_TRUE(r.Json()["error"]["message"].IsString());
  ExpectServing();
}

TEST_F(ServerTest, WrongTypeNamesTheField) {
  StartServer();
  Reply r = PostJson(Usage("e1", "s1", "\"a lot\""));
  ASSERT_EQ(r.status, 400u) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_STREQ(doc["error"]["code"].GetString(), "invalid_argument");
  EXPECT_STREQ(doc["error"]["field"].GetString(), "/amount");
  // Nothing was applied.
  EXPECT_EQ(Get("/v1/subscribers/s1").status, 404u);
  ExpectServing();
}

TEST_F(ServerTest, UnknownSubscriberIs404) {
  StartServer();
  Reply r = Get("/v1/subscribers/nobody");
  ASSERT_EQ(r.status, 404u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "not_found");
  ExpectServing();
}

TEST_F(ServerTest, SubscriberIdIsPercentDecoded) {
  StartServer();
  ASSERT_EQ(PostJson(Usage("e1", "a b/c", "1")).status, 200u);
  Reply r = Get("/v1/subscribers/a%20b%2Fc");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json()["events_applied"].GetInt64(), 1);
  r = Get("/v1/subscribers/a%2");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "invalid_argument");
  // A query string is not part of the id.
  EXPECT_EQ(Get("/v1/subscribers/a%20b%2Fc?x=1").status, 200u);
}

TEST_F(ServerTest, ContentLengthOverTheLimitIs413BeforeTheBodyIsRead) {
  StartServer();
  Client c(port_);
  // Only the head: the server must answer without waiting for 10 MB that never come.
  c.WriteRaw(
      "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + Bearer() + "Content-Type: application/x-ndjson\r\n"
      "Content-Length: 10000000\r\n\r\n");
  Reply r = c.Read();
  ASSERT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "too_large");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(c.PeerClosed());
  ExpectServing();
  EXPECT_EQ(PostJson(Usage("e1", "s1", "1")).status, 200u);
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIs413) {
  ServerOptions o = TestOptions();
  o.max_body_bytes = 1000;
  StartServer(o);
  Client c(port_);
  std::string chunk(800, 'x');
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", chunk.size());
  c.WriteRaw(
      "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + Bearer() + "Content-Type: application/x-ndjson\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      std::string(size) + "\r\n" + chunk + "\r\n" + std::string(size) + "\r\n" + chunk + "\r\n");
  Reply r = c.Read();
  ASSERT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "too_large");
  ExpectServing();
}

TEST_F(ServerTest, MoreLinesThanTheBatchLimitIs413) {
  ServerOptions o = TestOptions();
  o.max_batch_events = 3;
  StartServer(o);
  std::string body;
  for (int i = 0; i < 4; ++i) body += Usage("e" + std::to_string(i), "s1", "1") + "\n";
  Reply r = PostNdjson(body);
  ASSERT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "too_large");
  EXPECT_EQ(Get("/v1/subscribers/s1").status, 404u);  // nothing applied
  // Blank lines do not count.
  body = Usage("e1", "s1", "1") + "\n\n\n\n" + Usage("e2", "s1", "1") + "\n";
  r = PostNdjson(body);
  EXPECT_EQ(r.status, 200u) << r.body;
}

TEST_F(ServerTest, UnsupportedContentTypeIs415) {
  StartServer();
  Reply r = Post("/v1/events", Usage("e1", "s1", "1"), "text/plain");
  EXPECT_EQ(r.status, 415u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "invalid_argument");
  ExpectServing();
}

TEST_F(ServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  StartServer();
  Reply r = Get("/v2/nothing");
  EXPECT_EQ(r.status, 404u) << r.body;
  EXPECT_EQ(r.ErrorCodeName(), "not_found");
  r = Get("/v1/events");
  EXPECT_EQ(r.status, 405u) << r.body;
  EXPECT_EQ(r.allow, "POST");
  EXPECT_FALSE(r.ErrorCodeName().empty());
  r = Post("/healthz", "", "");
  EXPECT_EQ(r.status, 405u) << r.body;
  EXPECT_EQ(r.allow, "GET");
  ExpectServing();
}

TEST_F(ServerTest, HealthzAndReadyzBeforeAndAfterTheEngineIsAttached) {
  StartServer(TestOptions(), /*attach=*/false);
  EXPECT_FALSE(server_->ready());
  Reply r = Get("/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_STREQ(r.Json()["status"].GetString(), "ok");
  r = Get("/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.ErrorCodeName(), "unavailable");
  r = PostJson(Usage("e1", "s1", "1"));
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.ErrorCodeName(), "unavailable");
  EXPECT_EQ(Get("/v1/subscribers/s1").status, 503u);

  server_->AttachEngine(engine_.get());
  EXPECT_TRUE(server_->ready());
  EXPECT_EQ(Get("/readyz").status, 200u);
  EXPECT_EQ(PostJson(Usage("e1", "s1", "1")).status, 200u);
}

TEST_F(ServerTest, MetricsCarryEngineAndHttpCounters) {
  StartServer();
  ASSERT_EQ(PostNdjson(Usage("e1", "s1", "1") + "\n" + Usage("e2", "s2", "2") + "\nbad\n").status,
            200u);
  ASSERT_EQ(Get("/nope").status, 404u);
  Reply r = Get("/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = r.body;
  for (const char* needle : {
           "kairos_ready 1\n",
           "# TYPE kairos_events_accepted_total counter\n",
           "kairos_events_accepted_total 2\n",
           "kairos_events_rejected_total 1\n",
           "kairos_events_duplicate_total 0\n",
           "kairos_subscribers 2\n",
           "kairos_wal_commits_total ",
           "kairos_wal_bytes_total ",
           "kairos_recovery_seconds ",
           "kairos_http_requests_total{route=\"/v1/events\",code=\"200\"} 1\n",
           "kairos_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n",
           "# TYPE kairos_http_request_duration_seconds histogram\n",
           "kairos_http_request_duration_seconds_bucket{route=\"/v1/events\",le=\"+Inf\"} 1\n",
           "kairos_http_request_duration_seconds_count{route=\"/v1/events\"} 1\n",
       }) {
    EXPECT_NE(m.find(needle), std::string::npos) << "missing: " << needle << "\n" << m;
  }
}

TEST_F(ServerTest, OpenApiDescribesEveryRoute) {
  StartServer();
  Reply r = Get("/v1/openapi.json");
  ASSERT_EQ(r.status, 200u);
  rapidjson::Document doc = r.Json();
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["openapi"].GetString(), "3.0.3");
  const auto& paths = doc["paths"];
  size_t operations = 0;
  for (const Route& route : Routes()) {
    std::string pattern(route.pattern);
    ASSERT_TRUE(paths.HasMember(pattern.c_str())) << pattern;
    std::string method(route.method);
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(paths[pattern.c_str()].HasMember(method.c_str())) << method << " " << pattern;
    const auto& op = paths[pattern.c_str()][method.c_str()];
    ASSERT_TRUE(op.HasMember("responses")) << pattern;
    bool success = false;
    for (const auto& resp : op["responses"].GetObject()) {
      success = success || resp.name.GetString()[0] == '2';
    }
    EXPECT_TRUE(success) << "no 2xx answer described for " << method << " " << pattern;
    // Who may call it, as the server enforces it: protected operations name the bearer and
    // X-API-Key schemes, their role, and the 401 / 403 / 429 answers.
    ASSERT_TRUE(op.HasMember("security") && op["security"].IsArray()) << pattern;
    if (route.access == Access::kPublic) {
      EXPECT_EQ(op["security"].Size(), 0u) << pattern;
    } else {
      EXPECT_EQ(op["security"].Size(), 2u) << pattern;
      ASSERT_TRUE(op.HasMember("x-kairos-role")) << pattern;
      for (const char* status : {"401", "403", "429"}) {
        EXPECT_TRUE(op["responses"].HasMember(status)) << status << " " << method << " " << pattern;
      }
    }
    ++operations;
  }
  // And nothing the server does not serve.
  size_t documented = 0;
  for (const auto& path : paths.GetObject()) documented += path.value.MemberCount();
  EXPECT_EQ(documented, operations);
  // The error object is described, and every $ref resolves.
  EXPECT_TRUE(doc["components"]["schemas"].HasMember("Error"));
  std::vector<const rapidjson::Value*> stack = {&doc};
  while (!stack.empty()) {
    const rapidjson::Value* v = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (const auto& m : v->GetObject()) {
        if (std::string(m.name.GetString()) == "$ref") {
          std::string ref = m.value.GetString();
          ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
          const rapidjson::Value* target = &doc;
          size_t pos = 2;
          while (pos <= ref.size()) {
            size_t end = ref.find('/', pos);
            std::string key = ref.substr(pos, end == std::string::npos ? end : end - pos);
            ASSERT_TRUE(target->IsObject() && target->HasMember(key.c_str())) << ref;
            target = &(*target)[key.c_str()];
            if (end == std::string::npos) break;
            pos = end + 1;
          }
        } else {
          stack.push_back(&m.value);
        }
      }
    } else if (v->IsArray()) {
      for (const auto& e : v->GetArray()) stack.push_back(&e);
    }
  }
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  Client c(port_);
  for (int i = 0; i < 20; ++i) {
    Reply r = c.Send(http::verb::post, "/v1/events", Usage("e" + std::to_string(i), "s1", "1"),
                     "application/json");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_TRUE(r.keep_alive);
    // Errors keep the connection open too.
    r = c.Send(http::verb::get, "/v1/subscribers/none");
    ASSERT_EQ(r.status, 404u);
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(c.Send(http::verb::get, "/v1/subscribers/s1").Json()["events_applied"].GetInt64(), 20);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client c(port_);
  c.WriteRaw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/subscribers/x HTTP/1.1\r\nHost: x\r\n" + Bearer() + "\r\n"
      "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.Read().status, 200u);
  EXPECT_EQ(c.Read().status, 404u);
  EXPECT_EQ(c.Read().status, 200u);
}

TEST_F(ServerTest, Expect100ContinueIsHonoured) {
  StartServer();
  Client c(port_);
  std::string body = Usage("e1", "s1", "1");
  c.WriteRaw(
      "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + Bearer() + "Content-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(c.Read().status, 100u);
  c.WriteRaw(body);
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200u) << r.body;
}

TEST_F(ServerTest, MalformedHttpIs400AndClosed) {
  StartServer();
  Client c(port_);
  c.WriteRaw("THIS IS NOT HTTP\r\n\r\n");
  Reply r = c.Read();
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorCodeName(), "invalid_argument");
  EXPECT_TRUE(c.PeerClosed());
  ExpectServing();
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  StartServer();
  Client c(port_);
  c.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 << 10, 'a') +
             "\r\n\r\n");
  Reply r = c.Read();
  EXPECT_EQ(r.status, 431u);
  EXPECT_EQ(r.ErrorCodeName(), "too_large");
  ExpectServing();
}

TEST_F(ServerTest, IdleAndSlowClientsAreDropped) {
  ServerOptions o = TestOptions();
  o.idle_timeout_ms = 200;
  StartServer(o);
  Client idle(port_);
  Client slow(port_);
  slow.WriteRaw("GET /healthz HTTP/1.1\r\n");  // and never the rest
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.PeerClosed());
  EXPECT_TRUE(slow.PeerClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ExpectServing();
}

TEST_F(ServerTest, ConcurrentBatchesAreAllApplied) {
  StartServer();
  constexpr int kThreads = 8;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client c(port_);
      for (int b = 0; b < kBatches; ++b) {
        std::string body;
        for (int i = 0; i < kPerBatch; ++i) {
          body += Usage("t" + std::to_string(t) + "b" + std::to_string(b) + "i" + std::to_string(i),
                        "s" + std::to_string(i % 7), "1") +
                  "\n";
        }
        Reply r = c.Send(http::verb::post, "/v1/events", body, "application/x-ndjson");
        if (r.status != 200 || r.Json()["accepted"].GetInt64() != kPerBatch) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t applied = 0;
  for (int i = 0; i < 7; ++i) {
    applied += Get("/v1/subscribers/s" + std::to_string(i)).Json()["events_applied"].GetInt64();
  }
  EXPECT_EQ(applied, kThreads * kBatches * kPerBatch);
}

TEST_F(ServerTest, StopIsCleanWithConnectionsOpen) {
  StartServer();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(std::make_unique<Client>(port_));
  clients[0]->WriteRaw("GET /healthz HTTP/1.1\r\n");                                 // half a head
  clients[1]->WriteRaw("POST /v1/events HTTP/1.1\r\n" + Bearer() + "Content-Length: 100\r\n\r\n{");  // half a body
  ASSERT_EQ(clients[2]->Send(http::verb::get, "/healthz").status, 200u);  // idle keep-alive
  // A request in flight while stopping gets its answer.
  std::thread poster([&] {
    Reply r = clients[3]->Send(http::verb::post, "/v1/events", Usage("e1", "s1", "1"),
                               "application/json");
    EXPECT_TRUE(r.status == 200u || r.status == 0u) << r.status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  poster.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(clients[i]->PeerClosed());
  EXPECT_FALSE(server_->ready());
  server_->Stop();  // idempotent
  // New connections are refused.
  EXPECT_THROW(Client c(port_), boost::system::system_error);
}

TEST_F(ServerTest, StartFailsCleanlyOnATakenPortOrBadHost) {
  StartServer();
  ServerOptions o = TestOptions();
  o.port = port_;
  Server second(o, &clock_);
  Result<int> r = second.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIoError);
  o.host = "not-an-ip";
  o.port = 0;
  Server third(o, &clock_);
  r = third.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  ExpectServing();
}


TEST_F(ServerTest, EveryProtectedRouteNeedsAKeyWithTheRightRole) {
  StartServer();
  auto viewer = KeyFile::Create(g_keys_path, Role::kViewer, "", 0, clock_.Now());
  auto decision = KeyFile::Create(g_keys_path, Role::kDecision, "", 0, clock_.Now());
  ASSERT_TRUE(viewer.ok() && decision.ok());

  // Public: no key needed.
  EXPECT_EQ(Client(port_, "").Send(http::verb::get, "/healthz").status, 200u);
  EXPECT_EQ(Client(port_, "").Send(http::verb::get, "/readyz").status, 200u);

  Reply r = Client(port_, "").Send(http::verb::get, "/v1/subscribers/s1");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.ErrorCodeName(), "unauthenticated");
  EXPECT_NE(r.www_authenticate.find("Bearer"), std::string::npos);
  EXPECT_EQ(Client(port_, "").Send(http::verb::get, "/metrics").status, 401u);
  EXPECT_EQ(Client(port_, "").Send(http::verb::get, "/v1/openapi.json").status, 401u);

  // X-API-Key works as well as the bearer header.
  r = Client(port_, "").Send(http::verb::get, "/v1/auth/whoami", "", "",
                             {{"X-API-Key", viewer->key}});
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(std::string(r.Json()["role"].GetString()), "viewer");
  EXPECT_EQ(std::string(r.Json()["id"].GetString()), viewer->record.id);

  // A viewer reads but may not write; the event is not applied.
  r = Client(port_, viewer->key).Send(http::verb::post, "/v1/events", Usage("e1", "s1", "1"),
                                      "application/json");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.ErrorCodeName(), "permission_denied");
  EXPECT_EQ(Get("/v1/subscribers/s1").status, 404u);
  r = Client(port_, decision->key).Send(http::verb::post, "/v1/events", Usage("e1", "s1", "1"),
                                        "application/json");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(Client(port_, decision->key).Send(http::verb::get, "/v1/admin/audit").status, 403u);
  EXPECT_EQ(Get("/v1/admin/audit").status, 200u);

  // A refused request without a body keeps the connection; the next one on it is served.
  Client c(port_, "");
  EXPECT_EQ(c.Send(http::verb::get, "/v1/subscribers/s1").status, 401u);
  EXPECT_EQ(c.Send(http::verb::get, "/healthz").status, 200u);

  // Revoked: refused within the refresh period.
  ASSERT_TRUE(KeyFile::Revoke(g_keys_path, viewer->record.id, clock_.Now()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  r = Client(port_, viewer->key).Send(http::verb::get, "/v1/subscribers/s1");
  EXPECT_EQ(r.status, 401u);
  EXPECT_NE(r.body.find("revoked"), std::string::npos);

  Reply m = Get("/metrics");
  EXPECT_NE(m.body.find("kairos_auth_requests_total{outcome=\"forbidden\"} 2"), std::string::npos)
      << m.body.substr(0, 2000);
  EXPECT_NE(m.body.find("kairos_auth_requests_total{outcome=\"revoked\"} 1"), std::string::npos);
}

TEST_F(ServerTest, AKeylessRequestIsRefusedBeforeItsBodyIsRead) {
  StartServer();
  Client c(port_, "");
  // Announce a large body and send none of it: the 401 comes back at once.
  c.WriteRaw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 900000\r\n\r\n");
  Reply r = c.Read();
  EXPECT_EQ(r.status, 401u);
  EXPECT_FALSE(r.keep_alive);
}

TEST_F(ServerTest, RateLimitedKeysGet429WithRetryAfter) {
  ServerOptions o = TestOptions();
  o.rate_limit_per_second = 3;
  o.rate_limit_burst = 3;
  StartServer(o);
  Client c(port_);
  int ok = 0, limited = 0;
  Reply last;
  for (int i = 0; i < 10; ++i) {
    Reply r = c.Send(http::verb::get, "/v1/subscribers/nobody");
    if (r.status == 404u) ++ok;
    if (r.status == 429u) {
      ++limited;
      last = r;
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 7);
  EXPECT_EQ(last.ErrorCodeName(), "rate_limited");
  EXPECT_EQ(last.retry_after, "1");
  // Public routes are not limited.
  EXPECT_EQ(c.Send(http::verb::get, "/healthz").status, 200u);
}

}  // namespace
}  // namespace kairos
