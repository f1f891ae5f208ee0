#include "ingest/engine.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "common/encoding.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "profile/profile.h"
#include "profile/profile_json.h"
#include "schema/event.h"
#include "store/lmdb_store.h"
#include "store/wal.h"

namespace kairos {

namespace {

namespace fs = std::filesystem;

constexpr char kAppliedSeqKey[] = "applied_seq";
constexpr char kSchemaKey[] = "schema_layout";

// What the stored profile encoding depends on: attribute names/types and aggregate
// names/ops/retention, in order. A store made with another layout cannot be read as-is.
std::string SchemaLayout(const Schema& s) {
  std::string out;
  for (const auto& a : s.attributes()) {
    out += "attr " + a.name + " " + FieldTypeName(a.type);
    for (const auto& v : a.values) out += " " + v;
    out += "\n";
  }
  for (const auto& a : s.aggregates()) {
    out += "agg " + a.name + " " + AggregateOpName(a.op) + " " + std::to_string(a.retention_days) + "\n";
  }
  return out;
}

// First line where two layouts differ, for the error message.
std::string FirstDifference(const std::string& stored, const std::string& current) {
  size_t a = 0, b = 0;
  while (a < stored.size() || b < current.size()) {
    const size_t ea = stored.find('\n', a), eb = current.find('\n', b);
    const std::string la = a < stored.size() ? stored.substr(a, ea - a) : "(nothing)";
    const std::string lb = b < current.size() ? current.substr(b, eb - b) : "(nothing)";
    if (la != lb) return "store has \"" + la + "\", schema.yaml has \"" + lb + "\"";
    a = ea == std::string::npos ? stored.size() : ea + 1;
    b = eb == std::string::npos ? current.size() : eb + 1;
  }
  return "";
}

Result<uint64_t> ParseSeq(const std::optional<std::string>& stored) {
  if (!stored) return uint64_t{0};
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(stored->data(), stored->data() + stored->size(), v);
  if (ec != std::errc() || p != stored->data() + stored->size()) {
    return Corruption("store meta applied_seq is not a number: \"" + stored->substr(0, 32) + "\"");
  }
  return v;
}

// One parsed event on its way to the writer.
struct Item {
  Event event;
  std::string_view raw;  // the event's JSON text, written to the WAL as is
  int64_t line = 0;
};

// A parsed NDJSON body: the valid events and the lines refused by parsing.
struct Batch final : ParsedBatch {
  std::vector<Item> items;
  std::vector<Rejection> rejected;
};

// A caller's batch, waiting for the writer. Each caller waits on its own condition variable, so
// a commit wakes exactly the callers of its group, not every waiting thread (with many
// concurrent decisions a shared one woke them all on every commit).
struct Request {
  std::vector<Item>* items = nullptr;
  IngestResult* result = nullptr;
  Status status;
  bool done = false;  // guarded by Partition::mu_
  std::condition_variable cv;
};

// One partition of the store: its own LMDB environment, WAL and writer thread. Subscribers
// are assigned to partitions by StableHash64(subscriber_id) % partitions, so each profile has
// exactly one writer and partitions commit in parallel (one per core).
class Partition {
 public:
  Partition(const Workspace& ws, std::string dir, EngineOptions options, const Clock* clock,
            const std::atomic<std::shared_ptr<const AppliedEventObserver>>* observer,
            std::shared_mutex* observer_mu)
      : ws_(ws), dir_(std::move(dir)), options_(options), clock_(clock), observer_(observer),
        observer_mu_(observer_mu) {}

  ~Partition() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    // Make the state on disk complete so the next start needs no replay.
    if (store_ && wal_) (void)CheckpointLocked();
  }

