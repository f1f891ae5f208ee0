// Payment webhooks and the local payment provider: every refusal class (bad signature, stale
// timestamp, replay, unknown order, illegal transition, malformed body) leaves the order
// unchanged; the provider end to end over real loopback HTTP into a receiver that runs
// PaymentWebhook — success, failure, no answer → expired by the sweep, at-least-once duplicate
// delivery, retries after 5xx.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "channel/channel_test_util.h"
#include "channel/signature.h"
#include "offer/local_payment_provider.h"
#include "offer/order_service.h"
#include "offer/payment_webhook.h"

namespace kairos::offer {
namespace {

using channel::testing::ScratchDir;
using channel::testing::WaitFor;

constexpr TimestampMs kNow = 1'773'223'200'000;  // 2026-03-11T10:00:00Z
constexpr const char* kSecret = "whsec_test";

std::string Sign(const std::string& secret, const std::string& ts, const std::string& body) {
  return "sha256=" + channel::HmacSha256Hex(secret, ts + "." + body);
}

std::string Event(const std::string& event_id, const std::string& order_id,
                  const std::string& status = "succeeded") {
  return R"({"event_id":")" + event_id + R"(","payment_id":"pay_1","order_id":")" + order_id +
         R"(","status":")" + status + R"(","reason":"","created":1773223200000})";
}

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(store_, nullptr);
    Order o;
    o.id = "ord_1";
    o.nonce = "n1";
    o.subscriber_id = "sub-1";
    o.action_id = "A";
    o.amount_minor = 500;
    o.currency = "EUR";
    o.created_at = o.updated_at = kNow;
    o.history.push_back({OrderState::kCreated, kNow, "accepted"});
    ASSERT_TRUE(store_->Create(o).ok());
  }
  WebhookResult Send(const std::string& body, TimestampMs ts_ms = kNow,
                     const std::string& secret = kSecret) {
    const std::string ts = std::to_string(ts_ms);
    return hook_.Handle(ts, Sign(secret, ts, body), body);
  }
  std::string Snapshot() { return EncodeOrder(*store_->Get("ord_1")); }

  ScratchDir dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<OrderStore> store_ = OrderStore::Open(dir_ / "orders").value();
  PaymentWebhook hook_{store_.get(), &clock_, kSecret};
};

TEST_F(WebhookTest, ValidEventPaysTheOrder) {
  auto r = Send(Event("evt_1", "ord_1"));
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(r.order.state, OrderState::kPaid);
  EXPECT_EQ(r.order.payment_id, "pay_1");
  EXPECT_EQ(store_->Get("ord_1")->state, OrderState::kPaid);
}

TEST_F(WebhookTest, FailedEventFailsTheOrderWithItsReason) {
  const std::string body = R"({"event_id":"evt_f","payment_id":"pay_1","order_id":"ord_1",)"
                           R"("status":"failed","reason":"card_declined","created":1})";
  auto r = Send(body);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(r.order.state, OrderState::kFailed);
  EXPECT_EQ(r.order.failure_reason, "card_declined");
}

TEST_F(WebhookTest, BadSignaturesAreRefusedWithoutChange) {
  const std::string before = Snapshot();
  const std::string body = Event("evt_1", "ord_1");
  const std::string ts = std::to_string(kNow);
  const std::string good = Sign(kSecret, ts, body);
  std::string flipped = good;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", body},                                                  // missing
      {Sign("other-secret", ts, body), body},                      // wrong secret
      {good, Event("evt_1", "ord_1", "failed")},                   // body altered
      {flipped, body},                                             // one hex digit
      {good.substr(7), body},                                      // no sha256= prefix
      {"sha1=" + good.substr(7), body},                            // other scheme
      {good + "00", body},                                         // longer
      {good.substr(0, good.size() - 2), body},                     // shorter
      {"sha256=" + std::string(64, 'g'), body},                    // not hex
  };
  for (const auto& [sig, b] : cases) {
    auto r = hook_.Handle(ts, sig, b);
    EXPECT_EQ(r.error, WebhookError::kBadSignature) << sig;
  }
  // The timestamp is inside the MAC: a fresh timestamp on an old signature does not verify.
  auto r = hook_.Handle(std::to_string(kNow + 1), good, body);
  EXPECT_EQ(r.error, WebhookError::kBadSignature);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(*store_->EventSeen("evt_1"));
}

