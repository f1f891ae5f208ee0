// kairos cluster: k-means on numeric columns of a CSV file (docs/clustering.md). The same
// analytics/kmeans code serves `kairos segment`, which feeds it from profiles instead.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/kmeans.h"
#include "analytics/table.h"
#include "app/commands.h"

namespace kairos::app {

namespace {

// "A..B" → (A, B); false for anything else.
bool ParseRange(std::string_view text, int* lo, int* hi) {
  const size_t dots = text.find("..");
  if (dots == std::string_view::npos) return false;
  const auto parse = [](std::string_view s, int* out) {
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  };
  return parse(text.substr(0, dots), lo) && parse(text.substr(dots + 2), hi);
}

// The named columns, row-major. The table read them as numbers (CsvTableOptions::numeric), so a
// cell that is not one has already been reported as file:line.
analytics::FeatureMatrix ToMatrix(const analytics::Table& table,
                                  const std::vector<std::string>& features) {
  analytics::FeatureMatrix m;
  m.names = features;
  const int64_t n = table.rows();
  const size_t d = features.size();
  m.values.resize(static_cast<size_t>(n) * d);
  for (size_t j = 0; j < d; ++j) {
    const analytics::Column& col = table.column(*table.Find(features[j]));
    for (int64_t i = 0; i < n; ++i) m.values[i * d + j] = col.numbers[i];
  }
  return m;
}

}  // namespace

int RunCluster(const ClusterArgs& args) {
  if (args.features.empty()) return Fail("--features: at least one column is needed");
  for (size_t i = 0; i < args.features.size(); ++i) {
    if (args.features[i].empty()) return Fail("--features: an empty column name");
    if (std::count(args.features.begin(), args.features.begin() + i, args.features[i]) > 0) {
      return Fail("--features: \"" + args.features[i] + "\" is given twice");
    }
  }
  analytics::KMeansOptions options;
  if (args.k > 0) {
    options.k = args.k;
  } else if (!ParseRange(args.k_range, &options.k_min, &options.k_max)) {
    return Fail("--k-range: expected A..B, e.g. 2..8, got \"" + args.k_range + "\"");
  }
  options.seed = args.seed;
  options.fit_sample = args.sample;
  options.silhouette_sample = args.silhouette_sample;
  options.n_init = args.n_init;
  options.threads = args.threads;
  if (args.criterion == "elbow") {
    options.criterion = analytics::KCriterion::kElbow;
  } else if (args.criterion != "silhouette") {
    return Fail("--criterion: expected silhouette or elbow, got \"" + args.criterion + "\"");
  }

  analytics::CsvTableOptions csv;
  csv.numeric = args.features;
  auto table = analytics::LoadCsvTable(args.csv, csv);
  if (!table.ok()) return Fail(table.status().message());
  const analytics::FeatureMatrix data = ToMatrix(*table, args.features);
  auto fit = analytics::FitKMeans(data, options);
  if (!fit.ok()) return Fail(fit.status().message());
  const analytics::KMeansModel& model = *fit;
  auto labels = analytics::AssignAll(model, data.values, options.threads);
  if (!labels.ok()) return Fail(labels.status().message());
  std::vector<int64_t> sizes(model.k, 0);
  for (const int32_t l : *labels) ++sizes[l];
  const std::vector<analytics::ClusterProfile> profiles = analytics::Describe(model);
  if (!args.out.empty()) {
    const Status saved = analytics::SaveKMeansModel(model, args.out);
    if (!saved.ok()) return Fail(saved.message());
  }
  const int64_t rows = data.rows();
  const int d = data.cols();
  int64_t missing = 0;
  for (const int64_t m : model.standardizer.missing) missing += m;

  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    const auto str = [&](const std::string& s) {
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    w.StartObject();
    w.Key("rows");
    w.Int64(rows);
    w.Key("features");
    w.StartArray();
    for (const std::string& f : model.features) str(f);
    w.EndArray();
    w.Key("k");
    w.Int(model.k);
    w.Key("selection");
    w.StartArray();
    for (const analytics::KCandidate& c : model.selection.tried) {
      w.StartObject();
      w.Key("k");
      w.Int(c.k);
      w.Key("inertia");
      w.Double(c.inertia);
      w.Key("silhouette");
      w.Double(c.silhouette);
      w.EndObject();
    }
    w.EndArray();
    w.Key("clusters");
    w.StartArray();
    for (int c = 0; c < model.k; ++c) {
      w.StartObject();
      w.Key("id");
      w.Int(c);
      w.Key("size");
      w.Int64(sizes[c]);
      w.Key("share");
      w.Double(static_cast<double>(sizes[c]) / static_cast<double>(rows));
      w.Key("name");
      str(profiles[c].name);
      w.Key("description");
      str(profiles[c].description);
      w.Key("centroid");
      w.StartObject();
      for (int j = 0; j < d; ++j) {
        str(model.features[j]);
        w.Double(model.centroids_original[c * d + j]);
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    // Not part of the pinned keys: how k was chosen and what the fit saw.
    w.Key("notes");
    w.StartObject();
    w.Key("reason");
    str(model.selection.reason);
    w.Key("elbow_k");
    w.Int(model.selection.elbow_k);
    w.Key("sample_rows");
    w.Int64(model.sample_rows);
    w.Key("silhouette_rows");
    w.Int64(model.silhouette_rows);
    w.Key("missing");
    w.StartObject();
    for (int j = 0; j < d; ++j) {
      str(model.features[j]);
      w.Int64(model.standardizer.missing[j]);
    }
    w.EndObject();
    w.Key("constant_features");
    w.StartArray();
    for (const int j : model.standardizer.constant_features) str(model.features[j]);
    w.EndArray();
    if (!args.out.empty()) {
      w.Key("model");
      str(args.out);
    }
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return 0;
  }

  std::printf("%lld rows, %d features; fitted on %lld rows, silhouette on %lld rows\n",
              static_cast<long long>(rows), d, static_cast<long long>(model.sample_rows),
              static_cast<long long>(model.silhouette_rows));
  if (missing > 0) {
    std::printf("%lld missing values imputed with their column's mean\n",
                static_cast<long long>(missing));
  }
  for (const int j : model.standardizer.constant_features) {
    std::printf("\"%s\" is constant: it cannot separate clusters\n", model.features[j].c_str());
  }
  std::printf("\n%4s %14s %11s\n", "k", "inertia", "silhouette");
  for (const analytics::KCandidate& c : model.selection.tried) {
    std::printf("%4d %14.2f %11.4f%s\n", c.k, c.inertia, c.silhouette,
                c.k == model.k ? "  <- chosen" : "");
  }
  std::printf("%s Elbow at k = %d.\n\n", model.selection.reason.c_str(), model.selection.elbow_k);

  std::printf("%-8s %10s %7s  %s\n", "cluster", "size", "share", "profile");
  for (int c = 0; c < model.k; ++c) {
    std::printf("%-8d %10lld %6.1f%%  %s\n", c, static_cast<long long>(sizes[c]),
                100.0 * static_cast<double>(sizes[c]) / static_cast<double>(rows),
                profiles[c].name.c_str());
    if (profiles[c].description != profiles[c].name) {
      std::printf("%-8s %10s %7s  %s\n", "", "", "", profiles[c].description.c_str());
    }
  }

  std::printf("\ncentroids (original units)\n%-8s", "cluster");
  std::vector<int> widths(d);
  for (int j = 0; j < d; ++j) {
    widths[j] = std::max<int>(12, static_cast<int>(model.features[j].size()));
    std::printf(" %*s", widths[j], model.features[j].c_str());
  }
  std::printf("\n");
  for (int c = 0; c < model.k; ++c) {
    std::printf("%-8d", c);
    for (int j = 0; j < d; ++j) {
      std::printf(" %*.4g", widths[j], model.centroids_original[c * d + j]);
    }
    std::printf("\n");
  }
  if (!args.out.empty()) std::printf("\nmodel written to %s\n", args.out.c_str());
  return 0;
}

}  // namespace kairos::app
