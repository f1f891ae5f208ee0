#include "trigger/journey_runner.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/hash.h"
#include "decide/decision_service.h"
#include "decide/feature_cache.h"
#include "decide/history.h"
#include "ingest/engine.h"
#include "schema/json_write.h"

namespace kairos {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr int64_t kMaxRetryMs = kMsPerHour;

// The expression holds (null is false).
bool Holds(const expr::Expr& e, const Decisioning& d, const Profile& p, TimestampMs now,
           std::string_view channel) {
  static const std::vector<ContextValue> kNoContext;
  FeatureCache cache(d, p, now, channel, kNoContext);
  const expr::Value v = e.Evaluate(cache);
  return !v.is_null && v.b;
}

// A response with one of the journey's stop_on outcomes to one of the instance's decisions.
bool Responded(const JourneyDef& j, const Profile& p, const JourneyInstance& x) {
  uint32_t mask = 0;
  for (Outcome o : j.stop_on) mask |= uint32_t{1} << static_cast<int>(o);
  if (mask == 0) return false;
  for (const std::string& id : x.decisions) {
    if (ResponseOutcomes(p, HistoryKey(id), 0) & mask) return true;
  }
  return false;
}

std::string OriginJson(const JourneyDef& j, int step, std::string_view origin) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  json::Key(w, "journey");
  json::String(w, j.name);
  json::Key(w, "step");
  w.Int(step + 1);
  json::Key(w, "steps");
  w.Int(static_cast<int>(j.steps.size()));
  json::Key(w, "origin");
  json::String(w, origin);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

void AtomicMax(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

// ---- construction ------------------------------------------------------------------------------

JourneyRunner::JourneyRunner(std::unique_ptr<JourneyStore> store, const Clock* clock, JourneyBackend backend,
                             JourneyRunnerOptions options)
    : store_(std::move(store)), clock_(clock), backend_(std::move(backend)), options_(std::move(options)) {
  options_.threads = std::max(1, options_.threads);
  options_.batch = std::max<size_t>(1, options_.batch);
  options_.max_batch = std::max(options_.batch, options_.max_batch);
  options_.max_attempts = std::max(1, options_.max_attempts);
}

JourneyRunner::~JourneyRunner() { Stop(); }

Result<std::unique_ptr<JourneyRunner>> JourneyRunner::Open(const std::string& dir, const Clock* clock,
                                                           JourneyBackend backend, JourneyRunnerOptions options) {
  KAIROS_ASSIGN_OR_RETURN(std::unique_ptr<JourneyStore> store, JourneyStore::Open(dir, options.store));
  return std::unique_ptr<JourneyRunner>(
      new JourneyRunner(std::move(store), clock, std::move(backend), std::move(options)));
}

Result<std::unique_ptr<JourneyRunner>> JourneyRunner::Open(const std::string& dir, Engine* engine,
                                                           DecisionService* decisions, const Clock* clock,
                                                           DeliverFn deliver, JourneyRunnerOptions options) {
  JourneyBackend b;
  b.read_profile = [engine](std::string_view id, Profile* out) { return engine->ReadProfile(id, out, nullptr); };
  b.find_decision = [engine](std::string_view id) -> Result<bool> {
    KAIROS_ASSIGN_OR_RETURN(StoredDecision s, engine->FindDecision(id));
    return !s.actions.empty();
  };
  b.decide = [decisions](const DecideRequest& req, const Decisioning& d) -> Result<bool> {
    KAIROS_ASSIGN_OR_RETURN(DecideOutcome out, decisions->Decide(req, d));
    return !out.decision.actions.empty();
  };
  b.deliver = std::move(deliver);
  return Open(dir, clock, std::move(b), std::move(options));
}

const JourneyDef* JourneyRunner::JourneySet::Find(std::string_view name) const {
  for (const JourneyDef& j : journeys) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

void JourneyRunner::SetJourneys(std::shared_ptr<const Decisioning> d, std::vector<JourneyDef> journeys) {
  auto set = std::make_shared<JourneySet>();
  set->d = std::move(d);
  set->journeys = std::move(journeys);
  set_.store(std::move(set));
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

std::string JourneyRunner::StepDecisionId(const JourneyInstance& x, int step, TimestampMs due) {
  std::string seed = x.Key();
  seed.push_back('/');
  seed += std::to_string(x.started_ms);
  seed.push_back('/');
  seed += std::to_string(step);
  char buf[16];
  std::snprintf(buf, sizeof buf, "-j%08x", static_cast<uint32_t>(StableHash64(seed)));
  return DecisionIdPrefix(due) + buf;
}

// ---- entering ----------------------------------------------------------------------------------

Result<bool> JourneyRunner::Enter(std::string_view subscriber_id, std::string_view journey,
                                  std::string_view origin) {
  const auto set = set_.load();
  if (set == nullptr) return Status(ErrorCode::kFailedPrecondition, "no journeys are configured yet");
  const JourneyDef* j = set->Find(journey);
  if (j == nullptr) return NotFound("unknown journey \"" + std::string(journey.substr(0, 64)) + "\"");
  if (subscriber_id.empty() || subscriber_id.find('\0') != std::string_view::npos) {
    return InvalidArgument("subscriber id must be non-empty and without NUL", "/subscriber_id");
  }
  KAIROS_ASSIGN_OR_RETURN(auto existing, store_->Get(subscriber_id, journey));
  if (existing) {
    stats_.already_active.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const TimestampMs now = clock_->Now();
  if (j->entry) {
    thread_local Profile profile;
    KAIROS_RETURN_IF_ERROR(backend_.read_profile(subscriber_id, &profile));
    if (!Holds(*j->entry, *set->d, profile, now, j->steps.front().channel)) {
      stats_.entry_refused.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  JourneyInstance x;
  x.subscriber_id.assign(subscriber_id);
  x.journey.assign(journey);
  x.due_ms = x.step_ms = x.started_ms = now;
  x.origin.assign(origin.substr(0, 256));
  KAIROS_ASSIGN_OR_RETURN(bool added, store_->Enter(x));
  if (!added) {  // entered concurrently
    stats_.already_active.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  stats_.entered.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_one();
  return true;
}

// ---- running steps -----------------------------------------------------------------------------

void JourneyRunner::Retry(const JourneyInstance& x, TimestampMs now, const Status& error, StepResult* r) {
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    last_error_ = "journey " + x.journey + ", subscriber " + x.subscriber_id + ", step " +
                  std::to_string(x.step + 1) + ": " + error.ToString();
  }
  if (x.attempts + 1 >= options_.max_attempts) {
    r->update.kind = JourneyUpdate::Kind::kFinish;
    r->exit = Exit::kFailed;
    return;
  }
  const int shift = std::min(x.attempts, 20);
  r->update.kind = JourneyUpdate::Kind::kRetry;
  r->update.due_ms = now + std::min(kMaxRetryMs, options_.retry_ms << shift);
  r->retried = true;
}

JourneyRunner::StepResult JourneyRunner::RunStep(const JourneySet& set, const JourneyInstance& x) {
  const TimestampMs now = clock_->Now();
  StepResult r;
  r.lag_ms = static_cast<double>(std::max<int64_t>(0, now - x.due_ms));
  r.update.key = x.Key();
  r.update.expect_step = x.step;
  r.update.expect_started_ms = x.started_ms;
  auto finish = [&](Exit e) {
    r.update.kind = JourneyUpdate::Kind::kFinish;
    r.exit = e;
    return r;
  };
  const JourneyDef* j = set.Find(x.journey);
  if (j == nullptr) return finish(Exit::kRemoved);
  const int n = static_cast<int>(j->steps.size());

  // (b) first: a step decided before a crash is finished, whatever the profile says now.
  std::string id;
  bool decided = false, shown = false;
  if (x.step < n) {
    id = StepDecisionId(x, x.step, x.step_ms);
    Result<bool> found = backend_.find_decision(id);
    if (found.ok()) {
      decided = true;
      shown = *found;
    } else if (found.status().code() != ErrorCode::kNotFound) {
      Retry(x, now, found.status(), &r);
      return r;
    }
  }
  if (!decided) {
    // (a) stop conditions on the fresh profile.
    thread_local Profile profile;
    const Status read = backend_.read_profile(x.subscriber_id, &profile);
    if (read.code() == ErrorCode::kNotFound) return finish(Exit::kGone);
    if (!read.ok()) {
      Retry(x, now, read, &r);
      return r;
    }
    if (Responded(*j, profile, x)) return finish(Exit::kResponded);
    const std::string_view channel = x.step < n ? std::string_view(j->steps[x.step].channel) : "";
    if (j->exit_when && Holds(*j->exit_when, *set.d, profile, now, channel)) return finish(Exit::kCondition);
    if (x.step >= n) return finish(Exit::kCompleted);
    if (j->max_duration_ms > 0 && now - x.started_ms >= j->max_duration_ms) return finish(Exit::kExpired);
    // (b) decide with the step's fixed id.
    DecideRequest req;
    req.subscriber_id = x.subscriber_id;
    req.channel = j->steps[x.step].channel;
    req.scope = j->scope.allowed;
    if (!req.scope.empty()) req.scope_reason = "not an action of journey " + j->name;
    req.decision_id = id;
    req.origin_json = OriginJson(*j, x.step, x.origin);
    Result<bool> out = backend_.decide(req, *set.d);
    if (out.ok()) {
      shown = *out;
    } else if (out.status().code() == ErrorCode::kAlreadyExists) {
      Result<bool> found = backend_.find_decision(id);
      if (!found.ok()) {
        Retry(x, now, found.status(), &r);
        return r;
      }
      shown = *found;
    } else if (out.status().code() == ErrorCode::kNotFound) {
      return finish(Exit::kGone);
    } else {
      Retry(x, now, out.status(), &r);
      return r;
    }
  }
  if (options_.step_hook) options_.step_hook(JourneyStepPoint::kDecided, x, id);
  // (c) deliver (idempotent per id).
  if (shown && backend_.deliver) {
    const Status s = backend_.deliver(id);
    if (!s.ok()) {
      Retry(x, now, s, &r);
      return r;
    }
  }
  if (options_.step_hook) options_.step_hook(JourneyStepPoint::kDelivered, x, id);
  // (d) move on: computed here, committed by RunDue with the rest of the batch.
  r.stepped = true;
  const JourneyStep& step = j->steps[x.step];
  if (x.step + 1 == n && step.wait_ms == 0) return finish(Exit::kCompleted);
  r.update.kind = JourneyUpdate::Kind::kAdvance;
  r.update.due_ms = now + step.wait_ms;
  r.update.decision_id = std::move(id);
  return r;
}

void JourneyRunner::RecordLag(double lag_ms) {
  stats_.firings.fetch_add(1, std::memory_order_relaxed);
  stats_.last_lag_ms.store(lag_ms, std::memory_order_relaxed);
  AtomicMax(stats_.max_lag_ms, lag_ms);
  size_t b;
  if (lag_ms < 1000) b = static_cast<size_t>(lag_ms);
  else if (lag_ms < 61000) b = 1000 + static_cast<size_t>((lag_ms - 1000) / 100);
  else b = kLagBuckets - 1;
  lag_[b].fetch_add(1, std::memory_order_relaxed);
}

Result<int> JourneyRunner::RunDue(size_t limit) {
  std::lock_guard<std::mutex> run(run_mu_);
  const auto set = set_.load();
  if (set == nullptr) return 0;
  int done = 0;
  std::vector<JourneyInstance> due;
  std::vector<StepResult> results;
  std::vector<uint8_t> ran;
  std::vector<JourneyUpdate> updates;
  size_t batch = options_.batch;
  while (static_cast<size_t>(done) < limit) {
    due.clear();
    KAIROS_RETURN_IF_ERROR(store_->Due(clock_->Now(), std::min(batch, limit - static_cast<size_t>(done)), &due));
    if (due.empty()) break;
    results.assign(due.size(), StepResult());
    ran.assign(due.size(), 0);
    // Steps run until the batch is done or its time is up (the rest stay due for the next
    // batch), so that a batch of slow decisions is committed — and its lag measured — in time.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.max_batch_ms);
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < due.size();) {
        if (i > 0 && std::chrono::steady_clock::now() > deadline) break;
        results[i] = RunStep(*set, due[i]);
        ran[i] = 1;
      }
    };
    const size_t threads = std::min<size_t>(static_cast<size_t>(options_.threads), due.size());
    if (threads <= 1) {
      work();
    } else {
      std::vector<std::thread> pool;
      pool.reserve(threads - 1);
      for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
      work();
      for (std::thread& t : pool) t.join();
    }
    updates.clear();
    for (size_t i = 0; i < results.size(); ++i) {
      if (ran[i]) updates.push_back(std::move(results[i].update));
    }
    // (d) for the whole batch: one synced transaction moves every state and timer.
    KAIROS_ASSIGN_OR_RETURN(int64_t stale, store_->Apply(updates));
    (void)stale;  // only RunDue moves instances on, and it runs alone: nothing is ever stale
    for (size_t i = 0; i < results.size(); ++i) {
      if (!ran[i]) continue;
      const StepResult& r = results[i];
      RecordLag(r.lag_ms);
      if (r.stepped) stats_.steps.fetch_add(1, std::memory_order_relaxed);
      if (r.retried) stats_.retries.fetch_add(1, std::memory_order_relaxed);
      switch (r.exit) {
        case Exit::kNone: break;
        case Exit::kResponded: stats_.exits_responded.fetch_add(1, std::memory_order_relaxed); break;
        case Exit::kCondition: stats_.exits_condition.fetch_add(1, std::memory_order_relaxed); break;
        case Exit::kCompleted: stats_.exits_completed.fetch_add(1, std::memory_order_relaxed); break;
        case Exit::kExpired: stats_.exits_expired.fetch_add(1, std::memory_order_relaxed); break;
        case Exit::kGone:
        case Exit::kRemoved:
        case Exit::kFailed: stats_.exits_other.fetch_add(1, std::memory_order_relaxed); break;
      }
    }
    done += static_cast<int>(updates.size());
    // Behind (a full batch, all of it run): larger batches share more page writes and syncs.
    batch = due.size() == batch && updates.size() == due.size() ? std::min(batch * 2, options_.max_batch)
                                                                 : options_.batch;
  }
  return done;
}

// ---- background thread -------------------------------------------------------------------------

void JourneyRunner::Start() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void JourneyRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JourneyRunner::Loop() {
  const size_t limit = options_.max_batch * 4;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(wake_mu_);
      if (stop_) return;
      woken_ = false;
    }
    int64_t wait_ms = 100;
    Result<int> ran = RunDue(limit);
    if (!ran.ok()) {
      std::lock_guard<std::mutex> lock(error_mu_);
      last_error_ = ran.status().ToString();
      wait_ms = 1000;
    } else if (static_cast<size_t>(*ran) >= limit) {
      continue;  // more may be due
    } else if (Result<TimestampMs> next = store_->NextDue(); next.ok()) {
      wait_ms = std::clamp<int64_t>(*next - clock_->Now(), 0, 100);
    }
    if (wait_ms == 0) continue;
    std::unique_lock<std::mutex> lock(wake_mu_);
    wake_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stop_ || woken_; });
  }
}

// ---- reading -----------------------------------------------------------------------------------

std::string JourneyRunner::SubscriberJson(std::string_view subscriber_id) const {
  const auto set = set_.load();
  auto instances = store_->ForSubscriber(subscriber_id);
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  json::Key(w, "subscriber_id");
  json::String(w, subscriber_id);
  json::Key(w, "journeys");
  w.StartArray();
  if (instances.ok()) {
    for (const JourneyInstance& x : *instances) {
      const JourneyDef* j = set ? set->Find(x.journey) : nullptr;
      w.StartObject();
      json::Key(w, "journey");
      json::String(w, x.journey);
      json::Key(w, "step");
      w.Int(static_cast<int>(x.decisions.size()));
      json::Key(w, "steps");
      if (j) w.Int(static_cast<int>(j->steps.size()));
      else w.Null();
      json::Key(w, "next_at");
      json::Time(w, x.due_ms);
      json::Key(w, "next_channel");
      if (j && x.step < static_cast<int>(j->steps.size())) json::String(w, j->steps[x.step].channel);
      else w.Null();
      json::Key(w, "started_at");
      json::Time(w, x.started_ms);
      json::Key(w, "origin");
      json::String(w, x.origin);
      json::Key(w, "decisions");
      w.StartArray();
      for (const std::string& id : x.decisions) json::String(w, id);
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

JourneyStats JourneyRunner::Stats() const {
  JourneyStats s;
  s.entered = stats_.entered.load();
  s.entry_refused = stats_.entry_refused.load();
  s.already_active = stats_.already_active.load();
  s.steps = stats_.steps.load();
  s.retries = stats_.retries.load();
  s.exits_responded = stats_.exits_responded.load();
  s.exits_condition = stats_.exits_condition.load();
  s.exits_completed = stats_.exits_completed.load();
  s.exits_expired = stats_.exits_expired.load();
  s.exits_other = stats_.exits_other.load();
  s.active = store_->Count();
  s.firings = stats_.firings.load();
  s.last_lag_ms = stats_.last_lag_ms.load();
  s.lag_max_ms = stats_.max_lag_ms.load();
  std::array<int64_t, kLagBuckets> counts;
  int64_t total = 0;
  for (size_t b = 0; b < kLagBuckets; ++b) total += counts[b] = lag_[b].load(std::memory_order_relaxed);
  auto upper = [](size_t b) {  // a bucket's upper bound in ms
    return b < 1000 ? static_cast<double>(b + 1) : 1000.0 + static_cast<double>(b - 999) * 100.0;
  };
  auto quantile = [&](double q) {
    if (total == 0) return 0.0;
    const double rank = q * static_cast<double>(total);
    int64_t seen = 0;
    for (size_t b = 0; b + 1 < kLagBuckets; ++b) {
      seen += counts[b];
      if (static_cast<double>(seen) >= rank) return std::min(upper(b), s.lag_max_ms);
    }
    return s.lag_max_ms;
  };
  s.lag_p50_ms = quantile(0.5);
  s.lag_p99_ms = quantile(0.99);
  std::lock_guard<std::mutex> lock(error_mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace kairos
