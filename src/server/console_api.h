// ConsoleApi: the JSON the operator console needs beyond the core API.
//
//   GET /v1/reports/overview         events/s and decisions/s over the last minute (and the
//                                    recent per-sample rates), acceptance and conversion, the
//                                    uplift summary, top actions, contacts per channel today
//                                    against capacity and caps
//   GET /v1/subscribers?prefix=&limit=   subscriber ids starting with a prefix (≤ 100, sorted)
//   GET /v1/admin/config/{file}      catalog.yaml, policies.yaml or triggers.yaml as text
//   PUT /v1/admin/config/{file}      validates the new text exactly like `kairos check` (the
//                                    workspace's files with this one replaced), then writes it
//                                    atomically and reloads; on any problem nothing changes and
//                                    the answer lists the problems as file/line/column/message
//
// Rates come from samples of the engine's and the decision service's counters, taken when the
// overview is asked for (at most one a second, kept 15 minutes); the slow parts (uplift report,
// the day's contacts from the decision log) are cached for 30 s. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace kairos {

class Automation;
class DecisionService;
class Engine;

struct ConsoleResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// One problem `kairos check` reports, split ("file:line:column: message").
struct ConfigProblem {
  std::string file;
  int line = 0;  // 0 when the message names no place
  int column = 0;
  std::string message;
};

// Splits check messages (one or more lines) into problems; file names are made relative to
// `dir` when they lie inside it.
std::vector<ConfigProblem> SplitProblems(std::string_view messages, const std::string& dir);

// True for the files the console may read and write.
bool EditableConfigFile(std::string_view file);

// Validates `<workspace_dir>` with `file` replaced by `text`, the way `kairos check` does
// (workspace, then catalog and policies, then triggers), in a scratch copy of the workspace's
// YAML files. Returns the problems (empty: valid).
std::vector<ConfigProblem> CheckConfigText(const std::string& workspace_dir, std::string_view file,
                                           std::string_view text);

class ConsoleApi {
 public:
  explicit ConsoleApi(const Clock* clock) : clock_(clock) {}

  ConsoleResponse Overview(Engine* engine, DecisionService* decisions) const;
  // `query` as sent (prefix=..&limit=..).
  ConsoleResponse SearchSubscribers(std::string_view query, Engine* engine) const;
  ConsoleResponse GetConfig(std::string_view file, const std::string& workspace_dir) const;
  // `automation` may be null (then only catalog and policies are reloaded). `outcome` receives
  // a one-line summary for the audit log.
  ConsoleResponse PutConfig(std::string_view file, std::string_view text, const std::string& workspace_dir,
                            DecisionService* decisions, Automation* automation, std::string* outcome) const;

 private:
  struct Sample {
    TimestampMs t = 0;
    int64_t events = 0;
    int64_t decisions = 0;
  };
  struct Slow {
    TimestampMs at = -1;
    std::string uplift;  // the uplift report's JSON, or "" with `uplift_error`
    std::string uplift_error;
    std::vector<std::pair<std::string, int64_t>> contacts_today;  // per channel
    std::vector<std::pair<std::string, int64_t>> contacts_hour;   // per channel, this UTC hour
  };

  const Clock* clock_;
  mutable std::mutex mu_;
  mutable std::deque<Sample> samples_;
  mutable Slow slow_;
  mutable std::mutex slow_mu_;    // one computation of the slow parts at a time
  mutable std::mutex config_mu_;  // one configuration change at a time
};

}  // namespace kairos
