// FeatureCache: the values of a catalog's features for one subscriber and one request — the
// expr::SymbolReader every rule of a decision reads through.
//
// Created per request (Vespa's executor to the FeatureSpace's blueprint). `now` is fixed once.
// Each feature is computed on first read and memoized, except the per-candidate ones
// (action.value, action.cost, action.propensity) of the candidate set by SetCandidate; its value
// (possibly an expression) is computed on first need. Forecasts are computed once per forecast,
// whatever figure is read first.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "decide/decision.h"
#include "profile/forecast.h"
#include "profile/profile.h"

namespace kairos {

class FeatureCache final : public expr::SymbolReader {
 public:
  // All references must outlive the cache. `context` is indexed like FeatureSpace::context()
  // (may be empty: every context field is then null).
  FeatureCache(const Decisioning& decisioning, const Profile& profile, TimestampMs now,
               std::string_view channel, const std::vector<ContextValue>& context);

  // The candidate whose rules are evaluated next.
  void SetCandidate(const Action* action) {
    candidate_ = action;
    value_known_ = false;
  }
  // The candidate's value: its value expression (null → 0) or its fixed value, computed once.
  double CandidateValue();

  expr::Value Read(int slot) override;

  TimestampMs now() const { return now_; }
  const Profile& profile() const { return profile_; }

 private:
  expr::Value Compute(const Feature& f);
  const ForecastResult& Forecast(int index);

  const std::vector<Feature>& features_;
  const Schema& schema_;
  const Profile& profile_;
  const TimestampMs now_;
  const std::string_view channel_;
  const std::vector<ContextValue>& context_;
  std::vector<expr::Value> memo_;
  std::vector<uint8_t> known_;
  std::vector<std::optional<ForecastResult>> forecasts_;
  const Action* candidate_ = nullptr;
  double value_ = 0;
  bool value_known_ = false;
  bool computing_value_ = false;  // a value expression reading action.value reads null
};

}  // namespace kairos
