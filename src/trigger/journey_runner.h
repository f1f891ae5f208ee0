// JourneyRunner: runs the steps of journeys (contact chains) when their durable timers come due.
//
// A step of instance I (subscriber S in journey J) at step k, due at T:
//   (b) its decision id is fixed: DecisionIdPrefix(T) "-j" 8 hex digits of
//       StableHash64(key(I) "/" started "/" k). When the decision log has it, the step was decided
//       before a crash: skip to (c) — a decided step is always delivered and recorded.
//   (a) otherwise, on S's fresh profile, in this order: a response with a stop_on outcome to one
//       of I's decisions ends I ("responded"); exit_when true ends it ("exit_condition"); all
//       steps done ends it ("completed"); started + max_duration passed ends it ("expired"); an
//       unknown subscriber ends it ("gone"); then DecisionService::Decide on the step's channel,
//       limited to J's actions, with the fixed id and origin {"journey","step","steps","origin"}
//       (kAlreadyExists also means "decided").
//   (c) deliver(id) when the decision showed actions (DeliverFn is idempotent per id);
//   (d) one synced store transaction moves I to step k+1 due after the step's wait (or ends it,
//       "completed", after the last step when it has no wait; else the last wait gives the
//       customer time to respond before "completed").
// A crash anywhere re-runs the step from (b) with the same id: no second decision (the log is
// checked first, and Decide refuses a logged id), the same id delivered again (idempotent). A
// decision without actions (caps, quiet hours, control group) still counts as the step.
// Errors (store, engine, delivery) retry the step with backoff, then end the instance "failed".
//
// Steps run on a background thread (Start) or in the caller of RunDue (tests, manual clocks),
// never both at once (RunDue is serialised); a batch of due steps runs on `threads` threads, so
// that their decisions share the engine's group commits, and moves in one store transaction.
// The runner holds no lock of the DecisionService and never runs on an ingest thread.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "decide/decision.h"
#include "profile/profile.h"
#include "trigger/journey_config.h"
#include "trigger/journey_store.h"

namespace kairos {

class Engine;
class DecisionService;

// Enqueues a logged decision's shown actions for delivery. Must be idempotent per decision id:
// a step re-run after a crash delivers the same id again.
using DeliverFn = std::function<Status(std::string_view decision_id)>;

// What the runner needs of the rest of Kairos. Open(dir, engine, decisions, ...) fills it from an
// Engine and a DecisionService; benchmarks substitute stand-ins.
struct JourneyBackend {
  // The subscriber's profile into `out`; kNotFound when unknown.
  std::function<Status(std::string_view subscriber_id, Profile* out)> read_profile;
  // Whether the logged decision showed actions; kNotFound when it is not logged.
  std::function<Result<bool>(std::string_view decision_id)> find_decision;
  // Decides and records (kAlreadyExists: request.decision_id is logged already; kNotFound:
  // unknown subscriber); returns whether actions were shown.
  std::function<Result<bool>(const DecideRequest& request, const Decisioning& d)> decide;
  DeliverFn deliver;
};

// Where a step is when the test hook is called.
enum class JourneyStepPoint : uint8_t {
  kDecided,    // after (b): the decision is logged, not yet delivered
  kDelivered,  // after (c): delivered, the store not yet moved on
};

struct JourneyRunnerOptions {
  int threads = 4;            // steps of one batch run in parallel (each waits on a group commit)
  // Due steps per store transaction: larger batches share page writes and syncs (the store's cost
  // is about one random page write per step), smaller ones keep less in flight.
  size_t batch = 4096;
  size_t max_batch = 8192;    // while behind (full batches), the batch doubles up to this
  int64_t max_batch_ms = 500; // a batch whose steps take longer is committed with those done
  int64_t retry_ms = 60000;   // first retry after a failed step; doubles, at most 1 h
  int max_attempts = 8;       // then the instance ends "failed"
  JourneyStore::Options store;
  // Tests: called at each JourneyStepPoint (e.g. to _exit the process there).
  std::function<void(JourneyStepPoint, const JourneyInstance&, std::string_view decision_id)> step_hook;
};

struct JourneyStats {
  int64_t entered = 0;
  int64_t entry_refused = 0;    // the entry condition did not hold
  int64_t already_active = 0;   // Enter while the subscriber was in that journey
  int64_t steps = 0;            // steps executed (decided, delivered and recorded)
  int64_t retries = 0;          // failed step attempts (retried later)
  int64_t exits_responded = 0, exits_condition = 0, exits_completed = 0, exits_expired = 0;
  int64_t exits_other = 0;      // gone (subscriber unknown), removed (journey no longer configured), failed
  int64_t active = 0;           // instances in the store
  // Firing lag: when a due instance ran minus its due time (clock ms), over every firing.
  double last_lag_ms = 0, lag_p50_ms = 0, lag_p99_ms = 0, lag_max_ms = 0;
  int64_t firings = 0;
  std::string last_error;       // the last step error (retried), empty when none
};

class JourneyRunner {
 public:
  // Opens (or creates) the journey store in `dir` (e.g. <store>/journeys). `engine`, `decisions`
  // and `clock` must outlive the runner. Errors: those of JourneyStore::Open.
  static Result<std::unique_ptr<JourneyRunner>> Open(const std::string& dir, Engine* engine,
                                                     DecisionService* decisions, const Clock* clock,
                                                     DeliverFn deliver, JourneyRunnerOptions options = {});
  // The same on a custom backend (benchmarks).
  static Result<std::unique_ptr<JourneyRunner>> Open(const std::string& dir, const Clock* clock,
                                                     JourneyBackend backend, JourneyRunnerOptions options = {});
  ~JourneyRunner();  // stops the background thread
  JourneyRunner(const JourneyRunner&) = delete;
  JourneyRunner& operator=(const JourneyRunner&) = delete;

