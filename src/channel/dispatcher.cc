#include "channel/dispatcher.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "channel/backoff.h"
#include "channel/outbox.h"
#include "channel/sink.h"
#include "common/hash.h"
#include "common/rng.h"

namespace kairos::channel {

namespace {

// Workers and the writer wake at least this often, so that a ManualClock moved by a test or a
// simulation is noticed without anyone having to poke the dispatcher.
constexpr auto kMaxSleep = std::chrono::milliseconds(50);
constexpr int64_t kPurgeIntervalMs = 60 * kMsPerSecond;
constexpr int64_t kPurgeBatch = 10000;
constexpr size_t kMaxChannelNameBytes = 128;
constexpr size_t kMaxSubscriberIdBytes = 1024;

bool PrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Well-formed UTF-8 without control characters (the id and subscriber travel in JSON lines and
// HTTP headers).
bool CleanUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// One JSON object, nothing after it, valid UTF-8: what the file sink embeds as it is.
bool IsJsonObject(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || s[first] != '{') return false;
  if (std::memchr(s.data(), '\0', s.size()) != nullptr) return false;
  rapidjson::MemoryStream in(s.data(), s.size());
  rapidjson::Reader reader;
  rapidjson::BaseReaderHandler<> ignore;
  return !reader.Parse<rapidjson::kParseValidateEncodingFlag>(in, ignore).IsError();
}

}  // namespace

// A delivery waiting in a channel's queue: due time, then arrival order.
struct Dispatcher::Entry {
  TimestampMs due_ms = 0;
  uint64_t seq = 0;
  int32_t attempts = 0;  // made so far (the authority while the process runs)
  std::string id;
};

namespace {
// std::push_heap keeps the largest first; "largest" here is the earliest due.
struct Later {
  template <typename E>
  bool operator()(const E& a, const E& b) const {
    return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.seq > b.seq;
  }
};
}  // namespace

struct Dispatcher::Channel {
  explicit Channel(std::string n, uint64_t seed)
      : name(std::move(n)), rng(seed, StableHash64(name), 0x6368616e) {}
  const std::string name;
  std::mutex mu;
  std::condition_variable cv;  // work arrived, the sink changed, or stop
  std::vector<Entry> queue;    // a heap ordered by Later
  std::shared_ptr<Sink> sink;  // null: no adapter; deliveries wait
  AdapterConfig config;
  Rng rng;                   // backoff jitter (under mu)
  bool has_workers = false;  // under workers_mu_
};

// A change for the writer to commit.
struct Dispatcher::Op {
  enum class Kind { kInsert, kDelivered, kFailed, kDead, kRetry };
  Kind kind = Kind::kInsert;
  std::string id;
  std::string channel;
  OutboxRecord record;       // kInsert: the new record
  int32_t attempts = 0;      // kDelivered / kFailed / kDead: attempts made
  TimestampMs next_ms = 0;   // kFailed: the next attempt
  std::string error;         // kFailed / kDead
  Waiter* waiter = nullptr;  // kInsert / kRetry: the caller blocked on the commit
};

struct Dispatcher::Waiter {
  bool done = false;
  Status status;
  bool inserted = false;
};

ChannelStats DispatcherStats::Total() const {
  ChannelStats t;
  for (const auto& [name, s] : channels) {
    t.enqueued += s.enqueued;
    t.duplicates += s.duplicates;
    t.delivered += s.delivered;
    t.failures += s.failures;
    t.retries += s.retries;
    t.dead_letters += s.dead_letters;
    t.pending += s.pending;
  }
  return t;
}

Dispatcher::Dispatcher(const Clock* clock, uint64_t seed, const DispatcherOptions& options)
    : clock_(clock), seed_(seed), options_(options) {}

Result<std::unique_ptr<Dispatcher>> Dispatcher::Open(const std::string& dir, const Clock* clock,
                                                     uint64_t seed,
                                                     const DispatcherOptions& options) {
  Outbox::Options outbox_options;
  outbox_options.map_size_bytes = options.map_size_bytes;
  outbox_options.sync_each_commit = options.fsync_each_enqueue;
  KAIROS_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> outbox, Outbox::Open(dir, outbox_options));
  std::unique_ptr<Dispatcher> d(new Dispatcher(clock, seed, options));  // private constructor
  d->outbox_ = std::move(outbox);
  // Everything not yet delivered is due again: after a crash we cannot know whether an attempt
  // in flight reached the receiver, so it is repeated with the same idempotency key.
  KAIROS_RETURN_IF_ERROR(
      d->outbox_->ForEachPending([&](std::string_view id, const OutboxRecord& r) -> Status {
        Channel* ch = d->GetOrCreateChannel(r.channel);
        ch->queue.push_back(Entry{r.next_attempt_ms, d->next_seq_++, r.attempts, std::string(id)});
        ++d->stats_[r.channel].pending;
        return Status::Ok();
      }));
  for (auto& [name, ch] : d->channels_) std::make_heap(ch->queue.begin(), ch->queue.end(), Later());
  d->writer_ = std::thread([p = d.get()] { p->WriterLoop(); });
  if (!options.fsync_each_enqueue) d->syncer_ = std::thread([p = d.get()] { p->SyncLoop(); });
  return d;
}

