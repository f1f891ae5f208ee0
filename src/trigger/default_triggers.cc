// The demo operator's triggers.yaml (`kairos init --demo`): the operator classics, each covered
// by a scenario in tests/triggers/.
#include "trigger/trigger_config.h"

namespace kairos {

std::string_view DemoTriggersYaml() {
  return R"yaml(# Demo operator: real-time triggers, contact chains and outbound channels.
# Format: docs/triggers.md. Conditions are rule-language expressions on the profile right after
# the event (docs/rule-language.md); `where` filters the event's own fields.

triggers:
  # Data nearly used up: the add-on that covers the expected rest of the cycle with 95%
  # confidence (upper bound of the forecast's 90% interval, minus what is left).
  data_running_out:
    event: usage
    where: {kind: data}
    when: >-
      forecast.data.remaining > 0 and
      (forecast.data.days_to_depletion < 3 or forecast.data.remaining < 0.1 * profile.data_allowance_mb) and
      forecast.data.days_to_depletion < forecast.data.days_left
    channel: sms
    debounce: 3d
    size:
      need: "forecast.data.interval_high - forecast.data.remaining"
      packages: {DATA_1GB: 1024, DATA_3GB: 3072, DATA_5GB: 5120, DATA_10GB: 10240}

  # Prepaid credit nearly used up: the top-up bonus sized to the expected spend to the cycle end.
  credit_running_out:
    event: balance
    when: >-
      profile.plan_type == 'prepaid' and
      (forecast.credit.days_to_depletion < 5 or coalesce(profile.credit_eur, 0) < 2)
    channel: sms
    debounce: 7d
    size:
      need: "forecast.credit.interval_high - coalesce(profile.credit_eur, 0)"
      packages: {TOPUP_BONUS_10: 10, TOPUP_BONUS_20: 20}

  # Throttled after the allowance ran out: a data upgrade or add-on, on push.
  throttled:
    event: network
    where: {throttled: true}
    channel: push
    debounce: 1d
    groups: [DataAddOns]

  # Fitness app sessions: the matching content pass.
  fitness_sessions:
    event: app_session
    where: {app_category: fitness}
    when: "agg.fitness_min(30d) > 120"
    channel: push
    debounce: 14d
    actions: [CONTENT_FITNESS]

  # A new customer's first purchase: the second-purchase chain (push, then email, then sms).
  first_purchase:
    event: purchase
    when: "agg.purchases(90d) == 1 and days_since(subscriber.first_seen) <= 90"
    journey: second_purchase

  # Churn signals, gated by what the customer is worth and how likely they are to leave
  # (segments.yaml writes clv.* and score.churn; before its first run the gates use defaults).
  usage_drop:
    event: usage
    where: {kind: data}
    when: >-
      agg.data_mb(30d) > 2048 and agg.data_mb(7d) * 30 < 0.4 * 7 * agg.data_mb(30d) and
      coalesce(clv.expected_12m, 100) > 50 and coalesce(score.churn, 0.3) >= 0.2
    channel: sms
    debounce: 30d
    issues: [Retention]
  repeated_tickets:
    event: ticket
    when: "agg.tickets(30d) >= 2 and coalesce(clv.expected_12m, 100) > 30"
    channel: email
    debounce: 14d
    groups: [ServiceRecovery]
  contract_ending:
    event: payment
    when: >-
      profile.plan_type == 'postpaid' and days_until(profile.contract_end) >= 0 and
      days_until(profile.contract_end) < 60 and coalesce(clv.expected_12m, 100) >= 50
    journey: contract_renewal

  # Top-up made: loyalty progress (the streak reward after three in 90 days).
  topup_streak:
    event: topup
    when: "profile.plan_type == 'prepaid' and agg.topups(90d) >= 3"
    channel: sms
    debounce: 30d
    actions: [LOY_PREPAID_STREAK]

journeys:
  second_purchase:
    entry: "days_since(subscriber.first_seen) <= 90"
    exit_when: "agg.purchases(30d) >= 2"
    stop_on: [accepted, converted]
    actions: [SECOND_PURCHASE_10_OFF]
    max_duration: 10d
    steps:
      - {channel: push, wait: 3d}
      - {channel: email, wait: 4d}
      - {channel: sms, wait: 3d}
  contract_renewal:
    entry: "coalesce(score.churn, 0.3) >= 0.1"
    exit_when: "days_until(profile.contract_end) > 365"
    stop_on: [accepted, converted, rejected]
    groups: [ContractRenewal]
    max_duration: 45d
    steps:
      - {channel: email, wait: 7d}
      - {channel: email, wait: 14d}
      - {channel: call_center, wait: 14d}

# Where each outbound channel's messages go. The demo writes NDJSON files under outbound/;
# a real operator points sms at its SMS gateway, e.g.
#   sms: {webhook: {url: "https://sms-gw.example/v1/send", secret: "...", timeout: 5s, max_attempts: 8}}
#   push: {nats: {url: "nats://127.0.0.1:4222", subject: "kairos.push"}}
outbound:
  sms: {file: {path: outbound/sms.ndjson}}
  email: {file: {path: outbound/email.ndjson}}
  push: {file: {path: outbound/push.ndjson}}
  call_center: {file: {path: outbound/call_center.ndjson}}
)yaml";
}

std::string_view DefaultTriggersYaml() {
  return R"yaml(# Real-time triggers, contact chains and outbound channels. Format: docs/triggers.md.
#
# triggers:
#   data_running_out:                      # a name
#     event: usage                          # the event type that may fire it
#     where: {kind: data}                   # the event's fields (optional)
#     when: "forecast.data.days_to_depletion < 3"   # on the profile after the event (optional)
#     channel: sms                          # decide on this channel and deliver, or
#     # journey: second_purchase            #   start a contact chain
#     debounce: 3d                          # at most once per subscriber within (optional)
#     groups: [DataAddOns]                  # or actions: [...] / issues: [...] (optional)
#     size:                                 # offer the smallest package covering the need (optional)
#       need: "forecast.data.interval_high - forecast.data.remaining"
#       packages: {DATA_1GB: 1024, DATA_3GB: 3072}
#
# journeys:
#   second_purchase:
#     entry: "clv.expected_12m > 20"
#     exit_when: "agg.purchases(30d) >= 2"
#     stop_on: [accepted, converted]
#     steps:
#       - {channel: push, wait: 3d}
#       - {channel: email, wait: 4d}
#
# outbound:
#   sms: {webhook: {url: "https://sms-gw.example/v1/send", secret: "...", timeout: 5s, max_attempts: 8}}
#   email: {file: {path: outbound/email.ndjson}}
#   push: {nats: {url: "nats://127.0.0.1:4222", subject: kairos.push}}

triggers: {}
)yaml";
}

}  // namespace kairos
