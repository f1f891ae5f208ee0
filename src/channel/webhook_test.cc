#include "channel/webhook.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "channel/channel_test_util.h"
#include "channel/dispatcher.h"
#include "channel/signature.h"

namespace kairos::channel {
namespace {

using testing::ScratchDir;
using testing::TestHttpServer;
using testing::WaitFor;
using Action = TestHttpServer::Action;
using Reply = TestHttpServer::Reply;

Delivery Make(const std::string& id, const std::string& channel = "sms") {
  Delivery d;
  d.id = id;
  d.channel = channel;
  d.subscriber_id = "sub-1";
  d.created_ms = 1700000000000;
  d.payload = R"({"subscriber_id":"sub-1","action":"bonus-5gb","text":"Hi"})";
  return d;
}

AdapterConfig Webhook(const std::string& url, int64_t timeout_ms = 1000) {
  AdapterConfig c;
  c.kind = AdapterKind::kWebhook;
  c.url = url;
  c.timeout_ms = timeout_ms;
  c.max_attempts = 5;
  c.backoff_initial_ms = 10;
  c.backoff_max_ms = 40;
  return c;
}

// Independent of signature.cc: OpenSSL's one-shot HMAC().
std::string ExpectedSignature(const std::string& secret, const std::string& ts,
                              const std::string& body) {
  const std::string text = ts + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len);
  std::string hex = "sha256=";
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    snprintf(buf, sizeof(buf), "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

ChannelStats StatsOf(const Dispatcher& d, const std::string& channel) {
  const DispatcherStats s = d.Stats();
  const auto it = s.channels.find(channel);
  return it == s.channels.end() ? ChannelStats{} : it->second;
}

TEST(WebhookTest, ParsesUrls) {
  auto e = ParseHttpUrl("http://127.0.0.1:8080/hooks/sms?x=1", "f");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, "8080");
  EXPECT_EQ(e->target, "/hooks/sms?x=1");
  e = ParseHttpUrl("HTTP://example.com", "f");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, "80");
  EXPECT_EQ(e->target, "/");
  e = ParseHttpUrl("http://[::1]:9000?q", "f");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->target, "/?q");
  for (const char* bad : {"example.com/x", "https://example.com/", "http://:80/", "http://h:0/",
                          "http://h:99999/", "http://h:x/", "http://u:p@h/", "http://[::1/"}) {
    const auto r = ParseHttpUrl(bad, "channels.sms.url");
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "channels.sms.url") << bad;
  }
}

TEST(WebhookTest, SignatureMatchesOpenSslHmac) {
  EXPECT_EQ(WebhookSignature("k3y", 1700000000123, R"({"a":1})"),
            ExpectedSignature("k3y", "1700000000123", R"({"a":1})"));
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// 500, 500, then 200: delivered once, every attempt with the same key and a valid signature.
TEST(WebhookTest, RetriesServerErrorsUntilAccepted) {
  TestHttpServer server({{Action::kStatus, 500}, {Action::kStatus, 500}}, {Action::kStatus, 200});
  ScratchDir dir;
  SystemClock clock;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  AdapterConfig config = Webhook(server.url("/hooks/sms"));
  config.secret = "s3cret";
  ASSERT_TRUE((*d)->Configure({{"sms", config}}).ok());
  (*d)->Start();
  const Delivery delivery = Make("dec-1/act-1");
  ASSERT_TRUE(*(*d)->Enqueue(delivery));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").delivered == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // nothing more arrives

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(server.successes(), 1);
  for (const auto& r : requests) {
    EXPECT_EQ(r.target, "/hooks/sms");
    EXPECT_EQ(r.body, delivery.payload);
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("idempotency-key"), "dec-1/act-1");
    const std::string ts = r.headers.at("x-kairos-timestamp");
    EXPECT_FALSE(ts.empty());
    EXPECT_EQ(r.headers.at("x-kairos-signature"), ExpectedSignature("s3cret", ts, r.body));
  }
  const ChannelStats s = StatsOf(**d, "sms");
  EXPECT_EQ(s.failures, 2);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.dead_letters, 0);
  EXPECT_EQ(s.pending, 0);
}

TEST(WebhookTest, UnsignedWithoutSecret) {
  TestHttpServer server;
  ScratchDir dir;
  SystemClock clock;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Configure({{"sms", Webhook(server.url())}}).ok());
  (*d)->Start();
  ASSERT_TRUE(*(*d)->Enqueue(Make("u1")));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").delivered == 1; }));
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].headers.count("x-kairos-signature"), 0u);
}

// A receiver that accepts and never answers costs its channel one timeout; another channel
// keeps delivering meanwhile, even with one worker per channel.
TEST(WebhookTest, HangingReceiverTimesOutWithoutBlockingOtherChannels) {
  TestHttpServer slow({{Action::kHang}}, {Action::kStatus, 200});
  TestHttpServer fast;
  ScratchDir dir;
  SystemClock clock;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(
      (*d)->Configure({{"slow", Webhook(slow.url(), 800)}, {"fast", Webhook(fast.url())}}).ok());
  (*d)->Start(1);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(*(*d)->Enqueue(Make("s1", "slow")));
  ASSERT_TRUE(WaitFor([&] { return slow.request_count() == 1; }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(*(*d)->Enqueue(Make("f" + std::to_string(i), "fast")));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "fast").delivered == 5; }));
  const auto fast_done = std::chrono::steady_clock::now() - start;
  EXPECT_LT(fast_done, std::chrono::milliseconds(600));
  EXPECT_EQ(StatsOf(**d, "slow").delivered, 0);  // still hanging

  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "slow").delivered == 1; }));
  const auto slow_done = std::chrono::steady_clock::now() - start;
  EXPECT_GE(slow_done, std::chrono::milliseconds(800));   // waited out the timeout
  EXPECT_LT(slow_done, std::chrono::milliseconds(2000));  // and no longer
  EXPECT_EQ(slow.request_count(), 2u);
  EXPECT_EQ(StatsOf(**d, "slow").failures, 1);
}