  // The journeys in force and the Decisioning they were compiled against (decisions of their
  // steps use it). Swapped atomically; a step in flight finishes with the set it started with.
  // An instance of a journey that is no longer in the set ends "removed" when it comes due.
  // Until the first call, RunDue runs nothing (so that a start-up does not end every instance).
  void SetJourneys(std::shared_ptr<const Decisioning> d, std::vector<JourneyDef> journeys);

  // Enters the subscriber into the journey (a trigger fired; `origin` is its name). Checks the
  // journey's entry condition on the profile. True: entered, durable, the first step due now (it
  // runs on the background thread at once, or at the next RunDue). False: the entry condition
  // does not hold, or the subscriber is already in that journey. Errors: kNotFound (unknown
  // journey; unknown subscriber when there is an entry condition), kFailedPrecondition (no
  // journeys set yet), kInvalidArgument (empty id or one with NUL), store errors.
  Result<bool> Enter(std::string_view subscriber_id, std::string_view journey, std::string_view origin);

  // Runs every step due at clock->Now(), at most `limit`; returns how many instances came due
  // (steps run, instances ended or retried). Errors: the store's (the steps already decided
  // are re-run — without a new decision — next time).
  Result<int> RunDue(size_t limit = 10000);

  // A background thread: RunDue, then waits until the next due time, at most 100 ms of real
  // time (so a manual clock moved by a test is noticed), or until Enter wakes it.
  void Start();
  void Stop();

  // {"subscriber_id":..,"journeys":[{"journey","step","steps","next_at","next_channel",
  //  "started_at","origin","decisions":[..]}]}: `step` = steps done so far, `next_channel` the
  // channel of the next step (null when only the last step's wait is left), `next_at` when the
  // instance runs next (RFC 3339). No journeys: "journeys":[]. (GET /v1/journeys/{id})
  std::string SubscriberJson(std::string_view subscriber_id) const;

  JourneyStats Stats() const;
  const JourneyStore& store() const { return *store_; }
  JourneyStore& store() { return *store_; }

  // The decision id of step `step` (0-based) of the instance, when it comes due at `due`.
  static std::string StepDecisionId(const JourneyInstance& instance, int step, TimestampMs due);

 private:
  struct JourneySet {
    std::shared_ptr<const Decisioning> d;
    std::vector<JourneyDef> journeys;
    const JourneyDef* Find(std::string_view name) const;
  };
  enum class Exit : uint8_t { kNone, kResponded, kCondition, kCompleted, kExpired, kGone, kRemoved, kFailed };
  struct StepResult {
    JourneyUpdate update;
    Exit exit = Exit::kNone;
    bool stepped = false;  // a step was executed (kAdvance, or the last step's kFinish)
    bool retried = false;
    double lag_ms = 0;
  };

  JourneyRunner(std::unique_ptr<JourneyStore> store, const Clock* clock, JourneyBackend backend,
                JourneyRunnerOptions options);
  StepResult RunStep(const JourneySet& set, const JourneyInstance& x);
  void Retry(const JourneyInstance& x, TimestampMs now, const Status& error, StepResult* r);
  void RecordLag(double lag_ms);
  void Loop();

  std::unique_ptr<JourneyStore> store_;
  const Clock* clock_;
  JourneyBackend backend_;
  JourneyRunnerOptions options_;
  std::atomic<std::shared_ptr<const JourneySet>> set_;
  std::mutex run_mu_;  // one RunDue at a time

  std::thread thread_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool stop_ = false;
  bool woken_ = false;

  struct AtomicStats {
    std::atomic<int64_t> entered{0}, entry_refused{0}, already_active{0}, steps{0}, retries{0},
        exits_responded{0}, exits_condition{0}, exits_completed{0}, exits_expired{0}, exits_other{0},
        firings{0};
    std::atomic<double> last_lag_ms{0}, max_lag_ms{0};
  };
  AtomicStats stats_;
  // Firing lag: 1 ms buckets below 1 s, 100 ms buckets to 61 s, then one overflow bucket.
  static constexpr size_t kLagBuckets = 1000 + 600 + 1;
  std::array<std::atomic<int64_t>, kLagBuckets> lag_{};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace kairos
