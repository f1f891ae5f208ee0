// Outbox: the durable record of every delivery, in an LMDB environment of its own.
//
// Databases:
//   items    id → OutboxRecord (encoded)
//   pending  id → ""                       the deliveries still to be made (scanned at open)
//   done     be64(finished_ms) · id → ""   delivered, oldest first (retention purge)
//   dead     be64(finished_ms) · id → ""   dead letters, oldest first (listing, purge)
// Put keeps the three indexes in step with each record's state inside one transaction, so a
// crash leaves either the old state or the new one.
//
// By default commits are synchronous (data and meta pages fsync'd), so what a committed
// transaction wrote survives a killed process and a power loss. With sync_each_commit = false a
// commit reaches the OS only (it survives a killed process, not a power loss) until Sync().
// Delivered records keep only what the idempotency check and the metrics need (no payload).
//
// Thread-safety: reads (Get, Contains, ForEachPending, NewestDead) run concurrently from any
// thread. One write transaction at a time (the dispatcher's writer thread owns them).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace kairos::channel {

enum class RecordState : uint8_t { kPending = 0, kDelivered = 1, kDead = 2 };

struct OutboxRecord {
  RecordState state = RecordState::kPending;
  int32_t attempts = 0;             // attempts made so far
  TimestampMs created_ms = 0;       // Delivery::created_ms
  TimestampMs enqueued_ms = 0;      // when Enqueue committed it (or Retry re-queued it)
  TimestampMs next_attempt_ms = 0;  // pending: not before this time
  TimestampMs finished_ms = 0;      // delivered / dead: when
  std::string channel;
  std::string subscriber_id;
  std::string payload;
  std::string last_error;
};

std::string EncodeRecord(const OutboxRecord& r);
// kCorruption when `bytes` is not a record this version wrote.
Status DecodeRecord(std::string_view bytes, OutboxRecord* r);

class Outbox {
 public:
  struct Options {
    int64_t map_size_bytes = int64_t{4} << 30;  // address space; the file grows as used
    bool sync_each_commit = true;
  };

  // Opens or creates the outbox in `dir` (created if missing).
  static Result<std::unique_ptr<Outbox>> Open(const std::string& dir, Options options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // A write transaction, aborted on destruction unless committed.
  class WriteTxn {
   public:
    ~WriteTxn();
    WriteTxn(WriteTxn&& o) noexcept : txn_(std::exchange(o.txn_, nullptr)), box_(o.box_) {}
    WriteTxn& operator=(WriteTxn&&) = delete;

    // The record of `id`, or nullopt. Sees this transaction's own writes.
    Result<std::optional<OutboxRecord>> Get(std::string_view id);
    // Writes `record` under `id`, moving the id between the indexes as its state changed.
    Status Put(std::string_view id, const OutboxRecord& record);
    // Deletes delivered records finished before `before_ms` (at most max_count); returns how
    // many. Same for dead letters.
    Result<int64_t> PurgeDelivered(TimestampMs before_ms, int64_t max_count);
    Result<int64_t> PurgeDead(TimestampMs before_ms, int64_t max_count);
    // Commits durably. The transaction is gone afterwards, whatever the outcome.
    Status Commit();

   private:
    friend class Outbox;
    WriteTxn(MDB_txn* txn, Outbox* box) : txn_(txn), box_(box) {}
    Result<int64_t> PurgeIndex(MDB_dbi index, TimestampMs before_ms, int64_t max_count);
    MDB_txn* txn_;
    Outbox* box_;
  };

  Result<WriteTxn> BeginWrite();
  // Makes every committed transaction durable (for sync_each_commit = false).
  Status Sync();

  // The committed record of `id`, or nullopt. Thread-safe.
  Result<std::optional<OutboxRecord>> Get(std::string_view id) const;
  // Whether `id` has a committed record in any state. Thread-safe.
  Result<bool> Contains(std::string_view id) const;
  // Visits every pending record (a consistent snapshot, in id order). Stops at fn's first error.
  Status ForEachPending(
      const std::function<Status(std::string_view id, const OutboxRecord&)>& fn) const;
  // Up to `limit` dead letters, the most recent first.
  Result<std::vector<std::pair<std::string, OutboxRecord>>> NewestDead(size_t limit) const;

 private:
  Outbox() = default;
  MDB_env* env_ = nullptr;
  MDB_dbi items_ = 0;
  MDB_dbi pending_ = 0;
  MDB_dbi done_ = 0;
  MDB_dbi dead_ = 0;
};

}  // namespace kairos::channel