Dispatcher::~Dispatcher() {
  Stop();
  {
    std::lock_guard lock(writer_mu_);
    writer_stop_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(writer_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (unsynced_) (void)outbox_->Sync();  // best effort: nothing is left to report it to
}

Dispatcher::Channel* Dispatcher::FindChannel(std::string_view name) const {
  std::shared_lock lock(channels_mu_);
  const auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.get();
}

Dispatcher::Channel* Dispatcher::GetOrCreateChannel(const std::string& name) {
  if (Channel* ch = FindChannel(name)) return ch;
  std::unique_lock lock(channels_mu_);
  auto& slot = channels_[name];
  if (!slot) slot = std::make_unique<Channel>(name, seed_);
  return slot.get();
}

Status Dispatcher::Configure(std::map<std::string, AdapterConfig> adapters) {
  std::lock_guard configure_lock(configure_mu_);
  // Build every sink before touching anything, so a bad entry leaves the old set in place.
  std::map<std::string, std::shared_ptr<Sink>> sinks;
  for (const auto& [name, config] : adapters) {
    if (name.empty() || name.size() > kMaxChannelNameBytes || !PrintableAscii(name)) {
      return InvalidArgument(
          "channel name \"" + name + "\" must be 1-128 printable characters without spaces",
          "channels");
    }
    if (Channel* ch = FindChannel(name)) {
      std::lock_guard lock(ch->mu);
      if (ch->sink && ch->config == config) {
        sinks[name] = ch->sink;
        continue;
      }
    }
    KAIROS_ASSIGN_OR_RETURN(sinks[name], MakeSink(name, config, clock_));
  }
  {
    std::shared_lock lock(channels_mu_);
    for (auto& [name, ch] : channels_) {
      if (adapters.count(name)) continue;
      std::lock_guard channel_lock(ch->mu);
      ch->sink.reset();
    }
  }
  for (auto& [name, config] : adapters) {
    Channel* ch = GetOrCreateChannel(name);
    {
      std::lock_guard lock(ch->mu);
      ch->sink = sinks[name];
      ch->config = config;
    }
    ch->cv.notify_all();
    std::lock_guard stats_lock(stats_mu_);
    stats_[name];  // listed in Stats from now on
  }
  std::lock_guard workers_lock(workers_mu_);
  if (running_) SpawnWorkersLocked();
  return Status::Ok();
}

Status Dispatcher::Validate(const Delivery& d) const {
  if (d.id.empty() || d.id.size() > kMaxIdBytes || !PrintableAscii(d.id)) {
    return InvalidArgument("delivery id must be 1-256 printable ASCII characters without spaces",
                           "id");
  }
  if (d.subscriber_id.size() > kMaxSubscriberIdBytes || !CleanUtf8(d.subscriber_id)) {
    return InvalidArgument("subscriber_id must be UTF-8 without control characters",
                           "subscriber_id");
  }
  if (d.payload.size() > options_.max_payload_bytes) {
    return Status(ErrorCode::kTooLarge,
                  "payload of " + std::to_string(d.payload.size()) + " bytes exceeds " +
                      std::to_string(options_.max_payload_bytes),
                  "payload");
  }
  if (!IsJsonObject(d.payload)) {
    return InvalidArgument("payload of " + d.id + " is not one JSON object", "payload");
  }
  Channel* ch = FindChannel(d.channel);
  bool configured = false;
  if (ch != nullptr) {
    std::lock_guard lock(ch->mu);
    configured = ch->sink != nullptr;
  }
  if (!configured) {
    return InvalidArgument("no adapter for channel \"" + d.channel + "\"", "channel");
  }
  return Status::Ok();
}

Result<bool> Dispatcher::Enqueue(const Delivery& d) {
  KAIROS_ASSIGN_OR_RETURN(std::vector<bool> inserted, EnqueueBatch(std::span(&d, 1)));
  return static_cast<bool>(inserted[0]);
}

Result<std::vector<bool>> Dispatcher::EnqueueBatch(std::span<const Delivery> deliveries) {
  for (const Delivery& d : deliveries) KAIROS_RETURN_IF_ERROR(Validate(d));
  std::vector<bool> inserted(deliveries.size(), false);
  const TimestampMs now = clock_->Now();
  std::vector<Waiter> waiters(deliveries.size());
  std::vector<Op> ops;
  ops.reserve(deliveries.size());
  for (size_t i = 0; i < deliveries.size(); ++i) {
    const Delivery& d = deliveries[i];
    // A read is far cheaper than a commit: known ids (the usual retry of a whole request)
    // answer here. The writer checks again, for ids that race in concurrently.
    KAIROS_ASSIGN_OR_RETURN(const bool known, outbox_->Contains(d.id));
    if (known) {
      waiters[i].done = true;
      std::lock_guard lock(stats_mu_);
      ++stats_[d.channel].duplicates;
      continue;
    }
    Op op;
    op.kind = Op::Kind::kInsert;
    op.id = d.id;
    op.channel = d.channel;
    op.record.state = RecordState::kPending;
    op.record.created_ms = d.created_ms != 0 ? d.created_ms : now;
    op.record.enqueued_ms = now;
    op.record.next_attempt_ms = now;
    op.record.channel = d.channel;
    op.record.subscriber_id = d.subscriber_id;
    op.record.payload = d.payload;
    op.waiter = &waiters[i];
    ops.push_back(std::move(op));
  }
  if (!ops.empty()) Submit(std::move(ops), /*wait=*/true);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    if (!waiters[i].status.ok()) return waiters[i].status;
    inserted[i] = waiters[i].inserted;
  }
  return inserted;
}

void Dispatcher::Submit(std::vector<Op> ops, bool wait) {
  Waiter* last = wait ? ops.back().waiter : nullptr;
  std::unique_lock lock(writer_mu_);
  if (ops_.empty()) {
    ops_ = std::move(ops);
  } else {
    for (Op& op : ops) ops_.push_back(std::move(op));
  }
  writer_cv_.notify_one();
  // The ops went in together, so they are committed in one batch: the last one's waiter
  // speaks for all.
  if (last != nullptr) done_cv_.wait(lock, [last] { return last->done; });
}

void Dispatcher::WriterLoop() {
  std::vector<Op> batch;
  for (;;) {
    {
      std::unique_lock lock(writer_mu_);
      writer_cv_.wait_for(lock, kMaxSleep, [this] { return !ops_.empty() || writer_stop_; });
      if (ops_.empty() && writer_stop_) break;
      batch.swap(ops_);
    }
    if (!batch.empty()) ApplyBatch(batch);
    batch.clear();
    MaybePurge();
  }
}

void Dispatcher::SyncLoop() {
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(1, options_.sync_interval_ms));
  std::unique_lock lock(writer_mu_);
  while (!sync_stop_) {
    sync_cv_.wait_for(lock, interval, [this] { return sync_stop_; });
    if (!unsynced_.exchange(false)) continue;
    lock.unlock();
    // Off the writer thread: an fdatasync can take milliseconds on a busy disk, and commits
    // (which LMDB lets run alongside it) should not queue behind it.
    if (!outbox_->Sync().ok()) unsynced_ = true;
    lock.lock();
  }
}

