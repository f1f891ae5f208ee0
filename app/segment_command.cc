// kairos segment: the segmentation job on a workspace's store (docs/segments.md). The store is
// locked by a running serve; there the job runs on segments.yaml's schedule or on
// POST /v1/admin/segments/run.
#include <cstdio>

#include "app/commands.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "segment/segment_job.h"

namespace kairos::app {

int RunSegment(const SegmentArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto d = Decisioning::Load(args.workspace, ws->schema);
  if (!d.ok()) return Fail(d.status().message());
  SystemClock clock;
  auto engine = Engine::Open(*ws, &clock);
  if (!engine.ok()) return Fail(engine.status().message());
  ProgressBar bar(StderrIsTerminal() && !args.json);
  SegmentRunOptions o;
  o.now = clock.Now();
  if (!args.at.empty()) {
    auto at = ParseRfc3339(args.at);
    if (!at.ok()) return Fail("--at: " + at.status().message());
    o.now = *at;
  }
  o.workspace_dir = args.workspace;
  o.threads = args.threads;
  o.progress = [&bar](int64_t done, int64_t total) {
    if (total > 0) bar.Update(static_cast<double>(done) / static_cast<double>(total),
                              std::to_string(done) + " subscribers");
  };
  auto report = RunSegmentation(**engine, **d, o);
  bar.Done();
  if (!report.ok()) return Fail(report.status().message());
  if (args.json) {
    std::printf("%s\n", report->ToJson().c_str());
    return 0;
  }
  const SegmentReport& r = *report;
  std::printf("Segmented %lld subscribers in %.2f s (scan %.2f, fit %.2f, write %.2f); run %s\n",
              static_cast<long long>(r.subscribers), r.seconds, r.scan_seconds, r.fit_seconds,
              r.write_seconds, r.run_id.c_str());
  auto table = [&](const char* title, const std::map<std::string, SegmentFigures>& m) {
    if (m.empty()) return;
    std::printf("\n%-16s %10s %7s %9s %9s\n", title, "subscribers", "share", "revenue", "margin");
    for (const auto& [name, f] : m) {
      auto share = [](double a, double b) { return b > 0 ? 100 * a / b : 0.0; };
      std::printf("%-16s %10lld %6.1f%% %8.1f%% %8.1f%%\n", name.c_str(),
                  static_cast<long long>(f.subscribers),
                  share(static_cast<double>(f.subscribers), static_cast<double>(r.total.subscribers)),
                  share(f.revenue, r.total.revenue), share(f.margin, r.total.margin));
    }
  };
  table("value tier", r.tiers);
  table("behaviour", r.behaviour);
  table("buyer", r.buyer);
  table("usage", r.usage);
  table("rfm", r.rfm);
  if (!r.clusters.empty()) {
    std::printf("\nclusters (%s)\n", r.cluster_selection.c_str());
    for (const auto& c : r.clusters) {
      std::printf("  %d %-28s %9lld  %s\n", c.id, c.name.c_str(),
                  static_cast<long long>(c.figures.subscribers), c.description.c_str());
    }
  } else if (!r.cluster_selection.empty()) {
    std::printf("\nclusters: %s\n", r.cluster_selection.c_str());
  }
  std::printf("\nCLV: %s; mean expected 12-month margin %.2f EUR\n", r.clv_status.c_str(), r.clv_mean);
  std::printf("churn: %s", r.churn_status.c_str());
  if (r.churn_scored > 0) std::printf("; mean %.3f over %lld", r.churn_mean, static_cast<long long>(r.churn_scored));
  std::printf("\n");
  return 0;
}

}  // namespace kairos::app
