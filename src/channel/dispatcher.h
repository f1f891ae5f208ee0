// Dispatcher: outbound delivery of decisions to channels — never a lost or duplicated delivery,
// never a blocked caller.
//
// Enqueue writes the delivery to a durable outbox (its own LMDB environment) and returns once
// the write is committed; worker threads then deliver it through the channel's sink (webhook,
// NDJSON file, NATS subject), retry transient failures with exponential backoff and full jitter,
// and mark the outcome in the outbox. After a crash (kill -9 included) every delivery not yet
// marked delivered is attempted again, with the same idempotency key, so receivers can dedupe:
// delivery is at-least-once to the sink and exactly-once to a receiver that dedupes on the key.
//
// Concurrency: every public method is thread-safe. Enqueue calls from many threads share one
// commit (a writer thread groups them), so their cost is one fsync per group, not per call.
// Each channel has its own queue and its own workers (Start's `threads` per channel), so a
// channel whose receiver hangs or is down never delays another channel.
//
// Time: backoff, retention and due times come from the injected Clock (a ManualClock in tests
// and simulations); workers re-check the clock at least every 50 ms of real time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "channel/delivery.h"
#include "common/clock.h"
#include "common/status.h"

namespace kairos::channel {

class Outbox;
class Sink;

// Counters since Open (plus one gauge) for /metrics.
struct ChannelStats {
  int64_t enqueued = 0;      // Enqueue calls that added a new delivery
  int64_t duplicates = 0;    // Enqueue calls whose id was already in the outbox
  int64_t delivered = 0;     // deliveries acknowledged by the receiver and marked delivered
  int64_t failures = 0;      // failed attempts (transient or permanent)
  int64_t retries = 0;       // failed attempts that were scheduled for another attempt
  int64_t dead_letters = 0;  // deliveries given up on (permanent refusal or max_attempts)
  int64_t pending = 0;       // gauge: deliveries in the outbox not yet delivered or dead
};

struct DispatcherStats {
  std::map<std::string, ChannelStats> channels;  // every channel with an adapter or pending work
  // Outbox commits of delivery outcomes that failed (a full or failing disk). Such a delivery
  // stays pending on disk and is attempted again after a restart (receivers dedupe).
  int64_t outbox_errors = 0;
  ChannelStats Total() const;
};

struct DeadLetter {
  std::string id;
  std::string channel;
  std::string subscriber_id;
  int attempts = 0;
  std::string last_error;
  std::string payload;
  TimestampMs created_ms = 0;
  TimestampMs dead_ms = 0;  // when it was given up on
};

struct DispatcherOptions {
  // How long a delivered id is remembered, so that Enqueue with the same id returns false.
  int64_t retention_ms = 7 * kMsPerDay;
  // How long a dead letter is kept for DeadLetters / Retry.
  int64_t dead_letter_retention_ms = 30 * kMsPerDay;
  int64_t map_size_bytes = int64_t{4} << 30;  // LMDB address space; the file grows as used
  size_t max_payload_bytes = size_t{1} << 20;
  // true: Enqueue returns after the outbox commit is fsync'd (survives a power loss; costs
  // one group commit, ~0.5-10 ms on a shared virtual disk). false: after the commit reached
  // the OS (survives a killed process, not a power loss; tens of µs), the writer fsyncs every
  // sync_interval_ms.
  bool fsync_each_enqueue = true;
  int64_t sync_interval_ms = 100;
};

class Dispatcher {
 public:
  // Opens or creates the outbox in `dir` (created if missing) and loads the pending deliveries
  // (they are delivered once their channel has an adapter and Start was called). `clock` must
  // outlive the dispatcher. `seed` makes the backoff jitter reproducible.
  // Errors: kIoError (the folder or the LMDB environment), kCorruption (an unreadable record).
  static Result<std::unique_ptr<Dispatcher>> Open(const std::string& dir, const Clock* clock,
                                                  uint64_t seed,
                                                  const DispatcherOptions& options = {});
  // Stops the workers (Stop), commits what the writer still holds, closes the outbox.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Replaces the adapter set (a reload). All or nothing: on error nothing changes.
  // Channels left out keep their pending deliveries, which wait for an adapter to return; a
  // channel whose config is unchanged keeps its sink (and its connections).
  // Errors: kInvalidArgument naming the field ("channels.sms.url"), kIoError (a file sink's
  // file cannot be opened).
  Status Configure(std::map<std::string, AdapterConfig> adapters);

