// OrderService against a real Engine and DecisionService: accept creates one order per token
// (also from 8 threads at once, with one payment), records "accepted" in the subscriber's
// interaction history, prices from the catalog treatment, refuses expired offers and unknown
// actions, fails an order whose payment cannot start; the store survives a restart.
#include "offer/order_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/hash.h"
#include "decide/service_fixture_test.h"

namespace kairos::offer {
namespace {

constexpr const char* kPolicies = R"(
channels:
  web: {top_k: 1}
  sms: {outbound: true, top_k: 1}
arbitration: {min_priority: 0}
)";

constexpr const char* kCatalog = R"(
issues:
  Sales:
    groups:
      Data:
        actions:
          - {id: DATA_5GB, name: "5 GB data", value: 4, treatments: {web: {title: "5 GB extra", body: "For a month", price: 4.99, currency: EUR}, sms: {text: "5 GB"}}}
          - {id: VALUE_ONLY, name: "Value only", value: 12.5, treatments: {web: {title: "Value"}}}
          - {id: BAD_PRICE, name: "Bad", value: 1, treatments: {web: {title: "Bad", price: "a lot"}}}
)";

// Records every Charge; can refuse.
class FakeProvider final : public PaymentProvider {
 public:
  Result<std::string> Charge(const Order& order) override {
    std::lock_guard lock(mu_);
    charged_.push_back(order);
    if (refuse_) return Status(ErrorCode::kUnavailable, "provider down");
    return "pay_" + order.id;
  }
  std::vector<Order> charged() const {
    std::lock_guard lock(mu_);
    return charged_;
  }
  void set_refuse(bool r) { refuse_ = r; }

 private:
  mutable std::mutex mu_;
  std::vector<Order> charged_;
  std::atomic<bool> refuse_{false};
};

class OrderServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    CreateWorkspace("kairos-order-service-",
                    {{"policies.yaml", kPolicies}, {"catalog.yaml", kCatalog}});
    ASSERT_TRUE(engine_
                    ->IngestNdjson(R"({"event_id":"m1","subscriber_id":"sub-1","type":"subscriber",)"
                                   R"("ts":"2026-03-01T00:00:00Z","plan_type":"prepaid"})"
                                   "\n")
                    .rejected.empty());
    OpenOrders();
  }
  void OpenOrders() {
    orders_.reset();
    auto store = OrderStore::Open(OrderStore::DirFor(dir_.string() + "/store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    orders_ = std::make_unique<OrderService>(store_.get(), &provider_, service_.get(), &clock_);
  }
  void TearDown() override {
    orders_.reset();
    store_.reset();
    ServiceFixture::TearDown();
  }
  OfferClaims Claims(const std::string& nonce, const std::string& action = "DATA_5GB",
                     const std::string& treatment = "DATA_5GB/web") {
    OfferClaims c;
    c.nonce = nonce;
    c.subscriber_id = "sub-1";
    c.action_id = action;
    c.treatment = treatment;
    c.expires_at = clock_.Now() + kMsPerDay;
    return c;
  }
  int Accepted(const std::string& action) {
    Profile p;
    EXPECT_TRUE(engine_->ReadProfile("sub-1", &p).ok());
    int n = 0;
    for (const Interaction& x : p.interactions) {
      n += x.kind == InteractionKind::kAccepted && x.action == HistoryKey(action);
    }
    return n;
  }

  FakeProvider provider_;
  std::unique_ptr<OrderStore> store_;
  std::unique_ptr<OrderService> orders_;
};

TEST_F(OrderServiceTest, AcceptCreatesAPricedOrderStartsItsPaymentAndRecordsTheResponse) {
  auto r = orders_->Accept(Claims("aa11"), clock_.Now());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->created);
  const Order& o = r->order;
  EXPECT_TRUE(o.id.starts_with("ord_"));
  EXPECT_EQ(o.id.size(), 4u + 16u);
  EXPECT_EQ(o.state, OrderState::kCreated);
  EXPECT_EQ(o.amount_minor, 499);  // the treatment's price
  EXPECT_EQ(o.currency, "EUR");
  EXPECT_EQ(o.payment_id, "pay_" + o.id);
  EXPECT_EQ(provider_.charged().size(), 1u);
  EXPECT_EQ(Accepted("DATA_5GB"), 1);
  EXPECT_EQ(service_->Stats().responses, 1);
  EXPECT_EQ(store_->Get(o.id)->payment_id, o.payment_id);
}

TEST_F(OrderServiceTest, SameTokenAgainGivesTheSameOrder) {
  auto first = orders_->Accept(Claims("bb22"), clock_.Now());
  ASSERT_TRUE(first.ok());
  clock_.Advance(60'000);
  auto again = orders_->Accept(Claims("bb22"), clock_.Now());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->order.id, first->order.id);
  EXPECT_EQ(provider_.charged().size(), 1u);  // one payment
  EXPECT_EQ(Accepted("DATA_5GB"), 1);         // one response
  // Even after the token expired, its order is still returned (the link keeps working).
  clock_.Advance(2 * kMsPerDay);
  auto late = orders_->Accept(Claims("bb22"), clock_.Now());
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->order.id, first->order.id);
  EXPECT_EQ(orders_->Stats().repeated_accepts, 2);
}

