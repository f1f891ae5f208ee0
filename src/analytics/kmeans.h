// k-means clustering of subscribers' behavioural features (docs/clustering.md): standardize the
// features, fit k-means (k-means++ seeding, Lloyd iterations, restarts) on a uniform sample for
// each k of a range, choose k by mean silhouette (elbow reported), then assign every row to its
// nearest centroid and describe each cluster in plain terms ("high data_mb (+1.8 sd)").
//
// Sizing: `kairos segment` clusters ~1M subscribers × 5-15 features in well under 10 s on 2
// cores. Only the sample (default 50,000 rows) is iterated over; the whole data is read twice
// (standardizer) and assignment is one pass (30-60 ns per row for 10 features and k = 6).
//
// Everything is deterministic for a given seed and independent of the thread count: each
// (k, restart) job draws from its own Rng stream. Errors are Status values; nothing throws and
// no NaN escapes (missing values are imputed, degenerate cases are errors).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/rng.h"
#include "common/status.h"

namespace kairos::analytics {

// ---- Data --------------------------------------------------------------------------------

// A dense row-major matrix: rows() × names.size() doubles. NaN = missing. (`kairos cluster`
// fills it from a CSV file through table.h; `kairos segment` from profiles.)
struct FeatureMatrix {
  std::vector<std::string> names;
  std::vector<double> values;

  int cols() const { return static_cast<int>(names.size()); }
  int64_t rows() const {
    return names.empty() ? 0 : static_cast<int64_t>(values.size() / names.size());
  }
};

// ---- Standardization ---------------------------------------------------------------------

// Per-feature mean and population standard deviation over the non-missing values. Features
// are compared in standard deviations, so that MB of data do not drown out counts of tickets.
struct Standardizer {
  std::vector<double> mean;
  std::vector<double> sd;  // > 0; exactly 1 for a constant feature (its z is then always 0)
  std::vector<int> constant_features;  // indices of features with sd ≈ 0 in the fitted data
  std::vector<int64_t> missing;        // per feature: missing values in the fitted data

