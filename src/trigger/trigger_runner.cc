#include "trigger/trigger_runner.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/hash.h"
#include "decide/feature_cache.h"
#include "schema/json_write.h"

namespace kairos {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
using json::Key;
using json::String;

constexpr size_t kLatencyRing = 65536;
constexpr size_t kMaxDebounceEntries = 1 << 20;  // per stripe, before expired ones are pruned

std::string DebounceKey(const std::string& subscriber, int trigger) {
  std::string k = subscriber;
  k.push_back('\0');
  k += std::to_string(trigger);
  return k;
}

// The sized package: the smallest that covers `need`, else the largest there is.
struct SizedChoice {
  const SizingPackage* package = nullptr;
  bool covers = false;
};
SizedChoice ChoosePackage(const Sizing& s, double need) {
  for (const SizingPackage& p : s.packages) {
    if (p.size >= need) return {&p, true};
  }
  return {&s.packages.back(), false};
}

}  // namespace

TriggerRunner::TriggerRunner(Engine* engine, DecisionService* decisions, channel::Dispatcher* dispatcher,
                             JourneyRunner* journeys, const Clock* clock, Options options)
    : engine_(engine),
      decisions_(decisions),
      dispatcher_(dispatcher),
      journeys_(journeys),
      clock_(clock),
      options_(options) {}

TriggerRunner::~TriggerRunner() {
  engine_->SetObserver(nullptr);
  Stop();
}

Status TriggerRunner::SetTriggers(std::shared_ptr<const TriggerSet> set) {
  if (dispatcher_ != nullptr) KAIROS_RETURN_IF_ERROR(dispatcher_->Configure(set->outbound));
  if (journeys_ != nullptr) journeys_->SetJourneys(set->decisioning, set->journeys);
  auto active = std::make_shared<Active>();
  active->set = set;
  {
    std::lock_guard<std::mutex> lock(counters_mu_);
    for (const TriggerDef& t : set->triggers) {
      auto& c = counters_[t.name];
      if (!c) c = std::make_unique<Counters>();
      active->counters.push_back(c.get());
    }
  }
  active_.store(std::move(active));
  auto observer = std::make_shared<AppliedEventObserver>();
  observer->watched = set->WatchedEventTypes();
  observer->on_applied = [this](const Event& e) { OnApplied(e); };
  const bool any = std::find(observer->watched.begin(), observer->watched.end(), true) != observer->watched.end();
  engine_->SetObserver(any ? std::move(observer) : nullptr);
  return Status::Ok();
}

void TriggerRunner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!workers_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.threads); ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void TriggerRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped_.fetch_add(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers_.clear();
  }
  idle_cv_.notify_all();
}

void TriggerRunner::OnApplied(const Event& e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || workers_.empty() || queue_.size() >= options_.max_queue) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back({e, std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
}

void TriggerRunner::WorkerLoop() {
  for (;;) {
    Queued q;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      q = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    if (const auto active = active_.load()) Evaluate(*active, q.event, q.applied);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
    }
    idle_cv_.notify_all();
  }
}

void TriggerRunner::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return (queue_.empty() && busy_ == 0) || workers_.empty(); });
}

void TriggerRunner::Process(const Event& e) {
  if (const auto active = active_.load()) Evaluate(*active, e, std::chrono::steady_clock::now());
}

bool TriggerRunner::PassDebounce(const TriggerDef& t, int index, const std::string& subscriber, TimestampMs now) {
  if (t.debounce_ms <= 0) return true;
  const std::string key = DebounceKey(subscriber, index);
  DebounceStripe& s = debounce_[StableHash64(key) % debounce_.size()];
  std::lock_guard<std::mutex> lock(s.mu);
  auto [it, inserted] = s.last.try_emplace(key, now);
  if (!inserted) {
    if (now - it->second < t.debounce_ms) return false;
    it->second = now;
  }
  if (s.last.size() > kMaxDebounceEntries) {
    // Entries older than a day beyond any debounce cannot suppress anything... unless a trigger
    // debounces longer; the decision's own contact policies (caps, cooldowns) still hold then.
    std::erase_if(s.last, [&](const auto& kv) { return now - kv.second > 7 * 86400000LL; });
  }
  return true;
}

