// OrderStore: the order lifecycle, exactly one order per token nonce (also from 8 threads),
// illegal transitions refused, event replays refused, durability across reopen (orders, event
// ids, erasure), pagination and corrupt records.
#include "offer/order_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "channel/channel_test_util.h"

namespace kairos::offer {
namespace {

using channel::testing::ScratchDir;

Order Draft(const std::string& id, const std::string& nonce, const std::string& sub = "sub-1",
            TimestampMs at = 1000) {
  Order o;
  o.id = id;
  o.nonce = nonce;
  o.subscriber_id = sub;
  o.action_id = "DATA_5GB";
  o.treatment = "DATA_5GB/web";
  o.amount_minor = 999;
  o.currency = "EUR";
  o.created_at = o.updated_at = at;
  o.history.push_back({OrderState::kCreated, at, "accepted"});
  return o;
}

TransitionRequest To(const std::string& id, OrderState to, const std::string& event = {},
                     TimestampMs at = 2000) {
  TransitionRequest r;
  r.order_id = id;
  r.to = to;
  r.at = at;
  r.event_id = event;
  r.payment_id = "pay_1";
  r.note = "test";
  r.reason = to == OrderState::kPaid ? "" : "declined";
  return r;
}

TEST(OrderTest, StateMachineAllowsOnlyCreatedToAnOutcome) {
  const OrderState all[] = {OrderState::kCreated, OrderState::kPaid, OrderState::kFailed,
                            OrderState::kExpired};
  int legal = 0;
  for (OrderState from : all) {
    for (OrderState to : all) {
      const bool expected = from == OrderState::kCreated && to != OrderState::kCreated;
      EXPECT_EQ(IsLegalTransition(from, to), expected)
          << OrderStateName(from) << " -> " << OrderStateName(to);
      legal += IsLegalTransition(from, to);
    }
  }
  EXPECT_EQ(legal, 3);
  EXPECT_EQ(FormatAmount(1250), "12.50");
  EXPECT_EQ(FormatAmount(5), "0.05");
  EXPECT_EQ(FormatAmount(-5), "-0.05");
}

TEST(OrderStoreTest, LifecycleCreatedToPaid) {
  ScratchDir dir;
  auto store = OrderStore::Open(dir / "orders");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto c = (*store)->Create(Draft("ord_a", "n1"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->created);
  auto got = (*store)->Get("ord_a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, OrderState::kCreated);
  EXPECT_EQ(got->amount_minor, 999);

  auto paid = (*store)->Transition(To("ord_a", OrderState::kPaid, "evt_1"));
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->state, OrderState::kPaid);
  EXPECT_EQ(paid->payment_id, "pay_1");
  EXPECT_EQ(paid->updated_at, 2000);
  ASSERT_EQ(paid->history.size(), 2u);
  EXPECT_EQ(paid->history[1].state, OrderState::kPaid);
  EXPECT_TRUE(*(*store)->EventSeen("evt_1"));
  // Paid orders leave the expiry index.
  EXPECT_TRUE((*store)->OpenBefore(1'000'000, 10)->empty());
}

TEST(OrderStoreTest, SameNonceGivesTheSameOrder) {
  ScratchDir dir;
  auto store = OrderStore::Open(dir / "orders").value();
  ASSERT_TRUE(store->Create(Draft("ord_a", "n1")).ok());
  auto again = store->Create(Draft("ord_b", "n1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->order.id, "ord_a");
  EXPECT_EQ(*store->Count(), 1);
  EXPECT_EQ(store->Get("ord_b").status().code(), ErrorCode::kNotFound);
  // An id clash with another nonce is refused, not overwritten.
  EXPECT_EQ(store->Create(Draft("ord_a", "n2")).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store->Create(Draft("", "n3")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->Create(Draft("ord_c", "")).status().code(), ErrorCode::kInvalidArgument);
}

TEST(OrderStoreTest, ConcurrentCreatesOfOneNonceMakeExactlyOneOrder) {
  ScratchDir dir;
  auto store = OrderStore::Open(dir / "orders").value();
  std::atomic<int> created{0};
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto r = store->Create(Draft("ord_" + std::to_string(t), "same-nonce"));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      created += r->created;
      ids[t] = r->order.id;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(*store->Count(), 1);
}

TEST(OrderStoreTest, EveryIllegalTransitionIsRefusedWithoutChange) {
  ScratchDir dir;
  auto store = OrderStore::Open(dir / "orders").value();
  const OrderState outcomes[] = {OrderState::kPaid, OrderState::kFailed, OrderState::kExpired};
  int n = 0;
  // created → created is refused too.
  ASSERT_TRUE(store->Create(Draft("ord_x", "nx")).ok());
  EXPECT_EQ(store->Transition(To("ord_x", OrderState::kCreated)).status().code(),
            ErrorCode::kFailedPrecondition);
  for (OrderState first : outcomes) {
    const std::string id = "ord_" + std::to_string(n);
    ASSERT_TRUE(store->Create(Draft(id, "n" + std::to_string(n))).ok());
    ++n;
    ASSERT_TRUE(store->Transition(To(id, first, "evt_first_" + id)).ok());
    const Order before = *store->Get(id);
    for (OrderState next : {OrderState::kCreated, OrderState::kPaid, OrderState::kFailed,
                            OrderState::kExpired}) {
      auto r = store->Transition(To(id, next, "evt_" + id + std::string(OrderStateName(next)),
                                    9999));
      EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition)
          << OrderStateName(first) << " -> " << OrderStateName(next);
      // The refused event id is not recorded: nothing changed.
      EXPECT_FALSE(*store->EventSeen("evt_" + id + std::string(OrderStateName(next))));
    }
    const Order after = *store->Get(id);
    EXPECT_EQ(EncodeOrder(after), EncodeOrder(before));
  }
  EXPECT_EQ(store->Transition(To("ord_missing", OrderState::kPaid)).status().code(),
            ErrorCode::kNotFound);
}

TEST(OrderStoreTest, ReplayedEventIsRefusedWithoutChange) {
  ScratchDir dir;
  auto store = OrderStore::Open(dir / "orders").value();
  ASSERT_TRUE(store->Create(Draft("ord_a", "n1")).ok());
  ASSERT_TRUE(store->Create(Draft("ord_b", "n2")).ok());
  ASSERT_TRUE(store->Transition(To("ord_a", OrderState::kPaid, "evt_1")).ok());
  // The same event again, even aimed at another (still open) order: a replay.
  auto r = store->Transition(To("ord_b", OrderState::kFailed, "evt_1"));
  EXPECT_EQ(r.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store->Get("ord_b")->state, OrderState::kCreated);
}

TEST(OrderStoreTest, ReopenKeepsOrdersIndexesAndEvents) {
  ScratchDir dir;
  {
    auto store = OrderStore::Open(dir / "orders").value();
    ASSERT_TRUE(store->Create(Draft("ord_a", "n1", "sub-1", 100)).ok());
    ASSERT_TRUE(store->Create(Draft("ord_b", "n2", "sub-1", 200)).ok());
    ASSERT_TRUE(store->Create(Draft("ord_c", "n3", "sub-2", 300)).ok());
    ASSERT_TRUE(store->SetPaymentId("ord_b", "pay_b").ok());
    ASSERT_TRUE(store->Transition(To("ord_a", OrderState::kFailed, "evt_a")).ok());
  }
  auto store = OrderStore::Open(dir / "orders").value();
  EXPECT_EQ(*store->Count(), 3);
  const Order a = *store->Get("ord_a");
  EXPECT_EQ(a.state, OrderState::kFailed);
  EXPECT_EQ(a.failure_reason, "declined");
  EXPECT_EQ(a.history.size(), 2u);
  EXPECT_EQ(store->Get("ord_b")->payment_id, "pay_b");
  EXPECT_EQ((*store->FindByNonce("n3"))->id, "ord_c");
  EXPECT_EQ(store->BySubscriber("sub-1")->size(), 2u);
  EXPECT_TRUE(*store->EventSeen("evt_a"));
  EXPECT_EQ(store->Transition(To("ord_b", OrderState::kPaid, "evt_a")).status().code(),
            ErrorCode::kAlreadyExists);
  auto open = *store->OpenBefore(1000, 10);
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].id, "ord_b");  // oldest first
  EXPECT_EQ(open[1].id, "ord_c");
  EXPECT_EQ(store->OpenBefore(250, 10)->size(), 1u);
}

TEST(OrderStoreTest, ErasePersonalDataSurvivesReopen) {
  ScratchDir dir;
  {
    auto store = OrderStore::Open(dir / "orders").value();
    ASSERT_TRUE(store->Create(Draft("ord_a", "n1", "alice")).ok());
    ASSERT_TRUE(store->Create(Draft("ord_b", "n2", "alice")).ok());
    ASSERT_TRUE(store->Create(Draft("ord_c", "n3", "bob")).ok());
    ASSERT_TRUE(store->Transition(To("ord_a", OrderState::kPaid, "evt_a")).ok());
    EXPECT_EQ(*store->ErasePersonalData("alice", 5000), 2);
    EXPECT_EQ(*store->ErasePersonalData("nobody", 5000), 0);
  }
  auto store = OrderStore::Open(dir / "orders").value();
  EXPECT_TRUE(store->BySubscriber("alice")->empty());
  for (const char* id : {"ord_a", "ord_b"}) {
    const Order o = *store->Get(id);
    EXPECT_TRUE(o.erased);
    EXPECT_TRUE(o.subscriber_id.starts_with("erased:")) << o.subscriber_id;
    EXPECT_EQ(o.subscriber_id.find("alice"), std::string::npos);
    EXPECT_EQ(o.amount_minor, 999);  // accounting keeps the amounts
    EXPECT_EQ(OrderToJson(o).find("alice"), std::string::npos);
  }
  EXPECT_EQ(store->Get("ord_a")->state, OrderState::kPaid);
  EXPECT_FALSE(store->Get("ord_c")->erased);
  EXPECT_EQ(store->BySubscriber("bob")->size(), 1u);
  // The pseudonym still groups the erased orders (accounting), without the person.
  EXPECT_EQ(store->BySubscriber(store->Get("ord_a")->subscriber_id)->size(), 2u);
}

TEST(OrderStoreTest, ListPaginatesWithCursor) {
  ScratchDir dir;
  auto store = OrderStore::Open(dir / "orders").value();
  for (int i = 0; i < 25; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "ord_%02d", i);
    ASSERT_TRUE(store->Create(Draft(id, "n" + std::to_string(i))).ok());
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store->List(cursor, 10);
    ASSERT_TRUE(page.ok());
    for (const Order& o : page->orders) seen.push_back(o.id);
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "ord_00");
  EXPECT_EQ(seen.back(), "ord_24");
  EXPECT_EQ(store->List("", 0).status().field(), "limit");
  EXPECT_EQ(store->List("", 1001).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->List("", 1000)->orders.size(), 25u);
}

TEST(OrderStoreTest, DecodeRefusesEveryTruncation) {
  Order o = Draft("ord_a", "n1");
  o.history.push_back({OrderState::kPaid, 5, "paid"});
  const std::string bytes = EncodeOrder(o);
  Order back;
  ASSERT_TRUE(DecodeOrder(bytes, &back).ok());
  EXPECT_EQ(EncodeOrder(back), bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Order x;
    EXPECT_EQ(DecodeOrder(bytes.substr(0, n), &x).code(), ErrorCode::kCorruption) << n;
  }
  EXPECT_EQ(DecodeOrder(bytes + "x", &back).code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace kairos::offer