  int dims() const { return static_cast<int>(mean.size()); }
  // z = (x − mean) / sd per feature; a missing or non-finite x gives z = 0, i.e. it is imputed
  // with the feature's mean. `row` and `z` have dims() elements.
  void Transform(std::span<const double> row, std::span<double> z) const;
  // The inverse for one feature: mean + sd · z.
  double ToOriginal(int feature, double z) const { return mean[feature] + sd[feature] * z; }
};

// kInvalidArgument for no rows, no columns, values.size() not a multiple of the column count,
// an empty or repeated feature name, an infinite value (naming row and feature), or a feature
// without any non-missing value. A feature whose sd is below 1e-12 · max(1, |mean|) is constant.
Result<Standardizer> FitStandardizer(const FeatureMatrix& data);

// ---- Fitting -----------------------------------------------------------------------------

enum class Seeding {
  kPlusPlus,  // D² sampling (Arthur & Vassilvitskii 2007)
  kRandom,    // k distinct rows uniformly at random (the baseline k-means++ improves on)
};

enum class KCriterion {
  kSilhouette,  // the highest mean silhouette (ties: see KMeansOptions::tie_standard_errors)
  kElbow,       // the elbow of the inertia curve (see KSelection::elbow_k)
};

struct KMeansOptions {
  int k = 0;  // > 0: exactly this k (≥ 2); 0: choose k in [k_min, k_max]
  int k_min = 2;
  int k_max = 8;   // ≤ kMaxK
  int n_init = 3;  // restarts per k, each from its own seeding; the lowest inertia wins
  int max_iter = 100;
  // Lloyd stops when no row changes cluster, or when the centroids moved by at most this much
  // in total (Σ‖Δc‖², standardized units; every feature has variance 1, so this equals
  // scikit-learn's tol relative to the mean variance).
  double tolerance = 1e-4;
  uint64_t seed = 1;
  int64_t fit_sample = 50'000;  // rows fitted on (uniform, without replacement); ≥ 2
  // Rows of the fit sample the silhouette is computed on, exactly (O(s²·d)); ≥ 2.
  int64_t silhouette_sample = 4'000;
  KCriterion criterion = KCriterion::kSilhouette;
  // A k whose mean silhouette is below the best by at most this many standard errors counts as
  // tied with it, and the smallest tied k wins (the "one-standard-error rule"): a gap within
  // the silhouette sample's noise is no reason for more segments, and fewer segments are easier
  // to act on. The standard error is that of the mean per-row difference between the two k on
  // the same rows. 0: only exact ties (still the smallest k).
  double tie_standard_errors = 1.0;
  Seeding seeding = Seeding::kPlusPlus;
  int threads = 2;  // std::threads for the (k, restart) jobs and the silhouettes
};

inline constexpr int kMaxK = 256;

// One k tried.
struct KCandidate {
  int k = 0;
  double inertia = 0;     // Σ squared distance to the nearest centroid, fit sample, z units
  double silhouette = 0;  // mean silhouette on the silhouette sample, in [-1, 1]
  int iterations = 0;     // Lloyd iterations of the best restart
};

struct KSelection {
  std::vector<KCandidate> tried;  // ascending k
  int chosen_k = 0;
  // The k farthest below the straight line from the first to the last point of the inertia
  // curve, both axes scaled to [0, 1] (the "kneedle" reading of an elbow plot); the smallest k
  // when fewer than 3 were tried.
  int elbow_k = 0;
  std::string reason;  // one sentence: why chosen_k (criterion, ties, range clipping)
};

struct KMeansModel {
  std::vector<std::string> features;
  Standardizer standardizer;
  int k = 0;
  std::vector<double> centroids;           // k × d, row-major, standardized units
  std::vector<double> centroids_original;  // k × d, row-major, the features' own units
  // Rows of the fit sample per cluster. Clusters are numbered by decreasing size (ties: by
  // centroid), so that cluster 0 is the largest whatever the seed.
  std::vector<int64_t> sizes;
  double inertia = 0;  // of the chosen k on the fit sample, standardized units
  int iterations = 0;
  int64_t rows = 0;             // rows the standardizer was fitted on
  int64_t sample_rows = 0;      // rows the centroids were fitted on
  int64_t silhouette_rows = 0;  // rows the silhouettes were computed on
  KSelection selection;

