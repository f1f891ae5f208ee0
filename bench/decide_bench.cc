// Decisioning benchmark: builds a workspace with the demo catalog, generates and ingests a
// synthetic operator (plus a few days of decision and response history), then measures
//   - kairos::Decide in-process on decoded profiles: the demo catalog on app and sms, synthetic
//     catalogs of 100 and 2,500 actions on app (and their load time);
//   - DecisionService::Decide (LMDB profile read + decide + JSON answer): a dry run, and
//     recording (one durable write per decision) on 1 and on --threads threads.
// Each figure is the median of --runs repetitions of --seconds each; latencies are per-call
// steady_clock timings. Prints a table (or, with --json, one JSON object); not a pass/fail test.
//   decide_bench [--subscribers 20000] [--runs 5] [--threads 2] [--seconds 2] [--json]
//                [--workdir DIR]
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bulk_ingest.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/rng.h"
#include "common/timezone.h"
#include "decide/decide_request.h"
#include "decide/decider.h"
#include "decide/feature_cache.h"
#include "decide/decision_service.h"
#include "decide/volume_ledger.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "sim/generator.h"

namespace fs = std::filesystem;
using namespace kairos;
using Clk = std::chrono::steady_clock;

namespace {

double Seconds(Clk::time_point since) { return std::chrono::duration<double>(Clk::now() - since).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One repetition of one measurement.
struct Sample {
  double per_s = 0, p50_us = 0, p99_us = 0;
  int64_t calls = 0, errors = 0;
};

Sample Summarize(std::vector<double>& lat, double elapsed_s, int64_t errors) {
  Sample s;
  s.calls = static_cast<int64_t>(lat.size());
  s.errors = errors;
  if (lat.empty()) return s;
  std::sort(lat.begin(), lat.end());
  s.per_s = static_cast<double>(lat.size()) / elapsed_s;
  s.p50_us = lat[lat.size() / 2];
  s.p99_us = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  return s;
}

// Calls fn(i) for i = 0, 1, ... on `threads` threads (i counts across threads) for `seconds`,
// timing each call. fn returns false on an error (counted, the call still timed).
Sample Measure(int threads, double seconds, const std::function<bool(int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> go{false};
  std::atomic<int64_t> errors{0};
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  Clk::time_point start, deadline;
  std::vector<Clk::time_point> ends(static_cast<size_t>(threads));
  auto run = [&](int t) {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    std::vector<double>& mine = lat[static_cast<size_t>(t)];
    mine.reserve(1 << 16);
    int64_t errs = 0;
    Clk::time_point now = Clk::now();
    while (now < deadline) {
      const int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      const bool ok = fn(i);
      const Clk::time_point after = Clk::now();
      mine.push_back(std::chrono::duration<double, std::micro>(after - now).count());
      errs += !ok;
      now = after;
    }
    ends[static_cast<size_t>(t)] = now;
    errors.fetch_add(errs);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
  start = Clk::now();
  deadline = start + std::chrono::duration_cast<Clk::duration>(std::chrono::duration<double>(seconds));
  go.store(true, std::memory_order_release);
  run(0);
  for (auto& th : pool) th.join();
  const Clk::time_point end = *std::max_element(ends.begin(), ends.end());
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  return Summarize(all, std::chrono::duration<double>(end - start).count(), errors.load());
}

// ---- synthetic catalog ----------------------------------------------------------------------

// issues × groups × actions, each action with an applicability rule over profile, aggregates or
// forecasts, a suitability rule on its own history, and (for most groups) a group eligibility
// on the plan type and a group suitability on the group's conversions; a third of the actions
// value themselves with an expression; treatments for app, most for sms, some for email.
std::string SyntheticCatalogYaml(int issues, int groups_per_issue, int actions_per_group) {
  std::string y =
      "# Synthetic catalog for decide_bench.\n"
      "context:\n  page: string\n  intent: string\n  roaming: bool\n\nissues:\n";
  char buf[512];
  int n = 0;
  for (int is = 0; is < issues; ++is) {
    std::snprintf(buf, sizeof buf, "  Issue%02d:\n    lever: %.1f\n    groups:\n", is, 0.8 + 0.1 * (is % 5));
    y += buf;
    for (int g = 0; g < groups_per_issue; ++g) {
      char group[32];
      std::snprintf(group, sizeof group, "I%02d_G%02d", is, g);
      y += std::string("      ") + group + ":\n";
      if (g % 3 == 0) y += "        eligibility: \"profile.plan_type == 'postpaid'\"\n";
      if (g % 3 == 1) y += "        eligibility: \"profile.plan_type == 'prepaid'\"\n";
      if (g % 2 == 0) {
        std::snprintf(buf, sizeof buf, "        suitability: \"history.outcomes('%s', 'converted', 30d) == 0\"\n", group);
        y += buf;
      }
      y += "        actions:\n";
      for (int a = 0; a < actions_per_group; ++a, ++n) {
        char id[32];
        std::snprintf(id, sizeof id, "SYN_%05d", n);
        std::snprintf(buf, sizeof buf,
                      "          - id: %s\n"
                      "            name: \"Synthetic offer %d\"\n"
                      "            type: offer\n"
                      "            propensity: %.3f\n",
                      id, n, 0.02 + 0.01 * (n % 7));
        y += buf;
        if (n % 3 == 0) {
          std::snprintf(buf, sizeof buf, "            value: \"coalesce(profile.price_eur, 20) * 0.2 * %d\"\n", 6 + n % 13);
        } else {
          std::snprintf(buf, sizeof buf, "            value: %d.5\n", 2 + n % 50);
        }
        y += buf;
        if (n % 5 == 0) y += "            cost: 0.1\n";
        if (n % 4 == 0) y += "            cooldown: 7d\n";
        if (n % 6 == 0) y += "            max_times: 3\n";
        if (n % 8 == 0) y += "            context_weight: \"if(ctx.page == 'data', 2, 1)\"\n";
        if (n % 11 == 0) y += "            eligibility: \"days_since(subscriber.first_seen) >= 30\"\n";
        switch (n % 6) {
          case 0:
            std::snprintf(buf, sizeof buf,
                          "            applicability: \"forecast.data.days_to_depletion < %d and "
                          "forecast.data.days_to_depletion < forecast.data.days_left\"\n",
                          3 + n % 5);
            break;
          case 1:
            std::snprintf(buf, sizeof buf, "            applicability: \"agg.data_mb(30d) > 500 * %d\"\n", n % 7);
            break;
          case 2:
            std::snprintf(buf, sizeof buf, "            applicability: \"agg.topup_eur(90d) >= %d or profile.credit_eur < 2\"\n",
                          10 + n % 40);
            break;
          case 3:
            std::snprintf(buf, sizeof buf, "            applicability: \"days_until(profile.contract_end) < %d\"\n",
                          30 + n % 120);
            break;
          case 4:
            std::snprintf(buf, sizeof buf, "            applicability: \"agg.video_min(30d) > %d or ctx.page == 'content'\"\n",
                          100 * (n % 9));
            break;
          default:
            std::snprintf(buf, sizeof buf,
                          "            applicability: \"coalesce(profile.price_eur, 0) >= %d and agg.voice_min(30d) > %d\"\n",
                          10 + n % 30, 50 * (n % 5));
            break;
        }
        y += buf;
        std::snprintf(buf, sizeof buf, "            suitability: \"history.impressions('%s', 7d) < 2\"\n", id);
        y += buf;
        y += "            treatments:\n";
        std::snprintf(buf, sizeof buf,
                      "              app: {title: \"Offer %d\", body: \"A synthetic offer for the benchmark.\", cta: \"Get it\"}\n",
                      n);
        y += buf;
        if (n % 4 != 3) {
          std::snprintf(buf, sizeof buf, "              sms: {text: \"Offer %d: reply YES to get it.\"}\n", n);
          y += buf;
        }
        if (n % 3 == 0) {
          std::snprintf(buf, sizeof buf, "              email: {subject: \"Offer %d\", body: \"A synthetic offer.\"}\n", n);
          y += buf;
        }
      }
    }
  }
  return y;
}

// ---- history seeding ----------------------------------------------------------------------

// Decision and response events of the last ~70 hours before `end` (the engine accepts events up
// to its dedupe window behind a profile's newest one), so that history features, caps, cooldowns
// and suppression read a non-empty history: 60% of subscribers 0-1 decisions, 30% 2-3, 10% 5-8,
// each showing 1-2 actions, 40% of them answered.
std::string HistoryNdjson(const Decisioning& d, int64_t subscribers, TimestampMs end, int64_t* events) {
  const char* channels[] = {"app", "sms", "email", "push", "web"};
  std::vector<std::vector<int>> by_channel(5);
  for (int c = 0; c < 5; ++c) {
    const int ch = d.policies.ChannelIndex(channels[c]);
    for (size_t a = 0; a < d.catalog.actions.size(); ++a) {
      if (ch >= 0 && d.catalog.actions[a].TreatmentFor(ch)) by_channel[c].push_back(static_cast<int>(a));
    }
  }
  const char* outcomes[] = {"accepted", "clicked", "ignored", "rejected", "converted"};
  std::string out;
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  auto next = [&rng] {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
  };
  char line[512];
  for (int64_t s = 1; s <= subscribers; ++s) {
    const int decisions = s % 10 < 6 ? static_cast<int>(s % 2) : s % 10 < 9 ? 2 + static_cast<int>(s % 2)
                                                                            : 5 + static_cast<int>(s % 4);
    for (int k = 0; k < decisions; ++k) {
      const int c = static_cast<int>(next() % 5);
      if (by_channel[c].empty()) continue;
      const TimestampMs ts = end - 70 * kMsPerHour + static_cast<TimestampMs>(next() % (69 * kMsPerHour));
      const int shown = 1 + static_cast<int>(next() % 2);
      std::string actions;
      std::vector<int> picked;
      for (int j = 0; j < shown; ++j) {
        const int a = by_channel[c][next() % by_channel[c].size()];
        const Action& act = d.catalog.actions[a];
        if (!actions.empty()) actions += ',';
        actions += act.id + ":" + d.catalog.groups[act.group].name + ":" + d.catalog.issues[act.issue].name;
        picked.push_back(a);
      }
      std::snprintf(line, sizeof line,
                    "{\"event_id\":\"hd-%lld-%d\",\"subscriber_id\":\"s%07lld\",\"type\":\"decision\",\"ts\":%lld,"
                    "\"decision_id\":\"hd-%lld-%d\",\"channel\":\"%s\",\"actions\":\"%s\",\"control\":false}\n",
                    static_cast<long long>(s), k, static_cast<long long>(s), static_cast<long long>(ts),
                    static_cast<long long>(s), k, channels[c], actions.c_str());
      out += line;
      ++*events;
      if (next() % 10 < 4) {
        const Action& act = d.catalog.actions[picked[0]];
        std::snprintf(line, sizeof line,
                      "{\"event_id\":\"hr-%lld-%d\",\"subscriber_id\":\"s%07lld\",\"type\":\"response\",\"ts\":%lld,"
                      "\"decision_id\":\"hd-%lld-%d\",\"action_id\":\"%s\",\"outcome\":\"%s\",\"channel\":\"%s\"}\n",
                      static_cast<long long>(s), k, static_cast<long long>(s),
                      static_cast<long long>(ts + 60000 + static_cast<TimestampMs>(next() % 3600000)),
                      static_cast<long long>(s), k, act.id.c_str(), outcomes[next() % 5], channels[c]);
        out += line;
        ++*events;
      }
    }
  }
  return out;
}

// ---- report -----------------------------------------------------------------------------------

struct Row {
  std::string key;    // JSON key
  std::string label;  // table label
  double per_s = 0, p50_us = 0, p99_us = 0;
  double load_ms = -1;  // catalog load, when measured
  int64_t calls = 0, errors = 0;
  std::vector<std::pair<std::string, bool>> targets;  // "p99 < 100 us", met
};

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

// What a catalog decides for the first (up to) 5,000 subscribers (not timed): a sanity check
// that the timed calls do real work.
std::string OutcomeSummary(const Decisioning& d, const std::vector<Profile>& profiles,
                           const std::vector<DecideRequest>& reqs, int channel, TimestampMs now,
                           TimeZoneCache* zones) {
  VolumeLedger ledger;
  DecideEnv env{zones, &ledger, false};
  int64_t with_action = 0, actions = 0, ranked = 0, control = 0;
  std::map<std::string, int64_t> reasons;
  const size_t count = std::min<size_t>(profiles.size(), 5000);
  for (size_t i = 0; i < count; ++i) {
    const Decision dec = Decide(d, profiles[i], reqs[i], channel, now, env);
    with_action += !dec.actions.empty();
    actions += static_cast<int64_t>(dec.actions.size());
    ranked += static_cast<int64_t>(dec.candidates.size());
    control += dec.control;
    if (!dec.no_action_reason.empty()) ++reasons[dec.no_action_reason];
  }
  int with_treatment = 0;
  for (const Action& a : d.catalog.actions) with_treatment += a.TreatmentFor(channel) != nullptr;
  const double n = static_cast<double>(std::max<size_t>(1, count));
  std::string s = std::to_string(d.catalog.actions.size()) + " actions (" + std::to_string(with_treatment) + " on " +
                  d.policies.channels[channel].name + "): " + Fmt("%.0f%%", 100.0 * with_action / n) +
                  " of decisions show an action (mean " + Fmt("%.2f", actions / n) + " actions, " +
                  Fmt("%.1f", ranked / n) + " candidates reach arbitration, " + Fmt("%.1f%%", 100.0 * control / n) +
                  " control group); no action:";
  for (const auto& [r, c] : reasons) s += " " + r + " " + Fmt("%.0f%%", 100.0 * c / n);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t subscribers = 20000;
  int runs = 5;
  int threads = 2;
  double seconds = 2;
  bool json = false;
  std::string workdir = (fs::temp_directory_path() / ("kairos-decide-bench-" + std::to_string(::getpid()))).string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") json = true;
    else if (a == "--subscribers" && has_value) subscribers = std::stoll(argv[++i]);
    else if (a == "--runs" && has_value) runs = std::stoi(argv[++i]);
    else if (a == "--threads" && has_value) threads = std::stoi(argv[++i]);
    else if (a == "--seconds" && has_value) seconds = std::stod(argv[++i]);
    else if (a == "--workdir" && has_value) workdir = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: decide_bench [--subscribers N] [--runs R] [--threads T] [--seconds S] [--json] "
                   "[--workdir DIR]\n");
      return 2;
    }
  }
  if (subscribers < 1 || runs < 1 || threads < 1 || seconds <= 0) {
    std::fprintf(stderr, "decide_bench: --subscribers, --runs, --threads and --seconds must be positive\n");
    return 2;
  }
  const auto t_total = Clk::now();
  const fs::path root(workdir);
  const fs::path gen = root / "gen";
  const fs::path ws_dir = root / "ws";
  fs::remove_all(root);
  fs::create_directories(root);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{root};

  // ---- workspace, data ----
  constexpr int kDays = 60;
  const TimestampMs end = sim::kDefaultEnd;  // 2026-01-01T00:00:00Z
  const TimestampMs now = end + 10 * kMsPerHour;  // 10:00 UTC: outside quiet hours in Europe
  {
    sim::GeneratorOptions o;
    o.subscribers = subscribers;
    o.days = kDays;
    o.seed = 1;
    o.end = end;
    o.out_dir = gen.string();
    const auto t = Clk::now();
    auto s = sim::Generate(o, nullptr);
    if (!s.ok()) {
      std::fprintf(stderr, "generate: %s\n", s.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "generate: %lld subscribers x %d days, %lld events in %.1f s\n",
                 static_cast<long long>(subscribers), kDays, static_cast<long long>(s->events), Seconds(t));
  }
  if (Status s = Workspace::Init(ws_dir.string()); !s.ok()) {
    std::fprintf(stderr, "init: %s\n", s.ToString().c_str());
    return 1;
  }
  std::ofstream(ws_dir / "policies.yaml") << DemoPoliciesYaml();
  std::ofstream(ws_dir / "catalog.yaml") << DemoCatalogYaml();
  std::ofstream(ws_dir / "learning.yaml") << DefaultLearningYaml();
  auto ws = Workspace::Load(ws_dir.string());
  if (!ws.ok()) {
    std::fprintf(stderr, "workspace: %s\n", ws.status().ToString().c_str());
    return 1;
  }
  auto demo = Decisioning::Load(ws_dir.string(), ws->schema);
  if (!demo.ok()) {
    std::fprintf(stderr, "demo catalog: %s\n", demo.status().ToString().c_str());
    return 1;
  }
  ManualClock clock(now);
  auto engine_or = Engine::Open(*ws, &clock);
  if (!engine_or.ok()) {
    std::fprintf(stderr, "open: %s\n", engine_or.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **engine_or;
  {
    // Bulk ingest as `kairos ingest` does it, two feeders.
    const auto t = Clk::now();
    bench::BulkIngestTotals totals = bench::BulkIngest(engine, (gen / "events.ndjson").string(), 2);
    int64_t history_events = 0;
    const std::string history = HistoryNdjson(**demo, subscribers, end, &history_events);
    totals.Add(engine.RecordBuiltinNdjson(history));
    (void)engine.Checkpoint();
    std::fprintf(stderr, "ingest: %lld events (%lld of them seeded decision/response history) in %.1f s, %lld rejected%s%s\n",
                 static_cast<long long>(totals.events), static_cast<long long>(history_events), Seconds(t),
                 static_cast<long long>(totals.rejected), totals.first_rejection.empty() ? "" : ": ",
                 totals.first_rejection.c_str());
  }
  fs::remove_all(gen);

  // ---- decoded profiles and requests ----
  const int64_t preread = std::min<int64_t>(subscribers, 50000);
  std::vector<Profile> profiles(static_cast<size_t>(preread));
  std::vector<std::string> ids(static_cast<size_t>(preread));
  size_t interactions = 0;
  for (int64_t i = 0; i < preread; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "s%07lld", static_cast<long long>(i + 1));
    ids[static_cast<size_t>(i)] = id;
    if (Status s = engine.ReadProfile(id, &profiles[static_cast<size_t>(i)]); !s.ok()) {
      std::fprintf(stderr, "read %s: %s\n", id, s.ToString().c_str());
      return 1;
    }
    interactions += profiles[static_cast<size_t>(i)].interactions.size();
  }
  std::fprintf(stderr, "profiles: %lld decoded in memory, %.1f interactions each on average\n",
               static_cast<long long>(preread), static_cast<double>(interactions) / static_cast<double>(preread));

  const char* pages[] = {"home", "data", "billing", "devices", "sports", "content", "tariffs"};
  // Requests for one catalog and channel, one per pre-read subscriber; app requests carry a page.
  auto requests = [&](const Decisioning& d, const std::string& channel, bool dry_run) {
    std::vector<DecideRequest> out;
    out.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string body = "{\"subscriber_id\":\"" + ids[i] + "\",\"channel\":\"" + channel + "\"";
      if (channel == "app") {
        body += std::string(",\"context\":{\"page\":\"") + pages[i % 7] + "\",\"roaming\":" +
                (i % 50 == 0 ? "true" : "false") + "}";
      }
      body += std::string(",\"dry_run\":") + (dry_run ? "true" : "false") + "}";
      auto r = ParseDecideRequest(body, d);
      if (!r.ok()) {
        std::fprintf(stderr, "request %s: %s\n", body.c_str(), r.status().ToString().c_str());
        std::exit(1);
      }
      out.push_back(std::move(*r));
    }
    return out;
  };

  // ---- catalogs ----
  const std::string syn100 = SyntheticCatalogYaml(4, 5, 5);
  const std::string syn2500 = SyntheticCatalogYaml(10, 25, 10);
  auto load = [&](const std::string& catalog_yaml, double* ms) -> std::shared_ptr<const Decisioning> {
    const auto t = Clk::now();
    auto d = Decisioning::Parse(DemoPoliciesYaml(), catalog_yaml, ws->schema);
    *ms = Seconds(t) * 1000;
    if (!d.ok()) {
      std::fprintf(stderr, "synthetic catalog: %s\n", d.status().ToString().c_str());
      std::exit(1);
    }
    return *d;
  };
  double ms = 0;
  std::shared_ptr<const Decisioning> d_demo = *demo;
  std::shared_ptr<const Decisioning> d100 = load(syn100, &ms);
  std::shared_ptr<const Decisioning> d2500 = load(syn2500, &ms);
  const int app = d_demo->policies.ChannelIndex("app");
  const int sms = d_demo->policies.ChannelIndex("sms");

  struct InProcess {
    std::string key, label;
    const Decisioning* d;
    int channel;
    std::vector<DecideRequest> reqs;
    learn::ModelStore* models = nullptr;  // adaptive models (learning.yaml), or priors
    const std::vector<learn::ModelStore::Entry*>* bindings = nullptr;
  };
  std::vector<InProcess> inproc;
  // The demo's adaptive models (12 predictors), each taught 2,000 responses drawn at twice its
  // prior rate from the profiles' real predictor values, so that bins and predictors are active.
  learn::ModelStore demo_models(d_demo->learning.Specs());
  const std::vector<learn::ModelStore::Entry*> demo_bindings = BindModels(*d_demo, &demo_models);
  {
    Rng rng(9);
    learn::EncodedPredictors enc;
    auto lock = demo_models.Lock();
    const size_t channels = d_demo->policies.channels.size();
    const std::vector<ContextValue> no_context;
    for (size_t k = 0; k < 2000 && k < profiles.size(); ++k) {
      FeatureCache features(*d_demo, profiles[k], now, "app", no_context);
      demo_models.Encode(PredictorValues(d_demo->learning, features, now), &enc);
      for (size_t a = 0; a < d_demo->catalog.actions.size(); ++a) {
        learn::ModelStore::Entry* m = demo_bindings[a * channels + static_cast<size_t>(app)];
        if (m != nullptr) demo_models.Update(m, enc, rng.Bernoulli(2 * d_demo->catalog.actions[a].propensity));
      }
    }
  }
  // The same workspace deciding greedily on the models' means (no exploration).
  auto greedy = std::make_shared<Decisioning>(*d_demo);
  greedy->learning.exploration.method = learn::ExplorationMethod::kNone;
  inproc.push_back({"demo_app", "demo catalog, app, Decide in-process", d_demo.get(), app, requests(*d_demo, "app", true)});
  inproc.push_back({"demo_sms", "demo catalog, sms, Decide in-process", d_demo.get(), sms, requests(*d_demo, "sms", true)});
  inproc.push_back({"demo_app_models_greedy", "demo catalog, app, adaptive models, no exploration", greedy.get(), app,
                    requests(*greedy, "app", true), &demo_models, &demo_bindings});
  inproc.push_back({"demo_app_models_thompson", "demo catalog, app, adaptive models, Thompson (64 samples)", d_demo.get(),
                    app, requests(*d_demo, "app", true), &demo_models, &demo_bindings});
  inproc.push_back({"synthetic_100_app", "100 actions, app, Decide in-process", d100.get(), app, requests(*d100, "app", true)});
  inproc.push_back({"synthetic_2500_app", "2,500 actions, app, Decide in-process", d2500.get(), app, requests(*d2500, "app", true)});

  TimeZoneCache zones;
  for (const InProcess& m : inproc) {
    std::fprintf(stderr, "%s: %s\n", m.key.c_str(), OutcomeSummary(*m.d, profiles, m.reqs, m.channel, now, &zones).c_str());
  }

  DecisionService service(&engine, &clock, d_demo);
  if (Status s = service.Start(); !s.ok()) {
    std::fprintf(stderr, "service start: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::vector<DecideRequest> dry_reqs = requests(*d_demo, "app", true);
  const std::vector<DecideRequest> rec_reqs = requests(*d_demo, "app", false);

  // ---- measurements, interleaved across runs ----
  std::map<std::string, std::vector<Sample>> samples;
  std::map<std::string, std::vector<double>> loads;
  std::mutex err_mu;
  std::string first_error;
  auto note_error = [&](const Status& s) {
    std::lock_guard<std::mutex> lock(err_mu);
    if (first_error.empty()) first_error = s.ToString();
  };
  for (int r = 0; r < runs; ++r) {
    std::fprintf(stderr, "run %d/%d\n", r + 1, runs);
    for (const auto& [key, text] : {std::pair<std::string, const std::string*>{"synthetic_100_app", &syn100},
                                    {"synthetic_2500_app", &syn2500}}) {
      (void)load(*text, &ms);
      loads[key].push_back(ms);
    }
    {
      const auto t = Clk::now();
      (void)Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), ws->schema);
      loads["demo_app"].push_back(Seconds(t) * 1000);
    }
    for (const InProcess& m : inproc) {
      VolumeLedger ledger;
      const DecideEnv env{&zones, &ledger, false, m.models, m.bindings};
      size_t sink = 0;
      const size_t n = m.reqs.size();
      samples[m.key].push_back(Measure(1, seconds, [&](int64_t i) {
        const size_t k = static_cast<size_t>(i) % n;
        const Decision dec = Decide(*m.d, profiles[k], m.reqs[k], m.channel, now, env);
        sink += dec.actions.size();
        return true;
      }));
      if (sink == 0) std::fprintf(stderr, "%s: no action chosen in any decision\n", m.key.c_str());
    }
    const size_t n = dry_reqs.size();
    samples["service_dry_run"].push_back(Measure(1, seconds, [&](int64_t i) {
      auto out = service.Decide(dry_reqs[static_cast<size_t>(i) % n], *d_demo);
      if (!out.ok()) note_error(out.status());
      return out.ok();
    }));
    auto record = [&](int64_t i) {
      auto out = service.Decide(rec_reqs[static_cast<size_t>(i) % n], *d_demo);
      if (!out.ok()) note_error(out.status());
      return out.ok();
    };
    samples["service_record_1"].push_back(Measure(1, seconds, record));
    samples["service_record_t"].push_back(Measure(threads, seconds, record));
  }
  if (!first_error.empty()) std::fprintf(stderr, "first error: %s\n", first_error.c_str());

  // ---- report ----
  auto make = [&](const std::string& key, const std::string& label) {
    Row row;
    row.key = key;
    row.label = label;
    std::vector<double> per_s, p50, p99;
    for (const Sample& s : samples[key]) {
      per_s.push_back(s.per_s), p50.push_back(s.p50_us), p99.push_back(s.p99_us);
      row.calls += s.calls, row.errors += s.errors;
    }
    row.per_s = Median(per_s), row.p50_us = Median(p50), row.p99_us = Median(p99);
    if (loads.count(key)) row.load_ms = Median(loads[key]);
    return row;
  };
  std::vector<Row> rows;
  for (const InProcess& m : inproc) {
    Row row = make(m.key, m.label + " (" + std::to_string(m.d->catalog.actions.size()) + " actions)");
    if (m.key == "synthetic_2500_app") {
      row.targets = {{"load < 1 s", row.load_ms < 1000}, {"p99 < 1 ms", row.p99_us < 1000}};
    } else {
      row.targets = {{"p99 < 100 us", row.p99_us < 100}, {">= 100k/s", row.per_s >= 100000}};
    }
    if (m.key == "demo_sms") row.load_ms = -1;  // the demo load is reported once, on the app row
    rows.push_back(row);
  }
  rows.push_back(make("service_dry_run", "DecisionService, app, dry run (LMDB read + decide + JSON)"));
  rows.push_back(make("service_record_1", "DecisionService, app, recorded, 1 thread"));
  rows.push_back(make("service_record_t", "DecisionService, app, recorded, " + std::to_string(threads) + " threads"));

  struct statfs sf {};
  std::string fs_type = "?";
  if (::statfs(root.c_str(), &sf) == 0) {
    fs_type = sf.f_type == 0x01021994 ? "tmpfs" : sf.f_type == 0xEF53 ? "ext4" : sf.f_type == 0x58465342 ? "xfs"
              : sf.f_type == 0x9123683E ? "btrfs" : sf.f_type == 0x794c7630 ? "overlayfs" : "other";
  }
  const double total_s = Seconds(t_total);
  if (json) {
    std::string o = "{\"subscribers\":" + std::to_string(subscribers) + ",\"days\":" + std::to_string(kDays) +
                    ",\"runs\":" + std::to_string(runs) + ",\"threads\":" + std::to_string(threads) +
                    ",\"seconds\":" + Fmt("%g", seconds) + ",\"filesystem\":\"" + fs_type + "\",\"results\":{";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      o += (i ? "," : "") + std::string("\"") + r.key + "\":{\"label\":\"" + JsonEscape(r.label) +
           "\",\"decisions_per_s\":" + Fmt("%.0f", r.per_s) + ",\"p50_us\":" + Fmt("%.2f", r.p50_us) +
           ",\"p99_us\":" + Fmt("%.2f", r.p99_us) + ",\"calls\":" + std::to_string(r.calls) +
           ",\"errors\":" + std::to_string(r.errors);
      if (r.load_ms >= 0) o += ",\"catalog_load_ms\":" + Fmt("%.2f", r.load_ms);
      if (!r.targets.empty()) {
        o += ",\"targets\":{";
        for (size_t j = 0; j < r.targets.size(); ++j) {
          o += (j ? "," : "") + std::string("\"") + r.targets[j].first + "\":" + (r.targets[j].second ? "true" : "false");
        }
        o += "}";
      }
      o += "}";
    }
    o += "},\"total_s\":" + Fmt("%.1f", total_s) + "}";
    std::printf("%s\n", o.c_str());
    return 0;
  }
  std::printf("\ndecide_bench: %lld subscribers x %d days, median of %d runs of %g s each, store on %s\n",
              static_cast<long long>(subscribers), kDays, runs, seconds, fs_type.c_str());
  std::printf("%-74s %12s %9s %9s %9s  %s\n", "measurement", "decisions/s", "p50 us", "p99 us", "load ms", "targets");
  for (const Row& r : rows) {
    std::string t;
    for (const auto& [name, ok] : r.targets) t += (t.empty() ? "" : ", ") + name + " " + (ok ? "ok" : "MISS");
    if (r.errors) t += (t.empty() ? "" : ", ") + std::to_string(r.errors) + " errors";
    std::printf("%-74s %12.0f %9.1f %9.1f %9s  %s\n", r.label.c_str(), r.per_s, r.p50_us, r.p99_us,
                r.load_ms >= 0 ? Fmt("%.1f", r.load_ms).c_str() : "-", t.c_str());
  }
  std::printf("total %.0f s\n", total_s);
  return 0;
}
