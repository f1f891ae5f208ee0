// kairos serve: the server on a workspace until SIGINT/SIGTERM.
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "app/commands.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "segment/segment_job.h"
#include "app/offer_stack.h"
#include "server/api_keys.h"
#include "server/audit_log.h"
#include "server/server.h"
#include "trigger/automation.h"

namespace kairos::app {

int RunServe(const ServeArgs& args) {
  // Validate every file before anything listens: an invalid workspace never serves.
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto decisioning = Decisioning::Load(args.workspace, ws->schema);
  if (!decisioning.ok()) return Fail(decisioning.status().message());
  ServerOptions options = ServerOptions::FromConfig(ws->config.server);
  if (!args.host.empty()) options.host = args.host;
  if (args.port >= 0) options.port = args.port;
  options.keys_path = KeyFile::PathIn(args.workspace);
  options.audit_path = AuditLog::PathIn(args.workspace);
  options.rate_limit_per_second = ws->config.auth.rate_limit_per_second;
  options.rate_limit_burst = ws->config.auth.rate_limit_burst;
  options.metrics_public = ws->config.auth.metrics_public;
  if (auto keys = KeyFile::Load(options.keys_path); !keys.ok()) {
    return Fail(keys.status().message());
  } else if (keys->empty()) {
    std::printf("No API keys yet: every /v1/ route answers 401. Create one with\n"
                "  kairos keys create --workspace %s --role admin\n",
                args.workspace.c_str());
  }

  // Signals go to sigwait below, never to an arbitrary thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  Server server(options, &clock);
  auto port = server.Start();
  if (!port.ok()) return Fail(port.status().message());
  std::printf("Kairos listening on http://%s:%d (recovering the store...)\n", options.host.c_str(), *port);
  std::fflush(stdout);

  // /healthz answers during recovery; /readyz turns 200 once the engine is attached.
  auto engine = Engine::Open(*ws, &clock);
  if (!engine.ok()) {
    server.Stop();
    return Fail(engine.status().message());
  }
  const EngineStats st = (*engine)->Stats();
  DecisionService decisions(engine->get(), &clock, *decisioning);
  decisions.SetModelFile(DecisionService::ModelFile(*ws));
  if (Status s = decisions.Start(); !s.ok()) {
    server.Stop();
    return Fail(s.message());
  }
  // Triggers, journeys and outbound delivery (triggers.yaml; <store>/outbox, <store>/journeys).
  auto automation = Automation::Open(*ws, engine->get(), &decisions, &clock);
  if (!automation.ok()) {
    server.Stop();
    return Fail(automation.status().message());
  }
  (*automation)->Start();
  // Offer links and QR codes point at this server unless kairos.yaml names a public URL.
  const std::string self_url = std::string(options.tls_cert.empty() ? "http" : "https") + "://" +
                               (options.host == "0.0.0.0" ? std::string("127.0.0.1") : options.host) +
                               ":" + std::to_string(*port);
  auto offers = OfferStack::Open(*ws, &decisions, &clock,
                                 ws->config.offers_base_url.empty() ? self_url : ws->config.offers_base_url,
                                 self_url);
  if (!offers.ok()) {
    server.Stop();
    return Fail(offers.status().message());
  }
  server.AttachEngine(engine->get());
  server.AttachDecisions(&decisions);
  server.AttachAutomation(automation->get());
  server.AttachOffers((*offers)->routes.get());
  std::printf("ready: %lld subscribers, %lld events replayed from the WAL in %lld ms; %zu actions, %zu triggers, "
              "%zu journeys\n",
              static_cast<long long>(st.subscribers), static_cast<long long>(st.recovered_events),
              static_cast<long long>(st.recovery_ms), (*decisioning)->catalog.actions.size(),
              (*automation)->triggers().triggers()->triggers.size(),
              (*automation)->triggers().triggers()->journeys.size());
  std::fflush(stdout);

  // Once a second: responses that timed out become `ignored`; the model file is saved every
  // learning.snapshot_interval.
  std::mutex maintenance_mu;
  std::condition_variable maintenance_cv;
  bool stopping = false;
  std::thread maintenance([&] {
    std::unique_lock lock(maintenance_mu);
    std::string last_error;
    while (!maintenance_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; })) {
      lock.unlock();
      Status s = decisions.Maintain();
      if (s.ok()) s = (*offers)->Maintain(clock.Now());
      if (!s.ok() && s.message() != last_error) std::fprintf(stderr, "maintenance: %s\n", s.message().c_str());
      last_error = s.ok() ? "" : s.message();
      lock.lock();
    }
  });

  // segments.yaml's schedule: the segmentation job with the decisioning in use at each run (a
  // reload applies to the next run). The first run waits one interval: a restart does not
  // re-segment.
  std::thread segmenter([&] {
    std::unique_lock lock(maintenance_mu);
    TimestampMs next = 0;
    while (!maintenance_cv.wait_for(lock, std::chrono::seconds(5), [&] { return stopping; })) {
      const auto d = decisions.decisioning();
      const int64_t every = d->segmentation.present ? d->segmentation.schedule_ms : 0;
      if (every <= 0) {
        next = 0;
        continue;
      }
      const TimestampMs now = clock.Now();
      if (next == 0) next = now + every;
      if (now < next) continue;
      next = now + every;
      lock.unlock();
      SegmentRunOptions o;
      o.now = now;
      o.workspace_dir = args.workspace;
      o.threads = 1;  // leave a core to the requests
      auto report = RunSegmentation(**engine, *d, o);
      if (report.ok()) {
        std::printf("segmented %lld subscribers in %.1f s (run %s)\n",
                    static_cast<long long>(report->subscribers), report->seconds, report->run_id.c_str());
      } else {
        std::fprintf(stderr, "segmentation: %s\n", report.status().message().c_str());
      }
      std::fflush(stdout);
      lock.lock();
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  server.Stop();
  {
    std::lock_guard lock(maintenance_mu);
    stopping = true;
  }
  maintenance_cv.notify_all();
  maintenance.join();
  segmenter.join();
  (*automation)->Stop();  // no new decisions from triggers or journeys; the outbox keeps the rest
  if (Status s = decisions.SaveModels(); !s.ok()) std::fprintf(stderr, "saving the models: %s\n", s.message().c_str());
  automation->reset();
  offers->reset();  // the payment provider's worker stops; pending webhooks are retried by nobody
  engine->reset();  // checkpoint: the next start replays nothing
  return 0;
}

}  // namespace kairos::app