void TriggerRunner::Evaluate(const Active& active, const Event& e, std::chrono::steady_clock::time_point applied) {
  const TriggerSet& set = *active.set;
  if (e.type < 0 || static_cast<size_t>(e.type) >= set.by_event_type.size()) return;
  const std::vector<int>& candidates = set.by_event_type[static_cast<size_t>(e.type)];
  if (candidates.empty()) return;
  thread_local Profile profile;
  bool have_profile = false;
  const TimestampMs now = clock_->Now();
  const Decisioning& d = *set.decisioning;
  std::vector<ContextValue> no_context;
  for (int index : candidates) {
    const TriggerDef& t = set.triggers[static_cast<size_t>(index)];
    if (!MatchesFilters(t.where, e)) continue;
    Counters& c = *active.counters[static_cast<size_t>(index)];
    if (!have_profile) {
      if (!engine_->ReadProfile(e.subscriber_id, &profile).ok()) return;  // erased meanwhile
      have_profile = true;
    }
    const std::string_view channel =
        t.channel >= 0 ? std::string_view(d.policies.channels[static_cast<size_t>(t.channel)].name) : "";
    FeatureCache cache(d, profile, now, channel, no_context);
    if (t.when) {
      const expr::Value v = t.when->Evaluate(cache);
      if (v.is_null || !v.b) {
        c.not_met.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    if (!PassDebounce(t, index, e.subscriber_id, now)) {
      c.debounced.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    c.fired.fetch_add(1, std::memory_order_relaxed);
    Fire(set, index, c, e, cache, applied);
  }
}

void TriggerRunner::Fire(const TriggerSet& set, int index, Counters& c, const Event& e, FeatureCache& cache,
                         std::chrono::steady_clock::time_point applied) {
  const TriggerDef& t = set.triggers[static_cast<size_t>(index)];
  const Decisioning& d = *set.decisioning;
  if (t.journey >= 0) {
    if (journeys_ == nullptr) return;
    auto entered = journeys_->Enter(e.subscriber_id, set.journeys[static_cast<size_t>(t.journey)].name, t.name);
    if (!entered.ok()) {
      c.errors.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "kairos: trigger %s: %s\n", t.name.c_str(), entered.status().message().c_str());
    } else if (*entered) {
      c.journeys.fetch_add(1, std::memory_order_relaxed);
    }
    RecordLatency(applied);
    return;
  }

  DecideRequest req;
  req.subscriber_id = e.subscriber_id;
  req.channel = d.policies.channels[static_cast<size_t>(t.channel)].name;
  req.scope = t.scope.allowed;
  req.scope_reason = "not an action of trigger " + t.name + " (" + t.scope.text + ")";
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "trigger");
  String(w, t.name);
  Key(w, "event_type");
  String(w, d.schema->event_types()[static_cast<size_t>(e.type)].name);
  Key(w, "event_id");
  String(w, e.event_id);
  if (t.sizing) {
    const Sizing& s = *t.sizing;
    const expr::Value v = s.need->Evaluate(cache);
    Key(w, "sizing");
    w.StartObject();
    Key(w, "need_expression");
    String(w, s.need_text);
    Key(w, "need");
    if (v.is_null || !std::isfinite(v.num)) {
      // Nothing to size by (no usage history yet): every package stays in the running.
      w.Null();
      Key(w, "package");
      w.Null();
      Key(w, "why");
      String(w, "no forecast to size by: every package is ranked");
    } else {
      const SizedChoice choice = ChoosePackage(s, v.num);
      const Action& chosen = d.catalog.actions[static_cast<size_t>(choice.package->action)];
      json::Rounded(w, v.num, 100);
      Key(w, "package");
      String(w, chosen.id);
      Key(w, "package_size");
      w.Double(choice.package->size);
      Key(w, "why");
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    choice.covers ? "smallest package covering the need of %.0f (%s holds %.0f)"
                                  : "no package covers the need of %.0f: the largest (%s, %.0f)",
                    v.num, chosen.id.c_str(), choice.package->size);
      String(w, buf);
      for (const SizingPackage& p : s.packages) {
        if (&p != choice.package) req.scope[static_cast<size_t>(p.action)] = 0;
      }
      req.scope_reason = "not the package sized for the need (" + chosen.id + ")";
    }
    w.EndObject();
  }
  w.EndObject();
  req.origin_json.assign(sb.GetString(), sb.GetSize());

  auto out = decisions_->Decide(req, d);
  if (!out.ok()) {
    c.errors.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "kairos: trigger %s for %s: %s\n", t.name.c_str(), e.subscriber_id.c_str(),
                 out.status().message().c_str());
    return;
  }
  if (out->decision.actions.empty()) {
    c.no_action.fetch_add(1, std::memory_order_relaxed);
  } else {
    c.offers.fetch_add(1, std::memory_order_relaxed);
    if (!EnqueueDeliveries(d, out->decision).ok()) c.errors.fetch_add(1, std::memory_order_relaxed);
  }
  RecordLatency(applied);
}