TEST_F(WebhookTest, StaleOrFutureTimestampsAreRefused) {
  const std::string before = Snapshot();
  const std::string body = Event("evt_1", "ord_1");
  EXPECT_EQ(Send(body, kNow - 5 * 60 * 1000 - 1).error, WebhookError::kStaleTimestamp);
  EXPECT_EQ(Send(body, kNow + 5 * 60 * 1000 + 1).error, WebhookError::kStaleTimestamp);
  EXPECT_EQ(Send(body, 0).error, WebhookError::kStaleTimestamp);
  // A signed but unparsable timestamp is malformed, naming the header.
  auto r = hook_.Handle("12x", Sign(kSecret, "12x", body), body);
  EXPECT_EQ(r.error, WebhookError::kMalformed);
  EXPECT_EQ(r.status.field(), "X-Kairos-Payment-Timestamp");
  EXPECT_EQ(Snapshot(), before);
  // Within the window (the edges included) it is accepted.
  EXPECT_TRUE(Send(body, kNow - 5 * 60 * 1000).ok());
}

TEST_F(WebhookTest, ReplayIsRefusedWithoutChange) {
  ASSERT_TRUE(Send(Event("evt_1", "ord_1")).ok());
  const std::string before = Snapshot();
  clock_.Advance(1000);
  auto r = Send(Event("evt_1", "ord_1"), kNow + 1000);
  EXPECT_EQ(r.error, WebhookError::kReplay);
  EXPECT_EQ(r.status.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(WebhookTest, UnknownOrderAndIllegalTransitionAreRefused) {
  auto unknown = Send(Event("evt_9", "ord_nope"));
  EXPECT_EQ(unknown.error, WebhookError::kUnknownOrder);
  EXPECT_EQ(unknown.status.field(), "/order_id");
  EXPECT_FALSE(*store_->EventSeen("evt_9"));
  ASSERT_TRUE(store_->SetPaymentId("ord_1", "pay_1").ok());
  // An event about another payment of the order: refused.
  const std::string other = R"({"event_id":"evt_o","payment_id":"pay_other","order_id":"ord_1",)"
                            R"("status":"succeeded","created":1})";
  EXPECT_EQ(Send(other).error, WebhookError::kIllegalTransition);
  EXPECT_EQ(store_->Get("ord_1")->state, OrderState::kCreated);
  ASSERT_TRUE(Send(Event("evt_1", "ord_1")).ok());
  const std::string before = Snapshot();
  // A second, different event for a paid order: illegal, nothing changes, id not recorded.
  auto r = Send(Event("evt_2", "ord_1", "failed"));
  EXPECT_EQ(r.error, WebhookError::kIllegalTransition);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(*store_->EventSeen("evt_2"));
}

TEST_F(WebhookTest, MalformedBodiesNameTheField) {
  const std::string before = Snapshot();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"{", ""},
      {"[]", ""},
      {"nul", ""},
      {R"({"payment_id":"p","order_id":"ord_1","status":"succeeded","created":1})", "/event_id"},
      {R"({"event_id":7,"payment_id":"p","order_id":"ord_1","status":"succeeded","created":1})",
       "/event_id"},
      {R"({"event_id":"","payment_id":"p","order_id":"ord_1","status":"succeeded","created":1})",
       "/event_id"},
      {R"({"event_id":"e","payment_id":"p","order_id":"ord_1","status":"ok","created":1})",
       "/status"},
      {R"({"event_id":"e","payment_id":"p","order_id":"ord_1","status":"failed","created":"1"})",
       "/created"},
      {R"({"event_id":"e","payment_id":"p","order_id":"ord_1","status":"failed"})", "/created"},
      {R"({"event_id":"e","payment_id":"p","order_id":"ord_1","status":"failed","reason":[],)"
       R"("created":1})",
       "/reason"},
      {R"({"event_id":"e","payment_id":"p","status":"failed","created":1})", "/order_id"},
      {"{\"event_id\":\"\xff\xfe\"}", ""},  // invalid UTF-8
  };
  for (const auto& [body, field] : cases) {
    auto r = Send(body);
    EXPECT_EQ(r.error, WebhookError::kMalformed) << body;
    EXPECT_EQ(r.status.field(), field) << body << " " << r.status.ToString();
    EXPECT_FALSE(r.status.message().empty());
  }
  // Every truncation of a valid, correctly signed event: refused, never a crash.
  const std::string body = Event("evt_t", "ord_1");
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_EQ(Send(body.substr(0, n)).error, WebhookError::kMalformed) << n;
  }
  // Oversized.
  EXPECT_EQ(Send(std::string(PaymentWebhook::kMaxBodyBytes + 1, ' ')).error,
            WebhookError::kMalformed);
  EXPECT_EQ(Snapshot(), before);
}