TEST(WebhookTest, GarbageReplyAndDroppedConnectionAreRetried) {
  TestHttpServer server({{Action::kGarbage}, {Action::kStatus, 503, "0"}}, {Action::kStatus, 204});
  ScratchDir dir;
  SystemClock clock;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Configure({{"sms", Webhook(server.url())}}).ok());
  (*d)->Start();
  ASSERT_TRUE(*(*d)->Enqueue(Make("g1")));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").delivered == 1; }));
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(StatsOf(**d, "sms").failures, 2);
}

TEST(WebhookTest, ConnectionRefusedIsRetried) {
  ScratchDir dir;
  SystemClock clock;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  AdapterConfig config = Webhook("http://127.0.0.1:1/hook");
  config.max_attempts = 3;
  ASSERT_TRUE((*d)->Configure({{"sms", config}}).ok());
  (*d)->Start();
  ASSERT_TRUE(*(*d)->Enqueue(Make("c1")));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").dead_letters == 1; }));
  const auto dead = (*d)->DeadLetters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_NE(dead[0].last_error.find("connect"), std::string::npos) << dead[0].last_error;
}

TEST(WebhookTest, ClientErrorIsDeadLetteredWithoutRetry) {
  TestHttpServer server({}, {Action::kStatus, 400});
  ScratchDir dir;
  SystemClock clock;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Configure({{"sms", Webhook(server.url())}}).ok());
  (*d)->Start();
  const Delivery delivery = Make("bad/1");
  ASSERT_TRUE(*(*d)->Enqueue(delivery));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").dead_letters == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.request_count(), 1u);
  const ChannelStats s = StatsOf(**d, "sms");
  EXPECT_EQ(s.failures, 1);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(s.pending, 0);
  const auto dead = (*d)->DeadLetters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].id, "bad/1");
  EXPECT_EQ(dead[0].channel, "sms");
  EXPECT_EQ(dead[0].subscriber_id, "sub-1");
  EXPECT_EQ(dead[0].attempts, 1);
  EXPECT_EQ(dead[0].payload, delivery.payload);
  EXPECT_NE(dead[0].last_error.find("HTTP 400"), std::string::npos) << dead[0].last_error;
  EXPECT_FALSE(*(*d)->Enqueue(delivery));  // a dead letter's id is still known
}

// With a manual clock nothing is retried until time moves; after max_attempts the delivery is
// a dead letter, and Retry() gives it a fresh budget.
TEST(WebhookTest, MaxAttemptsThenDeadLetterThenRetry) {
  TestHttpServer server({}, {Action::kStatus, 503});
  ScratchDir dir;
  ManualClock clock(1700000000000);
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  AdapterConfig config = Webhook(server.url());
  config.max_attempts = 3;
  config.backoff_initial_ms = 1000;
  config.backoff_max_ms = 1000;
  ASSERT_TRUE((*d)->Configure({{"sms", config}}).ok());
  (*d)->Start();
  ASSERT_TRUE(*(*d)->Enqueue(Make("m1")));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").failures == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_LE(server.request_count(), 2u);  // a retry waits for the clock (unless jitter drew 0)
  ASSERT_TRUE(WaitFor([&] {
    clock.Advance(1001);
    return StatsOf(**d, "sms").dead_letters == 1;
  }));
  EXPECT_EQ(server.request_count(), 3u);
  auto dead = (*d)->DeadLetters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_NE(dead[0].last_error.find("HTTP 503"), std::string::npos);
  EXPECT_NE(dead[0].last_error.find("after 3 attempts"), std::string::npos) << dead[0].last_error;

  EXPECT_EQ((*d)->Retry("unknown").code(), ErrorCode::kNotFound);
  server.SetFallback({Action::kStatus, 200});
  ASSERT_TRUE((*d)->Retry("m1").ok());
  EXPECT_EQ((*d)->Retry("m1").code(), ErrorCode::kFailedPrecondition);  // pending again
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").delivered == 1; }));
  EXPECT_EQ(server.request_count(), 4u);
  EXPECT_TRUE((*d)->DeadLetters(10).empty());
  EXPECT_EQ((*d)->Retry("m1").code(), ErrorCode::kFailedPrecondition);  // delivered
}

TEST(WebhookTest, RetryAfterIsHonoured) {
  TestHttpServer server({{Action::kStatus, 429, "30"}}, {Action::kStatus, 200});
  ScratchDir dir;
  ManualClock clock(1700000000000);
  auto d = Dispatcher::Open(dir / "outbox", &clock, 7);
  ASSERT_TRUE(d.ok());
  AdapterConfig config = Webhook(server.url());
  config.backoff_max_ms = 60000;
  ASSERT_TRUE((*d)->Configure({{"sms", config}}).ok());
  (*d)->Start();
  ASSERT_TRUE(*(*d)->Enqueue(Make("ra1")));
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").failures == 1; }));
  clock.Advance(29000);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(server.request_count(), 1u);  // our own backoff (<= 10 ms) would have retried
  clock.Advance(1500);
  ASSERT_TRUE(WaitFor([&] { return StatsOf(**d, "sms").delivered == 1; }));
  EXPECT_EQ(server.request_count(), 2u);
}

}  // namespace
}  // namespace kairos::channel
