#include "segment/segment_job.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "analytics/churn.h"
#include "analytics/clv.h"
#include "analytics/kmeans.h"
#include "common/file_util.h"
#include "common/time_format.h"
#include "decide/feature_cache.h"
#include "profile/profile.h"
#include "schema/json_write.h"
#include "schema/score_fields.h"

namespace kairos {

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMsPerDayD = 86400000.0;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

// What one subscriber's profile gave in pass 1.
struct Row {
  std::string id;
  double revenue = 0, margin = 0, effort = 0;  // per month
  int8_t behaviour = -1, buyer = -1, usage = -1;
  double recency = kNaN, frequency = kNaN;
  double recurring = 0;
  bool clv = false;  // x, t_x, T, mean_spend are meaningful
  double x = 0, t_x = 0, T = 0, mean_spend = 0;
};

struct PartitionRows {
  std::vector<Row> rows;
  std::vector<double> cluster;  // rows × cluster features
  std::vector<double> churn;    // rows × churn features
  std::map<std::string, int64_t> nulls;
  Status status;
};

// An expression's value as a number: times as days ago, durations as days; NaN when null.
double Numeric(const expr::Value& v, TimestampMs now) {
  if (v.is_null || !std::isfinite(v.num)) return kNaN;
  switch (v.type) {
    case expr::Type::kTime: return (static_cast<double>(now) - v.num) / kMsPerDayD;
    case expr::Type::kDuration: return v.num / kMsPerDayD;
    default: return v.num;
  }
}

int8_t FirstCase(const std::vector<SegmentCase>& cases, FeatureCache& cache) {
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].when == nullptr) return static_cast<int8_t>(i);
    const expr::Value v = cases[i].when->Evaluate(cache);
    if (!v.is_null && v.b) return static_cast<int8_t>(i);
  }
  return -1;
}

// The papers' calibration summary from a windowed count series and its spend series: days with
// a transaction within what the series keeps (docs/segments.md).
bool ClvSummary(const Schema& schema, const Profile& p, const ClvConfig& c, TimestampMs now, Row* row) {
  const AggregateDef& tdef = schema.aggregates()[c.transactions_aggregate];
  const AggregateState& ts = p.aggregates[c.transactions_aggregate];
  if (ts.newest_day == kNoDay) return false;
  const int64_t today = DayOf(now);
  const std::span<const float> counts = p.Buckets(tdef);
  int64_t first = kNoDay, last = kNoDay, days = 0;
  double repeat_spend = 0;
  for (size_t age = counts.size(); age-- > 0;) {  // oldest first
    const int64_t day = ts.newest_day - static_cast<int64_t>(age);
    if (day > today || counts[age] <= 0) continue;
    if (first == kNoDay) first = day;
    else repeat_spend += DayValue(schema, p, c.spend_aggregate, day);
    last = day;
    ++days;
  }
  if (first == kNoDay) return false;
  row->x = static_cast<double>(days - 1);
  row->t_x = static_cast<double>(last - first) / 7.0;
  row->T = static_cast<double>(today - first) / 7.0;
  row->mean_spend = days > 1 ? repeat_spend / static_cast<double>(days - 1) : 0.0;
  row->clv = true;
  return true;
}

class Scanner {
 public:
  Scanner(Engine& engine, const Decisioning& d, const SegmentRunOptions& o,
          std::atomic<int64_t>* done, int64_t total)
      : engine_(engine), d_(d), s_(d.segmentation), o_(o), done_(done), total_(total) {}

