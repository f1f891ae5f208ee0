// The churn model's training set from a workspace (`kairos churn train --workspace DIR`): the
// features as they were at a past segmentation run (its snapshot in segments/churn-features/)
// labelled by who left within segments.yaml's churn.horizon after it. Point in time on purpose:
// features read now would include the silence after a port-out and teach the model to
// recognise customers who have already gone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analytics/table.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "ingest/engine.h"

namespace kairos {

struct ChurnTrainingSet {
  analytics::Table features;  // segments.yaml churn.features, one row per labelled subscriber
  std::vector<int> labels;    // 1: left within the horizon after the snapshot
  TimestampMs snapshot_at = 0;
  std::string snapshot_path;
  int64_t positives = 0;
  std::map<std::string, int64_t> dropped;  // reason → rows
};

// Uses the newest snapshot taken at least churn.horizon before `now`. kFailedPrecondition when
// segments.yaml has no churn features or label, or no snapshot is old enough (saying when the
// oldest one will be).
Result<ChurnTrainingSet> BuildChurnTrainingSet(Engine& engine, const Decisioning& d,
                                               const std::string& workspace_dir, TimestampMs now);

}  // namespace kairos