void Dispatcher::ApplyBatch(std::vector<Op>& batch) {
  const TimestampMs now = clock_->Now();
  struct Effect {
    Op* op;
    bool applied = false;  // the op changed the outbox (or found the duplicate it reports)
    OutboxRecord record;   // kRetry: the re-queued record
  };
  std::vector<Effect> effects;
  effects.reserve(batch.size());
  Status failed;
  auto txn_result = outbox_->BeginWrite();
  if (!txn_result.ok()) failed = txn_result.status();
  for (Op& op : batch) {
    effects.push_back(Effect{&op, false, {}});
    if (!failed.ok()) continue;
    Outbox::WriteTxn& txn = txn_result.value();
    Effect& e = effects.back();
    auto got = txn.Get(op.id);
    if (!got.ok()) {
      failed = got.status();
      continue;
    }
    std::optional<OutboxRecord>& rec = got.value();
    Status st;
    switch (op.kind) {
      case Op::Kind::kInsert:
        if (!rec) {
          st = txn.Put(op.id, op.record);
          e.applied = true;
        }
        break;
      case Op::Kind::kDelivered:
        if (rec && rec->state == RecordState::kPending) {
          // Only what dedupe and metrics need stays; the payload has done its job.
          OutboxRecord done;
          done.state = RecordState::kDelivered;
          done.attempts = op.attempts;
          done.created_ms = rec->created_ms;
          done.enqueued_ms = rec->enqueued_ms;
          done.finished_ms = now;
          done.channel = rec->channel;
          st = txn.Put(op.id, done);
          e.applied = true;
        }
        break;
      case Op::Kind::kFailed:
        if (rec && rec->state == RecordState::kPending) {
          rec->attempts = op.attempts;
          rec->next_attempt_ms = op.next_ms;
          rec->last_error = op.error;
          st = txn.Put(op.id, *rec);
          e.applied = true;
        }
        break;
      case Op::Kind::kDead:
        if (rec && rec->state == RecordState::kPending) {
          rec->state = RecordState::kDead;
          rec->attempts = op.attempts;
          rec->finished_ms = now;
          rec->last_error = op.error;
          st = txn.Put(op.id, *rec);
          e.applied = true;
        }
        break;
      case Op::Kind::kRetry:
        if (!rec) {
          op.waiter->status = NotFound("no delivery with id " + op.id);
        } else if (rec->state != RecordState::kDead) {
          op.waiter->status =
              Status(ErrorCode::kFailedPrecondition,
                     "delivery " + op.id + " is not a dead letter (it is " +
                         (rec->state == RecordState::kPending ? "pending" : "delivered") + ")");
        } else {
          rec->state = RecordState::kPending;
          rec->attempts = 0;
          rec->enqueued_ms = now;
          rec->next_attempt_ms = now;
          rec->finished_ms = 0;
          op.channel = rec->channel;
          st = txn.Put(op.id, *rec);
          e.applied = true;
          e.record = std::move(*rec);
        }
        break;
    }
    if (!st.ok()) failed = st;
  }
  if (failed.ok()) failed = txn_result.value().Commit();
  if (failed.ok() && !options_.fsync_each_enqueue) unsynced_ = true;

  // Only now, with the batch durable, do the queues and counters change: a worker never sends
  // what a crash could still take back, and Stats never runs ahead of the disk.
  int64_t lost = 0;
  {
    std::lock_guard lock(stats_mu_);
    for (Effect& e : effects) {
      const Op& op = *e.op;
      if (!failed.ok()) {
        if (op.waiter == nullptr) ++lost;
        continue;
      }
      if (!e.applied && op.kind != Op::Kind::kInsert) continue;
      ChannelStats& s = stats_[op.channel];
      switch (op.kind) {
        case Op::Kind::kInsert:
          if (e.applied) {
            ++s.enqueued;
            ++s.pending;
          } else {
            ++s.duplicates;
          }
          break;
        case Op::Kind::kDelivered:
          if (e.applied) {
            ++s.delivered;
            --s.pending;
          }
          break;
        case Op::Kind::kDead:
          if (e.applied) {
            ++s.dead_letters;
            --s.pending;
          }
          break;
        case Op::Kind::kRetry:
          if (e.applied) ++s.pending;
          break;
        case Op::Kind::kFailed:
          break;
      }
    }
    outbox_errors_ += lost;
  }
  if (failed.ok()) {
    for (Effect& e : effects) {
      const Op& op = *e.op;
      if (!e.applied) continue;
      if (op.kind == Op::Kind::kInsert) {
        Push(GetOrCreateChannel(op.channel),
             Entry{op.record.next_attempt_ms, next_seq_++, 0, op.id});
      } else if (op.kind == Op::Kind::kRetry) {
        Push(GetOrCreateChannel(op.channel),
             Entry{e.record.next_attempt_ms, next_seq_++, 0, op.id});
      }
    }
  }
  {
    std::lock_guard lock(writer_mu_);
    for (Effect& e : effects) {
      Waiter* w = e.op->waiter;
      if (w == nullptr) continue;
      if (!failed.ok()) {
        w->status = failed;
      } else if (e.op->kind == Op::Kind::kInsert) {
        w->inserted = e.applied;
      }
      w->done = true;
    }
  }
  done_cv_.notify_all();
}

