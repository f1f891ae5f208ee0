#include "segment/churn_training.h"

#include "common/time_format.h"
#include "profile/profile.h"
#include "segment/segment_job.h"

namespace kairos {

Result<ChurnTrainingSet> BuildChurnTrainingSet(Engine& engine, const Decisioning& d,
                                               const std::string& workspace_dir, TimestampMs now) {
  const ChurnConfig& c = d.segmentation.churn;
  if (!d.segmentation.present || c.features.empty() || c.label_aggregate < 0) {
    return Status(ErrorCode::kFailedPrecondition,
                  "segments.yaml needs churn.features and churn.label to train from profiles");
  }
  const auto snapshots = ListChurnSnapshots(workspace_dir);
  ChurnTrainingSet out;
  for (const auto& [t, path] : snapshots) {
    if (t + c.horizon_ms <= now) out.snapshot_at = t, out.snapshot_path = path.string();
  }
  if (out.snapshot_path.empty()) {
    std::string when = snapshots.empty()
                           ? "there is none yet: kairos segment writes one per run"
                           : "the oldest, " + FormatRfc3339(snapshots.front().first) +
                                 ", is old enough from " +
                                 FormatRfc3339(snapshots.front().first + c.horizon_ms);
    return Status(ErrorCode::kFailedPrecondition,
                  "no churn feature snapshot in " + ChurnSnapshotDir(workspace_dir) +
                      " is at least churn.horizon old (" + when + ")");
  }
  analytics::CsvTableOptions csv;
  csv.categorical = {"subscriber_id"};
  for (const NamedExpr& f : c.features) csv.numeric.push_back(f.name);
  KAIROS_ASSIGN_OR_RETURN(analytics::Table snapshot, analytics::LoadCsvTable(out.snapshot_path, csv));
  KAIROS_ASSIGN_OR_RETURN(analytics::Column ids, snapshot.TakeColumn("subscriber_id"));

  // Labels from the profiles as they are now.
  std::vector<int64_t> keep;
  Profile profile;
  for (int64_t r = 0; r < snapshot.rows(); ++r) {
    const int32_t code = ids.codes[static_cast<size_t>(r)];
    if (code == analytics::Column::kMissingCode) {
      ++out.dropped["no subscriber id"];
      continue;
    }
    Status s = engine.ReadProfile(ids.categories[static_cast<size_t>(code)], &profile);
    if (s.code() == ErrorCode::kNotFound) {
      ++out.dropped["subscriber no longer in the store"];
      continue;
    }
    KAIROS_RETURN_IF_ERROR(s);
    const TimestampMs left = profile.aggregates[static_cast<size_t>(c.label_aggregate)].last_ms;
    if (left >= 0 && left <= out.snapshot_at) {
      ++out.dropped["left before the snapshot"];
      continue;
    }
    const int label = left > out.snapshot_at && left <= out.snapshot_at + c.horizon_ms ? 1 : 0;
    out.labels.push_back(label);
    out.positives += label;
    keep.push_back(r);
  }
  for (const NamedExpr& f : c.features) {
    const auto idx = snapshot.Find(f.name);
    if (!idx) {
      return InvalidArgument(out.snapshot_path + ": no column " + f.name +
                             " (churn.features changed since the snapshot; wait for a newer one)");
    }
    const analytics::Column& col = snapshot.column(*idx);
    std::vector<double> values;
    values.reserve(keep.size());
    for (int64_t r : keep) values.push_back(col.numbers[static_cast<size_t>(r)]);
    KAIROS_RETURN_IF_ERROR(out.features.AddNumericColumn(f.name, std::move(values)));
  }
  return out;
}

}  // namespace kairos
