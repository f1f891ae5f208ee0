// OrderStore: the durable orders of offer-link acceptances, in an LMDB environment of its own
// (<store dir>/orders).
//
// Databases:
//   orders    order id → Order (encoded, versioned)
//   nonces    token nonce → order id            one order per token (single use, idempotent)
//   subs      subscriber_id '\0' order id → ""  orders of a subscriber
//   open      be64(created_at) · order id → ""  orders still `created` (the expiry sweep)
//   events    payment event id → order id       provider events already applied (replays)
// Every change moves the order and its indexes in one write transaction; commits are synced
// (LMDB's default), so a change is durable when the call returns.
//
// Thread-safety: every method may be called from any thread. Writers are serialised by LMDB,
// which is what makes Create exactly-once per nonce under concurrent accepts.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "offer/order.h"

namespace kairos::offer {

std::string EncodeOrder(const Order& o);
// kCorruption when `bytes` is not an order this version wrote.
Status DecodeOrder(std::string_view bytes, Order* o);

struct CreateResult {
  Order order;
  bool created = false;  // false: the nonce already had this order
};

struct OrderPage {
  std::vector<Order> orders;  // in id order
  std::string next_cursor;    // empty: no more
};

// The outcome of a transition request.
struct TransitionRequest {
  std::string order_id;
  OrderState to = OrderState::kPaid;
  TimestampMs at = 0;
  std::string event_id;    // provider event (recorded; a second use → kAlreadyExists); optional
  std::string payment_id;  // set on the order when it has none yet; optional
  std::string note;        // history note
  std::string reason;      // failed / expired: the failure reason
};

class OrderStore {
 public:
  struct Options {
    int64_t map_size_bytes = int64_t{4} << 30;  // sparse: only used pages take disk
    bool sync = true;  // false: commits reach the OS only (survive a killed process)
  };
  static constexpr size_t kMaxPageSize = 1000;

  // `<store dir>/orders`.
  static std::string DirFor(const std::string& store_dir);
  // Opens or creates the store in `dir` (created if missing). Errors: kIoError, kCorruption.
  static Result<std::unique_ptr<OrderStore>> Open(const std::string& dir, Options options);
  static Result<std::unique_ptr<OrderStore>> Open(const std::string& dir) {
    return Open(dir, Options());
  }
  ~OrderStore();
  OrderStore(const OrderStore&) = delete;
  OrderStore& operator=(const OrderStore&) = delete;

  // Stores `draft` (state created, history filled by the caller) unless its nonce already has an
  // order: then returns that one with created = false and writes nothing. A draft whose id is
  // taken gets kAlreadyExists. kInvalidArgument when id or nonce is empty.
  Result<CreateResult> Create(const Order& draft);

  // kNotFound when unknown.
  Result<Order> Get(std::string_view order_id) const;
  // The order of a token nonce, or nullopt.
  Result<std::optional<Order>> FindByNonce(std::string_view nonce) const;
  // Orders with ids after `cursor` (empty: from the start), at most `limit` (1..1000, else
  // kInvalidArgument naming "limit").
  Result<OrderPage> List(std::string_view cursor, size_t limit) const;
  // Every order of a subscriber, in id order.
  Result<std::vector<Order>> BySubscriber(std::string_view subscriber_id) const;
  // Orders still `created` whose created_at < `before`, oldest first, at most `limit`.
  Result<std::vector<Order>> OpenBefore(TimestampMs before, size_t limit) const;
  // Whether a provider event id was applied.
  Result<bool> EventSeen(std::string_view event_id) const;

  // Sets the provider's payment id of an order that has none (a webhook may have set it first:
  // then nothing changes). kNotFound when unknown.
  Status SetPaymentId(std::string_view order_id, std::string_view payment_id);

  // Applies one state change atomically. Errors, each leaving everything unchanged:
  //   kAlreadyExists       the event id was applied before (a replay)
  //   kNotFound            unknown order
  //   kFailedPrecondition  the transition is not allowed (terminal state, created → created),
  //                        or req.payment_id differs from the order's payment id
  Result<Order> Transition(const TransitionRequest& req);

  // Erases the personal fields of every order of `subscriber_id`: subscriber_id becomes
  // "erased:<16 hex of a stable hash>" and erased = true; amounts, states and history stay for
  // accounting. Durable. Returns how many orders changed (0 for an unknown subscriber).
  Result<int64_t> ErasePersonalData(std::string_view subscriber_id, TimestampMs now);

  // Number of orders.
  Result<int64_t> Count() const;

 private:
  OrderStore() = default;
  MDB_env* env_ = nullptr;
  MDB_dbi orders_ = 0, nonces_ = 0, subs_ = 0, open_ = 0, events_ = 0;
};

}  // namespace kairos::offer