// ---- the local provider over real HTTP ----------------------------------------------------

// The Kairos side of the webhook on 127.0.0.1: runs PaymentWebhook and answers like the server
// will (200, or 400 / 401 / 404 / 409 / 500 by error class). `fail_first` requests get 503.
class WebhookReceiver {
 public:
  WebhookReceiver(PaymentWebhook* hook, int fail_first = 0)
      : hook_(hook), fail_first_(fail_first), acceptor_(ioc_) {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Loop(); });
  }
  ~WebhookReceiver() {
    stopped_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1/payments/webhook";
  }
  std::vector<WebhookError> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  int requests() const { return requests_.load(); }

 private:
  void Loop() {
    namespace http = boost::beast::http;
    for (;;) {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopped_) return;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      int status = 200;
      if (requests_++ < fail_first_) {
        status = 503;
      } else {
        const WebhookResult r =
            hook_->Handle(std::string(req["X-Kairos-Payment-Timestamp"]),
                          std::string(req["X-Kairos-Payment-Signature"]), req.body());
        {
          std::lock_guard lock(mu_);
          results_.push_back(r.error);
        }
        switch (r.error) {
          case WebhookError::kNone: status = 200; break;
          case WebhookError::kMalformed: status = 400; break;
          case WebhookError::kBadSignature:
          case WebhookError::kStaleTimestamp: status = 401; break;
          case WebhookError::kUnknownOrder: status = 404; break;
          case WebhookError::kReplay:
          case WebhookError::kIllegalTransition: status = 409; break;
          case WebhookError::kInternal: status = 500; break;
        }
      }
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.body() = "{}";
      res.keep_alive(false);
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }

  PaymentWebhook* hook_;
  const int fail_first_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<WebhookError> results_;
  std::thread thread_;
};

class LocalProviderTest : public ::testing::Test {
 protected:
  void Start(int fail_first = 0, double duplicate_rate = 0) {
    store_ = OrderStore::Open(dir_ / "orders").value();
    hook_ = std::make_unique<PaymentWebhook>(store_.get(), &clock_, kSecret);
    receiver_ = std::make_unique<WebhookReceiver>(hook_.get(), fail_first);
    PaymentsConfig config;
    config.webhook_url = receiver_->url();
    config.webhook_secret = kSecret;
    config.delay_ms = 20;
    config.retry_initial_ms = 10;
    config.retry_max_ms = 50;
    config.duplicate_rate = duplicate_rate;
    config.http_timeout_ms = 2000;
    auto provider = LocalPaymentProvider::Make(config, &clock_);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    provider_ = std::move(*provider);
    service_ = std::make_unique<OrderService>(store_.get(), provider_.get(), nullptr, &clock_);
  }
  OfferClaims Claims(const std::string& nonce) {
    OfferClaims c;
    c.nonce = nonce;
    c.subscriber_id = "sub-1";
    c.action_id = "DATA_5GB";
    c.expires_at = kNow + kMsPerDay;
    return c;
  }
  OrderState StateOf(const std::string& id) { return store_->Get(id)->state; }

  ScratchDir dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<OrderStore> store_;
  std::unique_ptr<PaymentWebhook> hook_;
  std::unique_ptr<WebhookReceiver> receiver_;
  std::unique_ptr<LocalPaymentProvider> provider_;
  std::unique_ptr<OrderService> service_;
};