  // Adds a delivery to the outbox, durably (committed and fsync'd before returning, unless
  // options.fsync_each_enqueue is false).
  // Returns true when newly enqueued, false when the id is already in the outbox: pending,
  // dead, or delivered within `retention_ms`. Never waits for a delivery.
  // Errors: kInvalidArgument (channel without an adapter, empty or non-printable id, payload
  // not a JSON object), kTooLarge (payload over max_payload_bytes, or the outbox is full),
  // kIoError (the commit failed; nothing was enqueued).
  Result<bool> Enqueue(const Delivery& d);
  // Enqueue for many deliveries in one commit; out[i] answers d[i]. Validates all first: one
  // invalid delivery fails the call and enqueues none.
  Result<std::vector<bool>> EnqueueBatch(std::span<const Delivery> deliveries);

  // Starts `threads` (>= 1) workers per channel with an adapter, and for channels configured
  // later. No-op when already started. Stop() joins them, letting attempts in progress finish
  // (each bounded by its timeout_ms); it is idempotent and Start may follow again.
  void Start(int threads = 2);
  void Stop();

  DispatcherStats Stats() const;

  // Dead letters, the most recently given up first (at most `limit`). Empty on an outbox read
  // error.
  std::vector<DeadLetter> DeadLetters(size_t limit) const;

  // Puts a dead letter back in its channel's queue with a fresh attempt budget, due now.
  // Errors: kNotFound (no delivery with this id), kFailedPrecondition (it is not a dead letter:
  // pending or delivered), kIoError.
  Status Retry(std::string_view id);

 private:
  struct Entry;
  struct Channel;
  struct Op;
  struct Waiter;

  Dispatcher(const Clock* clock, uint64_t seed, const DispatcherOptions& options);
  Channel* FindChannel(std::string_view name) const;
  Channel* GetOrCreateChannel(const std::string& name);
  Status Validate(const Delivery& d) const;
  // Queues ops for the writer; with waiters, blocks until their batch is committed.
  void Submit(std::vector<Op> ops, bool wait);
  void WriterLoop();
  void SyncLoop();
  void ApplyBatch(std::vector<Op>& batch);
  void MaybePurge();
  void WorkerLoop(Channel* channel);
  void SpawnWorkersLocked();
  void Push(Channel* channel, Entry entry);

  const Clock* const clock_;
  const uint64_t seed_;
  const DispatcherOptions options_;
  std::unique_ptr<Outbox> outbox_;

  // Channels are created, never destroyed, so Channel* stays valid while the dispatcher lives.
  mutable std::shared_mutex channels_mu_;
  std::map<std::string, std::unique_ptr<Channel>, std::less<>> channels_;
  std::mutex configure_mu_;  // one Configure at a time
  std::atomic<uint64_t> next_seq_{0};

  mutable std::mutex stats_mu_;
  std::map<std::string, ChannelStats, std::less<>> stats_;
  int64_t outbox_errors_ = 0;

  // The writer thread: the only one that writes to the outbox.
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;  // ops arrived, or stop
  std::condition_variable done_cv_;    // a batch was committed
  std::vector<Op> ops_;
  bool writer_stop_ = false;
  std::thread writer_;
  TimestampMs last_purge_ms_ = INT64_MIN;  // writer thread only

  // With fsync_each_enqueue = false: the thread that fsyncs commits every sync_interval_ms.
  std::atomic<bool> unsynced_{false};  // commits not yet fsync'd
  std::condition_variable sync_cv_;    // under writer_mu_
  bool sync_stop_ = false;
  std::thread syncer_;

  // Workers.
  std::mutex workers_mu_;
  bool running_ = false;
  int threads_per_channel_ = 0;
  std::atomic<bool> stop_workers_{false};
  std::vector<std::thread> workers_;
};

}  // namespace kairos::channel