Status TriggerRunner::EnqueueDeliveries(const Decisioning& d, const Decision& dec) {
  const ChannelDef& ch = d.policies.channels[static_cast<size_t>(dec.channel)];
  if (dispatcher_ == nullptr || triggers()->outbound.count(ch.name) == 0) {
    undelivered_.fetch_add(static_cast<int64_t>(dec.actions.size()), std::memory_order_relaxed);
    return Status::Ok();
  }
  for (const ChosenAction& chosen : dec.actions) {
    const Action& a = d.catalog.actions[static_cast<size_t>(chosen.action)];
    const Treatment* tr = a.TreatmentFor(dec.channel);
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    Key(w, "decision_id");
    String(w, dec.decision_id);
    Key(w, "subscriber_id");
    String(w, dec.subscriber_id);
    Key(w, "channel");
    String(w, ch.name);
    Key(w, "action_id");
    String(w, a.id);
    Key(w, "name");
    String(w, a.name);
    Key(w, "ts");
    json::Time(w, dec.ts);
    if (tr != nullptr) {
      Key(w, "treatment_id");
      String(w, tr->id);
      Key(w, "content");
      w.StartObject();
      for (const auto& [k, v] : tr->content) {
        Key(w, k);
        String(w, v);
      }
      w.EndObject();
    }
    if (!dec.origin_json.empty()) {
      Key(w, "origin");
      w.RawValue(dec.origin_json.data(), dec.origin_json.size(), rapidjson::kObjectType);
    }
    w.EndObject();
    channel::Delivery del;
    del.id = dec.decision_id + "/" + a.id;
    del.channel = ch.name;
    del.subscriber_id = dec.subscriber_id;
    del.created_ms = dec.ts;
    del.payload.assign(sb.GetString(), sb.GetSize());
    auto r = dispatcher_->Enqueue(del);
    if (!r.ok()) return r.status();
    if (*r) deliveries_.fetch_add(1, std::memory_order_relaxed);
  }
  return Status::Ok();
}

Status TriggerRunner::Deliver(std::string_view decision_id) {
  KAIROS_ASSIGN_OR_RETURN(StoredDecision stored, engine_->FindDecision(decision_id));
  const auto set = triggers();
  if (!set) return Status::Ok();
  const Decisioning& d = *set->decisioning;
  Decision dec;
  dec.decision_id = stored.decision_id;
  dec.subscriber_id = stored.subscriber_id;
  dec.channel = d.policies.ChannelIndex(stored.channel);
  if (dec.channel < 0) return InvalidArgument("decision " + stored.decision_id + ": channel " + stored.channel + " is gone");
  dec.ts = clock_->Now();
  // The origin (journey step, trigger) travels with the message, as for a trigger's decision.
  simdjson::dom::parser parser;
  simdjson::dom::element record, origin;
  if (!parser.parse(stored.record).get(record) && !record["origin"].get(origin)) {
    dec.origin_json = simdjson::minify(origin);
  }
  ForEachShownAction(stored.actions, [&](const ShownAction& s) {
    const int a = d.catalog.ActionIndex(s.action);
    if (a < 0) return;  // removed from the catalog since: nothing to say about it
    ChosenAction c;
    c.action = a;
    dec.actions.push_back(c);
  });
  return EnqueueDeliveries(d, dec);
}

void TriggerRunner::RecordLatency(std::chrono::steady_clock::time_point applied) {
  const float ms = std::chrono::duration<float, std::milli>(std::chrono::steady_clock::now() - applied).count();
  std::lock_guard<std::mutex> lock(latency_mu_);
  if (latency_ms_.size() < kLatencyRing) {
    latency_ms_.push_back(ms);
  } else {
    latency_ms_[latency_next_] = ms;
  }
  latency_next_ = (latency_next_ + 1) % kLatencyRing;
}