TEST_F(LocalProviderTest, AcceptedOrderIsPaidByTheSignedWebhook) {
  Start();  // fail_rate 0: payments succeed
  auto ok = service_->Accept(Claims("nonce-ok"), kNow);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->created);
  EXPECT_TRUE(ok->order.payment_id.starts_with("pay_"));
  ASSERT_TRUE(WaitFor([&] { return StateOf(ok->order.id) == OrderState::kPaid; }));
  EXPECT_EQ(receiver_->results(), std::vector<WebhookError>{WebhookError::kNone});
}

TEST_F(LocalProviderTest, ForcedFailureAndTimeout) {
  Start();
  // Orders made directly in the store, so that their ids are known before Charge.
  auto make = [&](const std::string& id) {
    Order o;
    o.id = id;
    o.nonce = "nonce-" + id;
    o.subscriber_id = "sub-1";
    o.action_id = "A";
    o.created_at = o.updated_at = clock_.Now();
    o.history.push_back({OrderState::kCreated, o.created_at, "accepted"});
    EXPECT_TRUE(store_->Create(o).ok());
    return o;
  };
  const Order fail = make("ord_fail");
  const Order quiet = make("ord_quiet");
  provider_->Force("ord_fail", LocalPaymentProvider::Outcome::kFail);
  provider_->Force("ord_quiet", LocalPaymentProvider::Outcome::kNoAnswer);
  ASSERT_TRUE(provider_->Charge(fail).ok());
  ASSERT_TRUE(provider_->Charge(quiet).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf("ord_fail") == OrderState::kFailed; }));
  EXPECT_EQ(store_->Get("ord_fail")->failure_reason, "card_declined");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(StateOf("ord_quiet"), OrderState::kCreated);
  EXPECT_EQ(provider_->Stats().unanswered, 1);

  // Not yet due: 14 minutes later nothing expires; at 15 minutes it does.
  clock_.Advance(14 * 60 * 1000);
  EXPECT_EQ(*service_->SweepExpired(clock_.Now()), 0);
  clock_.Advance(60 * 1000);
  EXPECT_EQ(*service_->SweepExpired(clock_.Now()), 1);
  const Order expired = *store_->Get("ord_quiet");
  EXPECT_EQ(expired.state, OrderState::kExpired);
  EXPECT_FALSE(expired.failure_reason.empty());
  EXPECT_EQ(*service_->SweepExpired(clock_.Now()), 0);
  EXPECT_EQ(service_->Stats().expired, 1);
  // A late "succeeded" for the expired order is an illegal transition: it stays expired.
  const std::string body = Event("evt_late", "ord_quiet");
  const std::string ts = std::to_string(clock_.Now());
  EXPECT_EQ(hook_->Handle(ts, Sign(kSecret, ts, body), body).error,
            WebhookError::kIllegalTransition);
  EXPECT_EQ(StateOf("ord_quiet"), OrderState::kExpired);
  EXPECT_EQ(StateOf("ord_fail"), OrderState::kFailed);
}

TEST_F(LocalProviderTest, DuplicateDeliveryIsAReplayAndChangesNothing) {
  Start(/*fail_first=*/0, /*duplicate_rate=*/1.0);
  auto r = service_->Accept(Claims("nonce-dup"), kNow);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(WaitFor([&] { return receiver_->results().size() == 2; }));
  EXPECT_EQ(receiver_->results(),
            (std::vector<WebhookError>{WebhookError::kNone, WebhookError::kReplay}));
  const Order o = *store_->Get(r->order.id);
  EXPECT_EQ(o.state, OrderState::kPaid);
  EXPECT_EQ(o.history.size(), 2u);
  ASSERT_TRUE(WaitFor([&] { return provider_->Stats().given_up == 1; }));
  const LocalPaymentStats s = provider_->Stats();
  EXPECT_EQ(s.delivered, 1);  // the replay got 409: the provider stops, as real ones do
  EXPECT_EQ(s.attempts, 2);
}

TEST_F(LocalProviderTest, RetriesAfterServerErrors) {
  Start(/*fail_first=*/2);
  auto r = service_->Accept(Claims("nonce-retry"), kNow);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(r->order.id) == OrderState::kPaid; }));
  EXPECT_EQ(receiver_->requests(), 3);
  EXPECT_EQ(provider_->Stats().retries, 2);
}