  void Scan(int partition, PartitionRows* out) {
    const Schema& schema = *d_.schema;
    Profile profile = Profile::Empty(schema);
    const std::vector<ContextValue> no_context;
    int64_t since_report = 0;
    auto num = [&](const std::shared_ptr<const expr::Expr>& e, FeatureCache& cache,
                   const std::string& name) {
      if (e == nullptr) return kNaN;
      const double v = Numeric(e->Evaluate(cache), o_.now);
      if (std::isnan(v)) ++out->nulls[name];
      return v;
    };
    auto zero_if_nan = [](double v) { return std::isnan(v) ? 0.0 : v; };
    out->status = engine_.ForEachProfile(partition, [&](std::string_view id, std::string_view bytes) {
      Status s = DecodeProfile(schema, bytes, &profile);
      if (!s.ok()) {
        out->status = s.WithContext("subscriber " + std::string(id));
        return false;
      }
      FeatureCache cache(d_, profile, o_.now, "", no_context);
      Row row;
      row.id.assign(id);
      row.revenue = zero_if_nan(num(s_.revenue, cache, "value.revenue")) / s_.months;
      row.margin = zero_if_nan(num(s_.margin, cache, "value.margin")) / s_.months;
      double effort = 0;
      for (const EffortComponent& c : s_.effort) {
        effort += zero_if_nan(num(c.amount.expr, cache, "value.effort." + c.amount.name)) * c.cost;
      }
      row.effort = effort / s_.months;
      row.behaviour = FirstCase(s_.behaviour, cache);
      row.buyer = FirstCase(s_.buyer, cache);
      row.usage = FirstCase(s_.usage, cache);
      row.recency = num(s_.recency_days, cache, "rfm.recency_days");
      row.frequency = num(s_.frequency, cache, "rfm.frequency");
      if (s_.clv.recurring_margin) {
        row.recurring = zero_if_nan(num(s_.clv.recurring_margin, cache, "clv.recurring_margin"));
      }
      if (s_.clv.transactions_aggregate >= 0) ClvSummary(schema, profile, s_.clv, o_.now, &row);
      for (const NamedExpr& f : s_.clusters.features) {
        double v = num(f.expr, cache, "clusters.features." + f.name);
        if (s_.clusters.log_transform && !std::isnan(v)) v = std::log1p(std::max(0.0, v));
        out->cluster.push_back(v);
      }
      for (const NamedExpr& f : s_.churn.features) {
        out->churn.push_back(num(f.expr, cache, "churn.features." + f.name));
      }
      out->rows.push_back(std::move(row));
      if (++since_report == 4096) {
        const int64_t n = done_->fetch_add(since_report) + since_report;
        since_report = 0;
        if (o_.progress) o_.progress(n, total_);
      }
      return true;
    });
    done_->fetch_add(since_report);
  }

