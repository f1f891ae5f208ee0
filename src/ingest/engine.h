// Engine: the ingestion and profile-serving core of one Kairos node.
//
// Flow of a write: parse + validate (caller's thread) → the single writer thread groups
// concurrent requests → per event: dedupe on event_id, apply to the profile → append the
// accepted events to the WAL and fsync (group commit) → commit the LMDB transaction → wake the
// callers. A call returns only when its accepted events are durable and visible to reads.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "profile/profile.h"
#include "schema/workspace.h"

namespace kairos {

struct Rejection {
  int64_t line = 0;         // 1-based line of the NDJSON body or file
  ErrorCode code = ErrorCode::kInvalidArgument;
  std::string error;        // "/amount: expected a number, got string"
  std::string field;        // JSON pointer of the offending member, when there is one
};

struct IngestResult {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  std::vector<Rejection> rejected;
};

// Counters for /metrics; monotonic since the process started.
struct EngineStats {
  int64_t events_accepted = 0;
  int64_t events_duplicate = 0;
  int64_t events_rejected = 0;
  int64_t commits = 0;           // WAL group commits
  int64_t wal_bytes = 0;         // bytes appended to the WAL
  int64_t recovered_events = 0;  // events replayed from the WAL at start-up
  int64_t recovery_ms = 0;
  int64_t subscribers = 0;       // profiles in the store
  int64_t checkpoints = 0;
};

// Events of one NDJSON body, parsed and validated, ready for Engine::Submit. Refers into the
// body it was parsed from, which must outlive it.
class ParsedBatch {
 public:
  virtual ~ParsedBatch() = default;
};

// The decision log: what a decide offered and why, written with the decision's impressions (the
// built-in `decision` event) in the same transaction.
struct StoredDecision {
  std::string decision_id;
  std::string subscriber_id;
  std::string channel;
  std::string actions;  // the actions shown, "ACTION:GROUP:ISSUE,..." (the decision event's)
  std::string record;   // the decision record (JSON) as the decision pipeline wrote it
};

// Decision ids begin with this prefix of their time ("d" and 11 hex digits of epoch ms), so that
// the log's key order is time order and retention is a range delete.
std::string DecisionIdPrefix(TimestampMs t);

// Who hears about applied events (triggers): the event types it wants (indexed like the
// schema's event types) and the function each newly applied event of those types is passed to,
// on the partition's writer thread right after the commit that made it durable. The function
// must not block (queue and return): ingestion waits for it. Events replayed at recovery and
// duplicates are not passed.
struct AppliedEventObserver {
  std::vector<bool> watched;
  std::function<void(const Event&)> on_applied;
};

struct EngineOptions {
  // Overrides of the workspace config for tools and tests (0 = use config).
  int64_t group_commit_max_events = 0;
};

class Engine {
 public:
  // Opens (or creates) the store of `ws` and recovers: replays the WAL past the last
  // checkpoint. Errors: kIoError (files), kCorruption (a damaged WAL record that is not the
  // torn tail of the last segment), kInvalidArgument (a store made with an incompatible schema).
  // `clock` must outlive the engine.
  static Result<std::unique_ptr<Engine>> Open(const Workspace& ws, const Clock* clock,
                                              EngineOptions options = {});
  virtual ~Engine() = default;

  // Ingests NDJSON: one event per line; empty lines are skipped. Invalid lines are reported
  // with their line number (`first_line` is the number of the first line of `body`) and not
  // applied; valid lines are applied. Blocks until the accepted events are durable.
  virtual IngestResult IngestNdjson(std::string_view body, int64_t first_line = 1) = 0;

  // IngestNdjson in two steps, so that a loader can parse chunks in parallel yet hand them over
  // in file order: Parse is thread-safe and independent; Submit queues the batch with every
  // partition, calls `enqueued` (may be empty) once it is queued, then waits until it is durable.
  // Batches submitted in order are applied in order.
  virtual std::unique_ptr<ParsedBatch> Parse(std::string_view body, int64_t first_line) = 0;
  virtual IngestResult Submit(std::unique_ptr<ParsedBatch> batch,
                              const std::function<void()>& enqueued) = 0;

  // Ingests a single JSON object. An invalid event is returned as an error (nothing applied);
  // a duplicate is ok with duplicates == 1. Built-in `decision` events are refused here and in
  // IngestNdjson/Parse (only the decision pipeline writes them, through RecordDecision);
  // `response` events are accepted (a channel system may report outcomes in bulk).
  virtual Result<IngestResult> IngestJson(std::string_view json) = 0;

  // IngestJson and IngestNdjson for the decision pipeline's own built-in events (decision,
  // response): tools that replay or seed decision history use the NDJSON form.
  virtual Result<IngestResult> RecordBuiltin(std::string_view json) = 0;

  // Erases a subscriber's profile — attributes, aggregates, forecasts, scores, interaction
  // history, dedupe memory — through the WAL, so that recovery after a crash erases again after
  // replaying what came before. kNotFound when there is no profile. Events that arrive later
  // start a new profile. (The decision log keeps its entries until retention removes them.)
  virtual Status EraseSubscriber(std::string_view subscriber_id) = 0;
  virtual IngestResult RecordBuiltinNdjson(std::string_view body) = 0;

  // The profile of one subscriber as JSON: attributes, events_applied, aggregates evaluated
  // at `now` and forecasts. kNotFound for an unknown subscriber.
  virtual Result<std::string> ProfileJson(std::string_view subscriber_id, TimestampMs now) = 0;

  // Decodes the stored profile of one subscriber into `out`. kNotFound for an unknown one. When
  // `bytes` is given it receives the encoded profile as stored (a snapshot without re-encoding).
  virtual Status ReadProfile(std::string_view subscriber_id, Profile* out,
                             std::string* bytes = nullptr) = 0;

  // The logged decision `decision_id`; kNotFound when unknown or past the log's retention.
  virtual Result<StoredDecision> FindDecision(std::string_view decision_id) = 0;
  // Visits logged decisions with ids ≥ `from_id`, partition by partition (each in time order),
  // until fn returns false.
  virtual Status ForEachDecision(std::string_view from_id,
                                 const std::function<bool(const StoredDecision&)>& fn) = 0;

  // Number of partitions (fixed for a store).
  virtual int partitions() const = 0;
  // Visits every stored profile of one partition — a consistent snapshot of it, concurrent
  // writes go on — until fn returns false. `bytes` is the encoded profile (DecodeProfile) and
  // lives only for the call. Partitions may be scanned in parallel, one thread each.
  virtual Status ForEachProfile(
      int partition,
      const std::function<bool(std::string_view subscriber_id, std::string_view bytes)>& fn) = 0;
  // The same from the first subscriber id ≥ `from` (a range scan: what stops early costs only
  // what it visited; the console's search by id prefix).
  virtual Status ForEachProfileFrom(
      int partition, std::string_view from,
      const std::function<bool(std::string_view subscriber_id, std::string_view bytes)>& fn) = 0;
  // Replaces the observer of applied events (null: none). Returns once no call into the replaced
  // observer is running; none starts after (its owner may then go away).
  virtual void SetObserver(std::shared_ptr<const AppliedEventObserver> observer) = 0;

  // Forces a checkpoint: LMDB synced, WAL segments before it removed.
  virtual Status Checkpoint() = 0;

  virtual EngineStats Stats() const = 0;
  virtual const Workspace& workspace() const = 0;
};

}  // namespace kairos
