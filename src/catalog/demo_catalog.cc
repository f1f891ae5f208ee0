// The demo operator's policies.yaml and catalog.yaml (`kairos init --demo`): a European mobile
// operator with prices in EUR. Prices, response rates and care costs follow the figures the
// simulator uses (../shared/WORLD.md); margins are plausible shares of those prices.
//
// Value is the margin in EUR an acceptance brings (over the months it lasts); cost is what an
// acceptance costs us (discounts, bonus data, rewards); propensity is the prior acceptance rate
// until the models learn (a few percent outbound, more on inbound channels and save desks).
// The decision pipeline drops candidates whose propensity × value does not cover their cost, so
// costly offers only make sense where acceptance is likely (save desk, retail).
#include "catalog/catalog.h"

namespace kairos {

std::string_view DemoPoliciesYaml() {
  return R"yaml(# Demo operator: contact policies. Format: docs/catalog.md.

channels:
  sms:         {outbound: true, consent: sms, quiet_hours: true, top_k: 1}
  email:       {outbound: true, consent: email, top_k: 1}
  push:        {outbound: true, consent: push, quiet_hours: true, top_k: 1}
  app:         {top_k: 3}
  web:         {top_k: 3}
  # The call center calls 500 customers a day: the slots go to the highest expected value.
  call_center: {consent: call, top_k: 2, capacity: {per_day: 500}}
  retail:      {top_k: 2}
  invoice:     {outbound: true, top_k: 1}

consent_attribute: consents

quiet_hours: {from: "21:00", to: "08:00", timezone_attribute: timezone, default_timezone: Europe/Berlin}

# SMS opt-outs run at 0.4-0.9% per campaign: keep outbound pressure low.
caps:
  - {channel: sms, max: 1, window: 7d}
  - {channel: sms, max: 3, window: 30d}
  - {channel: email, max: 2, window: 7d}
  - {channel: push, max: 3, window: 7d}
  - {channel: all, max: 6, window: 7d}

suppression:
  - {scope: action, after: 3, window: 30d, for: 30d}
  - {scope: group, after: 5, window: 30d, for: 14d}

arbitration:
  weights: {propensity: 1, context: 1, value: 1, levers: 1}
  min_priority: 0.01
  value_must_cover_cost: true
  per_group: 1
  default_propensity: 0.02

control_group: {share: 0.05, period: 30d, salt: "2026"}
)yaml";
}