  int dims() const { return static_cast<int>(features.size()); }
};

// Standardizes `data` over all rows, draws the fit sample, runs n_init seeded Lloyd restarts for
// every k and computes each k's mean silhouette on a sub-sample of the fit sample, then keeps
// the chosen k's best restart. Errors (kInvalidArgument): those of FitStandardizer; invalid
// options (k = 1 or < 0, k_min < 2, k_min > k_max, k_max > kMaxK, n_init, max_iter, samples or
// threads out of range, a negative or non-finite tolerance or tie_standard_errors); fewer
// distinct rows in the fit sample (after standardization and imputation) than k or k_min. When
// k_max exceeds the distinct rows, the range is clipped to them and `selection.reason` says so.
Result<KMeansModel> FitKMeans(const FeatureMatrix& data, const KMeansOptions& options);

// ---- Assignment --------------------------------------------------------------------------

// The nearest centroid of one row in original units (missing or non-finite values are imputed
// as in Standardizer::Transform). Ties go to the lower cluster id. kInvalidArgument when
// row.size() differs from the model's feature count.
Result<int32_t> Assign(const KMeansModel& model, std::span<const double> row);
// Every row of a row-major matrix (values.size() a multiple of the feature count, else
// kInvalidArgument), on `threads` threads (1..64). Same answers as Assign, in row order.
Result<std::vector<int32_t>> AssignAll(const KMeansModel& model, std::span<const double> values,
                                       int threads = 2);

// ---- Plain-terms profiles ----------------------------------------------------------------

struct Trait {
  std::string feature;
  double z = 0;  // the centroid's standardized value
};

struct ClusterProfile {
  int id = 0;
  // The top 1-2 traits, e.g. "high data_mb, low voice_min", made unique across clusters by
  // adding traits (or "#id" as a last resort); "average" when no feature stands out.
  std::string name;
  // The strongest traits, e.g. "high data_mb (+1.8 sd), low voice_min (-0.9 sd)", at most 4
  // then "and N more"; "average on every feature" when none.
  std::string description;
  std::vector<Trait> traits;  // |z| ≥ threshold, by decreasing |z| (ties: feature order)
};

// One profile per cluster, in cluster order. A feature "stands out" when its centroid is at
// least `threshold` standard deviations from the feature's mean.
std::vector<ClusterProfile> Describe(const KMeansModel& model, double threshold = 0.5);

// ---- Persistence -------------------------------------------------------------------------

// The model as JSON (format "kairos.kmeans", version 1; docs/clustering.md). Numbers are
// written with round-trip precision, so a loaded model assigns exactly as the saved one.
std::string KMeansModelToJson(const KMeansModel& model);
// kCorruption naming `source` and the offending key for malformed JSON, a wrong format or
// version, missing keys, wrong types, inconsistent lengths, non-finite numbers, sd ≤ 0, an
// empty or repeated feature name, or k outside [1, kMaxK]. centroids_original is recomputed
// from the standardized centroids, not read.
Result<KMeansModel> KMeansModelFromJson(std::string_view text, std::string_view source);
// WriteFileAtomic (common/file_util.h: temporary file, fsync, rename); kIoError naming the path.
Status SaveKMeansModel(const KMeansModel& model, const std::string& path);
// kIoError when unreadable, else as KMeansModelFromJson with the path as source.
Result<KMeansModel> LoadKMeansModel(const std::string& path);

// ---- Building blocks (used by FitKMeans; public for tests and diagnostics) ----------------

// Initial centroids (k × dims, row-major) chosen among `points` (row-major, n × dims) by the
// given seeding. Preconditions: dims ≥ 1, 1 ≤ k ≤ n.
std::vector<double> SeedCentroids(std::span<const double> points, int dims, int k, Seeding seeding,
                                  Rng& rng);

struct LloydResult {
  std::vector<double> centroids;  // k × dims
  std::vector<int32_t> labels;    // per point
  std::vector<int64_t> sizes;     // per cluster
  double inertia = 0;             // Σ squared distance to the assigned centroid
  int iterations = 0;
  bool converged = false;  // stopped by the tolerance or stable labels, not by max_iter
  // Times an empty cluster was re-seeded at the point farthest from its centroid.
  int empty_reseeds = 0;
};

// Lloyd iterations from the given centroids (k × dims, k ≥ 1). After each assignment step an
// empty cluster takes the point farthest from its own centroid (among clusters with more than
// one point), so no centroid is left undefined. Preconditions: dims ≥ 1, points.size() and
// initial.size() multiples of dims, max_iter ≥ 1.
LloydResult RunLloyd(std::span<const double> points, int dims, std::vector<double> initial,
                     int max_iter, double tolerance);

// Mean silhouette (Rousseeuw 1987) of a labelling: s(i) = (b − a) / max(a, b) with a the mean
// Euclidean distance from i to the other members of its cluster and b the smallest mean
// distance to another (non-empty) cluster; s(i) = 0 for a singleton, when only one cluster is
// present, or when a = b = 0. kInvalidArgument when points.size() ≠ labels.size() · dims,
// fewer than 2 points or a negative label.
Result<double> MeanSilhouette(std::span<const double> points, int dims,
                              std::span<const int32_t> labels, int threads = 1);

// Adjusted Rand index (Hubert & Arabie 1985) of two labellings of the same points: 1 for the
// same partition (whatever the ids), ≈ 0 for independent ones; 1 when both put everything in
// one cluster or n < 2. kInvalidArgument for different lengths or a negative label.
Result<double> AdjustedRandIndex(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace kairos::analytics