  Status Open() {
    const std::string& dir = dir_;
    LmdbStore::Options so;
    so.map_size_bytes = ws_.config.store.map_size_bytes;
    so.sync_each_commit = ws_.config.durability == Durability::kStrict;
    KAIROS_ASSIGN_OR_RETURN(store_, LmdbStore::Open((fs::path(dir) / "profiles").string(), so));

    const std::string layout = SchemaLayout(*ws_.schema);
    KAIROS_ASSIGN_OR_RETURN(auto stored_layout, store_->GetMeta(kSchemaKey));
    if (stored_layout && *stored_layout != layout) {
      return InvalidArgument("the store in " + dir + " was made with another profile schema (" +
                             FirstDifference(*stored_layout, layout) +
                             "); changing attributes or aggregates needs a fresh store");
    }
    KAIROS_ASSIGN_OR_RETURN(auto applied, store_->GetMeta(kAppliedSeqKey));
    KAIROS_ASSIGN_OR_RETURN(const uint64_t applied_seq, ParseSeq(applied));

    const auto start = std::chrono::steady_clock::now();
    Wal::OpenInfo info;
    KAIROS_ASSIGN_OR_RETURN(wal_, Wal::Open((fs::path(dir) / "wal").string(),
                                            ws_.config.store.wal_segment_bytes, &info));
    KAIROS_RETURN_IF_ERROR(Recover(applied_seq));
    KAIROS_RETURN_IF_ERROR(wal_->ContinueAfter(applied_seq));
    if (!stored_layout) {
      KAIROS_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
      KAIROS_RETURN_IF_ERROR(txn.PutMeta(kSchemaKey, layout));
      KAIROS_RETURN_IF_ERROR(txn.Commit());
    }
    KAIROS_RETURN_IF_ERROR(CheckpointLocked());
    stats_.recovery_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start).count();
    subscribers_ = store_->ProfileCount();
    last_checkpoint_ = std::chrono::steady_clock::now();
    writer_ = std::thread([this] { WriterLoop(); });
    return Status::Ok();
  }

  // Copies the stored profile of `subscriber_id` into `out`; kNotFound when absent.
  Status GetProfile(std::string_view subscriber_id, std::string* out) const {
    return store_->GetProfile(subscriber_id, out);
  }

  Status Checkpoint() {
    std::lock_guard<std::mutex> lock(write_mu_);
    return CheckpointLocked();
  }

  Status GetDecision(std::string_view decision_id, std::string* out) const {
    return store_->GetDecision(decision_id, out);
  }
  Status ForEachProfile(const std::function<bool(std::string_view, std::string_view)>& fn,
                        std::string_view from = {}) const {
    return store_->ForEachProfile(fn, from);
  }

  Status ForEachDecision(std::string_view from, const std::function<bool(std::string_view, std::string_view)>& fn) const {
    return store_->ForEachDecision(from, fn);
  }

  EngineStats Stats() const {
    std::lock_guard<std::mutex> lock(stats_mu_);
    EngineStats s = stats_;
    s.events_rejected += rejected_.load(std::memory_order_relaxed);
    s.subscribers = subscribers_;
    return s;
  }

