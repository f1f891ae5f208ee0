#include "analytics/kmeans.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "common/rng.h"

namespace kairos::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Gaussian blobs with known centres. Each feature has its own unit (scale), from 0.01 to 1000,
// so that without standardization the 1000-unit feature would be all k-means sees.
struct Blobs {
  FeatureMatrix data;
  std::vector<int32_t> truth;
  std::vector<std::vector<double>> centres;  // original units
  std::vector<double> scales;
};

Blobs MakeBlobs(uint64_t seed, const std::vector<int>& sizes = {400, 300, 200, 100}) {
  Blobs b;
  b.data.names = {"data_mb", "voice_min", "sms", "arpu", "tickets"};
  b.scales = {1000, 10, 1, 0.01, 100};
  // Centres in units of each feature's scale; every pair differs by ≥ 4 in at least two
  // features, against a noise sd of 0.5.
  const std::vector<std::vector<double>> unit_centres = {
      {0, 0, 0, 0, 0}, {4, 0, 4, 0, 1}, {0, 4, 0, 4, 2}, {4, 4, -4, 4, -2}};
  for (const auto& c : unit_centres) {
    std::vector<double> centre;
    for (size_t j = 0; j < c.size(); ++j) centre.push_back((c[j] + 10) * b.scales[j]);
    b.centres.push_back(centre);
  }
  Rng rng(seed);
  for (size_t c = 0; c < sizes.size(); ++c) {
    for (int i = 0; i < sizes[c]; ++i) {
      for (size_t j = 0; j < b.scales.size(); ++j) {
        b.data.values.push_back(b.centres[c][j] + rng.Normal(0, 0.5 * b.scales[j]));
      }
      b.truth.push_back(static_cast<int32_t>(c));
    }
  }
  return b;
}

KMeansOptions RangeOptions(int k_min, int k_max) {
  KMeansOptions o;
  o.k_min = k_min;
  o.k_max = k_max;
  return o;
}

TEST(KMeans, RecoversBlobCentresAndPicksTrueKBySilhouette) {
  const Blobs b = MakeBlobs(7);
  auto fit = FitKMeans(b.data, RangeOptions(2, 8));
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  const KMeansModel& m = *fit;
  EXPECT_EQ(m.k, 4);
  EXPECT_EQ(m.selection.chosen_k, 4);
  ASSERT_EQ(m.selection.tried.size(), 7u);
  for (size_t q = 0; q < m.selection.tried.size(); ++q) {
    const KCandidate& c = m.selection.tried[q];
    EXPECT_EQ(c.k, static_cast<int>(q) + 2);
    if (c.k != 4) {
      EXPECT_LT(c.silhouette, m.selection.tried[2].silhouette) << "k = " << c.k;
    }
    if (q > 0) {
      EXPECT_LT(c.inertia, m.selection.tried[q - 1].inertia) << "inertia falls with k";
    }
  }
  EXPECT_GT(m.selection.tried[2].silhouette, 0.6);
  EXPECT_EQ(m.selection.elbow_k, 4);
  EXPECT_NE(m.selection.reason.find("highest mean silhouette"), std::string::npos)
      << m.selection.reason;
  // Clusters are numbered by size: the blobs have 400, 300, 200 and 100 rows.
  EXPECT_EQ(m.sizes, (std::vector<int64_t>{400, 300, 200, 100}));

  auto labels = AssignAll(m, b.data.values);
  ASSERT_TRUE(labels.ok());
  auto ari = AdjustedRandIndex(*labels, b.truth);
  ASSERT_TRUE(ari.ok());
  EXPECT_GT(*ari, 0.99);
  // Cluster c is the c-th largest blob, i.e. blob c; its centroid is the blob's centre within
  // 0.15 of the feature's unit (the noise sd is 0.5 units, the smallest blob has 100 rows).
  for (int c = 0; c < 4; ++c) {
    for (int j = 0; j < 5; ++j) {
      EXPECT_NEAR(m.centroids_original[c * 5 + j], b.centres[c][j], 0.15 * b.scales[j])
          << "cluster " << c << " feature " << b.data.names[j];
    }
  }
  // Standardization: every sd is on its feature's own scale.
  for (int j = 0; j < 5; ++j) {
    EXPECT_GT(m.standardizer.sd[j], 0.5 * b.scales[j]);
    EXPECT_LT(m.standardizer.sd[j], 3.0 * b.scales[j]);
  }
}