void Dispatcher::MaybePurge() {
  const TimestampMs now = clock_->Now();
  if (last_purge_ms_ != INT64_MIN && now - last_purge_ms_ < kPurgeIntervalMs) return;
  last_purge_ms_ = now;
  auto txn = outbox_->BeginWrite();
  if (!txn.ok()) return;
  auto delivered = txn->PurgeDelivered(now - options_.retention_ms, kPurgeBatch);
  auto dead = txn->PurgeDead(now - options_.dead_letter_retention_ms, kPurgeBatch);
  if (!delivered.ok() || !dead.ok()) return;  // aborted; the next round tries again
  if (*delivered == 0 && *dead == 0) return;  // nothing to commit
  if (!txn->Commit().ok()) return;
  if (!options_.fsync_each_enqueue) unsynced_ = true;
  // A full batch means more is due: purge again at the next wake-up instead of in a minute.
  if (*delivered == kPurgeBatch || *dead == kPurgeBatch) last_purge_ms_ = INT64_MIN;
}

DispatcherStats Dispatcher::Stats() const {
  DispatcherStats out;
  std::lock_guard lock(stats_mu_);
  for (const auto& [name, s] : stats_) out.channels.emplace(name, s);
  out.outbox_errors = outbox_errors_;
  return out;
}