  // Queues a batch for the writer. False when the partition is stopping.
  bool Enqueue(Request* req) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    queue_.push_back(req);
    work_cv_.notify_one();
    return true;
  }

  // Waits until the writer has committed (or failed) a queued batch.
  void Wait(Request* req) {
    std::unique_lock<std::mutex> lock(mu_);
    req->cv.wait(lock, [&] { return req->done; });
  }

 private:
  void WriterLoop() {
    std::vector<Request*> group;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        const auto interval = std::chrono::milliseconds(ws_.config.store.checkpoint_interval_ms);
        work_cv_.wait_for(lock, interval, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        // Strict durability: one request per commit. Group: everything waiting.
        const size_t max_events = options_.group_commit_max_events > 0
                                      ? static_cast<size_t>(options_.group_commit_max_events)
                                      : 1u << 20;
        size_t events = 0;
        while (!queue_.empty() && (group.empty() || events < max_events) &&
               !(ws_.config.durability == Durability::kStrict && !group.empty())) {
          events += queue_.front()->items->size();
          group.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      if (!group.empty()) {
        Status s;
        {
          std::lock_guard<std::mutex> lock(write_mu_);
          s = CommitGroup(group);
        }
        {
          // Notified under the lock: a caller cannot return (and free its Request) before.
          std::lock_guard<std::mutex> lock(mu_);
          for (Request* r : group) {
            r->status = s;
            r->done = true;
            r->cv.notify_one();
          }
        }
        group.clear();
      }
      if (std::chrono::steady_clock::now() - last_checkpoint_ >=
          std::chrono::milliseconds(ws_.config.store.checkpoint_interval_ms)) {
        std::lock_guard<std::mutex> lock(write_mu_);
        (void)CheckpointLocked();  // a failed checkpoint is retried next interval; the WAL stays
      }
    }
  }

  // One event of a group, with where its outcome is reported.
  struct Ref {
    Item* item;
    IngestResult* result;  // null during recovery
  };

  // Orders a group's events by subscriber (stable, so each subscriber's events keep their
  // order): every touched profile is then decoded, updated and encoded once per group, and LMDB
  // is walked in key order. Subscribers are independent, so this changes no outcome.
  static void SortBySubscriber(std::vector<Ref>& refs) {
    std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
      return a.item->event.subscriber_id < b.item->event.subscriber_id;
    });
  }

  // Applies refs[*next...] (sorted by subscriber) inside `txn`, at most kMaxProfilesPerTxn
  // subscribers, and advances *next past what it applied. Bounding a transaction bounds LMDB's
  // dirty-page list (each updated profile dirties a page). `accepted` receives the raw text of
  // the applied events (for the WAL) when non-null.
  Status ApplyGroup(LmdbStore::WriteTxn& txn, const std::vector<Ref>& refs, size_t* next,
                    std::vector<std::string_view>* accepted, int64_t* new_subscribers) {
    const Schema& schema = *ws_.schema;
    Profile& p = current_;
    size_t profiles = 0;
    size_t i = *next;
    for (; i < refs.size() && profiles < kMaxProfilesPerTxn; ++profiles) {
      const std::string& sub = refs[i].item->event.subscriber_id;
      std::string_view bytes;
      Status s = txn.GetProfile(sub, &bytes);
      if (s.ok()) {
        KAIROS_RETURN_IF_ERROR(DecodeProfile(schema, bytes, &p).WithContext("subscriber " + sub));
      } else if (s.code() == ErrorCode::kNotFound) {
        p.Reset(schema);
      } else {
        return s;
      }
      const bool existed = s.ok();
      bool erased = false;
      for (; i < refs.size() && refs[i].item->event.subscriber_id == sub; ++i) {
        const Item& it = *refs[i].item;
        IngestResult* result = refs[i].result;
        if (it.event.type == schema.builtin().erasure) {
          // Everything held so far goes, dedupe memory included; later events of the group
          // (sent after the erasure) start a new profile.
          p.Reset(schema);
          erased = true;
          if (result) ++result->accepted;
          if (accepted) accepted->push_back(it.raw);
          continue;
        }
        switch (ApplyEvent(schema, it.event, StableHash64(it.event.event_id),
                           ws_.config.ingest.dedupe_window_ms, &p)) {
          case ApplyOutcome::kApplied:
            if (result) ++result->accepted;
            if (result && observed_ && static_cast<size_t>(it.event.type) < observed_->watched.size() &&
                observed_->watched[static_cast<size_t>(it.event.type)]) {
              observed_events_.push_back(&it.event);
            }
            if (accepted) accepted->push_back(it.raw);
            if (it.event.type == schema.builtin().decision) {
              KAIROS_RETURN_IF_ERROR(LogDecision(txn, it.event));
            }
            break;
          case ApplyOutcome::kDuplicate:
            if (result) ++result->duplicates;
            break;
          case ApplyOutcome::kTooLate:
            if (result) result->rejected.push_back(TooLate(it));
            break;
        }
      }
      if (p.events_applied == 0) {
        if (erased && existed) {
          KAIROS_RETURN_IF_ERROR(txn.DeleteProfile(sub));
          if (new_subscribers) --*new_subscribers;
        }
        continue;  // e.g. only too-late events: nothing to store
      }
      if (!existed && new_subscribers) ++*new_subscribers;
      EncodeProfile(schema, p, &encode_buffer_);
      KAIROS_RETURN_IF_ERROR(txn.PutProfile(sub, encode_buffer_));
    }
    *next = i;
    return Status::Ok();
  }

  // The decision log entry: subscriber id, channel and shown actions (each length-prefixed, so
  // that counting impressions needs no JSON parsing), then the record.
  Status LogDecision(LmdbStore::WriteTxn& txn, const Event& e) {
    const BuiltinEvents& b = ws_.schema->builtin();
    const Value& record = e.fields[b.d_record];
    const Value& actions = e.fields[b.d_actions];
    log_buffer_.clear();
    for (std::string_view part : {std::string_view(e.subscriber_id), std::string_view(e.fields[b.d_channel].s),
                                  actions.is_null ? std::string_view() : std::string_view(actions.s)}) {
      PutVarint(&log_buffer_, part.size());
      log_buffer_.append(part);
    }
    if (!record.is_null) log_buffer_.append(record.s);
    return txn.PutDecision(e.fields[b.d_decision_id].s, log_buffer_);
  }

  Rejection TooLate(const Item& it) const {
    return {it.line, ErrorCode::kOutOfRange,
            "/ts: " + FormatRfc3339(it.event.ts) + " is older than the dedupe window (" +
                std::to_string(ws_.config.ingest.dedupe_window_ms / 3600000) +
                " h) behind this subscriber's newest event; it cannot be checked for duplicates "
                "(raise ingest.dedupe_window)",
            "/ts"};
  }

  // One LMDB transaction of a group: apply, then the durability point — the WAL records of the
  // applied events are on disk before the profile changes become visible and before anyone is
  // told they were accepted.
  Status CommitPart(const std::vector<Ref>& refs, size_t* next, int64_t* new_subs) {
    KAIROS_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
    std::vector<std::string_view> accepted;
    observed_ = observer_ ? observer_->load() : nullptr;
    observed_events_.clear();
    KAIROS_RETURN_IF_ERROR(ApplyGroup(txn, refs, next, &accepted, new_subs));
    const uint64_t before = wal_->last_seq();
    KAIROS_ASSIGN_OR_RETURN(uint64_t last, wal_->Append(accepted));
    if (last != before) {
      KAIROS_RETURN_IF_ERROR(wal_->Sync());
      KAIROS_RETURN_IF_ERROR(txn.PutMeta(kAppliedSeqKey, std::to_string(last)));
    }
    KAIROS_RETURN_IF_ERROR(txn.Commit());
    // Durable and visible: now the observer may act on them (and read their profiles). The one
    // in force now, under the lock SetObserver waits for: once it returns, no call runs into an
    // observer it replaced.
    if (!observed_events_.empty()) {
      std::shared_lock<std::shared_mutex> lock(*observer_mu_);
      if (const auto now_observing = observer_->load()) {
        for (const Event* e : observed_events_) now_observing->on_applied(*e);
      }
    }
    observed_events_.clear();
    observed_.reset();
    return Status::Ok();
  }

  // Outcomes go straight into each request's result; on failure the caller reports the
  // request's events as rejected and ignores its result.
  Status CommitGroup(std::vector<Request*>& group) {
    std::vector<Ref> refs;
    for (Request* r : group) {
      for (Item& it : *r->items) refs.push_back({&it, r->result});
    }
    SortBySubscriber(refs);
    int64_t new_subs = 0;
    int64_t commits = 0;
    for (size_t next = 0; next < refs.size() || commits == 0;) {
      Status s = CommitPart(refs, &next, &new_subs);
      if (!s.ok()) {
        if (commits == 0) return s;  // the transaction aborted: nothing of the group is applied
        return Status(s.code(), s.message() + " (part of this batch was stored before the failure; "
                                              "re-sending it is safe: applied events come back as duplicates)");
      }
      ++commits;
    }
    int64_t accepted_n = 0, dup_n = 0;
    for (const Request* r : group) {
      accepted_n += r->result->accepted;
      dup_n += r->result->duplicates;
      rejected_.fetch_add(static_cast<int64_t>(r->result->rejected.size()), std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.events_accepted += accepted_n;
    stats_.events_duplicate += dup_n;
    stats_.commits += commits;
    stats_.wal_bytes = wal_->bytes_appended();
    subscribers_ += new_subs;
    return Status::Ok();
  }

  // Replays WAL records past the store's applied sequence, in transactions of bounded size.
  Status Recover(uint64_t applied_seq) {
    EventParser parser(ws_.schema);
    std::vector<Item> items;
    uint64_t last = applied_seq;
    int64_t replayed = 0;
    auto flush = [&]() -> Status {
      if (items.empty() && last == applied_seq) return Status::Ok();
      // One transaction for the whole chunk: applied_seq must only move when all of it is in.
      KAIROS_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
      std::vector<Ref> refs;
      for (Item& it : items) refs.push_back({&it, nullptr});
      SortBySubscriber(refs);
      for (size_t next = 0; next < refs.size();) {
        KAIROS_RETURN_IF_ERROR(ApplyGroup(txn, refs, &next, nullptr, nullptr));
      }
      KAIROS_RETURN_IF_ERROR(txn.PutMeta(kAppliedSeqKey, std::to_string(last)));
      KAIROS_RETURN_IF_ERROR(txn.Commit());
      replayed += static_cast<int64_t>(items.size());
      items.clear();
      applied_seq = last;
      return Status::Ok();
    };
    KAIROS_RETURN_IF_ERROR(wal_->Replay(applied_seq, [&](uint64_t seq, std::string_view payload) -> Status {
      Item it;
      Status s = parser.Parse(payload, &it.event);
      if (!s.ok()) {
        return Corruption("WAL record " + std::to_string(seq) + " no longer parses against schema.yaml: " +
                          s.message());
      }
      items.push_back(std::move(it));
      last = seq;
      if (items.size() >= kMaxProfilesPerTxn) return flush();
      return Status::Ok();
    }));
    KAIROS_RETURN_IF_ERROR(flush());
    stats_.recovered_events = replayed;
    return Status::Ok();
  }

  Status CheckpointLocked() {
    KAIROS_RETURN_IF_ERROR(PruneDecisionLog());
    KAIROS_RETURN_IF_ERROR(store_->Sync());
    KAIROS_ASSIGN_OR_RETURN(auto applied, store_->GetMeta(kAppliedSeqKey));
    KAIROS_ASSIGN_OR_RETURN(const uint64_t applied_seq, ParseSeq(applied));
    KAIROS_RETURN_IF_ERROR(wal_->Trim(applied_seq));
    last_checkpoint_ = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.checkpoints;
    return Status::Ok();
  }

  // Drops decisions past store.decision_log_retention (bounded per checkpoint, so a long backlog
  // is worked off over several checkpoints instead of one huge transaction).
  Status PruneDecisionLog() {
    const std::string before = DecisionIdPrefix(clock_->Now() - ws_.config.store.decision_log_retention_ms);
    KAIROS_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
    KAIROS_ASSIGN_OR_RETURN(int64_t n, txn.DeleteDecisionsBefore(before, 50000));
    if (n == 0) return Status::Ok();  // the transaction aborts: nothing written
    return txn.Commit();
  }

  const Workspace& ws_;
  const std::string dir_;
  EngineOptions options_;
  const Clock* clock_;
  const std::atomic<std::shared_ptr<const AppliedEventObserver>>* observer_;
  std::shared_mutex* observer_mu_;
  // The observer of the commit in progress and the applied events it wants (they point into
  // the group's items, alive until the group is done).
  std::shared_ptr<const AppliedEventObserver> observed_;
  std::vector<const Event*> observed_events_;
  std::unique_ptr<LmdbStore> store_;
  std::unique_ptr<Wal> wal_;

  std::mutex mu_;  // guards queue_, stopping_, Request::done
  std::condition_variable work_cv_;
  std::deque<Request*> queue_;
  bool stopping_ = false;
  std::thread writer_;
  std::mutex write_mu_;  // serialises LMDB write transactions and WAL use
  std::chrono::steady_clock::time_point last_checkpoint_;
  static constexpr size_t kMaxProfilesPerTxn = 8192;
  // Writer-thread scratch, reused across groups so the hot path does not allocate.
  Profile current_;
  std::string encode_buffer_;
  std::string log_buffer_;

  mutable std::mutex stats_mu_;
  EngineStats stats_;
  int64_t subscribers_ = 0;
  std::atomic<int64_t> rejected_{0};
};

// The Engine: parses and validates in the caller's thread, routes events to partitions, waits
// for their commits, merges the answers. Holds the store lock.
class EngineImpl final : public Engine {
 public:
  EngineImpl(Workspace ws, const Clock* clock, EngineOptions options)
      : ws_(std::move(ws)), clock_(clock), options_(options) {}

  ~EngineImpl() override {
    partitions_.clear();  // each stops its writer and checkpoints
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  // One process per store: a second `serve` or `ingest` on the same workspace would append to
  // the same WAL. The lock is released by the kernel when the process dies, even by kill -9.
  Status LockStore(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("cannot create " + dir + ": " + ec.message());
    const std::string path = (fs::path(dir) / "LOCK").string();
    lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status(ErrorCode::kFailedPrecondition,
                    "the store " + dir + " is in use by another Kairos process (stop it first)");
    }
    return Status::Ok();
  }

  Status Open() {
    const std::string dir = ws_.StorePath();
    KAIROS_RETURN_IF_ERROR(LockStore(dir));
    KAIROS_RETURN_IF_ERROR(CheckPartitionCount(dir));
    const int n = ws_.config.store.partitions;
    for (int i = 0; i < n; ++i) {
      partitions_.push_back(std::make_unique<Partition>(ws_, (fs::path(dir) / ("p" + std::to_string(i))).string(),
                                                        options_, clock_, &observer_, &observer_mu_));
    }
    // Partitions recover in parallel: restart time is that of the largest one.
    std::vector<Status> results(n);
    std::vector<std::thread> openers;
    for (int i = 0; i < n; ++i) {
      openers.emplace_back([&, i] { results[i] = partitions_[i]->Open(); });
    }
    for (auto& t : openers) t.join();
    for (const Status& s : results) KAIROS_RETURN_IF_ERROR(s);
    return Status::Ok();
  }

  IngestResult IngestNdjson(std::string_view body, int64_t first_line) override {
    return Submit(Parse(body, first_line), {});
  }

  std::unique_ptr<ParsedBatch> Parse(std::string_view body, int64_t first_line) override {
    return ParseLines(body, first_line, false);
  }

  IngestResult RecordBuiltinNdjson(std::string_view body) override {
    return Submit(ParseLines(body, 1, true), {});
  }

  // `builtin`: the decision pipeline's own events, decision events included.
  std::unique_ptr<ParsedBatch> ParseLines(std::string_view body, int64_t first_line, bool builtin) {
    auto batch = std::make_unique<Batch>();
    EventParser parser(ws_.schema);
    const TimestampMs limit = clock_->Now() + ws_.config.ingest.max_future_ms;
    int64_t line = first_line;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      std::string_view text = body.substr(pos, end - pos);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (!IsBlank(text)) {
        Item item;
        Status s = ParseOne(parser, text, limit, &item.event, builtin);
        if (s.ok()) {
          item.raw = text;
          item.line = line;
          batch->items.push_back(std::move(item));
        } else {
          batch->rejected.push_back({line, s.code(), s.message(), s.field()});
          rejected_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      pos = end + 1;
      ++line;
    }
    return batch;
  }

  IngestResult Submit(std::unique_ptr<ParsedBatch> parsed, const std::function<void()>& enqueued) override {
    auto& batch = static_cast<Batch&>(*parsed);
    IngestResult result;
    result.rejected = std::move(batch.rejected);
    SubmitItems(batch.items, &result, enqueued);
    std::sort(result.rejected.begin(), result.rejected.end(),
              [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
    return result;
  }

  Result<IngestResult> IngestJson(std::string_view json) override { return IngestOne(json, false); }
  Result<IngestResult> RecordBuiltin(std::string_view json) override { return IngestOne(json, true); }

  Status EraseSubscriber(std::string_view subscriber_id) override {
    Profile probe;
    KAIROS_RETURN_IF_ERROR(ReadProfile(subscriber_id, &probe, nullptr));
    const TimestampMs now = clock_->Now();
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("event_id");
    // Unique per erasure; the dedupe memory it would be checked against is erased with it.
    const std::string id = "erasure-" + std::to_string(now) + "-" +
                           std::to_string(erasures_.fetch_add(1, std::memory_order_relaxed));
    w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.Key("subscriber_id");
    w.String(subscriber_id.data(), static_cast<rapidjson::SizeType>(subscriber_id.size()));
    w.Key("type");
    w.String("erasure");
    w.Key("ts");
    w.Int64(now);
    w.EndObject();
    Result<IngestResult> r = IngestOne(std::string_view(sb.GetString(), sb.GetSize()), true);
    return r.ok() ? Status::Ok() : r.status();
  }

  Result<IngestResult> IngestOne(std::string_view json, bool builtin) {
    EventParser& parser = ThreadParser();
    std::vector<Item> items(1);
    Status s = ParseOne(parser, json, clock_->Now() + ws_.config.ingest.max_future_ms, &items[0].event, builtin);
    if (!s.ok()) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    items[0].raw = json;
    items[0].line = 1;
    IngestResult result;
    SubmitItems(items, &result, {});
    if (!result.rejected.empty()) {
      const Rejection& r = result.rejected.front();
      return Status(r.code, r.error, r.field);
    }
    return result;
  }

  Result<std::string> ProfileJson(std::string_view subscriber_id, TimestampMs now) override {
    Profile p;
    KAIROS_RETURN_IF_ERROR(ReadProfile(subscriber_id, &p, nullptr));
    return ProfileToJson(*ws_.schema, subscriber_id, p, now);
  }

  Status ReadProfile(std::string_view subscriber_id, Profile* out, std::string* bytes) override {
    // Per-thread scratch when the caller does not want the bytes (a decide reads one profile
    // per request).
    thread_local std::string scratch;
    std::string& buffer = bytes ? *bytes : scratch;
    Status s = PartitionOf(subscriber_id).GetProfile(subscriber_id, &buffer);
    if (s.code() == ErrorCode::kNotFound) {
      return NotFound("unknown subscriber \"" + std::string(subscriber_id.substr(0, 64)) + "\"");
    }
    KAIROS_RETURN_IF_ERROR(s);
    return DecodeProfile(*ws_.schema, buffer, out);
  }

  Result<StoredDecision> FindDecision(std::string_view decision_id) override {
    std::string value;
    for (auto& p : partitions_) {
      Status s = p->GetDecision(decision_id, &value);
      if (s.code() == ErrorCode::kNotFound) continue;
      KAIROS_RETURN_IF_ERROR(s);
      return ToStoredDecision(decision_id, value);
    }
    return NotFound("unknown decision \"" + std::string(decision_id.substr(0, 64)) + "\"");
  }

  Status ForEachDecision(std::string_view from_id,
                         const std::function<bool(const StoredDecision&)>& fn) override {
    bool go_on = true;
    Status bad;
    for (auto& p : partitions_) {
      KAIROS_RETURN_IF_ERROR(p->ForEachDecision(from_id, [&](std::string_view k, std::string_view v) {
        auto d = ToStoredDecision(k, v);
        if (!d.ok()) {
          bad = d.status();
          return go_on = false;
        }
        return go_on = fn(*d);
      }));
      KAIROS_RETURN_IF_ERROR(bad);
      if (!go_on) break;
    }
    return Status::Ok();
  }

  int partitions() const override { return static_cast<int>(partitions_.size()); }
  void SetObserver(std::shared_ptr<const AppliedEventObserver> observer) override {
    observer_.store(std::move(observer));
    // Waits for calls into the replaced observer to finish.
    std::unique_lock<std::shared_mutex> lock(observer_mu_);
  }

  Status ForEachProfile(
      int partition,
      const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (partition < 0 || partition >= partitions()) {
      return InvalidArgument("no partition " + std::to_string(partition));
    }
    return partitions_[static_cast<size_t>(partition)]->ForEachProfile(fn);
  }

  Status ForEachProfileFrom(int partition, std::string_view from,
                            const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (partition < 0 || partition >= partitions()) {
      return InvalidArgument("no partition " + std::to_string(partition));
    }
    return partitions_[static_cast<size_t>(partition)]->ForEachProfile(fn, from);
  }

  Status Checkpoint() override {
    Status first;
    for (auto& p : partitions_) {
      Status s = p->Checkpoint();
      if (first.ok()) first = s;
    }
    return first;
  }

  EngineStats Stats() const override {
    EngineStats total;
    for (const auto& p : partitions_) {
      const EngineStats s = p->Stats();
      total.events_accepted += s.events_accepted;
      total.events_duplicate += s.events_duplicate;
      total.events_rejected += s.events_rejected;
      total.commits += s.commits;
      total.wal_bytes += s.wal_bytes;
      total.recovered_events += s.recovered_events;
      total.recovery_ms = std::max(total.recovery_ms, s.recovery_ms);
      total.subscribers += s.subscribers;
      total.checkpoints += s.checkpoints;
    }
    total.events_rejected += rejected_.load(std::memory_order_relaxed);
    return total;
  }

  const Workspace& workspace() const override { return ws_; }

 private:
  static bool IsBlank(std::string_view s) {
    for (char c : s) {
      if (c != ' ' && c != '\t') return false;
    }
    return true;
  }

  Status ParseOne(EventParser& parser, std::string_view text, TimestampMs limit, Event* e,
                  bool builtin = false) {
    KAIROS_RETURN_IF_ERROR(parser.Parse(text, e));
    if (!builtin && e->type == ws_.schema->builtin().decision) {
      return InvalidArgument("/type: decision events are written by Kairos itself (POST /v1/decide)", "/type");
    }
    if (!builtin && e->type == ws_.schema->builtin().scores) {
      return InvalidArgument("/type: scores events are written by Kairos itself (kairos segment)", "/type");
    }
    if (!builtin && e->type == ws_.schema->builtin().erasure) {
      return InvalidArgument("/type: erasure events are written by Kairos itself (DELETE /v1/subscribers/{id})",
                             "/type");
    }
    if (e->ts > limit) {
      return Status(ErrorCode::kOutOfRange,
                    "/ts: " + FormatRfc3339(e->ts) + " is more than " +
                        std::to_string(ws_.config.ingest.max_future_ms / 1000) +
                        " s ahead of the server clock (ingest.max_future)",
                    "/ts");
    }
    return Status::Ok();
  }

  static Result<StoredDecision> ToStoredDecision(std::string_view key, std::string_view value) {
    Reader r(value);
    uint64_t n1, n2, n3;
    std::string_view sub, channel, actions;
    if (!r.Varint(&n1) || !r.Bytes(n1, &sub) || !r.Varint(&n2) || !r.Bytes(n2, &channel) ||
        !r.Varint(&n3) || !r.Bytes(n3, &actions)) {
      return Corruption("decision log entry " + std::string(key) + " is damaged");
    }
    StoredDecision d;
    d.decision_id.assign(key);
    d.subscriber_id.assign(sub);
    d.channel.assign(channel);
    d.actions.assign(actions);
    d.record.assign(value.substr(value.size() - r.remaining()));
    return d;
  }

  // A parser per thread for single events (each decision and response is one): simdjson's
  // buffers are allocated once, not per event. It holds the schema, so a parser made for
  // another engine's schema is never mistaken for this one's.
  EventParser& ThreadParser() {
    thread_local std::unique_ptr<EventParser> parser;
    if (!parser || &parser->schema() != ws_.schema.get()) parser = std::make_unique<EventParser>(ws_.schema);
    return *parser;
  }

  Partition& PartitionOf(std::string_view subscriber_id) const {
    return *partitions_[StableHash64(subscriber_id) % partitions_.size()];
  }

  // The number of partitions is part of the store: records of a subscriber live in exactly one
  // partition, so a store made with N partitions must be opened with N.
  Status CheckPartitionCount(const std::string& dir) {
    const fs::path file = fs::path(dir) / "PARTITIONS";
    const int want = ws_.config.store.partitions;
    std::error_code ec;
    if (fs::exists(file, ec)) {
      std::ifstream in(file);
      int have = 0;
      if (!(in >> have) || have < 1) return Corruption(file.string() + ": not a partition count");
      if (have != want) {
        return InvalidArgument("the store in " + dir + " has " + std::to_string(have) +
                               " partitions but kairos.yaml asks for " + std::to_string(want) +
                               " (store.partitions); the count cannot change for an existing store");
      }
      return Status::Ok();
    }
    // A new store: its folder holds nothing but the lock yet. Anything else is a store this
    // version does not know how to read; refusing beats silently starting empty beside it.
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename() != "LOCK") {
        return InvalidArgument("the store in " + dir + " has no PARTITIONS file but is not empty (" +
                               entry.path().filename().string() + "); it was not made by this version");
      }
    }
    std::ofstream out(file);
    out << want << "\n";
    out.close();
    if (!out) return IoError("cannot write " + file.string());
    return Status::Ok();
  }

  // Hands the items to their partitions, waits for every commit and merges the outcomes. Items
  // of a partition whose commit failed are reported as rejected with that error.
  void SubmitItems(std::vector<Item>& items, IngestResult* result, const std::function<void()>& enqueued) {
    if (items.empty()) {
      if (enqueued) enqueued();
      return;
    }
    const size_t n = partitions_.size();
    std::vector<std::vector<Item>> parts(n);
    if (n == 1) {
      parts[0] = std::move(items);
    } else {
      for (Item& it : items) parts[StableHash64(it.event.subscriber_id) % n].push_back(std::move(it));
    }
    std::vector<IngestResult> results(n);
    std::vector<Request> requests(n);
    std::vector<bool> queued(n, false);
    for (size_t i = 0; i < n; ++i) {
      if (parts[i].empty()) continue;
      requests[i].items = &parts[i];
      requests[i].result = &results[i];
      queued[i] = partitions_[i]->Enqueue(&requests[i]);
      if (!queued[i]) requests[i].status = Status(ErrorCode::kUnavailable, "shutting down");
    }
    if (enqueued) enqueued();
    for (size_t i = 0; i < n; ++i) {
      if (parts[i].empty()) continue;
      if (queued[i]) partitions_[i]->Wait(&requests[i]);
      if (!requests[i].status.ok()) {
        const Status& s = requests[i].status;
        for (const Item& it : parts[i]) result->rejected.push_back({it.line, s.code(), s.message(), ""});
        continue;
      }
      result->accepted += results[i].accepted;
      result->duplicates += results[i].duplicates;
      for (auto& r : results[i].rejected) result->rejected.push_back(std::move(r));
    }
  }

  Workspace ws_;
  int lock_fd_ = -1;
  const Clock* clock_;
  EngineOptions options_;
  // Before partitions_: the partitions' writers read it until they stop.
  std::atomic<std::shared_ptr<const AppliedEventObserver>> observer_;
  std::shared_mutex observer_mu_;  // held (shared) by writers while they call the observer
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::atomic<int64_t> rejected_{0};  // refused by parsing or validation
  std::atomic<int64_t> erasures_{0};
};

}  // namespace

std::string DecisionIdPrefix(TimestampMs t) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "d%011llx", static_cast<unsigned long long>(std::max<TimestampMs>(t, 0)));
  return buf;
}

Result<std::unique_ptr<Engine>> Engine::Open(const Workspace& ws, const Clock* clock, EngineOptions options) {
  auto engine = std::make_unique<EngineImpl>(ws, clock, options);
  KAIROS_RETURN_IF_ERROR(engine->Open());
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace kairos
