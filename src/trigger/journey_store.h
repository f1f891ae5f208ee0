// JourneyStore: the durable state of running journeys — one instance per (subscriber, journey)
// and its timer — in an LMDB environment of its own (e.g. <store>/journeys).
//
// Two databases:
//   instances: subscriber_id '\0' journey → the instance's state (JourneyInstance, encoded)
//   timers:    big-endian due_ms, subscriber_id '\0' journey → empty
// Every change of an instance moves its state and its timer in the same write transaction, so
// that a crash leaves both before or both after the change. Commits are synced (LMDB's default
// full sync): a change is durable when the call returns. Finished instances are deleted; what
// they did stays in the subscribers' interaction histories (their decisions).
//
// Memory: LMDB maps the file; nothing per instance is kept in the process, so the heap does not
// grow with the number of instances (the page cache holds the touched pages).
//
// Thread-safety: every method may be called from any thread; writes are serialised by LMDB.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace kairos {

struct JourneyInstance {
  std::string subscriber_id;
  std::string journey;
  int step = 0;                 // 0-based index of the next step; == steps: the last step's wait
  TimestampMs due_ms = 0;       // when the instance runs next (its timer)
  TimestampMs step_ms = 0;      // when the next step first came due: its decision id's time (a
                                // retry after an error moves due_ms, not step_ms)
  TimestampMs started_ms = 0;   // when the subscriber entered
  int attempts = 0;             // failed attempts at the next step
  std::string origin;           // what entered the subscriber (the trigger's name)
  std::vector<std::string> decisions;  // the decision ids of the steps done, in order

  // subscriber_id '\0' journey.
  std::string Key() const;
  static std::string Key(std::string_view subscriber_id, std::string_view journey);
};

// One change of an instance, applied with others in one transaction (JourneyStore::Apply).
struct JourneyUpdate {
  enum class Kind : uint8_t {
    kAdvance,  // the step ran: step + 1, new due (= step_ms), decision id appended, attempts 0
    kRetry,    // the step failed: same step and step_ms, new due_ms, attempts + 1
    kFinish,   // the journey ended: instance and timer deleted
  };
  Kind kind = Kind::kFinish;
  std::string key;                // JourneyInstance::Key()
  // The state the change was computed from: a stored instance that moved on meanwhile (another
  // step, another entry) is left alone and the change is counted as stale.
  int expect_step = 0;
  TimestampMs expect_started_ms = 0;
  TimestampMs due_ms = 0;         // kAdvance, kRetry
  std::string decision_id;        // kAdvance
};

class JourneyStore {
 public:
  struct Options {
    // The map is sparse: only used pages take disk and memory. 8 GiB ≈ 40M instances.
    int64_t map_size_bytes = int64_t{8} << 30;
    // false: commits reach the OS only (survive a killed process, not a power loss). Benchmarks.
    bool sync = true;
  };

  // Opens or creates the store in `dir` (created if missing). Errors: kIoError, kCorruption.
  static Result<std::unique_ptr<JourneyStore>> Open(const std::string& dir, Options options);
  static Result<std::unique_ptr<JourneyStore>> Open(const std::string& dir) { return Open(dir, Options()); }
  ~JourneyStore();
  JourneyStore(const JourneyStore&) = delete;
  JourneyStore& operator=(const JourneyStore&) = delete;

  // Adds the instance with its timer. False (nothing written) when the subscriber is already in
  // that journey. Errors: kInvalidArgument (a subscriber id or journey name with '\0', or
  // empty), kTooLarge (map full), kIoError.
  Result<bool> Enter(const JourneyInstance& instance);
  // Enter for many instances in one transaction (bulk loads, benchmarks); returns how many were
  // added (the others were already there).
  Result<int64_t> EnterMany(std::span<const JourneyInstance> instances);

  // Appends to `out` at most `limit` instances whose due_ms ≤ now, in due order.
  Status Due(TimestampMs now, size_t limit, std::vector<JourneyInstance>* out) const;
  // The earliest due_ms, or INT64_MAX when no instance is active.
  Result<TimestampMs> NextDue() const;

  // Applies the changes in one synced transaction; returns how many were stale (the instance
  // was gone or had moved on; those are skipped). kAdvance / kRetry / kFinish as above.
  Result<int64_t> Apply(std::span<const JourneyUpdate> updates);
  // One-change forms of Apply. kFailedPrecondition when stale.
  Status Advance(const JourneyInstance& instance, TimestampMs next_due, std::string_view decision_id);
  Status Finish(const JourneyInstance& instance);

  // The instance of (subscriber, journey), or nullopt.
  Result<std::optional<JourneyInstance>> Get(std::string_view subscriber_id, std::string_view journey) const;
  // The active instances of one subscriber, by journey name.
  Result<std::vector<JourneyInstance>> ForSubscriber(std::string_view subscriber_id) const;
  // Active instances (O(1): LMDB's entry count).
  int64_t Count() const;
  // Bytes of the data file in use (pages × page size).
  int64_t UsedBytes() const;
  // Pages (branch + leaf + overflow) of each database, and the page size.
  struct Space {
    int64_t instance_pages = 0, timer_pages = 0, page_size = 0;
  };
  Space SpaceUsed() const;

  // The state encoding (exposed for tests).
  static std::string Encode(const JourneyInstance& instance);
  static Status Decode(std::string_view key, std::string_view value, JourneyInstance* out);

 private:
  JourneyStore() = default;
  MDB_env* env_ = nullptr;
  MDB_dbi instances_ = 0;
  MDB_dbi timers_ = 0;
};

}  // namespace kairos