std::vector<DeadLetter> Dispatcher::DeadLetters(size_t limit) const {
  std::vector<DeadLetter> out;
  auto dead = outbox_->NewestDead(limit);
  if (!dead.ok()) return out;
  out.reserve(dead->size());
  for (auto& [id, r] : *dead) {
    DeadLetter d;
    d.id = std::move(id);
    d.channel = std::move(r.channel);
    d.subscriber_id = std::move(r.subscriber_id);
    d.attempts = r.attempts;
    d.last_error = std::move(r.last_error);
    d.payload = std::move(r.payload);
    d.created_ms = r.created_ms;
    d.dead_ms = r.finished_ms;
    out.push_back(std::move(d));
  }
  return out;
}

Status Dispatcher::Retry(std::string_view id) {
  Waiter waiter;
  std::vector<Op> ops(1);
  ops[0].kind = Op::Kind::kRetry;
  ops[0].id = std::string(id);
  ops[0].waiter = &waiter;
  Submit(std::move(ops), /*wait=*/true);
  return waiter.status;
}

void Dispatcher::Push(Channel* ch, Entry entry) {
  {
    std::lock_guard lock(ch->mu);
    ch->queue.push_back(std::move(entry));
    std::push_heap(ch->queue.begin(), ch->queue.end(), Later());
  }
  ch->cv.notify_one();
}

void Dispatcher::Start(int threads) {
  std::lock_guard lock(workers_mu_);
  if (running_) return;
  running_ = true;
  threads_per_channel_ = std::max(1, threads);
  stop_workers_ = false;
  SpawnWorkersLocked();
}

void Dispatcher::SpawnWorkersLocked() {
  std::shared_lock lock(channels_mu_);
  for (auto& [name, ch] : channels_) {
    if (ch->has_workers) continue;
    {
      std::lock_guard channel_lock(ch->mu);
      if (!ch->sink) continue;
    }
    ch->has_workers = true;
    for (int i = 0; i < threads_per_channel_; ++i) {
      workers_.emplace_back([this, c = ch.get()] { WorkerLoop(c); });
    }
  }
}

