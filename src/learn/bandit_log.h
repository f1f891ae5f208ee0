// Logged bandit feedback for off-policy evaluation: the two log formats Kairos reads (the Open
// Bandit Dataset's CSV and Kairos's own NDJSON export) and the evaluation-policy forms of
// `kairos ope --policy` (uniform, topk:..., dist:FILE.csv). See docs/ope.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace kairos::learn {

// One row per logged impression, stored column-wise. Actions and positions are dense 0-based
// indexes; `action_names` maps an index back to the id used in the file (OBD: "0".."n-1").
struct BanditLog {
  std::string source;  // file name (or test label), the prefix of every message about a row
  std::vector<int32_t> action;
  std::vector<int32_t> position;  // 0-based (the files are 1-based)
  std::vector<double> reward;
  std::vector<double> propensity;  // NaN when the row has none; validated by the estimators
  std::vector<int64_t> line;       // 1-based source line of each row, for messages
  std::vector<std::string> action_names;
  std::unordered_map<std::string, int32_t> action_index;  // inverse of action_names
  int32_t n_positions = 0;

  size_t size() const { return action.size(); }
  int32_t n_actions() const { return static_cast<int32_t>(action_names.size()); }
  // "file:line" of row i.
  std::string Where(size_t i) const;
};

enum class LogFormat { kObd, kKairos };

// Open Bandit Dataset CSV: a header row whose first column is an unnamed index, then one row per
// impression; uses item_id, position (1-based), click and propensity_score and ignores the other
// columns. The item count is max item_id + 1 (items are dense 0..n-1 in OBD).
Result<BanditLog> ParseObdCsv(std::string_view text, std::string_view source);
// Kairos NDJSON: {"decision_id":"..","action_id":"..","position":1,"propensity":0.8,"reward":1}
// per line; position defaults to 1; unknown keys are ignored. Action indexes follow the sorted
// action ids, so a log's indexes do not depend on line order.
Result<BanditLog> ParseKairosNdjson(std::string_view text, std::string_view source);
// Reads `path` and parses it in `format`; errors name the file (and line).
Result<BanditLog> LoadLog(const std::string& path, LogFormat format);

// An evaluation policy that ignores context: prob[k * n_actions + a] = π(action a at position k).
// Each position's probabilities sum to at most 1 (the rest is "show nothing", reward 0).
struct Policy {
  int32_t n_actions = 0;
  int32_t n_positions = 0;
  std::vector<double> prob;

  double at(int32_t a, int32_t k) const { return prob[static_cast<size_t>(k) * n_actions + a]; }
};

// `uniform`, `topk:I1,I2,...` or `dist:FILE.csv` (columns item, position, probability), resolved
// against the log's actions and positions: unknown ids or positions are errors.
Result<Policy> ParsePolicy(std::string_view spec, const BanditLog& log);
// The dist CSV form from text (for tests); `source` names it in messages.
Result<Policy> ParseDistCsv(std::string_view text, std::string_view source, const BanditLog& log);

}  // namespace kairos::learn