TEST_F(OrderServiceTest, ConcurrentAcceptsOfOneTokenMakeExactlyOneOrderAndOnePayment) {
  std::atomic<int> created{0};
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  const OfferClaims claims = Claims("cc33");
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto r = orders_->Accept(claims, clock_.Now());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      created += r->created;
      ids[t] = r->order.id;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(*store_->Count(), 1);
  EXPECT_EQ(provider_.charged().size(), 1u);
  EXPECT_EQ(Accepted("DATA_5GB"), 1);
}

TEST_F(OrderServiceTest, RefusesExpiredOffersUnknownActionsAndBadClaims) {
  OfferClaims expired = Claims("dd44");
  expired.expires_at = clock_.Now();
  EXPECT_EQ(orders_->Accept(expired, clock_.Now()).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(orders_->Accept(Claims("dd45", "GONE", "GONE/web"), clock_.Now()).status().code(),
            ErrorCode::kNotFound);
  auto bad_treatment = orders_->Accept(Claims("dd46", "DATA_5GB", "DATA_5GB/call"), clock_.Now());
  EXPECT_EQ(bad_treatment.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_treatment.status().field(), "treatment");
  auto bad_price = orders_->Accept(Claims("dd47", "BAD_PRICE", ""), clock_.Now());
  EXPECT_EQ(bad_price.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(bad_price.status().message().find("BAD_PRICE"), std::string::npos);
  OfferClaims no_nonce = Claims("");
  EXPECT_EQ(orders_->Accept(no_nonce, clock_.Now()).status().field(), "nonce");
  OfferClaims no_sub = Claims("dd48");
  no_sub.subscriber_id.clear();
  EXPECT_EQ(orders_->Accept(no_sub, clock_.Now()).status().field(), "subscriber_id");
  // Nothing stored, nothing charged, nothing recorded.
  EXPECT_EQ(*store_->Count(), 0);
  EXPECT_TRUE(provider_.charged().empty());
  EXPECT_EQ(Accepted("DATA_5GB"), 0);
}

TEST_F(OrderServiceTest, PriceFallsBackToTheActionValueAndTheWebTreatment) {
  auto r = orders_->Accept(Claims("ee55", "VALUE_ONLY", ""), clock_.Now());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->order.amount_minor, 1250);
  EXPECT_EQ(r->order.treatment, "VALUE_ONLY/web");
}

TEST_F(OrderServiceTest, PaymentThatCannotStartFailsTheOrder) {
  provider_.set_refuse(true);
  auto r = orders_->Accept(Claims("ff66"), clock_.Now());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->order.state, OrderState::kFailed);
  EXPECT_NE(r->order.failure_reason.find("provider down"), std::string::npos);
  EXPECT_EQ(orders_->Stats().payment_start_failures, 1);
}

TEST_F(OrderServiceTest, OrdersSurviveARestart) {
  auto r = orders_->Accept(Claims("gg77"), clock_.Now());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(orders_->ErasePersonalData("sub-1", clock_.Now()).ok());
  Restart();
  OpenOrders();
  auto again = orders_->Accept(Claims("gg77"), clock_.Now());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->order.id, r->order.id);
  EXPECT_TRUE(again->order.erased);
  EXPECT_TRUE(orders_->BySubscriber("sub-1")->empty());
  auto page = orders_->List("", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->orders.size(), 1u);
}

TEST(PriceTest, ParseAmountMinor) {
  EXPECT_EQ(*ParseAmountMinor("12", "p"), 1200);
  EXPECT_EQ(*ParseAmountMinor("12.5", "p"), 1250);
  EXPECT_EQ(*ParseAmountMinor("0.99", "p"), 99);
  for (const char* bad : {"", "-1", "1.", ".5", "1.234", "1e3", "12,50", "1 ", "abc",
                          "99999999999999999999"}) {
    auto r = ParseAmountMinor(bad, "price");
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "price");
  }
}

TEST(ClaimsTest, FromTokenClaims) {
  TokenClaims t;
  t.subscriber_id = "s";
  t.action_id = "A";
  t.treatment = "A/web";
  t.expires_at = 1'800'000'000;
  t.nonce.fill(0xab);
  const OfferClaims c = ToOfferClaims(t);
  EXPECT_EQ(c.nonce, t.NonceHex());
  EXPECT_EQ(c.expires_at, int64_t{1'800'000'000} * 1000);
  EXPECT_EQ(c.treatment, "A/web");
}

}  // namespace
}  // namespace kairos::offer