void Dispatcher::Stop() {
  std::lock_guard lock(workers_mu_);
  if (!running_) return;
  stop_workers_ = true;
  {
    std::shared_lock channels_lock(channels_mu_);
    for (auto& [name, ch] : channels_) {
      { std::lock_guard channel_lock(ch->mu); }  // a worker between its check and its wait
      ch->cv.notify_all();
    }
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  {
    std::shared_lock channels_lock(channels_mu_);
    for (auto& [name, ch] : channels_) ch->has_workers = false;
  }
  running_ = false;
}

void Dispatcher::WorkerLoop(Channel* ch) {
  std::vector<Entry> batch;
  std::vector<OutboxRecord> records;
  std::vector<SinkItem> items;
  std::vector<Outcome> outcomes;
  std::vector<Op> ops;
  while (!stop_workers_.load()) {
    std::shared_ptr<Sink> sink;
    AdapterConfig config;
    {
      std::unique_lock lock(ch->mu);
      const TimestampMs now = clock_->Now();
      if (!ch->sink || ch->queue.empty() || ch->queue.front().due_ms > now) {
        auto sleep = kMaxSleep;
        if (ch->sink && !ch->queue.empty()) {
          sleep = std::min(sleep, std::chrono::milliseconds(ch->queue.front().due_ms - now));
        }
        if (!stop_workers_.load()) ch->cv.wait_for(lock, sleep);
        continue;
      }
      sink = ch->sink;
      config = ch->config;
      const size_t max_batch = std::max<size_t>(1, sink->max_batch());
      while (!ch->queue.empty() && batch.size() < max_batch && ch->queue.front().due_ms <= now) {
        std::pop_heap(ch->queue.begin(), ch->queue.end(), Later());
        batch.push_back(std::move(ch->queue.back()));
        ch->queue.pop_back();
      }
    }

    // The outbox holds the payload; the queue only ids and due times.
    records.assign(batch.size(), OutboxRecord{});
    items.clear();
    std::vector<size_t> sent;  // indexes into batch
    std::vector<Entry> requeue;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto got = outbox_->Get(batch[i].id);
      if (!got.ok()) {  // a read error: try again shortly rather than drop it
        batch[i].due_ms = clock_->Now() + config.backoff_initial_ms;
        requeue.push_back(std::move(batch[i]));
        continue;
      }
      if (!got->has_value() || (*got)->state != RecordState::kPending) continue;  // settled
      records[i] = std::move(**got);
      sent.push_back(i);
      const OutboxRecord& r = records[i];
      items.push_back(SinkItem{batch[i].id, r.channel, r.subscriber_id, r.created_ms, r.payload});
    }
    outcomes.assign(items.size(), Outcome{});
    if (!items.empty()) sink->Deliver(items, outcomes);

    const TimestampMs now = clock_->Now();
    const Backoff backoff(config.backoff_initial_ms, config.backoff_max_ms);
    int64_t failures = 0, retries = 0;
    {
      std::lock_guard lock(ch->mu);
      for (size_t k = 0; k < sent.size(); ++k) {
        Entry& entry = batch[sent[k]];
        const Outcome& o = outcomes[k];
        Op op;
        op.id = entry.id;
        op.channel = ch->name;
        op.attempts = entry.attempts + 1;
        if (o.kind == Outcome::Kind::kDelivered) {
          op.kind = Op::Kind::kDelivered;
        } else {
          ++failures;
          op.error = o.error;
          if (o.kind == Outcome::Kind::kPermanent || op.attempts >= config.max_attempts) {
            op.kind = Op::Kind::kDead;
            if (o.kind != Outcome::Kind::kPermanent) {
              op.error += " (gave up after " + std::to_string(op.attempts) + " attempts)";
            }
          } else {
            ++retries;
            op.kind = Op::Kind::kFailed;
            op.next_ms = now + backoff.DelayMs(op.attempts, o.retry_after_ms, ch->rng);
            entry.attempts = op.attempts;
            entry.due_ms = op.next_ms;
            requeue.push_back(std::move(entry));
          }
        }
        ops.push_back(std::move(op));
      }
      for (Entry& e : requeue) {
        ch->queue.push_back(std::move(e));
        std::push_heap(ch->queue.begin(), ch->queue.end(), Later());
      }
    }
    if (failures > 0) {
      std::lock_guard lock(stats_mu_);
      ChannelStats& s = stats_[ch->name];
      s.failures += failures;
      s.retries += retries;
    }
    // Outcomes are committed in the background: a delivery whose "delivered" mark a crash
    // loses is sent again after the restart, with the same key, which receivers dedupe.
    if (!ops.empty()) Submit(std::move(ops), /*wait=*/false);
    ops.clear();
    batch.clear();
  }
}

}  // namespace kairos::channel