 private:
  Engine& engine_;
  const Decisioning& d_;
  const Segmentation& s_;
  const SegmentRunOptions& o_;
  std::atomic<int64_t>* done_;
  const int64_t total_;
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// 1..5 by the mid-rank of `v` among `sorted` (ties share a score; NaN → 1).
int Quintile(const std::vector<double>& sorted, double v) {
  if (std::isnan(v) || sorted.empty()) return 1;
  const auto lo = std::lower_bound(sorted.begin(), sorted.end(), v);
  const auto hi = std::upper_bound(lo, sorted.end(), v);
  const double mid = static_cast<double>(lo - sorted.begin()) + 0.5 * static_cast<double>(hi - lo);
  return std::clamp(1 + static_cast<int>(5.0 * mid / static_cast<double>(sorted.size())), 1, 5);
}

std::vector<double> SortedFinite(const std::vector<PartitionRows>& parts, double Row::*field, double sign) {
  std::vector<double> out;
  for (const PartitionRows& p : parts) {
    for (const Row& r : p.rows) {
      if (!std::isnan(r.*field)) out.push_back(sign * (r.*field));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Standard RFM cells by recency and frequency scores.
const char* RfmSegment(int r, int f) {
  if (r >= 4 && f >= 4) return "champions";
  if (r <= 2 && f >= 3) return "at_risk";
  if (f >= 4) return "loyal";
  if (r >= 4 && f <= 1) return "new";
  if (r >= 3) return "potential";
  return "hibernating";
}

void Add(SegmentFigures* f, const Row& r) {
  ++f->subscribers;
  f->revenue += r.revenue;
  f->margin += r.margin;
  f->effort += r.effort;
}

// CLV for one history, memoized: many subscribers share (x, t_x, T) in whole days.
class ClvScorer {
 public:
  ClvScorer(const analytics::BgNbdParams& bg, const analytics::GammaGammaParams& gg,
            bool have_gg, double annual_rate)
      : bg_(bg), gg_(gg), have_gg_(have_gg), rate_(annual_rate) {}

  struct Figures {
    double p_alive = kNaN, transactions = kNaN, discounted = kNaN;
  };

  const Figures& Get(const Row& r) {
    const uint64_t key = (static_cast<uint64_t>(r.x) << 40) |
                         (static_cast<uint64_t>(std::lround(r.t_x * 7)) << 20) |
                         static_cast<uint64_t>(std::lround(r.T * 7));
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    Figures f;
    f.p_alive = analytics::BgNbdProbabilityAlive(bg_, r.x, r.t_x, r.T);
    constexpr double kStep = 52.0 / 12.0;
    double before = 0, discounted = 0;
    bool ok = true;
    for (int m = 1; m <= 12 && ok; ++m) {
      auto c = analytics::BgNbdConditionalExpectedTransactions(bg_, r.x, r.t_x, r.T, kStep * m);
      if (!c.ok() || !std::isfinite(*c)) {
        ok = false;
        break;
      }
      discounted += (*c - before) / std::pow(1 + rate_, m / 12.0);
      before = *c;
    }
    if (ok) {
      f.transactions = before;
      f.discounted = discounted;
    }
    return memo_.emplace(key, f).first->second;
  }

  double Spend(const Row& r) const {
    if (!have_gg_) return r.x > 0 ? r.mean_spend : kNaN;
    const double s = analytics::GammaGammaExpectedSpend(gg_, r.x, r.mean_spend);
    return std::isfinite(s) ? s : kNaN;
  }

 private:
  analytics::BgNbdParams bg_;
  analytics::GammaGammaParams gg_;
  bool have_gg_;
  double rate_;
  std::unordered_map<uint64_t, Figures> memo_;
};

void WriteFigures(rapidjson::Writer<rapidjson::StringBuffer>& w, const SegmentFigures& f,
                  const SegmentFigures& total) {
  auto share = [](double part, double whole) { return whole > 0 ? part / whole : 0.0; };
  w.StartObject();
  json::Key(w, "subscribers");
  w.Int64(f.subscribers);
  json::Key(w, "share");
  json::Rounded(w, share(static_cast<double>(f.subscribers), static_cast<double>(total.subscribers)), 1e4);
  json::Key(w, "revenue");
  json::Rounded(w, f.revenue, 100);
  json::Key(w, "revenue_share");
  json::Rounded(w, share(f.revenue, total.revenue), 1e4);
  json::Key(w, "margin");
  json::Rounded(w, f.margin, 100);
  json::Key(w, "margin_share");
  json::Rounded(w, share(f.margin, total.margin), 1e4);
  json::Key(w, "effort");
  json::Rounded(w, f.effort, 100);
  json::Key(w, "effort_share");
  json::Rounded(w, share(f.effort, total.effort), 1e4);
  w.EndObject();
}

// A CSV field, quoted when it holds a delimiter, quote or line break (RFC 4180).
void AppendCsvField(std::string_view v, std::string* out) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// The churn features of every subscriber as of this run, for `kairos churn train --workspace`
// once the horizon has passed; only the newest `keep_snapshots` stay.
Status WriteChurnSnapshot(const std::string& ws_dir, TimestampMs now, const ChurnConfig& c,
                          const std::vector<PartitionRows>& rows) {
  const fs::path dir = ChurnSnapshotDir(ws_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  std::string out = "subscriber_id";
  for (const NamedExpr& f : c.features) {
    out += ',';
    AppendCsvField(f.name, &out);
  }
  out += '\n';
  const size_t m = c.features.size();
  char buf[32];
  for (const PartitionRows& p : rows) {
    for (size_t r = 0; r < p.rows.size(); ++r) {
      AppendCsvField(p.rows[r].id, &out);
      for (size_t j = 0; j < m; ++j) {
        out += ',';
        const double v = p.churn[r * m + j];
        if (std::isfinite(v)) out.append(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%.9g", v)));
      }
      out += '\n';
    }
  }
  KAIROS_RETURN_IF_ERROR(WriteFileAtomic((dir / (std::to_string(now) + ".csv")).string(), out));
  std::vector<std::pair<TimestampMs, fs::path>> all = ListChurnSnapshots(ws_dir);
  for (size_t i = 0; i + static_cast<size_t>(c.keep_snapshots) < all.size(); ++i) fs::remove(all[i].second, ec);
  return Status::Ok();
}

}  // namespace

std::string ChurnSnapshotDir(const std::string& workspace_dir) {
  return (fs::path(workspace_dir) / "segments" / "churn-features").string();
}

std::vector<std::pair<TimestampMs, std::filesystem::path>> ListChurnSnapshots(const std::string& workspace_dir) {
  std::vector<std::pair<TimestampMs, fs::path>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(ChurnSnapshotDir(workspace_dir), ec)) {
    if (e.path().extension() != ".csv") continue;
    const std::string stem = e.path().stem().string();
    char* end = nullptr;
    const long long t = std::strtoll(stem.c_str(), &end, 10);
    if (stem.empty() || *end != '\0') continue;
    out.emplace_back(t, e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string SegmentReportPath(const std::string& workspace_dir) {
  return (fs::path(workspace_dir) / "segments" / "report.json").string();
}

std::string SegmentReport::ToJson() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  json::Key(w, "run");
  json::String(w, run_id);
  json::Key(w, "at");
  json::Time(w, at);
  json::Key(w, "subscribers");
  w.Int64(subscribers);
  json::Key(w, "written");
  w.Int64(written);
  json::Key(w, "seconds");
  w.StartObject();
  for (const auto& [k, v] : {std::pair{"total", seconds}, {"scan", scan_seconds},
                             {"fit", fit_seconds}, {"write", write_seconds}}) {
    json::Key(w, k);
    json::Rounded(w, v, 1000);
  }
  w.EndObject();
  json::Key(w, "total");
  WriteFigures(w, total, total);
  json::Key(w, "thresholds");
  w.StartObject();
  json::Key(w, "value_high");
  json::Rounded(w, value_high, 100);
  json::Key(w, "value_low");
  json::Rounded(w, value_low, 100);
  json::Key(w, "effort_high");
  json::Rounded(w, effort_high, 100);
  w.EndObject();
  for (const auto& [name, map] : {std::pair<const char*, const std::map<std::string, SegmentFigures>*>{"value_tiers", &tiers},
                                  {"behaviour", &behaviour}, {"buyer", &buyer}, {"usage", &usage}, {"rfm", &rfm}}) {
    json::Key(w, name);
    w.StartObject();
    for (const auto& [seg, f] : *map) {
      json::Key(w, seg);
      WriteFigures(w, f, total);
    }
    w.EndObject();
  }
  json::Key(w, "clusters");
  w.StartObject();
  json::Key(w, "selection");
  json::String(w, cluster_selection);
  json::Key(w, "silhouette");
  w.StartArray();
  for (const auto& [k, s] : silhouettes) {
    w.StartObject();
    json::Key(w, "k");
    w.Int(k);
    json::Key(w, "silhouette");
    json::Rounded(w, s, 1e4);
    w.EndObject();
  }
  w.EndArray();
  json::Key(w, "clusters");
  w.StartArray();
  for (const Cluster& c : clusters) {
    w.StartObject();
    json::Key(w, "id");
    w.Int(c.id);
    json::Key(w, "name");
    json::String(w, c.name);
    json::Key(w, "description");
    json::String(w, c.description);
    json::Key(w, "figures");
    WriteFigures(w, c.figures, total);
    json::Key(w, "centroid");
    w.StartObject();
    for (const auto& [f, v] : c.centroid) {
      json::Key(w, f);
      json::Rounded(w, v, 1e4);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  json::Key(w, "clv");
  w.StartObject();
  json::Key(w, "status");
  json::String(w, clv_status);
  json::Key(w, "customers");
  w.Int64(clv_customers);
  json::Key(w, "bgnbd");
  w.StartObject();
  for (const auto& [k, v] : {std::pair{"r", bgnbd_r}, {"alpha", bgnbd_alpha}, {"a", bgnbd_a}, {"b", bgnbd_b}}) {
    json::Key(w, k);
    json::Rounded(w, v, 1e6);
  }
  w.EndObject();
  json::Key(w, "gamma_gamma");
  w.StartObject();
  for (const auto& [k, v] : {std::pair{"p", gg_p}, {"q", gg_q}, {"gamma", gg_gamma}}) {
    json::Key(w, k);
    json::Rounded(w, v, 1e6);
  }
  w.EndObject();
  json::Key(w, "mean_expected_12m");
  json::Rounded(w, clv_mean, 100);
  w.EndObject();
  json::Key(w, "churn");
  w.StartObject();
  json::Key(w, "status");
  json::String(w, churn_status);
  json::Key(w, "scored");
  w.Int64(churn_scored);
  json::Key(w, "mean");
  json::Rounded(w, churn_mean, 1e4);
  w.EndObject();
  json::Key(w, "expression_nulls");
  w.StartObject();
  for (const auto& [k, v] : expression_nulls) {
    json::Key(w, k);
    w.Int64(v);
  }
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Result<SegmentReport> RunSegmentation(Engine& engine, const Decisioning& d,
                                      const SegmentRunOptions& o) {
  const Segmentation& s = d.segmentation;
  if (!s.present) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the workspace has no segments.yaml (kairos init writes one; docs/segments.md)");
  }
  const auto start = SteadyClock::now();
  SegmentReport report;
  report.at = o.now;
  report.run_id = o.run_id.empty() ? "seg-" + FormatRfc3339(o.now) : o.run_id;
  if (report.run_id.size() > 64) return InvalidArgument("run id longer than 64 bytes");

  // ---- pass 1: scan ------------------------------------------------------------------------
  const int parts = engine.partitions();
  std::vector<PartitionRows> rows(static_cast<size_t>(parts));
  std::atomic<int64_t> done{0};
  const int64_t total = engine.Stats().subscribers;
  Scanner scanner(engine, d, o, &done, total);
  {
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    const int n = std::max(1, std::min(o.threads, parts));
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&] {
        for (int p = next++; p < parts; p = next++) scanner.Scan(p, &rows[static_cast<size_t>(p)]);
      });
    }
    for (auto& t : threads) t.join();
  }
  for (PartitionRows& p : rows) {
    KAIROS_RETURN_IF_ERROR(p.status);
    for (const auto& [k, v] : p.nulls) report.expression_nulls[k] += v;
    report.subscribers += static_cast<int64_t>(p.rows.size());
  }
  report.scan_seconds = Seconds(start);
  if (!s.churn.features.empty() && s.churn.keep_snapshots > 0) {
    KAIROS_RETURN_IF_ERROR(WriteChurnSnapshot(o.workspace_dir, o.now, s.churn, rows));
  }
  const auto fit_start = SteadyClock::now();

  // ---- pass 2: population figures ----------------------------------------------------------
  const TierConfig& tc = s.tiers;
  if (tc.method == ThresholdMethod::kQuantile) {
    std::vector<double> margins, efforts;
    margins.reserve(static_cast<size_t>(report.subscribers));
    efforts.reserve(static_cast<size_t>(report.subscribers));
    for (const PartitionRows& p : rows) {
      for (const Row& r : p.rows) margins.push_back(r.margin), efforts.push_back(r.effort);
    }
    report.value_high = Quantile(margins, tc.value_high);
    report.value_low = Quantile(margins, tc.value_low);
    report.effort_high = Quantile(std::move(efforts), tc.effort_high);
  } else {
    report.value_high = tc.value_high;
    report.value_low = tc.value_low;
    report.effort_high = tc.effort_high;
  }
  const std::vector<double> recency_sorted = SortedFinite(rows, &Row::recency, -1.0);
  const std::vector<double> frequency_sorted = SortedFinite(rows, &Row::frequency, 1.0);
  const std::vector<double> revenue_sorted = SortedFinite(rows, &Row::revenue, 1.0);

  // Clusters: fit on a sample, assign everyone.
  std::vector<std::vector<int32_t>> cluster_of(static_cast<size_t>(parts));
  std::vector<analytics::ClusterProfile> profiles;
  if (!s.clusters.features.empty() && report.subscribers >= 2 * s.clusters.k_max) {
    analytics::FeatureMatrix m;
    for (const NamedExpr& f : s.clusters.features) m.names.push_back(f.name);
    m.values.reserve(static_cast<size_t>(report.subscribers) * m.names.size());
    for (const PartitionRows& p : rows) m.values.insert(m.values.end(), p.cluster.begin(), p.cluster.end());
    analytics::KMeansOptions ko;
    ko.k_min = s.clusters.k_min;
    ko.k_max = s.clusters.k_max;
    ko.fit_sample = s.clusters.sample;
    ko.seed = s.clusters.seed;
    ko.threads = std::max(1, o.threads);
    auto model = analytics::FitKMeans(m, ko);
    if (model.ok()) {
      report.cluster_selection = model->selection.reason;
      for (const auto& c : model->selection.tried) report.silhouettes.emplace_back(c.k, c.silhouette);
      profiles = analytics::Describe(*model);
      for (size_t p = 0; p < rows.size(); ++p) {
        auto labels = analytics::AssignAll(*model, rows[p].cluster, ko.threads);
        if (!labels.ok()) return labels.status();
        cluster_of[p] = std::move(*labels);
      }
      const int d_count = model->dims();
      for (int c = 0; c < model->k; ++c) {
        SegmentReport::Cluster rc;
        rc.id = c;
        rc.name = profiles[static_cast<size_t>(c)].name;
        rc.description = profiles[static_cast<size_t>(c)].description;
        for (int j = 0; j < d_count; ++j) {
          double v = model->centroids_original[static_cast<size_t>(c * d_count + j)];
          if (s.clusters.log_transform) v = std::expm1(v);  // back to the feature's own units
          rc.centroid.emplace_back(model->features[static_cast<size_t>(j)], v);
        }
        report.clusters.push_back(std::move(rc));
      }
      std::error_code ec;
      fs::create_directories(fs::path(o.workspace_dir) / "segments", ec);
      KAIROS_RETURN_IF_ERROR(analytics::SaveKMeansModel(
          *model, (fs::path(o.workspace_dir) / "segments" / "clusters.json").string()));
    } else {
      report.cluster_selection = "not clustered: " + model.status().message();
    }
  } else if (!s.clusters.features.empty()) {
    report.cluster_selection = "not clustered: too few subscribers";
  }

  // CLV: BG/NBD and Gamma-Gamma on a sample of the histories.
  std::optional<ClvScorer> clv;
  if (s.clv.transactions_aggregate >= 0) {
    std::vector<analytics::CustomerSummary> sample;
    int64_t eligible = 0;
    for (const PartitionRows& p : rows) {
      for (const Row& r : p.rows) eligible += r.clv;
    }
    const int64_t stride = std::max<int64_t>(1, (eligible + s.clv.fit_sample - 1) / s.clv.fit_sample);
    int64_t i = 0;
    for (const PartitionRows& p : rows) {
      for (const Row& r : p.rows) {
        if (!r.clv || i++ % stride != 0) continue;
        analytics::CustomerSummary c;
        c.x = r.x, c.t_x = r.t_x, c.T = r.T, c.mean_spend = r.mean_spend;
        c.repeat_spend_count = static_cast<int>(r.x);
        sample.push_back(c);
      }
    }
    report.clv_customers = eligible;
    auto bg = analytics::FitBgNbd(sample);
    if (bg.ok()) {
      auto gg = analytics::FitGammaGamma(sample);
      report.bgnbd_r = bg->params.r, report.bgnbd_alpha = bg->params.alpha;
      report.bgnbd_a = bg->params.a, report.bgnbd_b = bg->params.b;
      if (gg.ok()) {
        report.gg_p = gg->params.p, report.gg_q = gg->params.q, report.gg_gamma = gg->params.gamma;
        report.clv_status = "fitted";
      } else {
        report.clv_status = "BG/NBD fitted; Gamma-Gamma not: " + gg.status().message();
      }
      clv.emplace(bg->params, gg.ok() ? gg->params : analytics::GammaGammaParams{}, gg.ok(),
                  s.clv.annual_discount_rate);
    } else {
      report.clv_status = "not fitted: " + bg.status().message();
    }
  } else {
    report.clv_status = "not configured";
  }

  // Churn: the model's batch scores and SHAP drivers.
  std::vector<std::vector<double>> churn_p(static_cast<size_t>(parts));
  std::vector<std::vector<std::string>> churn_drivers(static_cast<size_t>(parts));
  if (!s.churn.model_path.empty()) {
    const std::string path = (fs::path(o.workspace_dir) / s.churn.model_path).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      report.churn_status = "no model at " + path + " (kairos churn train --workspace ... writes one)";
    } else {
      auto model = analytics::ChurnModel::Load(path);
      if (!model.ok()) return model.status();
      for (const analytics::ChurnFeature& f : model->features()) {
        bool found = false;
        for (const NamedExpr& e : s.churn.features) found = found || e.name == f.name;
        if (!found) {
          return InvalidArgument("churn model " + path + " needs feature " + f.name +
                                 ", which segments.yaml churn.features does not define");
        }
      }
      double sum = 0;
      const size_t m = s.churn.features.size();
      for (size_t p = 0; p < rows.size(); ++p) {
        const size_t n = rows[p].rows.size();
        constexpr size_t kChunk = 65536;
        churn_p[p].reserve(n);
        churn_drivers[p].reserve(n);
        for (size_t begin = 0; begin < n; begin += kChunk) {
          const size_t end = std::min(n, begin + kChunk);
          analytics::Table table;
          for (size_t j = 0; j < m; ++j) {
            std::vector<double> col(end - begin);
            for (size_t r = begin; r < end; ++r) col[r - begin] = rows[p].churn[r * m + j];
            KAIROS_RETURN_IF_ERROR(table.AddNumericColumn(s.churn.features[j].name, std::move(col)));
          }
          auto scores = model->ScoreTable(table, s.churn.top_drivers);
          if (!scores.ok()) return scores.status();
          for (size_t r = 0; r < end - begin; ++r) {
            churn_p[p].push_back(scores->probability[r]);
            sum += scores->probability[r];
            std::string text;
            if (r < scores->drivers.size()) {
              for (const analytics::Driver& dr : scores->drivers[r]) {
                if (!text.empty()) text += ',';
                char buf[32];
                std::snprintf(buf, sizeof buf, ":%+.3f", dr.contribution);
                text += dr.feature + buf;
              }
            }
            churn_drivers[p].push_back(std::move(text));
          }
        }
        report.churn_scored += static_cast<int64_t>(n);
      }
      report.churn_mean = report.churn_scored > 0 ? sum / static_cast<double>(report.churn_scored) : 0;
      report.churn_status = "scored";
    }
  } else {
    report.churn_status = "not configured";
  }
  report.fit_seconds = Seconds(fit_start);

  // ---- pass 2: scores, written per partition in parallel -----------------------------------
  const auto write_start = SteadyClock::now();
  const auto fields = ScoreFields();
  std::mutex report_mu;
  std::vector<Status> write_status(static_cast<size_t>(parts));
  std::atomic<int64_t> written{0};
  const double horizon_months = static_cast<double>(s.churn.horizon_ms) / (30.4375 * kMsPerDayD);
  double clv_sum = 0;
  auto write_partition = [&](size_t p) {
    const PartitionRows& pr = rows[p];
    std::optional<ClvScorer> local_clv = clv;  // each thread its own memo
    SegmentReport local;
    double local_clv_sum = 0;
    std::vector<Value> scores(kScoreCount);
    rapidjson::StringBuffer sb;
    auto flush = [&]() -> Status {
      if (sb.GetSize() == 0) return Status::Ok();
      const IngestResult res = engine.RecordBuiltinNdjson(std::string_view(sb.GetString(), sb.GetSize()));
      sb.Clear();
      if (!res.rejected.empty()) {
        return Status(res.rejected.front().code, "writing scores: " + res.rejected.front().error);
      }
      written.fetch_add(res.accepted + res.duplicates);
      if (o.progress) o.progress(written.load(), report.subscribers);
      return Status::Ok();
    };
    int in_batch = 0;
    for (size_t i = 0; i < pr.rows.size(); ++i) {
      const Row& r = pr.rows[i];
      std::fill(scores.begin(), scores.end(), Value::Null());
      auto set_num = [&](ScoreId id, double v) {
        if (std::isfinite(v)) scores[static_cast<size_t>(id)] = Value::Number(v);
      };
      auto set_str = [&](ScoreId id, std::string v) { scores[static_cast<size_t>(id)] = Value::String(std::move(v)); };
      set_num(ScoreId::kRevenue, r.revenue);
      set_num(ScoreId::kMargin, r.margin);
      set_num(ScoreId::kEffort, r.effort);
      const int value_level = r.margin >= report.value_high ? 2 : r.margin >= report.value_low ? 1 : 0;
      const int effort_level = r.effort > report.effort_high ? 1 : 0;
      const std::string& tier = tc.names[static_cast<size_t>(value_level)][static_cast<size_t>(effort_level)];
      set_str(ScoreId::kValueTier, tier);
      Add(&local.tiers[tier], r);
      Add(&local.total, r);
      if (r.behaviour >= 0) {
        set_str(ScoreId::kBehaviour, s.behaviour[static_cast<size_t>(r.behaviour)].name);
        Add(&local.behaviour[s.behaviour[static_cast<size_t>(r.behaviour)].name], r);
      }
      if (r.buyer >= 0) {
        set_str(ScoreId::kBuyer, s.buyer[static_cast<size_t>(r.buyer)].name);
        Add(&local.buyer[s.buyer[static_cast<size_t>(r.buyer)].name], r);
      }
      if (r.usage >= 0) {
        set_str(ScoreId::kUsage, s.usage[static_cast<size_t>(r.usage)].name);
        Add(&local.usage[s.usage[static_cast<size_t>(r.usage)].name], r);
      }
      if (s.recency_days && s.frequency) {
        const int rs = Quintile(recency_sorted, -r.recency);
        const int fs_ = Quintile(frequency_sorted, r.frequency);
        const int ms = Quintile(revenue_sorted, r.revenue);
        set_num(ScoreId::kRecency, rs);
        set_num(ScoreId::kFrequency, fs_);
        set_num(ScoreId::kMonetary, ms);
        set_str(ScoreId::kRfmCode, std::to_string(rs) + std::to_string(fs_) + std::to_string(ms));
        set_str(ScoreId::kRfmSegment, RfmSegment(rs, fs_));
        Add(&local.rfm[RfmSegment(rs, fs_)], r);
      }
      if (!cluster_of[p].empty()) {
        const int32_t c = cluster_of[p][i];
        set_num(ScoreId::kCluster, c);
        set_str(ScoreId::kClusterName, profiles[static_cast<size_t>(c)].name);
        local.clusters.resize(profiles.size());
        Add(&local.clusters[static_cast<size_t>(c)].figures, r);
      }
      double churn = kNaN;
      if (!churn_p[p].empty()) {
        churn = churn_p[p][i];
        set_num(ScoreId::kChurn, churn);
        if (!churn_drivers[p][i].empty()) set_str(ScoreId::kChurnDrivers, churn_drivers[p][i]);
      }
      // CLV: transactions (BG/NBD x Gamma-Gamma) plus the recurring margin, both discounted
      // monthly over 12 months; the recurring part survives by the churn score when there is one.
      double clv12 = kNaN;
      if (local_clv && r.clv) {
        const ClvScorer::Figures& f = local_clv->Get(r);
        const double spend = local_clv->Spend(r);
        set_num(ScoreId::kPAlive, f.p_alive);
        set_num(ScoreId::kExpectedTransactions, f.transactions);
        set_num(ScoreId::kExpectedSpend, spend);
        if (std::isfinite(f.discounted) && std::isfinite(spend)) clv12 = f.discounted * spend * s.clv.margin_share;
      }
      if (s.clv.recurring_margin && r.recurring > 0) {
        double recurring = 0;
        for (int m = 1; m <= 12; ++m) {
          const double survive = std::isnan(churn) ? 1.0 : std::pow(1.0 - churn, m / horizon_months);
          recurring += r.recurring * survive / std::pow(1 + s.clv.annual_discount_rate, m / 12.0);
        }
        clv12 = (std::isnan(clv12) ? 0.0 : clv12) + recurring;
      }
      set_num(ScoreId::kClv12m, clv12);
      if (std::isfinite(clv12)) local_clv_sum += clv12;

      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      w.StartObject();
      json::Key(w, "event_id");
      json::String(w, report.run_id + "/" + r.id);
      json::Key(w, "subscriber_id");
      json::String(w, r.id);
      json::Key(w, "type");
      json::String(w, "scores");
      json::Key(w, "ts");
      w.Int64(o.now);
      json::Key(w, "run");
      json::String(w, report.run_id);
      for (size_t k = 0; k < scores.size(); ++k) {
        if (scores[k].is_null) continue;
        json::Key(w, fields[k].name);
        // Four decimals are more than any score means, and keep the WAL records short.
        if (fields[k].type == FieldType::kNumber) json::Rounded(w, scores[k].number, 1e4);
        else json::String(w, scores[k].s);
      }
      w.EndObject();
      sb.Put('\n');
      if (++in_batch == o.write_batch) {
        in_batch = 0;
        Status st = flush();
        if (!st.ok()) {
          write_status[p] = st;
          return;
        }
      }
    }
    write_status[p] = flush();
    std::lock_guard<std::mutex> lock(report_mu);
    auto merge = [](SegmentFigures* a, const SegmentFigures& b) {
      a->subscribers += b.subscribers;
      a->revenue += b.revenue;
      a->margin += b.margin;
      a->effort += b.effort;
    };
    merge(&report.total, local.total);
    for (auto [dst, src] : {std::pair{&report.tiers, &local.tiers}, {&report.behaviour, &local.behaviour},
                            {&report.buyer, &local.buyer}, {&report.usage, &local.usage}, {&report.rfm, &local.rfm}}) {
      for (const auto& [k, v] : *src) merge(&(*dst)[k], v);
    }
    for (size_t c = 0; c < local.clusters.size() && c < report.clusters.size(); ++c) {
      merge(&report.clusters[c].figures, local.clusters[c].figures);
    }
    clv_sum += local_clv_sum;
  };
  {
    std::vector<std::thread> threads;
    std::atomic<int> next{0};
    const int n = std::max(1, std::min(o.threads, parts));
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&] {
        for (int p = next++; p < parts; p = next++) write_partition(static_cast<size_t>(p));
      });
    }
    for (auto& t : threads) t.join();
  }
  for (const Status& st : write_status) KAIROS_RETURN_IF_ERROR(st);
  report.written = written.load();
  report.clv_mean = report.subscribers > 0 ? clv_sum / static_cast<double>(report.subscribers) : 0;
  report.write_seconds = Seconds(write_start);
  report.seconds = Seconds(start);

  std::error_code ec;
  fs::create_directories(fs::path(o.workspace_dir) / "segments", ec);
  KAIROS_RETURN_IF_ERROR(WriteFileAtomic(SegmentReportPath(o.workspace_dir), report.ToJson()));
  return report;
}

}  // namespace kairos
