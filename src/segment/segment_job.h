// The segmentation job (`kairos segment`, and serve on segments.yaml's schedule): computes every
// subscriber's value, effort, tier, behavioural segments, RFM, cluster, CLV and churn score, and
// writes them into the profiles as one built-in `scores` event each (through the engine: WAL,
// group commit, crash recovery like any event). Rules then read them as segment.value_tier,
// score.churn, clv.expected_12m, ... (schema/score_fields.h). Formulas: docs/segments.md.
//
// Two passes: (1) every partition is scanned in parallel, each profile decoded once and every
// expression of segments.yaml evaluated into a compact row; (2) population figures (quantile
// thresholds, RFM quintiles, the k-means and CLV fits on samples, the churn model's batch
// scores) turn rows into scores, written in batches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "ingest/engine.h"

namespace kairos {

struct SegmentRunOptions {
  TimestampMs now = 0;         // the time the expressions are read at (and the scores' time)
  std::string run_id;          // empty: "seg-" + the time
  std::string workspace_dir;   // where the churn model is found and the report is written
  int threads = 2;             // scan threads (at most one per partition)
  int write_batch = 20000;     // scores events per engine batch
  // Called now and then from the job's threads with (profiles done, profiles in total).
  std::function<void(int64_t, int64_t)> progress;
};

// Sizes and value of one segment.
struct SegmentFigures {
  int64_t subscribers = 0;
  double revenue = 0, margin = 0, effort = 0;  // per month, summed over the segment
};

struct SegmentReport {
  std::string run_id;
  TimestampMs at = 0;
  int64_t subscribers = 0;
  int64_t written = 0;
  double seconds = 0, scan_seconds = 0, fit_seconds = 0, write_seconds = 0;
  SegmentFigures total;
  // Threshold values actually used (EUR per month).
  double value_high = 0, value_low = 0, effort_high = 0;
  std::map<std::string, SegmentFigures> tiers, behaviour, buyer, usage, rfm;
  struct Cluster {
    int id = 0;
    std::string name, description;
    SegmentFigures figures;
    std::vector<std::pair<std::string, double>> centroid;  // feature → value (own units)
  };
  std::vector<Cluster> clusters;
  std::string cluster_selection;  // why this k
  std::vector<std::pair<int, double>> silhouettes;  // k → mean silhouette
  // CLV fit (empty when not configured or not identifiable).
  std::string clv_status;  // "fitted" or why not
  double bgnbd_r = 0, bgnbd_alpha = 0, bgnbd_a = 0, bgnbd_b = 0;
  double gg_p = 0, gg_q = 0, gg_gamma = 0;
  int64_t clv_customers = 0;
  double clv_mean = 0;
  std::string churn_status;  // "scored" or why not
  double churn_mean = 0;
  int64_t churn_scored = 0;
  std::map<std::string, int64_t> expression_nulls;  // expression → subscribers where it was null

  std::string ToJson() const;
};

// Runs the job over every stored profile. kFailedPrecondition when the workspace has no
// segments.yaml; errors of the engine are returned as they are (scores written so far stay:
// every profile holds either its old scores or the new ones).
Result<SegmentReport> RunSegmentation(Engine& engine, const Decisioning& decisioning,
                                      const SegmentRunOptions& options);

// Where the job keeps its last report: <workspace>/segments/report.json.
std::string SegmentReportPath(const std::string& workspace_dir);
// The churn feature snapshots: <workspace>/segments/churn-features/<epoch ms>.csv, one per run
// (subscriber_id and segments.yaml's churn.features as of the run); listed oldest first.
std::string ChurnSnapshotDir(const std::string& workspace_dir);
std::vector<std::pair<TimestampMs, std::filesystem::path>> ListChurnSnapshots(
    const std::string& workspace_dir);

}  // namespace kairos
