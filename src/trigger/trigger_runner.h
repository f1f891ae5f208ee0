// TriggerRunner: acts the moment an event makes an action relevant.
//
// The engine hands every newly applied event of a watched type to OnApplied (on its writer
// thread, after the commit); the runner queues it and returns at once, so a slow decision or
// channel never blocks ingestion. Worker threads then, per trigger of the event's type: match
// the event's fields (`where`), skip a subscriber fired within `debounce`, read the profile
// after the event and evaluate `when`; a firing either decides on the trigger's channel —
// within the trigger's actions, the sized package when it has `size` — records the decision
// (impressions, decision log, origin) and hands the chosen actions to the channel's outbound
// adapter, or enters the subscriber into a journey.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "channel/dispatcher.h"
#include "decide/decision_service.h"
#include "decide/feature_cache.h"
#include "ingest/engine.h"
#include "trigger/journey_runner.h"
#include "trigger/trigger_config.h"

namespace kairos {

struct TriggerCounts {
  int64_t fired = 0;        // condition held: a decision or a journey entry followed
  int64_t debounced = 0;    // matched, but fired for this subscriber within `debounce`
  int64_t not_met = 0;      // `when` did not hold
  int64_t offers = 0;       // decisions that chose at least one action
  int64_t no_action = 0;    // decisions without one (caps, quiet hours, nothing relevant)
  int64_t journeys = 0;     // journey entries
  int64_t errors = 0;       // decide, record or delivery failures (logged, counted)
};

struct TriggerStats {
  int64_t queued = 0;        // events waiting for a worker
  int64_t dropped = 0;       // events not evaluated because the queue was full (overload)
  int64_t deliveries = 0;    // actions handed to an outbound adapter
  int64_t undelivered = 0;   // chosen on a channel without an outbound adapter
  std::vector<std::pair<std::string, TriggerCounts>> by_trigger;
  // Event applied → decision recorded and handed to the channel, over the last 65,536 firings.
  double latency_p50_ms = 0, latency_p99_ms = 0;
};

class TriggerRunner {
 public:
  struct Options {
    int threads = 32;             // decisions wait for the group commit: many in flight share it
    size_t max_queue = 100000;    // events; beyond: dropped and counted (ingestion never waits)
  };

  // `dispatcher` and `journeys` may be null (no outbound delivery / no journeys). All pointers
  // must outlive the runner.
  TriggerRunner(Engine* engine, DecisionService* decisions, channel::Dispatcher* dispatcher,
                JourneyRunner* journeys, const Clock* clock, Options options);
  ~TriggerRunner();

  // Puts a trigger set in force: the engine's observer, the dispatcher's adapters and the
  // journeys follow it. Errors: the dispatcher refused the outbound adapters (nothing changed).
  Status SetTriggers(std::shared_ptr<const TriggerSet> set);
  std::shared_ptr<const TriggerSet> triggers() const {
    const auto a = active_.load();
    return a ? a->set : nullptr;
  }

  void Start();
  void Stop();  // stops the workers; queued events are dropped (and counted)

  // Evaluates one applied event now, on the caller's thread (tests, `kairos` tools).
  void Process(const Event& e);
  // Waits until every queued event has been evaluated (tests, benchmarks, shutdown).
  void Drain();

  // Enqueues the shown actions of a logged decision for delivery (idempotent: the delivery id
  // is "<decision_id>/<action_id>"). Journeys deliver their steps through this.
  Status Deliver(std::string_view decision_id);

  // GET /v1/triggers: every trigger with its definition and counts.
  std::string TriggersJson() const;
  TriggerStats Stats() const;

 private:
  struct Queued {
    Event event;
    std::chrono::steady_clock::time_point applied;
  };
  struct Counters {
    std::atomic<int64_t> fired{0}, debounced{0}, not_met{0}, offers{0}, no_action{0}, journeys{0}, errors{0};
  };

  void OnApplied(const Event& e);
  void WorkerLoop();
  // The set in force and each of its triggers' counters (owned by counters_, which keeps them
  // by name across reloads), swapped together so that the hot path needs no lookup or lock.
  struct Active {
    std::shared_ptr<const TriggerSet> set;
    std::vector<Counters*> counters;  // indexed like set->triggers
  };
  void Evaluate(const Active& active, const Event& e, std::chrono::steady_clock::time_point applied);
  void Fire(const TriggerSet& set, int index, Counters& c, const Event& e, FeatureCache& cache,
            std::chrono::steady_clock::time_point applied);
  // True (and remembered) when the trigger may fire for the subscriber now.
  bool PassDebounce(const TriggerDef& t, int index, const std::string& subscriber, TimestampMs now);
  Status EnqueueDeliveries(const Decisioning& d, const Decision& dec);
  void RecordLatency(std::chrono::steady_clock::time_point applied);

  Engine* engine_;
  DecisionService* decisions_;
  channel::Dispatcher* dispatcher_;
  JourneyRunner* journeys_;
  const Clock* clock_;
  const Options options_;
  std::atomic<std::shared_ptr<const Active>> active_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  std::condition_variable idle_cv_;
  int busy_ = 0;  // workers evaluating an event
  bool stopping_ = false;
  std::vector<std::thread> workers_;

  // Last firing per subscriber and trigger (debounce). Striped; pruned when it grows.
  struct DebounceStripe {
    std::mutex mu;
    std::unordered_map<std::string, TimestampMs> last;
  };
  std::array<DebounceStripe, 64> debounce_;

  mutable std::mutex counters_mu_;
  std::unordered_map<std::string, std::unique_ptr<Counters>> counters_;  // by trigger name
  std::atomic<int64_t> dropped_{0}, deliveries_{0}, undelivered_{0};

  mutable std::mutex latency_mu_;
  std::vector<float> latency_ms_;  // ring of the last 65,536
  size_t latency_next_ = 0;
};

}  // namespace kairos
