// The minimal policies.yaml and catalog.yaml that `kairos init` writes. Both are loaded against
// the default schema in catalog_test.cc, so they stay valid as the formats evolve.
#include "catalog/catalog.h"

namespace kairos {

std::string_view DefaultPoliciesYaml() {
  return R"yaml(# Kairos contact policies: which channels exist and how often a subscriber may be contacted.
# Format: docs/catalog.md. Durations: 30m, 12h, 7d. Changes apply on reload.

# Every channel a decision may be asked for (POST /v1/decisions {"channel": ...}); order is kept.
#   outbound:    pushed to the subscriber (not an inbound visit); default false
#   consent:     key in the consent flags attribute that must be true; omit for none
#   quiet_hours: no contact during the quiet hours below, in the subscriber's time zone
#   top_k:       at most this many actions per decision on the channel (1..100, default 3)
channels:
  sms:         {outbound: true, consent: sms, quiet_hours: true, top_k: 1}
  email:       {outbound: true, consent: email, top_k: 1}
  push:        {outbound: true, consent: push, quiet_hours: true, top_k: 1}
  app:         {top_k: 3}
  web:         {top_k: 3}
  call_center: {consent: call, top_k: 2}
  retail:      {top_k: 2}
  invoice:     {outbound: true, top_k: 1}

# The flags attribute of schema.yaml that holds consents per channel ({sms: true, ...}).
# Omit it to switch consent checks off.
consent_attribute: consents

# Local wall-clock hours without outbound contact on channels with quiet_hours: true.
quiet_hours: {from: "21:00", to: "08:00", timezone_attribute: timezone, default_timezone: Europe/Berlin}

# Contact caps over rolling windows, per channel or over all channels together.
caps:
  - {channel: sms, max: 1, window: 7d}
  - {channel: email, max: 2, window: 7d}
  - {channel: push, max: 3, window: 7d}
  - {channel: all, max: 6, window: 7d}

# Stop showing an action (or any action of a group) that was ignored `after` times in `window`.
suppression:
  - {scope: action, after: 3, window: 30d, for: 30d}
  - {scope: group, after: 5, window: 30d, for: 14d}

# How candidates are ranked: priority = propensity^w × context^w × value^w × levers^w.
arbitration:
  weights: {propensity: 1, context: 1, value: 1, levers: 1}
  min_priority: 0.01           # below this the decision is "no action"
  value_must_cover_cost: true  # drop offers whose expected margin (propensity × value) < cost
  per_group: 1                 # at most one action of a group per decision
  default_propensity: 0.02     # prior for actions that state none

# A random share of subscribers gets no actions, to measure what the actions add.
control_group: {share: 0.05, period: 30d, salt: "2026"}
)yaml";
}

std::string_view DefaultCatalogYaml() {
  return R"yaml(# Kairos action catalog: issues → groups → actions → treatments (one per channel).
# Format: docs/catalog.md; rule language: docs/rule-language.md.
# An action is a candidate when it is valid today, has a treatment for the channel and all of its
# eligibility, applicability and suitability rules (issue, group, then its own) are true.

# Request context fields rules may read as ctx.<name> (ctx.channel always exists).
context:
  page: string

issues:
  Sales:
    groups:
      DataAddOns:
        actions:
          - id: DATA_5GB
            name: "5 GB data add-on"
            type: offer
            value: 8.5            # margin in EUR per acceptance
            propensity: 0.04      # prior acceptance rate until the models learn
            eligibility: "profile.data_allowance_mb > 0"
            # Running out before the cycle ends, or already throttled.
            applicability: "forecast.data.days_to_depletion < forecast.data.days_left or profile.throttled"
            cooldown: 7d
            treatments:
              sms: {text: "Running low on data? Add 5 GB for 9.99 EUR: reply DATA5"}
              app: {title: "5 GB extra", body: "Valid until the end of your billing cycle. 9.99 EUR."}
      TopUpBonuses:
        actions:
          - id: TOPUP_BONUS_15
            name: "Top up 15 EUR, get 1 GB"
            type: offer
            value: 3.0
            cost: 0.1             # what the bonus gigabyte costs us
            propensity: 0.06
            eligibility: "profile.plan_type == 'prepaid'"
            applicability: "profile.credit_eur < 3"
            max_times: 4
            treatments:
              sms: {text: "Top up 15 EUR this week and get 1 GB free."}
              app: {title: "Bonus gigabyte", body: "Top up 15 EUR and we add 1 GB."}
  Retention:
    groups:
      Discounts:
        actions:
          - id: RET_DISCOUNT_10
            name: "10% off for 12 months"
            type: retention
            # The margin a save keeps: a year of the plan price, net of the discount.
            value: "coalesce(profile.price_eur, 20) * 12"
            cost: 24
            propensity: 0.15
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: "days_until(profile.contract_end) < 60"
            max_times: 1
            treatments:
              call_center: {script: "Offer 10% off the monthly price for 12 months if the customer extends."}
              retail: {script: "Offer 10% off for 12 months on a contract extension."}
  Service:
    groups:
      Network:
        actions:
          - id: SVC_NETWORK_CHECK
            name: "Network issue follow-up"
            type: service
            value: 1.0
            propensity: 0.3
            applicability: "agg.dropped_calls(7d) > 3"
            cooldown: 14d
            treatments:
              app: {title: "Calls dropping?", body: "We are looking into the network near you. Tap for tips."}
              call_center: {script: "Apologise for dropped calls; a network ticket has been opened."}
)yaml";
}

}  // namespace kairos