std::string_view DemoCatalogYaml() {
  return R"yaml(# Demo operator: action catalog. Format: docs/catalog.md; rules: docs/rule-language.md.
# Data in MB, money in EUR, durations like 7d. Rules read the default schema's attributes
# (profile.*), aggregates (agg.*), billing-cycle forecasts (forecast.data/voice/credit.*) and
# the interaction history (history.*).

context:
  page: string      # web/app page the subscriber is on: home, data, billing, devices, sports, ...
  intent: string    # call-center / retail / chat intent: cancel, upgrade, billing, network, ...
  roaming: bool     # the app reports that the subscriber is abroad

templates:
  data_addon:
    type: offer
    cooldown: 3d
    context_weight: "if(ctx.page == 'data', 2, 1)"
  tariff_change:
    type: offer
    max_times: 3
    cooldown: 14d
    context_weight: "if(ctx.intent == 'upgrade' or ctx.page == 'tariffs', 3, 1)"
  device_offer:
    type: offer
    cooldown: 14d
    context_weight: "if(ctx.intent == 'upgrade' or ctx.page == 'devices', 3, 1)"
  content_pass:
    type: offer
    max_times: 3
    cooldown: 21d
    context_weight: "if(ctx.page == 'content', 2, 1)"
  save_offer:
    type: retention
    max_times: 2
    eligibility: "ctx.intent == 'cancel'"
  reward:
    type: reward
    max_times: 1
  tip:
    type: service
    cooldown: 30d
    max_times: 3

issues:
  Sales:
    lever: 1.0
    groups:
      DataAddOns:
        lever: 1.1
        # Only when the allowance runs out before the cycle ends (or already has), and not again
        # right after a purchase of any size.
        applicability: >-
          (forecast.data.days_to_depletion < 5 and
           forecast.data.days_to_depletion < forecast.data.days_left) or profile.throttled
        suitability: "history.outcomes('DataAddOns', 'converted', 3d) == 0"
        actions:
          # Sized to cover the shortfall with 95% confidence: the upper bound of the 90% interval
          # of usage to come, minus what is left (triggers.yaml sizes its offers the same way).
          - id: DATA_1GB
            extends: data_addon
            name: "1 GB data add-on"
            value: 2.69
            propensity: 0.05
            suitability: "forecast.data.interval_high - forecast.data.remaining <= 1024"
            treatments:
              sms: {text: "Running low on data? Reply 1GB to add 1 GB for 2.99 EUR until your cycle ends."}
              push: {title: "Data running low", body: "Add 1 GB for 2.99 EUR in one tap."}
              app: {title: "1 GB extra", body: "2.99 EUR, valid until the end of your billing cycle.", cta: "Add 1 GB"}
          - id: DATA_3GB
            extends: data_addon
            name: "3 GB data add-on"
            value: 6.15
            propensity: 0.04
            suitability: >-
              forecast.data.interval_high - forecast.data.remaining > 1024 and
              forecast.data.interval_high - forecast.data.remaining <= 3072
            treatments:
              sms: {text: "At your pace you need about 3 GB more this cycle. Reply 3GB to add it for 6.99 EUR."}
              push: {title: "3 GB for 6.99 EUR", body: "Enough to reach the end of your billing cycle."}
              app: {title: "3 GB extra", body: "6.99 EUR, valid until the end of your billing cycle.", cta: "Add 3 GB"}
          - id: DATA_5GB
            extends: data_addon
            name: "5 GB data add-on"
            value: 8.49
            propensity: 0.04
            suitability:
              - "forecast.data.interval_high - forecast.data.remaining > 3072"
              - "forecast.data.interval_high - forecast.data.remaining <= 5120"
              - "history.impressions('DATA_5GB', 7d) < 2"
            daily_volume: {sms: 20000, total: 60000}
            treatments:
              sms: {text: "You are on track to run out of data. Reply 5GB to add 5 GB for 9.99 EUR."}
              email: {subject: "5 GB more for 9.99 EUR", body: "Your data is running low. Add 5 GB today; it stays valid until your cycle ends."}
              push: {title: "5 GB for 9.99 EUR", body: "Keep full speed until your cycle ends."}
              app: {title: "5 GB extra", body: "9.99 EUR, valid until the end of your billing cycle.", cta: "Add 5 GB"}
              web: {title: "5 GB extra for 9.99 EUR", body: "Add data in seconds.", url: "/data/addons/5gb"}
          - id: DATA_10GB
            extends: data_addon
            name: "10 GB data add-on"
            value: 12.74
            propensity: 0.03
            suitability: "forecast.data.interval_high - forecast.data.remaining > 5120"
            treatments:
              sms: {text: "Heavy month? Reply 10GB to add 10 GB for 14.99 EUR."}
              email: {subject: "10 GB for 14.99 EUR", body: "You use a lot of data this cycle. 10 GB extra keeps you at full speed."}
              app: {title: "10 GB extra", body: "14.99 EUR until the end of your billing cycle.", cta: "Add 10 GB"}
              web: {title: "10 GB for 14.99 EUR", body: "Best value per GB.", url: "/data/addons/10gb"}
          - id: DATA_DAY_PASS
            extends: data_addon
            name: "24 h unlimited data"
            value: 2.24
            propensity: 0.08
            # Cheaper than a bundle when the cycle ends in a day or two.
            suitability: "profile.throttled and forecast.data.days_left <= 2"
            treatments:
              app: {title: "Unlimited for 24 h", body: "Full speed until your new cycle starts, 2.49 EUR.", cta: "Start now"}
              push: {title: "Full speed again", body: "24 hours unlimited data for 2.49 EUR."}
          - id: DATA_AUTO_REFILL
            extends: data_addon
            name: "Automatic 250 MB refill"
            value: 8.1
            propensity: 0.03
            max_times: 2
            cooldown: 30d
            suitability: "agg.throttle_events(30d) >= 2"
            treatments:
              app: {title: "Never slow down", body: "Automatically add 250 MB for 3 EUR when your data runs out, at most 3 times a month."}
              email: {subject: "Stay at full speed automatically", body: "Switch on automatic refill: 250 MB for 3 EUR, at most 3 times a month. Cancel any time."}

      TopUpBonuses:
        eligibility: "profile.plan_type == 'prepaid'"
        actions:
          - id: TOPUP_BONUS_10
            name: "Top up 10 EUR, get 500 MB"
            type: offer
            value: 2.5
            cost: 0.05
            propensity: 0.06
            cooldown: 7d
            applicability: "forecast.credit.days_to_depletion < 5 or profile.credit_eur < 2"
            treatments:
              sms: {text: "Your credit runs low. Top up 10 EUR by Sunday and get 500 MB free."}
              app: {title: "Bonus 500 MB", body: "Top up 10 EUR this week and we add 500 MB.", cta: "Top up"}
          - id: TOPUP_BONUS_20
            name: "Top up 20 EUR, get 2 GB"
            type: offer
            value: 5.0
            cost: 0.2
            propensity: 0.05
            cooldown: 14d
            applicability: "agg.topup_eur(90d) >= 40 and coalesce(profile.credit_eur, 0) < 5"
            daily_budget: {sms: 500, app: 800}
            treatments:
              sms: {text: "Top up 20 EUR before the weekend and get 2 GB on top."}
              push: {title: "2 GB bonus", body: "Top up 20 EUR and get 2 GB free."}
              app: {title: "2 GB bonus", body: "Top up 20 EUR, get 2 GB on top.", cta: "Top up 20 EUR"}
          - id: TOPUP_VOUCHER_50
            name: "Top up 50 EUR, get 15 GB"
            type: offer
            value: 7.0
            cost: 0.25
            propensity: 0.04
            cooldown: 28d
            applicability: "agg.topup_eur(90d) >= 90"
            treatments:
              app: {title: "15 GB bonus", body: "Top up 50 EUR at once and get 15 GB on top.", cta: "Top up 50 EUR"}
              email: {subject: "Your 15 GB bonus", body: "Top up 50 EUR in one go and we add 15 GB to your balance."}
          - id: TOPUP_AUTO
            name: "Automatic top-up with 1 GB bonus"
            type: offer
            value: 15.0
            cost: 0.1
            propensity: 0.03
            max_times: 3
            cooldown: 30d
            applicability:
              - "agg.topups(90d) >= 3"
              - "history.outcomes('TOPUP_AUTO', 'converted', 365d) == 0"
            treatments:
              app: {title: "Top up automatically", body: "Never run out of credit: automatic top-up when you fall below 3 EUR, plus 1 GB once.", cta: "Set up"}
              email: {subject: "Set up automatic top-up, get 1 GB", body: "Choose an amount and a threshold; we top up for you and add 1 GB once."}
          - id: TOPUP_WINBACK
            name: "Top up now, double data for a month"
            type: offer
            value: 6.0
            cost: 0.15
            propensity: 0.03
            max_times: 2
            cooldown: 30d
            applicability: "days_since(agg.last_topup) > 45 and days_since(agg.last_topup) < 300"
            treatments:
              sms: {text: "We miss you! Top up any amount this week and get double data for 4 weeks."}
              email: {subject: "Double data when you top up", body: "Top up any amount in the next 7 days and your data doubles for 4 weeks."}

      Tariffs:
        # No tariff pitch right after a change or a recent upgrade.
        suitability:
          - "history.outcomes('Tariffs', 'converted', 90d) == 0"
          - "agg.last_plan_change == null or days_since(agg.last_plan_change) > 60"
        actions:
          - id: TARIFF_UP_12GB
            extends: tariff_change
            name: "Upgrade to 12 GB"
            value: "max(39.99 - coalesce(profile.price_eur, 29.99), 5) * 24 * 0.7"
            propensity: 0.03
            eligibility: "profile.plan_type == 'postpaid' and profile.data_allowance_mb <= 6144"
            applicability: "agg.data_mb(30d) > 0.9 * profile.data_allowance_mb"
            treatments:
              email: {subject: "You use almost all your data", body: "Switch to 12 GB for 39.99 EUR a month. Same contract end, no fee."}
              app: {title: "12 GB for 39.99 EUR", body: "You used over 90% of your data last month.", cta: "Upgrade"}
              call_center: {script: "Customer uses >90% of 5 GB. Offer the 12 GB plan at 39.99 EUR/month, no change fee."}
          - id: TARIFF_UP_25GB
            extends: tariff_change
            name: "Upgrade to 25 GB"
            value: "max(49.99 - coalesce(profile.price_eur, 39.99), 5) * 24 * 0.7"
            propensity: 0.03
            eligibility: >-
              profile.plan_type == 'postpaid' and profile.data_allowance_mb > 6144 and
              profile.data_allowance_mb <= 12288
            applicability: "agg.data_mb(30d) > 0.9 * profile.data_allowance_mb"
            treatments:
              email: {subject: "Twice the data for 10 EUR more", body: "Move to 25 GB for 49.99 EUR a month, effective at your next cycle."}
              app: {title: "25 GB for 49.99 EUR", body: "You used over 90% of your data last month.", cta: "Upgrade"}
              call_center: {script: "Customer uses >90% of 12 GB. Offer the 25 GB plan at 49.99 EUR/month."}
          - id: TARIFF_UP_50GB
            extends: tariff_change
            name: "Upgrade to 50 GB"
            value: "max(59.99 - coalesce(profile.price_eur, 49.99), 5) * 24 * 0.7"
            propensity: 0.025
            eligibility: >-
              profile.plan_type == 'postpaid' and profile.data_allowance_mb > 12288 and
              profile.data_allowance_mb <= 25600
            applicability: "agg.data_mb(30d) > 0.9 * profile.data_allowance_mb"
            treatments:
              email: {subject: "50 GB for 59.99 EUR", body: "Double your data for 10 EUR more a month."}
              app: {title: "50 GB for 59.99 EUR", body: "Stop watching your data.", cta: "Upgrade"}
          - id: TARIFF_UNLIMITED
            extends: tariff_change
            name: "Upgrade to unlimited"
            value: "max(69.99 - coalesce(profile.price_eur, 59.99), 5) * 24 * 0.7"
            propensity: 0.02
            eligibility: "profile.plan_type == 'postpaid' and profile.data_allowance_mb > 25600"
            applicability: "agg.data_mb(30d) > 0.9 * profile.data_allowance_mb"
            treatments:
              email: {subject: "Unlimited data for 69.99 EUR", body: "No more limits, in 5G, for 69.99 EUR a month."}
              app: {title: "Go unlimited", body: "Unlimited data for 69.99 EUR a month.", cta: "Upgrade"}
              retail: {script: "Heavy user: present the unlimited plan at 69.99 EUR/month."}
          - id: TARIFF_PREPAID_TO_POSTPAID
            extends: tariff_change
            name: "Switch to a 10 GB contract"
            value: 120
            propensity: 0.02
            eligibility: "profile.plan_type == 'prepaid'"
            applicability: "agg.topup_eur(90d) >= 45"
            treatments:
              sms: {text: "You top up over 15 EUR a month. Get 10 GB for 19.99 EUR a month, keep your number."}
              email: {subject: "More for less: 10 GB for 19.99 EUR", body: "You top up over 15 EUR a month. Our 10 GB plan costs 19.99 EUR, cancellable monthly after 24 months."}
              app: {title: "10 GB for 19.99 EUR a month", body: "Switch to a plan and keep your number.", cta: "See plan"}
              retail: {script: "Prepaid customer spends >15 EUR/month: offer the 10 GB plan at 19.99 EUR."}
          - id: TARIFF_FAMILY_CARD
            extends: tariff_change
            name: "Family card for 9.95 EUR"
            value: 167
            propensity: 0.02
            eligibility: "profile.plan_type == 'postpaid' and profile.household_id != null"
            treatments:
              email: {subject: "Add your family for 9.95 EUR", body: "Each family card shares your data for 9.95 EUR a month."}
              app: {title: "Family card 9.95 EUR", body: "Add a card that shares your data.", cta: "Add a card"}
              retail: {script: "Household on file: offer family cards at 9.95 EUR each."}
          - id: TARIFF_PARTNER_CARD
            extends: tariff_change
            name: "Partner card for 19.95 EUR"
            value: 335
            propensity: 0.015
            eligibility: "profile.plan_type == 'postpaid' and profile.household_id == null"
            applicability: "profile.data_allowance_mb >= 20480 and agg.data_mb(30d) < 0.6 * profile.data_allowance_mb"
            treatments:
              email: {subject: "Share your data with a partner card", body: "You use less than 60% of your data. A partner card shares it for 19.95 EUR a month."}
              app: {title: "Share your data", body: "Partner card for 19.95 EUR a month.", cta: "Learn more"}
          - id: TARIFF_VOICE_FLAT
            extends: tariff_change
            name: "All-net voice flat"
            value: 84
            propensity: 0.03
            eligibility: "profile.plan_type == 'postpaid' and profile.voice_allowance_min > 0"
            applicability: "agg.voice_min(30d) > 0.9 * profile.voice_allowance_min"
            treatments:
              sms: {text: "You talk a lot! Unlimited calls to all networks for 5 EUR more a month. Reply FLAT."}
              app: {title: "Unlimited calls", body: "All networks, 5 EUR more a month.", cta: "Add"}
              call_center: {script: "Customer exceeds 90% of voice minutes: offer the all-net flat for +5 EUR/month."}
          - id: TARIFF_YOUNG
            extends: tariff_change
            name: "Young plan: double data"
            value: 60
            propensity: 0.04
            eligibility: "profile.plan_type == 'postpaid' and profile.birth_year >= 1998"
            treatments:
              app: {title: "Under 28? Double data", body: "Switch to the Young plan: twice the data for the same price.", cta: "Switch"}
              web: {title: "Young plan", body: "Double data for under-28s.", url: "/tariffs/young"}
          - id: TARIFF_HOME_BUNDLE
            extends: tariff_change
            name: "Home internet + mobile bundle"
            value: 480
            propensity: 0.01
            eligibility: "profile.plan_type == 'postpaid' and profile.household_id != null"
            applicability: "coalesce(profile.price_eur, 0) >= 25"
            treatments:
              email: {subject: "Home internet and mobile on one bill", body: "Add fibre or DSL at home and get 10 GB extra on your mobile every month."}
              web: {title: "Home + mobile", body: "One bill, 10 GB extra on mobile.", url: "/home-internet"}
              retail: {script: "Present home internet; bundle customers get 10 GB extra mobile data monthly."}

      Devices:
        actions:
          - id: DEVICE_UPGRADE_FLAGSHIP
            extends: device_offer
            name: "Early upgrade: flagship phone"
            value: 180
            cost: 5
            propensity: 0.03
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: "days_until(profile.contract_end) < 90"
            suitability: "coalesce(profile.price_eur, 0) >= 40"
            treatments:
              email: {subject: "Your new phone is waiting", body: "Your contract ends soon. Upgrade to the latest flagship with 24 months and 0 EUR down."}
              app: {title: "Upgrade now", body: "Latest flagships from 0 EUR down with your renewal.", cta: "Choose a phone"}
              retail: {script: "Contract ends within 90 days, high-value plan: present flagship upgrade with renewal."}
          - id: DEVICE_UPGRADE_MIDRANGE
            extends: device_offer
            name: "Early upgrade: mid-range phone"
            value: 110
            cost: 2
            propensity: 0.03
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: "days_until(profile.contract_end) < 90"
            suitability: "coalesce(profile.price_eur, 0) >= 20 and coalesce(profile.price_eur, 0) < 40"
            treatments:
              email: {subject: "A new phone with your renewal", body: "Renew now and get a Galaxy A55 or Pixel 8a from 1 EUR."}
              app: {title: "New phone from 1 EUR", body: "Renew your plan and pick a mid-range phone.", cta: "See phones"}
              retail: {script: "Contract ends within 90 days: present mid-range phones with renewal."}
          - id: DEVICE_UPGRADE_BUDGET
            extends: device_offer
            name: "Renewal with a budget phone"
            value: 60
            cost: 1
            propensity: 0.03
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: "days_until(profile.contract_end) < 90"
            suitability: "coalesce(profile.price_eur, 0) < 20"
            treatments:
              sms: {text: "Your contract ends soon. Renew and get a new smartphone for 1 EUR. Details in the app."}
              app: {title: "New phone for 1 EUR", body: "Renew for 24 months and take a new phone.", cta: "See phones"}
          - id: DEVICE_OLD_PHONE
            extends: device_offer
            name: "Replace a phone over 3 years old"
            value: 120
            cost: 2
            propensity: 0.02
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: >-
              profile.device in ['galaxy_a13', 'redmi_note_11', 'galaxy_a52', 'pixel_6a',
              'iphone_11', 'iphone_12', 'iphone_13', 'galaxy_s21']
            treatments:
              email: {subject: "Time for a new phone?", body: "Your phone is more than 3 years old. Newer models save battery and get security updates longer."}
              app: {title: "Your phone is 3+ years old", body: "See phones with 5 years of updates.", cta: "Browse"}
          - id: DEVICE_TRADE_IN
            extends: device_offer
            name: "Trade-in bonus 50 EUR"
            value: 250
            cost: 50
            propensity: 0.25
            applicability:
              - "days_until(profile.contract_end) < 120"
              - "profile.device in ['galaxy_a52', 'pixel_6a', 'iphone_11', 'iphone_12', 'iphone_13', 'galaxy_s21']"
            daily_budget: {retail: 5000}
            treatments:
              retail: {script: "Offer trade-in value plus a 50 EUR bonus for the old phone with a new device."}
          - id: DEVICE_INSURANCE
            extends: device_offer
            name: "Device insurance 7.99 EUR"
            value: 72
            propensity: 0.05
            applicability: "days_since(agg.last_purchase) <= 14 and agg.purchase_eur(90d) >= 199"
            treatments:
              email: {subject: "Protect your new phone", body: "Theft and damage cover for 7.99 EUR a month. Cancel monthly."}
              app: {title: "Insure your new phone", body: "7.99 EUR a month, theft and damage.", cta: "Add cover"}
              retail: {script: "Recent device purchase: offer insurance at 7.99 EUR/month."}
          - id: ACC_EARBUDS
            extends: device_offer
            name: "Wireless earbuds with a new phone"
            value: 32
            propensity: 0.02
            applicability: "days_since(agg.last_purchase) <= 30 and agg.purchase_eur(90d) >= 400"
            treatments:
              email: {subject: "Earbuds for your new phone", body: "Wireless earbuds for 129 EUR or 5.38 EUR a month on your bill."}
              app: {title: "Earbuds 129 EUR", body: "Pay monthly on your bill.", cta: "Shop"}
          - id: ACC_PROTECTION_KIT
            extends: device_offer
            name: "Case and screen protector"
            value: 20
            propensity: 0.04
            applicability: "days_since(agg.last_purchase) <= 30 and agg.purchase_eur(90d) >= 199"
            treatments:
              app: {title: "Protect your screen", body: "Case and screen protector for 34.99 EUR.", cta: "Shop"}
              retail: {script: "New phone: offer case and screen protector bundle at 34.99 EUR."}
          - id: DEVICE_SMARTWATCH
            extends: device_offer
            name: "Smartwatch with MultiSIM"
            value: 96
            cost: 1
            propensity: 0.02
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: "agg.fitness_min(30d) > 120"
            treatments:
              email: {subject: "Run without your phone", body: "A smartwatch with its own number on your plan for 4.99 EUR a month."}
              app: {title: "Smartwatch + MultiSIM", body: "Calls and music on your run, 4.99 EUR a month.", cta: "See watches"}

      SecondPurchase:
        # A new customer's first purchase: a second one within 10 days makes a habit (the demo
        # triggers' second_purchase journey offers it on push, then email, then sms).
        eligibility: "days_since(subscriber.first_seen) <= 90"
        actions:
          - id: SECOND_PURCHASE_10_OFF
            type: offer
            name: "10% off a second purchase within 10 days"
            value: 8
            cost: 0.4
            propensity: 0.08
            max_times: 3
            applicability: "agg.purchases(30d) == 1"
            treatments:
              push: {title: "10% off your next order", body: "Thanks for your first order! Take 10% off anything in the next 10 days."}
              email: {subject: "10% off your second order", body: "Thank you for your first order. For the next 10 days, 10% off anything in our shop."}
              sms: {text: "Thanks for your first order! 10% off your next one for 10 days: code NEXT10."}
              app: {title: "10% off your next order", body: "Valid for 10 days.", cta: "Shop"}

      Content:
        suitability: "history.outcomes('Content', 'converted', 30d) == 0"
        actions:
          - id: CONTENT_VIDEO
            extends: content_pass
            name: "Video streaming pass"
            value: "9.99 * 0.3 * 12"
            propensity: 0.03
            applicability: "agg.video_min(30d) > 600"
            treatments:
              email: {subject: "Your films and series, 9.99 EUR", body: "Add the video streaming pass to your bill for 9.99 EUR a month."}
              push: {title: "Stream more", body: "Video pass for 9.99 EUR a month on your bill."}
              app: {title: "Video pass", body: "9.99 EUR a month, cancel monthly.", cta: "Add"}
          - id: CONTENT_VIDEO_ZERO_RATED
            extends: content_pass
            name: "Video without using your data"
            value: "4.99 * 0.8 * 12"
            propensity: 0.04
            applicability:
              - "agg.video_min(30d) > 900"
              - "forecast.data.p_depletion > 0.5"
            treatments:
              push: {title: "Video no longer eats your data", body: "Video streaming without counting against your data: 4.99 EUR a month."}
              app: {title: "Stream without limits", body: "Video traffic free of your data for 4.99 EUR a month.", cta: "Add"}
          - id: CONTENT_MUSIC
            extends: content_pass
            name: "Music flat"
            value: "9.99 * 0.3 * 12"
            propensity: 0.03
            applicability: "agg.music_min(30d) > 300"
            treatments:
              email: {subject: "Music on your bill", body: "The music flat for 9.99 EUR a month, first song in seconds."}
              app: {title: "Music flat", body: "9.99 EUR a month on your bill.", cta: "Add"}
          - id: CONTENT_FITNESS
            extends: content_pass
            name: "Fitness coaching pass"
            value: "7.99 * 0.35 * 12"
            propensity: 0.03
            applicability: "agg.fitness_min(30d) > 120"
            treatments:
              push: {title: "Train with a coach", body: "Fitness pass for 7.99 EUR a month."}
              app: {title: "Fitness pass", body: "Plans and live classes, 7.99 EUR a month.", cta: "Try"}
          - id: CONTENT_GAMING
            extends: content_pass
            name: "Game pass"
            value: "4.99 * 0.35 * 12"
            propensity: 0.03
            applicability: "agg.gaming_min(30d) > 600"
            treatments:
              app: {title: "Game pass 4.99 EUR", body: "100+ games, no ads, on your bill.", cta: "Add"}
              email: {subject: "Play more for 4.99 EUR", body: "The game pass brings 100+ games to your phone."}
          - id: CONTENT_SPORTS
            extends: content_pass
            name: "Live sports pass"
            value: "14.99 * 0.25 * 6"
            propensity: 0.05
            applicability: "ctx.page == 'sports' or agg.video_min(7d) > 420"
            treatments:
              app: {title: "Live football", body: "Every match live for 14.99 EUR a month.", cta: "Watch live"}
              web: {title: "Live sports pass", body: "14.99 EUR a month, cancel monthly.", url: "/content/sports"}
          - id: CONTENT_EBOOK
            extends: content_pass
            name: "E-book flat"
            value: "6.99 * 0.35 * 12"
            propensity: 0.04
            applicability: "ctx.page == 'content'"
            treatments:
              app: {title: "Read unlimited", body: "E-book flat for 6.99 EUR a month.", cta: "Start reading"}
              web: {title: "E-book flat", body: "Thousands of books, 6.99 EUR a month.", url: "/content/ebooks"}

      Roaming:
        lever: 1.2
        actions:
          - id: ROAM_WORLD_WEEK
            name: "World roaming 1 GB / 7 days"
            type: offer
            value: 9.0
            propensity: 0.08
            cooldown: 7d
            applicability: "ctx.roaming or agg.roaming_mb(30d) > 200"
            context_weight: "if(ctx.roaming, 3, 1)"
            treatments:
              sms: {text: "Travelling outside the EU? 1 GB for 7 days for 14.99 EUR. Reply WORLD."}
              push: {title: "Data abroad", body: "1 GB for 7 days, 14.99 EUR."}
              app: {title: "World pass 1 GB", body: "7 days, 14.99 EUR.", cta: "Activate"}
          - id: ROAM_WORLD_MONTH
            name: "World roaming 5 GB / 30 days"
            type: offer
            value: 24.0
            propensity: 0.05
            cooldown: 14d
            applicability: "agg.roaming_mb(30d) > 2000"
            treatments:
              email: {subject: "You travel a lot", body: "5 GB for 30 days outside the EU, 39.99 EUR."}
              app: {title: "World pass 5 GB", body: "30 days, 39.99 EUR.", cta: "Activate"}
          - id: ROAM_SUMMER_PASS
            name: "Summer travel pass"
            type: offer
            valid_from: 2026-06-01
            valid_to: 2026-09-15
            value: 12.0
            propensity: 0.04
            max_times: 2
            applicability: "agg.roaming_mb(30d) > 0 or ctx.roaming"
            treatments:
              email: {subject: "Summer abroad? 3 GB for 19.99 EUR", body: "The summer travel pass: 3 GB in 50 countries outside the EU for 14 days."}
              app: {title: "Summer travel pass", body: "3 GB, 14 days, 19.99 EUR.", cta: "Get it"}

  Retention:
    lever: 1.5
    # At most one accepted save offer per half year: repeated discounts train customers to call.
    suitability: "history.outcomes('Retention', 'accepted', 180d) == 0"
    groups:
      ContractRenewal:
        eligibility: "profile.plan_type == 'postpaid'"
        applicability: "days_until(profile.contract_end) < 90"
        actions:
          - id: RET_RENEW_DATA_BONUS
            name: "Renew and get 10 GB more every month"
            type: retention
            value: "coalesce(profile.price_eur, 25) * 24 * 0.6"
            cost: 6
            propensity: 0.06
            max_times: 2
            cooldown: 30d
            applicability: "days_until(profile.contract_end) >= 0"
            treatments:
              email: {subject: "Stay with us: 10 GB more every month", body: "Renew for 24 months and your plan gets 10 GB more each month, same price."}
              app: {title: "10 GB more when you renew", body: "Same price, 10 GB extra every month.", cta: "Renew"}
              call_center: {script: "Contract ends within 90 days: offer +10 GB/month at the same price for a 24-month renewal."}
          - id: RET_RENEW_10_OFF
            name: "Renew with 10% off"
            type: retention
            value: "coalesce(profile.price_eur, 25) * 24 * 0.6"
            cost: 60
            propensity: 0.2
            max_times: 1
            applicability: "days_until(profile.contract_end) >= 0"
            treatments:
              call_center: {script: "Offer 10% off the monthly price for 24 months on renewal."}
              retail: {script: "Offer 10% off the monthly price for 24 months on renewal."}
          - id: RET_OUT_OF_TERM
            name: "Out of term: lock in price plus 5 GB"
            type: retention
            value: "coalesce(profile.price_eur, 25) * 24 * 0.6"
            cost: 6
            propensity: 0.05
            max_times: 2
            cooldown: 45d
            # Monthly cancellable now: the churn hazard is 3-5x higher.
            applicability: "days_until(profile.contract_end) < 0"
            treatments:
              email: {subject: "Lock in your price", body: "Renew for 24 months: your price stays and you get 5 GB more every month."}
              app: {title: "Keep your price", body: "Renew and get 5 GB more every month.", cta: "Renew"}
              call_center: {script: "Out of minimum term: offer price lock plus 5 GB/month for a 24-month renewal."}

      SaveDesk:
        # Reactive: the subscriber asked to cancel (save desks keep 40-60% of them).
        actions:
          - id: RET_SAVE_20_OFF
            extends: save_offer
            name: "20% off for 12 months"
            value: "coalesce(profile.price_eur, 25) * 24 * 0.6"
            cost: 72
            propensity: 0.45
            eligibility: "profile.plan_type == 'postpaid'"
            daily_budget: {call_center: 20000, retail: 5000}
            treatments:
              call_center: {script: "Cancellation intent: offer 20% off for 12 months if the customer stays."}
              retail: {script: "Cancellation intent: offer 20% off for 12 months if the customer stays."}
          - id: RET_SAVE_FREE_MONTH
            extends: save_offer
            name: "One month free"
            value: "coalesce(profile.price_eur, 25) * 24 * 0.6"
            cost: 30
            propensity: 0.35
            eligibility: "profile.plan_type == 'postpaid'"
            daily_budget: {call_center: 10000}
            treatments:
              call_center: {script: "Cancellation intent: offer the next month free of charge."}
              web: {title: "Before you go", body: "Stay and your next month is on us.", url: "/account/stay"}
          - id: RET_SAVE_DOWNGRADE
            extends: save_offer
            name: "Cheaper plan instead of cancelling"
            value: "coalesce(profile.price_eur, 25) * 0.5 * 24 * 0.6"
            propensity: 0.3
            eligibility: "profile.plan_type == 'postpaid' and coalesce(profile.price_eur, 0) > 15"
            treatments:
              call_center: {script: "Price is the reason: offer the next smaller plan without a fee."}
              web: {title: "A smaller plan?", body: "Switch to a cheaper plan instead, no fee.", url: "/tariffs/change"}
          - id: RET_SAVE_PREPAID
            extends: save_offer
            name: "Prepaid: 10 GB to stay"
            value: 60
            cost: 0.5
            propensity: 0.3
            eligibility: "profile.plan_type == 'prepaid'"
            treatments:
              call_center: {script: "Prepaid port-out request: offer 10 GB free to stay."}
              retail: {script: "Prepaid port-out request: offer 10 GB free to stay."}

      ServiceRecovery:
        actions:
          - id: RET_NETWORK_CREDIT
            name: "10 EUR credit after network trouble"
            type: retention
            value: "coalesce(profile.price_eur, 20) * 24 * 0.6 * 0.1"
            cost: 10
            propensity: 0.6
            max_times: 1
            applicability: "agg.dropped_calls(30d) > 10"
            treatments:
              email: {subject: "Sorry for the dropped calls", body: "We credited 10 EUR to your next bill while our engineers fix the network near you."}
              call_center: {script: "Many dropped calls in 30 days: apologise and credit 10 EUR."}
          - id: RET_CARE_APOLOGY
            name: "Apology and 5 GB after repeated tickets"
            type: retention
            value: 20
            cost: 0.5
            propensity: 0.4
            max_times: 2
            cooldown: 60d
            applicability: "agg.tickets(30d) >= 2"
            treatments:
              email: {subject: "We are sorry", body: "You had to contact us more than once. We added 5 GB to your plan as an apology."}
              app: {title: "5 GB on us", body: "Sorry for the trouble. Tap to add 5 GB.", cta: "Add"}
          - id: RET_BILL_SHOCK
            name: "Half refund of out-of-bundle charges"
            type: retention
            value: 40
            cost: 5
            propensity: 0.3
            max_times: 1
            eligibility: "profile.plan_type == 'postpaid'"
            applicability: "agg.spend_eur(30d) > 30"
            treatments:
              call_center: {script: "High out-of-bundle charges: refund half (up to 5 EUR net) and suggest a spend cap."}
              email: {subject: "About your last bill", body: "Your extra charges were unusually high. We refunded part of them; a spend cap can prevent this."}
          - id: RET_PREPAID_DECLINE
            name: "Double data for 3 months (prepaid)"
            type: retention
            value: 30
            cost: 0.3
            propensity: 0.04
            max_times: 1
            eligibility: "profile.plan_type == 'prepaid'"
            # Only active customers whose top-ups fall: contacting silent ones can wake them.
            applicability:
              - "agg.topups(90d) >= 2"
              - "agg.topup_eur(30d) < 0.2 * agg.topup_eur(90d)"
              - "days_since(subscriber.last_seen) < 7"
            treatments:
              sms: {text: "Thanks for being with us: top up this month and get double data for 3 months."}
              app: {title: "Double data for 3 months", body: "Top up any amount this month.", cta: "Top up"}

  Service:
    lever: 1.2
    groups:
      Network:
        actions:
          - id: SVC_NETWORK_ISSUE
            name: "Network issue follow-up"
            type: service
            value: 3.5
            propensity: 0.25
            cooldown: 14d
            applicability: "agg.dropped_calls(7d) > 3"
            treatments:
              push: {title: "Calls dropping?", body: "We know about a network issue near you and are working on it."}
              app: {title: "Network status", body: "Engineers are working on the network in your area. Tap for updates.", cta: "Status"}
              call_center: {script: "Customer had >3 dropped calls this week: confirm the known outage and the fix date."}
          - id: SVC_WIFI_CALLING
            name: "Switch on Wi-Fi calling"
            type: service
            value: 4.0
            propensity: 0.1
            max_times: 2
            cooldown: 30d
            applicability: "agg.dropped_calls(30d) > 5"
            treatments:
              sms: {text: "Weak signal at home? Switch on Wi-Fi calling in your phone settings, it is free."}
              app: {title: "Better calls at home", body: "Wi-Fi calling is free. Here is how to switch it on.", cta: "Show me"}
          - id: SVC_DATA_USED_UP
            name: "Data used up notice"
            type: mandatory
            value: 1.0
            propensity: 0.3
            # Mandatory actions skip max_times and cooldown: the history keeps it to one notice.
            applicability:
              - "profile.throttled"
              - "history.impressions('SVC_DATA_USED_UP', 7d) == 0"
            treatments:
              sms: {text: "You have used your data allowance; speed is now reduced until your next cycle. Add data in the app."}
              push: {title: "Data allowance used", body: "Speed reduced until your next cycle. Tap for options."}
              app: {title: "Speed reduced", body: "Your allowance is used up until your next cycle.", cta: "Add data"}

      Billing:
        actions:
          - id: SVC_EXPLAIN_BILL
            name: "Explain extra charges"
            type: service
            value: 3.0
            propensity: 0.2
            cooldown: 30d
            applicability: "agg.care_contacts(30d) >= 1 and agg.spend_eur(30d) > 5"
            context_weight: "if(ctx.page == 'billing' or ctx.intent == 'billing', 3, 1)"
            treatments:
              app: {title: "Your bill explained", body: "See which calls and data were charged extra, and why.", cta: "Explain"}
              email: {subject: "Your bill, explained", body: "Your last bill had extra charges. Here is a line-by-line explanation."}
              call_center: {script: "Walk the customer through out-of-bundle charges on the last bill."}
          - id: SVC_EBILL
            name: "Switch to paperless billing"
            type: service
            value: 6.0
            propensity: 0.05
            max_times: 3
            cooldown: 60d
            eligibility: "profile.plan_type == 'postpaid'"
            treatments:
              invoice: {line: "Go paperless: switch to the online bill in the app and save paper and postage."}
              email: {subject: "Go paperless", body: "Get your bill by email. It is faster and saves paper."}
              app: {title: "Paperless billing", body: "One tap to switch.", cta: "Switch"}
          - id: SVC_SPEND_CAP
            name: "Set a spend cap"
            type: service
            value: 5.0
            propensity: 0.1
            max_times: 2
            cooldown: 30d
            applicability: "agg.spend_eur(7d) > 15"
            treatments:
              sms: {text: "You spent over 15 EUR on extras this week. Set a spend cap in the app to stay in control."}
              app: {title: "Set a spend cap", body: "Choose a monthly limit for extra charges.", cta: "Set cap"}

      Payments:
        actions:
          - id: SVC_PAYMENT_REMINDER
            name: "Payment reminder"
            type: mandatory
            value: "min(coalesce(profile.price_eur, 20), 100) * 0.5"
            propensity: 0.5
            applicability:
              - "agg.max_days_late(90d) > 14"
              - "history.impressions('SVC_PAYMENT_REMINDER', 7d) == 0"
            treatments:
              sms: {text: "Your payment is overdue. Please pay in the app or by bank transfer to avoid a service restriction."}
              email: {subject: "Payment overdue", body: "We have not received your last payment. Please pay within 7 days to avoid a restriction."}
              invoice: {line: "Reminder: your previous invoice is overdue."}
              app: {title: "Payment overdue", body: "Pay now in one tap.", cta: "Pay"}
          - id: SVC_DIRECT_DEBIT
            name: "Set up direct debit"
            type: service
            value: 4.0
            propensity: 0.08
            max_times: 2
            cooldown: 30d
            applicability: "agg.max_days_late(90d) > 0 and agg.max_days_late(90d) <= 14"
            treatments:
              email: {subject: "Never miss a payment", body: "Set up direct debit and we collect your bill on time automatically."}
              app: {title: "Direct debit", body: "Pay automatically, never late.", cta: "Set up"}
              invoice: {line: "Tip: pay by direct debit and never miss a due date."}
          - id: SVC_PAYMENT_PLAN
            name: "Instalment plan for arrears"
            type: service
            value: 20.0
            propensity: 0.2
            max_times: 2
            cooldown: 30d
            applicability: "agg.max_days_late(90d) > 30"
            treatments:
              call_center: {script: "Arrears over 30 days: offer to split the amount into 3 monthly instalments."}
              email: {subject: "Pay in instalments", body: "You can split your open amount into 3 monthly instalments. Reply or call us."}

      Account:
        actions:
          - id: SVC_CONTRACT_END_NOTICE
            name: "Contract end notice"
            type: mandatory
            value: 1.0
            propensity: 0.5
            eligibility: "profile.plan_type == 'postpaid'"
            applicability:
              - "days_until(profile.contract_end) >= 0 and days_until(profile.contract_end) <= 30"
              - "history.impressions('SVC_CONTRACT_END_NOTICE', 30d) == 0"
            treatments:
              invoice: {line: "Your minimum term ends within 30 days. After that you can cancel monthly; see your best tariff in the app."}
              email: {subject: "Your minimum term ends soon", body: "After the end date you can cancel monthly. Here is an overview of your usage and your best tariff."}
          - id: SVC_PREPAID_EXPIRY
            name: "Prepaid SIM deactivation warning"
            type: mandatory
            value: 6.0
            propensity: 0.2
            eligibility: "profile.plan_type == 'prepaid'"
            applicability:
              - "days_since(agg.last_topup) > 300"
              - "history.impressions('SVC_PREPAID_EXPIRY', 14d) == 0"
            treatments:
              sms: {text: "Your SIM will be deactivated if there is no top-up within the next weeks. Top up any amount to keep your number."}
              email: {subject: "Keep your number", body: "Your prepaid SIM has not been topped up for 10 months. Top up any amount to keep it active."}
          - id: SVC_CONSENT_OPT_IN
            name: "Ask for email updates"
            type: service
            value: 1.0
            propensity: 0.1
            max_times: 2
            cooldown: 90d
            applicability: "profile.consents.email == null or not profile.consents.email"
            treatments:
              app: {title: "Stay informed", body: "Get tips and offers by email. You can unsubscribe any time.", cta: "Yes, please"}
              web: {title: "Stay informed", body: "Subscribe to tips and offers.", url: "/account/preferences"}
          - id: SVC_ESIM
            name: "Switch to eSIM"
            type: service
            value: 1.5
            propensity: 0.05
            max_times: 2
            cooldown: 60d
            applicability: >-
              profile.device in ['iphone_15', 'iphone_15_pro', 'galaxy_s24', 'galaxy_s24_ultra',
              'pixel_8_pro', 'pixel_8a', 'galaxy_a55']
            treatments:
              app: {title: "Switch to eSIM", body: "No plastic card, set up in 2 minutes.", cta: "Switch"}
              retail: {script: "Customer phone supports eSIM: offer a free eSIM switch."}

  Loyalty:
    lever: 1.0
    groups:
      Rewards:
        # Tiers: gold from 2 years and 40 EUR a month, silver from 1 year or 20 EUR, bronze from
        # 6 months. Monthly spend = plan price + a third of 90-day purchases.
        actions:
          - id: LOY_GOLD_10GB
            extends: reward
            name: "Gold: 10 GB gift"
            value: 15
            cost: 1.0
            propensity: 0.3
            eligibility: >-
              days_since(subscriber.first_seen) >= 730 and
              coalesce(profile.price_eur, 0) + coalesce(agg.purchase_eur(90d), 0) / 3 >= 40
            treatments:
              app: {title: "Thank you: 10 GB", body: "As a gold customer you get 10 GB on us.", cta: "Claim"}
              email: {subject: "A gift for our gold customers", body: "Thank you for your loyalty. Claim 10 GB in the app."}
          - id: LOY_SILVER_5GB
            extends: reward
            name: "Silver: 5 GB gift"
            value: 10
            cost: 0.5
            propensity: 0.3
            eligibility: >-
              days_since(subscriber.first_seen) >= 365 or
              coalesce(profile.price_eur, 0) + coalesce(agg.purchase_eur(90d), 0) / 3 >= 20
            treatments:
              app: {title: "Thank you: 5 GB", body: "A small gift for your loyalty.", cta: "Claim"}
              push: {title: "5 GB for you", body: "Claim your loyalty gift in the app."}
          - id: LOY_BRONZE_1GB
            extends: reward
            name: "Bronze: 1 GB gift"
            value: 4
            cost: 0.1
            propensity: 0.3
            eligibility: "days_since(subscriber.first_seen) >= 180"
            treatments:
              app: {title: "1 GB on us", body: "Six months together: here is 1 GB.", cta: "Claim"}
          - id: LOY_ANNIVERSARY
            name: "Anniversary gift"
            type: reward
            value: 8
            cost: 0.5
            propensity: 0.35
            cooldown: 300d
            eligibility:
              - "days_since(subscriber.first_seen) >= 365"
              - "days_since(subscriber.first_seen) % 365 < 7"
            treatments:
              sms: {text: "Happy anniversary! Another year together: 3 GB are waiting for you in the app."}
              app: {title: "Happy anniversary", body: "3 GB as a thank-you.", cta: "Claim"}
          - id: LOY_PARTNER_CINEMA
            extends: reward
            name: "Gold: two cinema tickets"
            value: 40
            cost: 8
            propensity: 0.3
            eligibility: >-
              days_since(subscriber.first_seen) >= 730 and coalesce(profile.price_eur, 0) >= 40
            daily_volume: {total: 2000}
            daily_budget: {app: 1000, email: 1000}
            treatments:
              app: {title: "Movie night on us", body: "Two cinema tickets for our gold customers.", cta: "Get tickets"}
              email: {subject: "Two cinema tickets for you", body: "Thank you for your loyalty: redeem two tickets at partner cinemas."}
          - id: LOY_PREPAID_STREAK
            name: "Prepaid streak bonus"
            type: reward
            value: 8
            cost: 0.2
            propensity: 0.2
            cooldown: 90d
            eligibility: "profile.plan_type == 'prepaid'"
            applicability: "agg.topups(90d) >= 3"
            treatments:
              sms: {text: "Three top-ups in a row: we added 2 GB to your balance. Thank you!"}
              app: {title: "Streak bonus 2 GB", body: "Thanks for topping up regularly.", cta: "Claim"}

      Referrals:
        actions:
          - id: LOY_REFER_FRIEND
            name: "Refer a friend: 20 EUR each"
            type: reward
            value: 240
            cost: 20
            propensity: 0.09
            max_times: 3
            cooldown: 60d
            eligibility: "days_since(subscriber.first_seen) >= 180"
            applicability: "agg.tickets(90d) == 0"
            treatments:
              app: {title: "Invite friends", body: "You and each friend who joins get 20 EUR credit.", cta: "Share code"}
              email: {subject: "20 EUR for you and a friend", body: "Share your code: you both get 20 EUR when your friend joins."}
              web: {title: "Refer a friend", body: "20 EUR for you and your friend.", url: "/refer"}

  Engagement:
    lever: 0.6
    groups:
      Onboarding:
        actions:
          - id: ENG_WELCOME
            extends: tip
            name: "Welcome tips"
            value: 1.5
            propensity: 0.2
            max_times: 1
            eligibility: "days_since(subscriber.first_seen) < 14"
            treatments:
              sms: {text: "Welcome! Manage your plan, data and bills in our app: it takes 2 minutes."}
              email: {subject: "Welcome on board", body: "Five tips to get the most out of your new plan."}
              app: {title: "Welcome", body: "A quick tour of your plan and the app.", cta: "Start tour"}
          - id: ENG_APP_DOWNLOAD
            extends: tip
            name: "Get the app"
            value: 1.0
            propensity: 0.04
            eligibility: "days_since(subscriber.first_seen) >= 14"
            treatments:
              email: {subject: "Everything in one app", body: "See your data, pay bills and add options in seconds."}
              web: {title: "Get the app", body: "Usage, bills and options in your pocket.", url: "/app"}
          - id: ENG_SECURITY_TIPS
            extends: tip
            name: "Protect your number"
            value: 0.5
            propensity: 0.1
            max_times: 1
            treatments:
              app: {title: "Protect your number", body: "Set a SIM PIN and a customer password against SIM-swap fraud.", cta: "Secure"}
              email: {subject: "Protect your number", body: "Three steps against SIM-swap fraud and phishing."}

      UsageTips:
        actions:
          - id: ENG_USAGE_FORECAST
            extends: tip
            name: "Your data forecast"
            value: 1.0
            propensity: 0.15
            applicability: "forecast.data.p_depletion > 0.3 and not profile.throttled"
            treatments:
              app: {title: "Data forecast", body: "At your pace your data may run out before the cycle ends.", cta: "See forecast"}
              push: {title: "Heads up", body: "Your data may run out before your cycle ends."}
          - id: ENG_DATA_SAVER
            extends: tip
            name: "Save data when streaming"
            value: 0.8
            propensity: 0.1
            applicability: "agg.video_min(7d) > 300 and forecast.data.p_depletion > 0.5"
            treatments:
              app: {title: "Stream smarter", body: "Lower video quality on mobile data and download over Wi-Fi.", cta: "How"}
              push: {title: "Save data", body: "Download series over Wi-Fi to save your data."}
          - id: ENG_WIFI_TIP
            extends: tip
            name: "Use Wi-Fi at home"
            value: 0.5
            propensity: 0.1
            applicability: "agg.data_mb(7d) > 3000"
            treatments:
              app: {title: "Use your Wi-Fi", body: "Updates and backups over Wi-Fi save your data.", cta: "Tips"}
          - id: ENG_EU_ROAMING_INFO
            extends: tip
            name: "Roam like at home in the EU"
            value: 0.5
            propensity: 0.2
            applicability: "ctx.roaming or agg.roaming_mb(30d) > 0"
            treatments:
              sms: {text: "In the EU you use your plan like at home: calls, texts and data at no extra cost."}
              app: {title: "Roam like at home", body: "Your plan works in the EU at no extra cost.", cta: "Details"}

      Feedback:
        suitability: "history.impressions('Feedback', 30d) == 0"
        actions:
          - id: ENG_NPS_SURVEY
            extends: tip
            name: "Care satisfaction survey"
            value: 0.8
            propensity: 0.1
            applicability: "agg.care_contacts(30d) >= 1"
            treatments:
              sms: {text: "How did we do? Rate your last contact with us from 0 to 10 by replying to this message."}
              email: {subject: "How did we do?", body: "Two questions about your last contact with our service team."}
          - id: ENG_NETWORK_SURVEY
            extends: tip
            name: "Coverage survey"
            value: 0.5
            propensity: 0.08
            applicability: "agg.dropped_calls(30d) > 0"
            treatments:
              app: {title: "Where is coverage weak?", body: "Tell us where calls drop; it helps us plan new sites.", cta: "Report"}
          - id: ENG_APP_RATING
            extends: tip
            name: "Rate the app"
            value: 0.5
            propensity: 0.08
            max_times: 1
            applicability: "ctx.page == 'home' and days_since(subscriber.first_seen) > 90"
            treatments:
              app: {title: "Enjoying the app?", body: "A rating helps others find us.", cta: "Rate"}
)yaml";
}

}  // namespace kairos