TEST(KMeans, TiesWithinStandardErrorsGoToTheSmallerK) {
  const Blobs b = MakeBlobs(7);
  KMeansOptions o = RangeOptions(2, 8);
  o.tie_standard_errors = 0;  // exact ties only: the highest silhouette
  auto exact = FitKMeans(b.data, o);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->k, 4);
  // So wide a tie that every k counts as tied with k = 4: the smallest wins, and says why.
  o.tie_standard_errors = 1e9;
  auto wide = FitKMeans(b.data, o);
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->k, 2);
  EXPECT_NE(wide->selection.reason.find("the smaller k is preferred as a tie"), std::string::npos)
      << wide->selection.reason;
  EXPECT_NE(wide->selection.reason.find("at k = 4"), std::string::npos) << wide->selection.reason;
  o.tie_standard_errors = -1;
  EXPECT_EQ(FitKMeans(b.data, o).status().code(), ErrorCode::kInvalidArgument);
}

TEST(KMeans, ElbowCriterionAgreesOnClearBlobs) {
  const Blobs b = MakeBlobs(11);
  KMeansOptions o = RangeOptions(2, 8);
  o.criterion = KCriterion::kElbow;
  auto fit = FitKMeans(b.data, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->k, 4);
  EXPECT_NE(fit->selection.reason.find("elbow"), std::string::npos);
}

TEST(KMeans, FixedKAndSampling) {
  const Blobs b = MakeBlobs(3, {2000, 1500, 1000, 500});
  KMeansOptions o;
  o.k = 4;
  o.fit_sample = 800;
  o.silhouette_sample = 300;
  auto fit = FitKMeans(b.data, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->rows, 5000);
  EXPECT_EQ(fit->sample_rows, 800);
  EXPECT_EQ(fit->silhouette_rows, 300);
  int64_t total = 0;
  for (const int64_t s : fit->sizes) total += s;
  EXPECT_EQ(total, 800);
  ASSERT_EQ(fit->selection.tried.size(), 1u);
  EXPECT_EQ(fit->selection.reason, "k = 4 was given.");
  auto labels = AssignAll(*fit, b.data.values);
  ASSERT_TRUE(labels.ok());
  EXPECT_GT(*AdjustedRandIndex(*labels, b.truth), 0.99);
}

TEST(KMeans, DeterministicForASeedWhateverTheThreads) {
  const Blobs b = MakeBlobs(5);
  KMeansOptions o = RangeOptions(2, 6);
  o.threads = 1;
  auto one = FitKMeans(b.data, o);
  o.threads = 2;
  auto two = FitKMeans(b.data, o);
  auto again = FitKMeans(b.data, o);
  ASSERT_TRUE(one.ok() && two.ok() && again.ok());
  EXPECT_EQ(KMeansModelToJson(*one), KMeansModelToJson(*two));
  EXPECT_EQ(KMeansModelToJson(*two), KMeansModelToJson(*again));
}

// Many tight, well-separated clusters: one k-means++ seeding almost always puts one centre in
// each, while uniform seeding often puts two in one and none in another, and Lloyd cannot
// repair that.
TEST(KMeans, PlusPlusSeedingBeatsRandomSeedingOnAHardCase) {
  std::vector<double> points;
  Rng data_rng(99);
  for (int gx = 0; gx < 5; ++gx) {
    for (int gy = 0; gy < 5; ++gy) {
      const int size = 10 + 8 * ((gx + 2 * gy) % 5);  // unequal sizes
      for (int i = 0; i < size; ++i) {
        points.push_back(gx * 20 + data_rng.Normal(0, 0.5));
        points.push_back(gy * 20 + data_rng.Normal(0, 0.5));
      }
    }
  }
  double plus_plus = 0, random = 0;
  int plus_plus_wins_or_ties = 0;
  constexpr int kSeeds = 20;
  for (int s = 0; s < kSeeds; ++s) {
    Rng r1(1000 + s), r2(1000 + s);
    const LloydResult a =
        RunLloyd(points, 2, SeedCentroids(points, 2, 25, Seeding::kPlusPlus, r1), 100, 1e-8);
    const LloydResult b =
        RunLloyd(points, 2, SeedCentroids(points, 2, 25, Seeding::kRandom, r2), 100, 1e-8);
    plus_plus += a.inertia;
    random += b.inertia;
    plus_plus_wins_or_ties += a.inertia <= b.inertia * (1 + 1e-9);
  }
  EXPECT_LT(plus_plus, 0.5 * random) << plus_plus / kSeeds << " vs " << random / kSeeds;
  EXPECT_GE(plus_plus_wins_or_ties, kSeeds * 3 / 4);
}

