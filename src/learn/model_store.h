// ModelStore: every adaptive model of a workspace, the predictor list they share, and the
// symbol dictionaries that turn predictor strings into codes — plus the snapshot that carries
// all of it across restarts and between environments.
//
// Models are keyed by treatment id ("<action>/<channel>"), so learning survives catalog reloads;
// an action that disappears keeps its model (it comes back if the action does).
//
// Snapshot format (little-endian, versioned): "KMDL", version, predictors (name, numeric),
// symbol dictionaries, a cursor the caller may keep (timeouts swept up to), models (id, kind,
// state), then CRC-32C of everything before it. A snapshot that fails any check is refused as
// a whole and the running models stay as they were.
//
// Thread-safety: all methods may be called concurrently. Encode, Score and Update must be called
// while the caller holds Lock() (one shared lock per request: the predictor list cannot change
// between encoding a request and scoring it); they take the model's own mutex, so responses for
// one model serialize and different models run in parallel. Configure and Restore take the
// store exclusively.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "learn/adaptive_model.h"

namespace kairos::learn {

class ModelStore {
 public:
  class Entry {
   public:
    const std::string& id() const { return id_; }

   private:
    friend class ModelStore;
    Entry(std::string id, ModelSettings s, const std::vector<PredictorSpec>* specs)
        : id_(std::move(id)), model_(s, specs) {}
    std::string id_;
    mutable std::mutex mu_;
    AdaptiveModel model_;
  };

  explicit ModelStore(std::vector<PredictorSpec> predictors = {});

  // Sets the predictor list (after a reload): models keep what they learned for predictors of
  // the same name and type; new predictors start empty.
  void Configure(std::vector<PredictorSpec> predictors);
  std::vector<PredictorSpec> predictors() const;

  // Shared lock for Encode / Score / Update.
  [[nodiscard]] std::shared_lock<std::shared_mutex> Lock() const {
    return std::shared_lock<std::shared_mutex>(mu_);
  }

  // The model of `id`, created with `settings` when new, else reconfigured to them when they
  // differ (with `keep_learned_prior`, a model that has responses keeps its prior propensity).
  // The pointer stays valid for the store's life.
  Entry* Bind(const std::string& id, const ModelSettings& settings,
              bool keep_learned_prior = false);

  // Codes for one request's predictor values (size = predictors()). New symbols enter the
  // dictionaries (up to kMaxSymbols each).
  void Encode(std::span<const PredictorValue> values, EncodedPredictors* out);

  Estimate Score(const Entry* e, const EncodedPredictors& in) const;
  // What a model has learned from: (positives, responses), and the settings it runs with.
  std::pair<int64_t, int64_t> Evidence(const Entry* e) const;
  ModelSettings Settings(const Entry* e) const;
  void Update(Entry* e, const EncodedPredictors& in, bool positive);

  struct ModelReport {
    std::string id;
    ModelHealth health;
  };
  std::vector<ModelReport> Health() const;
  // kNotFound when no model has this id.
  Result<ModelReport> HealthOf(std::string_view id) const;

  // The whole store as a snapshot (see the header comment). `cursor` is stored alongside.
  std::string Snapshot(int64_t cursor = 0) const;
  // Replaces every model, dictionary and the predictor list with a snapshot's, then remaps to
  // the current predictor list. kCorruption (nothing changes) when the snapshot is malformed.
  // Models the snapshot lacks are reset. Returns the snapshot's cursor.
  Result<int64_t> Restore(std::string_view snapshot);
  // Checks a snapshot without applying it: the number of models, or kCorruption.
  static Result<size_t> Validate(std::string_view snapshot);

  // Atomic file save (write, fsync, rename) and load; Load of a missing file is kNotFound.
  Status SaveFile(const std::string& path, int64_t cursor) const;
  Result<int64_t> LoadFile(const std::string& path);

 private:
  struct Dictionary {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, int> ids;  // 1.. (0 = overflow)
    std::vector<std::string> names;            // names[id - 1]
  };
  struct Decoded;
  static Result<Decoded> DecodeSnapshot(std::string_view snapshot);
  void RemapLocked(std::vector<PredictorSpec> predictors);

  mutable std::shared_mutex mu_;
  std::unique_ptr<std::vector<PredictorSpec>> specs_;
  std::vector<std::unique_ptr<Dictionary>> dicts_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> models_;
};

}  // namespace kairos::learn
