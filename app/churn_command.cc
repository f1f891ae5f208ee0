// kairos churn train / score: the gradient-boosted churn model on CSV files (DESIGN.md §7,
// docs/churn.md).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analytics/churn.h"
#include "analytics/table.h"
#include "app/commands.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "ingest/engine.h"
#include "schema/workspace.h"
#include "segment/churn_training.h"

namespace kairos::app {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void String(Writer& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

// NaN (a fold without both classes cannot happen, but an AUC is still a double) → null.
void Number(Writer& w, double v) {
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

// The training set of a workspace: the newest churn feature snapshot at least churn.horizon
// old, labelled from the profiles (src/segment/churn_training.h). The model goes where
// segments.yaml's churn.model says unless --out is given.
Result<ChurnTrainingSet> WorkspaceTrainingSet(const ChurnTrainArgs& args, std::string* out) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return ws.status();
  auto d = Decisioning::Load(args.workspace, ws->schema);
  if (!d.ok()) return d.status();
  SystemClock clock;
  TimestampMs now = clock.Now();
  if (!args.at.empty()) {
    auto at = ParseRfc3339(args.at);
    if (!at.ok()) return InvalidArgument("--at: " + at.status().message());
    now = *at;
  }
  auto engine = Engine::Open(*ws, &clock);
  if (!engine.ok()) return engine.status();
  if (!args.out_given && !(*d)->segmentation.churn.model_path.empty()) {
    *out = (std::filesystem::path(args.workspace) / (*d)->segmentation.churn.model_path).string();
  }
  return BuildChurnTrainingSet(**engine, **d, args.workspace, now);
}

int RunChurnTrain(const ChurnTrainArgs& args) {
  if (args.folds < 2 || args.folds > 20) return Fail("--folds must be 2..20");
  if (args.workspace.empty() == args.csv.empty())
    return Fail("give either --csv (with --target) or --workspace");
  std::string out_path = args.out;
  std::string source = args.csv;
  std::string target_name = args.target;
  std::string positive;
  analytics::Table table;
  std::vector<int> label_values;
  std::map<std::string, int64_t> dropped;
  if (!args.workspace.empty()) {
    auto set = WorkspaceTrainingSet(args, &out_path);
    if (!set.ok()) return Fail(set.status().message());
    source = set->snapshot_path;
    target_name = "churned within churn.horizon after " + FormatRfc3339(set->snapshot_at);
    positive = "1";
    table = std::move(set->features);
    label_values = std::move(set->labels);
    dropped = std::move(set->dropped);
  } else {
    if (args.target.empty()) return Fail("--csv needs --target");
    analytics::CsvTableOptions csv;
    if (!args.id_column.empty()) csv.categorical = {args.id_column};
    auto loaded = analytics::LoadCsvTable(args.csv, csv);
    if (!loaded.ok()) return Fail(loaded.status().message());
    table = std::move(*loaded);
    auto target = table.TakeColumn(args.target);
    if (!target.ok()) return Fail("--target: " + target.status().message());
    if (!args.id_column.empty()) {
      if (args.id_column == args.target) return Fail("--id and --target name the same column");
      auto id = table.TakeColumn(args.id_column);
      if (!id.ok()) return Fail("--id: " + id.status().message());
    }
    auto labels = analytics::LabelsFromColumn(*target, args.positive);
    if (!labels.ok()) {
      return Fail(args.csv + ": " + labels.status().message() +
                  (args.positive.empty() ? " (use --positive)" : ""));
    }
    positive = labels->positive;
    label_values = std::move(labels->labels);
  }

  analytics::ChurnOptions options;
  options.folds = args.folds;
  options.seed = args.seed;
  options.threads = args.threads;
  options.target = target_name;
  options.positive = positive;
  auto trained = analytics::TrainChurn(table, label_values, options);
  if (!trained.ok()) return Fail(source + ": " + trained.status().message());
  for (const auto& [reason, n] : dropped) trained->report.rows_dropped[reason] += n;
  const analytics::ChurnReport& r = trained->report;
  const Status saved = trained->model.Save(out_path);
  if (!saved.ok()) return Fail(saved.message());

  const analytics::CalibrationReport& c = r.calibration;
  if (args.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("rows");
    w.Int64(r.rows);
    w.Key("auc");
    Number(w, r.auc);
    w.Key("auc_folds");
    w.StartArray();
    for (double a : r.auc_folds) Number(w, a);
    w.EndArray();
    w.Key("model");
    String(w, out_path);
    w.Key("rows_dropped");
    w.StartObject();
    for (const auto& [reason, n] : r.rows_dropped) {
      String(w, reason);
      w.Int64(n);
    }
    w.EndObject();
    w.Key("positives");
    w.Int64(r.positives);
    w.Key("features");
    w.Int(r.features);
    // Not pinned: what else a caller may want to check or show.
    w.Key("dropped_features");
    w.StartArray();
    for (const auto& d : r.dropped_features) {
      w.StartObject();
      w.Key("name");
      String(w, d.name);
      w.Key("reason");
      String(w, d.reason);
      w.EndObject();
    }
    w.EndArray();
    w.Key("target");
    String(w, target_name);
    w.Key("positive");
    String(w, positive);
    w.Key("cv_rows");
    w.Int64(r.cv_rows);
    if (std::isfinite(r.holdout_auc)) {
      w.Key("holdout_auc");
      w.Double(r.holdout_auc);
    }
    w.Key("rounds");
    w.Int(r.rounds);
    w.Key("rounds_folds");
    w.StartArray();
    for (int n : r.rounds_folds) w.Int(n);
    w.EndArray();
    w.Key("calibration");
    w.StartObject();
    w.Key("method");
    String(w, c.method);
    w.Key("a");
    w.Double(c.platt.a);
    w.Key("b");
    w.Double(c.platt.b);
    w.Key("base_rate");
    w.Double(c.base_rate);
    w.Key("mean_predicted");
    w.Double(c.mean_predicted);
    w.Key("brier");
    w.Double(c.brier);
    w.Key("log_loss");
    w.Double(c.log_loss);
    w.Key("ece");
    w.Double(c.ece);
    w.Key("fitted_on");
    String(w, c.fitted_on);
    w.EndObject();
    w.Key("seconds");
    w.Double(r.seconds);
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return 0;
  }

  std::printf("%lld rows used (%lld churners: %s = \"%s\"), %d features",
              static_cast<long long>(r.rows), static_cast<long long>(r.positives),
              target_name.c_str(), positive.c_str(), r.features);
  for (const auto& [reason, n] : r.rows_dropped) {
    std::printf("; %lld rows dropped (%s)", static_cast<long long>(n), reason.c_str());
  }
  std::printf("\n");
  for (const auto& d : r.dropped_features) {
    std::printf("column %s not used: %s\n", d.name.c_str(), d.reason.c_str());
  }
  std::printf("cross-validated AUC %.4f (%zu folds:", r.auc, r.auc_folds.size());
  for (double a : r.auc_folds) std::printf(" %.4f", a);
  std::printf(")");
  if (r.cv_rows < r.rows) {
    std::printf(" on a stratified sample of %lld rows; final model AUC %.4f on its 10%% hold-out",
                static_cast<long long>(r.cv_rows), r.holdout_auc);
  }
  std::printf("\n");
  std::printf("calibration (Platt, %s): mean predicted %.4f, churn rate %.4f, ECE %.4f\n",
              c.fitted_on.c_str(), c.mean_predicted, c.base_rate, c.ece);
  std::printf("model: %d trees → %s (%.1f s)\n", r.rounds, out_path.c_str(), r.seconds);
  return 0;
}

int RunChurnScore(const ChurnScoreArgs& args) {
  if (args.top < 0) return Fail("--top must be >= 0");
  auto model = analytics::ChurnModel::Load(args.model);
  if (!model.ok()) return Fail(model.status().message());
  // The model's schema decides each column's type, so that a numeric feature with a stray word
  // is an error naming file:line rather than a silently categorical column.
  analytics::CsvTableOptions csv;
  for (const analytics::ChurnFeature& f : model->features()) {
    (f.kind == analytics::ColumnKind::kNumeric ? csv.numeric : csv.categorical).push_back(f.name);
  }
  if (!args.id_column.empty()) {
    csv.categorical.push_back(args.id_column);
    csv.numeric.erase(std::remove(csv.numeric.begin(), csv.numeric.end(), args.id_column),
                      csv.numeric.end());
  }
  auto table = analytics::LoadCsvTable(args.csv, csv);
  if (!table.ok()) return Fail(table.status().message());
  const analytics::Column* id = nullptr;
  if (!args.id_column.empty()) id = &table->column(*table->Find(args.id_column));

  std::unique_ptr<std::FILE, FileCloser> file;
  std::FILE* out = stdout;
  if (!args.out.empty()) {
    file.reset(std::fopen(args.out.c_str(), "w"));
    if (!file) return Fail("cannot write " + args.out + ": " + std::strerror(errno));
    out = file.get();
  }
  // Chunks bound the memory of the contribution matrix on large files.
  constexpr int64_t kChunk = 65536;
  std::map<std::string, int64_t> unknown;
  double sum = 0;
  for (int64_t begin = 0; begin < table->rows(); begin += kChunk) {
    const int64_t end = std::min(table->rows(), begin + kChunk);
    auto scores = model->ScoreTable(*table, args.top, begin, end);
    if (!scores.ok()) return Fail(scores.status().message());
    for (const auto& [feature, n] : scores->unknown_categories) unknown[feature] += n;
    for (int64_t r = begin; r < end; ++r) {
      const size_t i = static_cast<size_t>(r - begin);
      rapidjson::StringBuffer sb;
      Writer w(sb);
      w.StartObject();
      if (id != nullptr) {
        w.Key("id");
        String(w, id->CellText(r));
      } else {
        w.Key("row");
        w.Int64(r + 1);
      }
      w.Key("churn_probability");
      w.Double(scores->probability[i]);
      sum += scores->probability[i];
      if (args.top > 0) {
        w.Key("drivers");
        w.StartArray();
        for (const analytics::Driver& d : scores->drivers[i]) {
          w.StartObject();
          w.Key("feature");
          String(w, d.feature);
          w.Key("value");
          String(w, d.value);
          w.Key("contribution");
          w.Double(d.contribution);
          w.EndObject();
        }
        w.EndArray();
      }
      if (!scores->unknown[i].empty()) {
        w.Key("unknown_categories");
        w.StartArray();
        for (const std::string& f : scores->unknown[i]) String(w, f);
        w.EndArray();
      }
      w.EndObject();
      std::fputs(sb.GetString(), out);
      std::fputc('\n', out);
    }
  }
  if (std::fflush(out) != 0 || std::ferror(out)) {
    return Fail("cannot write " + (args.out.empty() ? std::string("standard output") : args.out));
  }
  int64_t unknown_cells = 0;
  std::string unknown_text;
  for (const auto& [feature, n] : unknown) {
    unknown_cells += n;
    unknown_text += (unknown_text.empty() ? "" : ", ") + feature + ": " + std::to_string(n);
  }
  const double mean = table->rows() > 0 ? sum / static_cast<double>(table->rows()) : 0;
  if (args.out.empty()) {
    // Standard output holds the scores; a note on unknown categories goes to stderr.
    if (unknown_cells > 0) {
      std::fprintf(stderr,
                   "kairos: note: %lld cells hold categories the model never saw, scored as "
                   "missing (%s)\n",
                   static_cast<long long>(unknown_cells), unknown_text.c_str());
    }
    return 0;
  }
  if (args.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("rows");
    w.Int64(table->rows());
    w.Key("out");
    String(w, args.out);
    w.Key("mean_probability");
    w.Double(mean);
    w.Key("unknown_categories");
    w.StartObject();
    for (const auto& [feature, n] : unknown) {
      String(w, feature);
      w.Int64(n);
    }
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return 0;
  }
  std::printf("%lld rows scored → %s (mean churn probability %.4f)\n",
              static_cast<long long>(table->rows()), args.out.c_str(), mean);
  if (unknown_cells > 0) {
    std::printf("%lld cells hold categories the model never saw, scored as missing (%s)\n",
                static_cast<long long>(unknown_cells), unknown_text.c_str());
  }
  return 0;
}

}  // namespace kairos::app