TriggerStats TriggerRunner::Stats() const {
  TriggerStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queued = static_cast<int64_t>(queue_.size());
  }
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.deliveries = deliveries_.load(std::memory_order_relaxed);
  s.undelivered = undelivered_.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(counters_mu_);
    for (const auto& [name, c] : counters_) {
      TriggerCounts t;
      t.fired = c->fired.load(), t.debounced = c->debounced.load(), t.not_met = c->not_met.load();
      t.offers = c->offers.load(), t.no_action = c->no_action.load(), t.journeys = c->journeys.load();
      t.errors = c->errors.load();
      s.by_trigger.emplace_back(name, t);
    }
  }
  std::sort(s.by_trigger.begin(), s.by_trigger.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<float> l;
  {
    std::lock_guard<std::mutex> lock(latency_mu_);
    l = latency_ms_;
  }
  if (!l.empty()) {
    auto q = [&](double p) {
      const size_t k = std::min(l.size() - 1, static_cast<size_t>(p * static_cast<double>(l.size())));
      std::nth_element(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(k), l.end());
      return static_cast<double>(l[k]);
    };
    s.latency_p50_ms = q(0.5);
    s.latency_p99_ms = q(0.99);
  }
  return s;
}

std::string TriggerRunner::TriggersJson() const {
  const auto set = triggers();
  const TriggerStats stats = Stats();
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Key(w, "triggers");
  w.StartArray();
  if (set) {
    const Decisioning& d = *set->decisioning;
    for (const TriggerDef& t : set->triggers) {
      w.StartObject();
      Key(w, "name");
      String(w, t.name);
      Key(w, "event");
      String(w, d.schema->event_types()[static_cast<size_t>(t.event_type)].name);
      Key(w, "when");
      if (t.when) String(w, t.when_text);
      else w.Null();
      Key(w, "debounce_ms");
      w.Int64(t.debounce_ms);
      if (t.channel >= 0) {
        Key(w, "channel");
        String(w, d.policies.channels[static_cast<size_t>(t.channel)].name);
        Key(w, "outbound");
        const auto it = set->outbound.find(d.policies.channels[static_cast<size_t>(t.channel)].name);
        if (it == set->outbound.end()) w.Null();
        else String(w, channel::AdapterKindName(it->second.kind));
      } else {
        Key(w, "journey");
        String(w, set->journeys[static_cast<size_t>(t.journey)].name);
      }
      Key(w, "scope");
      String(w, t.scope.text.empty() ? "every action" : t.scope.text);
      if (t.sizing) {
        Key(w, "sizing");
        w.StartObject();
        Key(w, "need");
        String(w, t.sizing->need_text);
        Key(w, "packages");
        w.StartArray();
        for (const SizingPackage& p : t.sizing->packages) {
          w.StartObject();
          Key(w, "action");
          String(w, d.catalog.actions[static_cast<size_t>(p.action)].id);
          Key(w, "size");
          w.Double(p.size);
          w.EndObject();
        }
        w.EndArray();
        w.EndObject();
      }
      Key(w, "counts");
      w.StartObject();
      for (const auto& [name, c] : stats.by_trigger) {
        if (name != t.name) continue;
        Key(w, "fired"), w.Int64(c.fired);
        Key(w, "debounced"), w.Int64(c.debounced);
        Key(w, "not_met"), w.Int64(c.not_met);
        Key(w, "offers"), w.Int64(c.offers);
        Key(w, "no_action"), w.Int64(c.no_action);
        Key(w, "journeys"), w.Int64(c.journeys);
        Key(w, "errors"), w.Int64(c.errors);
      }
      w.EndObject();
      w.EndObject();
    }
  }
  w.EndArray();
  Key(w, "journeys");
  w.StartArray();
  if (set) {
    for (const JourneyDef& j : set->journeys) {
      w.StartObject();
      Key(w, "name");
      String(w, j.name);
      Key(w, "steps");
      w.StartArray();
      for (const JourneyStep& s : j.steps) {
        w.StartObject();
        Key(w, "channel");
        String(w, s.channel);
        Key(w, "wait_ms");
        w.Int64(s.wait_ms);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  Key(w, "queued");
  w.Int64(stats.queued);
  Key(w, "dropped");
  w.Int64(stats.dropped);
  Key(w, "latency_p99_ms");
  json::Rounded(w, stats.latency_p99_ms, 1000);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos
