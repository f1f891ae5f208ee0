// Off-policy evaluation: estimates how a context-free evaluation policy π would have done on a
// log collected by another (logging) policy. IPS, SNIPS, DM and DR with percentile-bootstrap
// intervals. Formulas and their assumptions: docs/ope.md.
#pragma once

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "learn/bandit_log.h"

namespace kairos::learn {

struct Interval {
  double lo = 0;
  double hi = 0;
};

struct Estimate {
  double value = 0;
  std::optional<Interval> ci95;  // absent when bootstrap == 0
};

struct OpeReport {
  int64_t n = 0;         // logged rows
  double on_policy = 0;  // the log's own mean reward (the logging policy's value)
  Estimate ips, snips, dm, dr;
};

struct OpeOptions {
  int bootstrap = 200;  // resamples; 0: point estimates only
  uint64_t seed = 1;    // replicate b draws from a generator seeded by (seed, b)
  int threads = 1;      // replicates run in parallel; the result does not depend on this
  // Pseudo-impressions pulling each (item, position) click rate toward its position's rate in
  // the reward model q̂ (DM, DR): q̂ = (clicks + m·rate_k) / (shows + m).
  double smoothing = 10;
};

// OK when every propensity is finite and in (0, 1]; otherwise InvalidArgument naming the first
// bad row (file:line): IPS, SNIPS and DR divide by it.
Status CheckPropensities(const BanditLog& log);

// All four estimators on `log` for `pi` (which must be resolved against this log). Refuses the
// whole run when CheckPropensities fails, so that no partial report hides a broken log.
Result<OpeReport> Evaluate(const BanditLog& log, const Policy& pi, const OpeOptions& options);

}  // namespace kairos::learn