TEST_F(LocalProviderTest, DeterministicOutcomesFromTheSeed) {
  // fail_rate 0.5, seed fixed: the same order ids get the same outcomes in two providers.
  PaymentsConfig config;
  config.webhook_url = "http://127.0.0.1:9/unused";
  config.webhook_secret = kSecret;
  config.fail_rate = 0.3;
  config.timeout_rate = 0.2;
  config.delay_ms = 3'600'000;  // nothing is sent during the test
  auto a = LocalPaymentProvider::Make(config, &clock_).value();
  auto b = LocalPaymentProvider::Make(config, &clock_).value();
  for (int i = 0; i < 200; ++i) {
    Order o;
    o.id = "ord_" + std::to_string(i);
    EXPECT_EQ(*a->Charge(o), *b->Charge(o));
  }
  EXPECT_EQ(a->Stats().unanswered, b->Stats().unanswered);
  EXPECT_GT(a->Stats().unanswered, 20);
  EXPECT_LT(a->Stats().unanswered, 60);
}

TEST(PaymentsConfigTest, InvalidConfigsNameTheField) {
  PaymentsConfig ok;
  ok.webhook_url = "http://127.0.0.1:8080/v1/payments/webhook";
  ok.webhook_secret = "s";
  EXPECT_TRUE(ValidatePaymentsConfig(ok).ok());
  auto field_of = [&](auto mutate) {
    PaymentsConfig c = ok;
    mutate(c);
    return ValidatePaymentsConfig(c).field();
  };
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.provider = "stripe"; }), "payments.provider");
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.webhook_secret.clear(); }),
            "payments.webhook_secret");
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.fail_rate = 1.5; }), "payments.fail_rate");
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.fail_rate = 0.6, c.timeout_rate = 0.6; }),
            "payments.timeout_rate");
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.webhook_url = "ftp://x"; }),
            "payments.webhook_url");
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.delay_ms = -1; }), "payments.delay_ms");
  EXPECT_EQ(field_of([](PaymentsConfig& c) { c.timeout_ms = 0; }), "payments.timeout");
}

TEST(PaymentsConfigTest, ParsesTheYamlSectionWithLineNumbers) {
  auto none = ParsePaymentsConfigYaml("server: {port: 8080}\n", "kairos.yaml");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  auto c = ParsePaymentsConfigYaml(R"(
payments:
  provider: local
  webhook_url: http://127.0.0.1:8080/v1/payments/webhook
  webhook_secret: s3cret
  delay_ms: 50
  fail_rate: 0.1
  timeout_rate: 0.05
  seed: 7
  timeout: 10m
  retry_initial: 1s
)",
                                   "kairos.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->delay_ms, 50);
  EXPECT_DOUBLE_EQ((*c)->fail_rate, 0.1);
  EXPECT_EQ((*c)->seed, 7u);
  EXPECT_EQ((*c)->timeout_ms, 600'000);
  EXPECT_EQ((*c)->retry_initial_ms, 1000);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"payments:\n  webhook_secret: s\n  webhook_url: http://h/x\n  fail_rat: 0.1\n",
       "kairos.yaml:4:"},
      {"payments:\n  webhook_secret: s\n  webhook_url: http://h/x\n  fail_rate: 2\n",
       "kairos.yaml:4:"},
      {"payments:\n  webhook_secret: s\n  webhook_url: ftp://h/x\n", "kairos.yaml:3:"},
      {"payments:\n  webhook_url: http://h/x\n", "kairos.yaml:2:"},
      {"payments:\n  webhook_secret: s\n  webhook_url: http://h/x\n  timeout: soon\n",
       "kairos.yaml:4:"},
      {"payments: [1]\n", "kairos.yaml:1:"},
      {"payments: {\n", "kairos.yaml:"},
  };
  for (const auto& [text, where] : bad) {
    auto r = ParsePaymentsConfigYaml(text, "kairos.yaml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().message().starts_with(where)) << r.status().message();
  }
}

}  // namespace
}  // namespace kairos::offer
