#include "schema/score_fields.h"

#include <array>

namespace kairos {
namespace {

constexpr FieldType kNum = FieldType::kNumber;
constexpr FieldType kStr = FieldType::kString;

constexpr std::array<ScoreField, kScoreCount> kFields = {{
    {ScoreId::kRevenue, "value.revenue", kNum, "revenue per month (EUR) over the value window"},
    {ScoreId::kMargin, "value.margin", kNum, "margin per month (EUR): revenue less cost of service, subsidies, discounts"},
    {ScoreId::kEffort, "value.effort", kNum, "cost to serve per month (EUR): tickets, care contacts, returns, late payments"},
    {ScoreId::kValueTier, "segment.value_tier", kStr, "tier on the value x effort grid"},
    {ScoreId::kBehaviour, "segment.behaviour", kStr, "behavioural group (innovator, deal_seeker, ...)"},
    {ScoreId::kBuyer, "segment.buyer", kStr, "buyer type (high_margin, high_revenue, ...)"},
    {ScoreId::kUsage, "segment.usage", kStr, "usage profile (roamer, data_heavy, voice_centric, ...)"},
    {ScoreId::kRecency, "rfm.recency", kNum, "RFM recency score 1..5 (5: most recent)"},
    {ScoreId::kFrequency, "rfm.frequency", kNum, "RFM frequency score 1..5"},
    {ScoreId::kMonetary, "rfm.monetary", kNum, "RFM monetary score 1..5"},
    {ScoreId::kRfmCode, "rfm.code", kStr, "R, F and M digits, e.g. \"545\""},
    {ScoreId::kRfmSegment, "segment.rfm", kStr, "RFM segment (champions, loyal, at_risk, ...)"},
    {ScoreId::kCluster, "segment.cluster", kNum, "k-means cluster number (0-based)"},
    {ScoreId::kClusterName, "segment.cluster_name", kStr, "the cluster's plain-terms name"},
    {ScoreId::kPAlive, "clv.p_alive", kNum, "BG/NBD probability that the customer is still active"},
    {ScoreId::kExpectedTransactions, "clv.expected_transactions", kNum, "expected transactions over the CLV horizon"},
    {ScoreId::kExpectedSpend, "clv.expected_spend", kNum, "Gamma-Gamma expected spend per transaction (EUR)"},
    {ScoreId::kClv12m, "clv.expected_12m", kNum, "expected margin over the next 12 months, discounted (EUR)"},
    {ScoreId::kChurn, "score.churn", kNum, "calibrated churn probability over the model's horizon"},
    {ScoreId::kChurnDrivers, "score.churn_drivers", kStr, "top churn drivers with their SHAP contributions (log-odds)"},
}};

}  // namespace

std::span<const ScoreField> ScoreFields() { return kFields; }

int ScoreIndex(std::string_view name) {
  for (const ScoreField& f : kFields) {
    if (f.name == name) return static_cast<int>(f.id);
  }
  return -1;
}

bool IsScoreNamespace(std::string_view n) {
  for (std::string_view p : {"value.", "segment.", "rfm.", "clv.", "score."}) {
    if (n.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace kairos
