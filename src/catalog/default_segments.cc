#include "catalog/segmentation.h"

namespace kairos {

std::string_view DefaultSegmentsYaml() {
  return R"yaml(# kairos segment: the scores and segments written into every profile, for rules
# (segment.value_tier, value.margin, rfm.code, clv.expected_12m, score.churn, ...), arbitration
# and the console. Expressions use the rule language (docs/rule-language.md) and are read at the
# time of the run. Format: docs/segments.md.

# serve runs the job this often (0 or absent: only `kairos segment --workspace DIR`).
schedule: 24h

# What each subscriber brings and costs. The expressions give totals over `months` months;
# value.revenue, value.margin and value.effort are stored per month.
value:
  months: 3
  revenue: "coalesce(profile.price_eur, 0) * 3 + agg.topup_eur(90d) + agg.purchase_eur(90d)"
  margin: "coalesce(profile.price_eur, 0) * 3 * 0.55 + agg.topup_eur(90d) * 0.55 + agg.purchase_margin_eur(90d) - agg.discount_eur(90d)"
  effort:                                  # cost to serve: amount x cost per unit (EUR)
    tickets:       {amount: "agg.tickets(90d)", cost: 25}
    care_contacts: {amount: "agg.care_contacts(90d)", cost: 6}
    late_payments: {amount: "if(agg.max_days_late(90d) > 0, 1, 0)", cost: 12}

# The value x effort grid. quantile: thresholds are shares of subscribers (value_high: 0.8 = the
# top fifth by margin); absolute: EUR per month.
tiers:
  method: quantile
  value_high: 0.8
  value_low: 0.4
  effort_high: 0.8
  names:
    high: {low_effort: protect, high_effort: balanced}
    mid:  {low_effort: develop, high_effort: balanced}
    low:  {low_effort: develop, high_effort: reduce_effort}

# Behavioural groups: the first case that holds names the segment.
segments:
  behaviour:
    # early adopters: a new device, or every kind of app in use
    - {name: innovator, when: "agg.device_purchases(90d) >= 1 or (agg.video_min(30d) > 0 and agg.music_min(30d) > 0 and agg.fitness_min(30d) > 0 and agg.gaming_min(30d) > 0)"}
    # buy on discount or answer promotions
    - {name: deal_seeker, when: "agg.discount_eur(90d) > 0 or agg.offers_accepted(90d) >= 2"}
    - {name: mainstream}
  buyer:
    - {name: non_buyer, when: "agg.purchases(90d) == 0"}
    - {name: high_margin, when: "agg.purchase_margin_eur(90d) >= 0.35 * agg.purchase_eur(90d)"}
    - {name: high_revenue, when: "agg.purchase_eur(90d) >= 100"}
    - {name: occasional}
  usage:
    - {name: roamer, when: "agg.roaming_mb(30d) >= 200"}
    - {name: data_heavy, when: "agg.data_mb(30d) >= 15000"}
    - {name: voice_centric, when: "agg.voice_min(30d) >= 300 and agg.data_mb(30d) < 3000"}
    - {name: light, when: "agg.data_mb(30d) < 1000 and agg.voice_min(30d) < 60"}
    - {name: balanced}

# RFM: recency in days since the last top-up, purchase or payment; frequency over 90 days;
# monetary is value.revenue. Each scored 1..5 by quintile (5 best).
rfm:
  recency_days: "min(coalesce(days_since(agg.last_topup), 999), coalesce(days_since(agg.last_purchase), 999), coalesce(days_since(agg.last_payment), 999))"
  frequency: "agg.topups(90d) + agg.purchases(90d)"

# k-means over behavioural features (standardised; log1p first: usage is heavy-tailed). k is
# chosen by silhouette within the range.
clusters:
  k: 2..8
  sample: 30000
  transform: log1p
  features:
    data_mb:    "agg.data_mb(30d)"
    voice_min:  "agg.voice_min(30d)"
    sms:        "agg.sms(30d)"
    roaming_mb: "agg.roaming_mb(30d)"
    video_min:  "agg.video_min(30d)"
    topup_eur:  "agg.topup_eur(90d)"
    purchases:  "agg.purchases(90d)"
    care:       "agg.care_contacts(90d) + agg.tickets(90d)"

# Probabilistic CLV: BG/NBD on the days with a transaction (within the series' retention),
# Gamma-Gamma on their amounts, plus the subscription's recurring margin.
clv:
  transactions: topups
  spend: topup_eur
  margin: 0.55
  recurring_margin: "coalesce(profile.price_eur, 0) * 0.55"
  annual_discount_rate: 0.10
  fit_sample: 20000       # histories the models are fitted on (the parameters settle well before)

# Churn scores from a model made by `kairos churn train`; its feature names map to expressions.
# Without the model file score.churn stays empty. Every run also keeps a snapshot of these
# features (segments/churn-features/), so that `kairos churn train --workspace DIR` can learn
# from what was known then and who left within the horizon after (the label aggregate).
churn:
  model: churn-model.json
  horizon: 30d            # the period the model's churn probability covers
  label: churned          # last_time aggregate of the churn event
  keep_snapshots: 6
  top_drivers: 3
  features:
    tenure_days:       "days_since(subscriber.first_seen)"
    price_eur:         "coalesce(profile.price_eur, 0)"
    data_mb_30d:       "agg.data_mb(30d)"
    voice_min_30d:     "agg.voice_min(30d)"
    topup_eur_90d:     "agg.topup_eur(90d)"
    tickets_90d:       "agg.tickets(90d)"
    care_contacts_90d: "agg.care_contacts(90d)"
    dropped_calls_30d: "agg.dropped_calls(30d)"
    days_to_contract_end: "coalesce(days_until(profile.contract_end), -1)"
)yaml";
}

}  // namespace kairos