TEST(KMeans, EmptyClusterIsReseededAtTheFarthestPoint) {
  // Two groups on a line; the third centre starts far from everything and the fourth on top of
  // the first, so both are empty after the first assignment.
  const std::vector<double> points = {0, 1, 2, 10, 11, 12, 30};
  const LloydResult r = RunLloyd(points, 1, {1, 11, 1000, 1}, 50, 0);
  EXPECT_GE(r.empty_reseeds, 2);
  for (const int64_t s : r.sizes) EXPECT_GT(s, 0);
  for (const double c : r.centroids) EXPECT_TRUE(std::isfinite(c));
  // 30 is the farthest point: it takes one of the empty clusters and stays alone.
  EXPECT_EQ(std::count(r.labels.begin(), r.labels.end(), r.labels[6]), 1);
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.inertia, 5.0);
}

TEST(KMeans, SilhouetteMatchesAHandComputedExample) {
  // 1-D: {0, 1} {4, 5} {10}. a = 1 for the four paired points; b = 4.5, 3.5, 3.5, 4.5;
  // the singleton counts 0: mean = (2·7/9 + 2·5/7) / 5 = 188/315.
  const std::vector<double> points = {0, 1, 4, 5, 10};
  const std::vector<int32_t> labels = {0, 0, 1, 1, 2};
  auto s = MeanSilhouette(points, 1, labels);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(*s, 188.0 / 315.0, 1e-12);
  auto s2 = MeanSilhouette(points, 1, labels, 2);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(*s, *s2);
  // A 2-D square split into two columns: each point has a = 1 (its neighbour above or below) and
  // b = (1 + √2) / 2 to the other column.
  const std::vector<double> square = {0, 0, 0, 1, 1, 0, 1, 1};
  const double b = (1 + std::sqrt(2.0)) / 2;
  EXPECT_NEAR(*MeanSilhouette(square, 2, std::vector<int32_t>{0, 0, 1, 1}), (b - 1) / b, 1e-12);
  // One cluster only, and duplicates: 0, never NaN.
  EXPECT_EQ(*MeanSilhouette(points, 1, std::vector<int32_t>{0, 0, 0, 0, 0}), 0.0);
  EXPECT_EQ(*MeanSilhouette(std::vector<double>{3, 3, 3, 3}, 1, std::vector<int32_t>{0, 0, 1, 1}),
            0.0);
  EXPECT_EQ(MeanSilhouette(points, 1, std::vector<int32_t>{0, 0}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(MeanSilhouette(std::vector<double>{1}, 1, std::vector<int32_t>{0}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(KMeans, AdjustedRandIndex) {
  using V = std::vector<int32_t>;
  EXPECT_DOUBLE_EQ(*AdjustedRandIndex(V{0, 0, 1, 1, 2}, V{5, 5, 3, 3, 0}), 1.0);
  // scikit-learn's documented example.
  EXPECT_NEAR(*AdjustedRandIndex(V{0, 0, 1, 1}, V{0, 0, 1, 2}), 0.5714285714285715, 1e-12);
  EXPECT_DOUBLE_EQ(*AdjustedRandIndex(V{0, 0, 0, 0}, V{0, 1, 2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(*AdjustedRandIndex(V{0, 0, 0}, V{1, 1, 1}), 1.0);
  EXPECT_EQ(AdjustedRandIndex(V{0, 1}, V{0}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AdjustedRandIndex(V{0, -1}, V{0, 0}).status().code(), ErrorCode::kInvalidArgument);
}

KMeansModel HandModel(const std::vector<std::vector<double>>& z) {
  KMeansModel m;
  m.features = {"data_mb", "voice_min", "sms"};
  m.standardizer.mean = {0, 0, 0};
  m.standardizer.sd = {1, 1, 1};
  m.standardizer.missing = {0, 0, 0};
  m.k = static_cast<int>(z.size());
  for (const auto& c : z) m.centroids.insert(m.centroids.end(), c.begin(), c.end());
  m.centroids_original = m.centroids;
  m.sizes.assign(m.k, 1);
  m.selection.chosen_k = m.k;
  m.selection.elbow_k = m.k;
  return m;
}

TEST(KMeans, DescribeNamesTheFeaturesThatStandOut) {
  const KMeansModel m = HandModel(
      {{1.8, -0.9, 0.1}, {0.2, 0.1, -0.3}, {0.0, 2.0, 0.0}, {1.8, -0.9, 0.6}, {-0.4, 0.0, 0.45}});
  const std::vector<ClusterProfile> p = Describe(m);
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].description, "high data_mb (+1.8 sd), low voice_min (-0.9 sd)");
  EXPECT_EQ(p[0].name, "high data_mb, low voice_min");
  EXPECT_EQ(p[1].description, "average on every feature");
  EXPECT_EQ(p[1].name, "average #1");
  EXPECT_EQ(p[2].name, "high voice_min");
  EXPECT_EQ(p[2].description, "high voice_min (+2.0 sd)");
  // Same top two traits as cluster 0: the name takes the third.
  EXPECT_EQ(p[3].name, "high data_mb, low voice_min, high sms");
  EXPECT_EQ(p[3].traits.size(), 3u);
  EXPECT_EQ(p[4].name, "average #4");
  // At most four traits are spelled out.
  KMeansModel wide = HandModel({{1, -2, 3}, {0, 0, 0}});
  wide.features = {"a", "b", "c", "d", "e", "f"};
  wide.standardizer.mean.assign(6, 0);
  wide.standardizer.sd.assign(6, 1);
  wide.centroids = {1, -2, 3, 0.6, -0.7, 0.8, 0, 0, 0, 0, 0, 0};
  const ClusterProfile w = Describe(wide)[0];
  EXPECT_EQ(w.traits.size(), 6u);
  EXPECT_EQ(w.name, "high c, low b");
  EXPECT_EQ(w.description,
            "high c (+3.0 sd), low b (-2.0 sd), high a (+1.0 sd), high f (+0.8 sd) and 2 more");
  // A lower threshold lets more through.
  EXPECT_EQ(Describe(m, 0.25)[1].name, "low sms");
}

TEST(KMeans, DescribeOnFittedBlobs) {
  const Blobs b = MakeBlobs(7);
  KMeansOptions o;
  o.k = 4;
  auto fit = FitKMeans(b.data, o);
  ASSERT_TRUE(fit.ok());
  const std::vector<ClusterProfile> p = Describe(*fit);
  // Blob 3 (cluster 3, the smallest) sits at +4 units on data_mb, voice_min, arpu and -4 on sms,
  // with tickets at -2: its strongest traits are among those four, with sms low.
  const auto z_of = [&](int c, const std::string& feature) {
    for (const Trait& t : p[c].traits) {
      if (t.feature == feature) return t.z;
    }
    return 0.0;
  };
  EXPECT_NE(p[3].description.find("low sms"), std::string::npos) << p[3].description;
  EXPECT_LT(z_of(3, "sms"), -1.5);
  EXPECT_GT(z_of(3, "data_mb"), 1.0);
  EXPECT_GT(z_of(3, "voice_min"), 1.0);
  // Blob 0 is at 0 units everywhere, below the mean on every feature but tickets.
  EXPECT_NE(p[0].description.find("low data_mb"), std::string::npos) << p[0].description;
  EXPECT_EQ(p[0].description.find("tickets"), std::string::npos) << p[0].description;
  std::vector<std::string> names;
  for (const auto& c : p) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end()) << "names are unique";
}

TEST(KMeans, SaveLoadKeepsAssignments) {
  const Blobs b = MakeBlobs(21);
  FeatureMatrix data = b.data;
  data.values[3] = kNaN;  // one missing value: the standardizer counts it
  auto fit = FitKMeans(data, RangeOptions(2, 5));
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->standardizer.missing[3], 1);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("kmeans_test_" + std::to_string(::getpid()) + ".json"))
                               .string();
  ASSERT_TRUE(SaveKMeansModel(*fit, path).ok());
  auto loaded = LoadKMeansModel(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->centroids, fit->centroids);
  EXPECT_EQ(loaded->centroids_original, fit->centroids_original);
  EXPECT_EQ(loaded->standardizer.mean, fit->standardizer.mean);
  EXPECT_EQ(loaded->standardizer.sd, fit->standardizer.sd);
  EXPECT_EQ(loaded->standardizer.missing, fit->standardizer.missing);
  EXPECT_EQ(loaded->sizes, fit->sizes);
  EXPECT_EQ(loaded->selection.tried.size(), fit->selection.tried.size());
  EXPECT_EQ(loaded->selection.reason, fit->selection.reason);
  EXPECT_EQ(KMeansModelToJson(*loaded), KMeansModelToJson(*fit));
  EXPECT_EQ(*AssignAll(*loaded, data.values), *AssignAll(*fit, data.values));
}

TEST(KMeans, AssignAllAgreesWithAssignAndImputesMissing) {
  const Blobs b = MakeBlobs(8);
  KMeansOptions o;
  o.k = 4;
  auto fit = FitKMeans(b.data, o);
  ASSERT_TRUE(fit.ok());
  std::vector<double> values = b.data.values;
  values[0] = kNaN;
  values[6] = std::numeric_limits<double>::infinity();
  auto all1 = AssignAll(*fit, values, 1);
  auto all2 = AssignAll(*fit, values, 2);
  ASSERT_TRUE(all1.ok() && all2.ok());
  EXPECT_EQ(*all1, *all2);
  for (size_t i = 0; i < all1->size(); ++i) {
    auto one = Assign(*fit, std::span(values).subspan(i * 5, 5));
    ASSERT_TRUE(one.ok());
    ASSERT_EQ(*one, (*all1)[i]) << "row " << i;
  }
  // A row of missing values sits at the mean of every feature.
  const std::vector<double> nothing(5, kNaN);
  std::vector<double> means = fit->standardizer.mean;
  EXPECT_EQ(*Assign(*fit, nothing), *Assign(*fit, means));
  EXPECT_EQ(Assign(*fit, std::vector<double>{1, 2}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AssignAll(*fit, std::vector<double>{1, 2, 3}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(KMeans, ConstantFeatureIsReportedAndHarmless) {
  FeatureMatrix data;
  data.names = {"a", "flat", "b"};
  for (int i = 0; i < 60; ++i) {
    const double g = i % 3;
    data.values.insert(data.values.end(), {g * 10 + (i % 5) * 0.1, 7.0, -g * 3});
  }
  KMeansOptions o = RangeOptions(2, 5);
  auto fit = FitKMeans(data, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->standardizer.constant_features, std::vector<int>{1});
  EXPECT_EQ(fit->standardizer.sd[1], 1.0);
  EXPECT_EQ(fit->k, 3);
  for (int c = 0; c < fit->k; ++c) {
    EXPECT_EQ(fit->centroids[c * 3 + 1], 0.0);
    EXPECT_EQ(fit->centroids_original[c * 3 + 1], 7.0);
  }
  for (const ClusterProfile& p : Describe(*fit)) {
    EXPECT_EQ(p.description.find("flat"), std::string::npos);
  }
}

TEST(KMeans, RangeIsClippedToTheDistinctRows) {
  FeatureMatrix data;
  data.names = {"x", "y"};
  for (int i = 0; i < 40; ++i) {
    data.values.insert(data.values.end(), {static_cast<double>(i % 3), i % 3 == 2 ? 5.0 : 0.0});
  }
  auto fit = FitKMeans(data, RangeOptions(2, 8));
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->selection.tried.size(), 2u);  // k = 2, 3
  EXPECT_NE(fit->selection.reason.find("clipped to k <= 3"), std::string::npos)
      << fit->selection.reason;
  for (const KCandidate& c : fit->selection.tried) {
    EXPECT_TRUE(std::isfinite(c.silhouette) && std::isfinite(c.inertia));
  }
  EXPECT_EQ(fit->k, 3);
  EXPECT_NEAR(fit->inertia, 0.0, 1e-20);
}

TEST(KMeans, BadInputIsAClearError) {
  const auto code = [](const FeatureMatrix& d, const KMeansOptions& o) {
    return FitKMeans(d, o).status().code();
  };
  const auto message = [](const FeatureMatrix& d, const KMeansOptions& o) {
    return FitKMeans(d, o).status().message();
  };
  const Blobs b = MakeBlobs(1);
  const KMeansOptions ok;

  FeatureMatrix empty_rows;
  empty_rows.names = {"a", "b"};
  EXPECT_EQ(code(empty_rows, ok), ErrorCode::kInvalidArgument);
  EXPECT_NE(message(empty_rows, ok).find("n = 0"), std::string::npos);

  FeatureMatrix no_cols;
  EXPECT_NE(message(no_cols, ok).find("d = 0"), std::string::npos);

  FeatureMatrix ragged = b.data;
  ragged.values.pop_back();
  EXPECT_EQ(code(ragged, ok), ErrorCode::kInvalidArgument);

  FeatureMatrix all_nan = b.data;
  for (size_t i = 2; i < all_nan.values.size(); i += 5) all_nan.values[i] = kNaN;
  EXPECT_NE(message(all_nan, ok).find("\"sms\" has no value"), std::string::npos)
      << message(all_nan, ok);

  FeatureMatrix infinite = b.data;
  infinite.values[7] = -std::numeric_limits<double>::infinity();
  EXPECT_NE(message(infinite, ok).find("row 2, feature \"sms\": infinite"), std::string::npos)
      << message(infinite, ok);

  FeatureMatrix twice = b.data;
  twice.names[1] = "data_mb";
  EXPECT_EQ(code(twice, ok), ErrorCode::kInvalidArgument);

  KMeansOptions inverted = RangeOptions(6, 3);
  EXPECT_NE(message(b.data, inverted).find("k_min (6) is larger than k_max (3)"),
            std::string::npos);
  KMeansOptions one;
  one.k = 1;
  EXPECT_EQ(code(b.data, one), ErrorCode::kInvalidArgument);
  KMeansOptions huge;
  huge.k_max = kMaxK + 1;
  EXPECT_EQ(code(b.data, huge), ErrorCode::kInvalidArgument);
  KMeansOptions no_threads;
  no_threads.threads = 0;
  EXPECT_EQ(code(b.data, no_threads), ErrorCode::kInvalidArgument);
  KMeansOptions bad_tol;
  bad_tol.tolerance = kNaN;
  EXPECT_EQ(code(b.data, bad_tol), ErrorCode::kInvalidArgument);

  // Three distinct rows, many times over.
  FeatureMatrix few;
  few.names = {"x"};
  for (int i = 0; i < 30; ++i) few.values.push_back(i % 3);
  KMeansOptions four;
  four.k = 4;
  EXPECT_NE(message(few, four).find("k = 4 but the data has only 3 distinct rows"),
            std::string::npos)
      << message(few, four);
  KMeansOptions from_four = RangeOptions(4, 6);
  EXPECT_NE(message(few, from_four).find("k_min = 4"), std::string::npos);
  // Missing values are imputed with the mean (1 without a 0 and a 2): no new distinct row.
  few.values[0] = kNaN;
  few.values[2] = kNaN;
  EXPECT_EQ(code(few, four), ErrorCode::kInvalidArgument);
}

TEST(KMeans, LoadRejectsBadFiles) {
  const Blobs b = MakeBlobs(2);
  KMeansOptions o;
  o.k = 3;
  auto fit = FitKMeans(b.data, o);
  ASSERT_TRUE(fit.ok());
  const std::string good = KMeansModelToJson(*fit);
  ASSERT_TRUE(KMeansModelFromJson(good, "m.json").ok());
  const auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const auto expect_error = [](const std::string& text, const std::string& words) {
    auto r = KMeansModelFromJson(text, "m.json");
    ASSERT_FALSE(r.ok()) << words;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
    EXPECT_NE(r.status().message().find("m.json"), std::string::npos);
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
  };
  expect_error("{", "not JSON");
  expect_error("[]", "expected an object");
  expect_error(replace("kairos.kmeans", "kairos.other"), "\"format\"");
  expect_error(replace("\"version\": 1", "\"version\": 2"), "unsupported version");
  expect_error(replace("\"k\": 3", "\"k\": 4"), "\"centroids\"");
  expect_error(replace("\"k\": 3", "\"k\": 0"), "\"k\"");
  expect_error(replace("\"sizes\"", "\"sizes_\""), "\"sizes\": missing");
  expect_error(replace("\"sd\": [", "\"sd\": [0, "), "\"standardizer.sd\"");
  expect_error(replace("\"sd\": [", "\"sd\": [null, "), "\"standardizer.sd\"");
  expect_error(replace("\"features\": [\"data_mb\"", "\"features\": [\"voice_min\""),
               "appears twice");
  expect_error(replace("\"centroids\": [[", "\"centroids\": [[\"x\", "), "\"centroids\"");
  KMeansModel zero_sd = *fit;
  zero_sd.standardizer.sd[2] = 0;
  expect_error(KMeansModelToJson(zero_sd), "every sd must be > 0");
  auto missing = LoadKMeansModel("/nonexistent/kmeans.json");
  EXPECT_EQ(missing.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace kairos::analytics
