#include "schema/config.h"

namespace kairos {

std::string_view DefaultSchemaYaml() {
  return R"yaml(# Kairos profile schema: what events look like and what each subscriber's profile keeps.
# Add attributes, event types, fields and aggregates here; no recompilation is needed.
# Field types: string, number, int, bool, timestamp (RFC 3339 or epoch ms), enum (values: [...]),
# flags (an object of name: true|false, e.g. consents per channel).
# Every event also carries the envelope: event_id, subscriber_id, type, ts.

attributes:
  plan_type:           {type: enum, values: [prepaid, postpaid]}
  plan_id:             {type: string}
  price_eur:           {type: number, description: "recurring price per cycle"}
  data_allowance_mb:   {type: number}
  voice_allowance_min: {type: number}
  region:              {type: string}
  timezone:            {type: string, description: "IANA name, e.g. Europe/Berlin"}
  birth_year:          {type: int}
  household_id:        {type: string}
  contract_end:        {type: timestamp}
  consents:            {type: flags, description: "per channel, e.g. {sms: true, email: false}"}
  cycle_anchor:        {type: timestamp, description: "start of any billing cycle"}
  cycle_days:          {type: int, description: "billing cycle length (28 prepaid, 30 postpaid)"}
  credit_eur:          {type: number, description: "prepaid credit at the last balance report"}
  data_remaining_mb:   {type: number, description: "remaining data at the last balance report"}
  voice_remaining_min: {type: number}
  throttled:           {type: bool, description: "speed reduced after the allowance ran out"}
  device:              {type: string}

event_types:
  subscriber:            # create or update master data; absent fields are left as they are
    fields:
      plan_type:           {type: enum, values: [prepaid, postpaid]}
      plan_id:             {type: string, max_length: 64}
      price_eur:           {type: number, min: 0}
      data_allowance_mb:   {type: number, min: 0}
      voice_allowance_min: {type: number, min: 0}
      region:              {type: string, max_length: 64}
      timezone:            {type: string, max_length: 64}
      birth_year:          {type: int, min: 1900, max: 2030}
      household_id:        {type: string, max_length: 64}
      contract_end:        {type: timestamp}
      consents:            {type: flags}
      cycle_anchor:        {type: timestamp}
      cycle_days:          {type: int, min: 1, max: 366}
      device:              {type: string, max_length: 64}
    sets: [plan_type, plan_id, price_eur, data_allowance_mb, voice_allowance_min, region, timezone,
           birth_year, household_id, contract_end, consents, cycle_anchor, cycle_days, device]
  usage:                 # rated usage: data in MB, voice in minutes, sms in messages
    fields:
      kind:       {type: enum, values: [data, voice, sms], required: true}
      amount:     {type: number, min: 0, required: true}
      roaming:    {type: bool}
      charge_eur: {type: number, min: 0, description: "out-of-bundle charge (prepaid credit used)"}
  topup:
    fields:
      amount_eur:        {type: number, min: 0, required: true}
      channel:           {type: enum, values: [voucher, online, auto, shop]}
      balance_after_eur: {type: number}
    sets: {credit_eur: balance_after_eur}
  balance:               # prepaid balance report
    fields:
      credit_eur:          {type: number}
      data_remaining_mb:   {type: number, min: 0}
      voice_remaining_min: {type: number, min: 0}
    sets: [credit_eur, data_remaining_mb, voice_remaining_min]
  plan_change:
    fields:
      plan_id:             {type: string, max_length: 64, required: true}
      plan_type:           {type: enum, values: [prepaid, postpaid]}
      price_eur:           {type: number, min: 0}
      data_allowance_mb:   {type: number, min: 0}
      voice_allowance_min: {type: number, min: 0}
      direction:           {type: enum, values: [upgrade, downgrade, same]}
    sets: [plan_id, plan_type, price_eur, data_allowance_mb, voice_allowance_min]
  purchase:
    fields:
      product:      {type: string, max_length: 64, required: true}
      category:     {type: enum, values: [device, addon, content, accessory, insurance, other], required: true}
      price_eur:    {type: number, min: 0, required: true}
      margin_eur:   {type: number}
      discount_eur: {type: number, min: 0}
  payment:
    fields:
      amount_eur: {type: number, min: 0, required: true}
      days_late:  {type: int, min: 0, max: 3650}
  ticket:
    fields:
      category: {type: enum, values: [billing, network, device, tariff, other], required: true}
      cost_eur: {type: number, min: 0}
  care_contact:
    fields:
      category: {type: enum, values: [billing, network, device, tariff, other], required: true}
      channel:  {type: enum, values: [call, chat, shop, email]}
      cost_eur: {type: number, min: 0}
  app_session:
    fields:
      app_category: {type: enum, values: [video, music, social, gaming, fitness, news, messaging, other], required: true}
      minutes:      {type: number, min: 0, required: true}
      mb:           {type: number, min: 0}
  network:
    fields:
      dropped_calls: {type: int, min: 0}
      throttled:     {type: bool}
    sets: [throttled]
  churn:                 # port-out or cancellation
    fields:
      reason:      {type: enum, values: [port_out, cancellation, inactivity], required: true}
      to_operator: {type: string, max_length: 64}

# Windowed aggregates keep one bucket per UTC day; a window of 7d is today and the 6 days before.
aggregates:
  data_mb:            {event: usage, where: {kind: data}, op: sum, field: amount, windows: [1d, 7d, 30d]}
  roaming_mb:         {event: usage, where: {kind: data, roaming: true}, op: sum, field: amount, windows: [30d]}
  voice_min:          {event: usage, where: {kind: voice}, op: sum, field: amount, windows: [1d, 7d, 30d]}
  sms:                {event: usage, where: {kind: sms}, op: sum, field: amount, windows: [30d]}
  spend_eur:          {event: usage, op: sum, field: charge_eur, windows: [7d, 30d]}
  topup_eur:          {event: topup, op: sum, field: amount_eur, windows: [30d, 90d]}
  topups:             {event: topup, op: count, windows: [30d, 90d]}
  last_topup:         {event: topup, op: last_time}
  purchase_eur:       {event: purchase, op: sum, field: price_eur, windows: [90d]}
  purchase_margin_eur: {event: purchase, op: sum, field: margin_eur, windows: [90d]}
  discount_eur:       {event: purchase, op: sum, field: discount_eur, windows: [90d]}
  purchases:          {event: purchase, op: count, windows: [30d, 90d]}
  device_purchases:   {event: purchase, where: {category: device}, op: count, windows: [90d]}
  last_purchase:      {event: purchase, op: last_time}
  payments:           {event: payment, op: sum, field: amount_eur, windows: [90d]}
  max_days_late:      {event: payment, op: max, field: days_late, windows: [90d]}
  last_payment:       {event: payment, op: last_time}
  tickets:            {event: ticket, op: count, windows: [30d, 90d]}
  care_contacts:      {event: care_contact, op: count, windows: [30d, 90d]}
  care_cost_eur:      {event: care_contact, op: sum, field: cost_eur, windows: [90d]}
  video_min:          {event: app_session, where: {app_category: video}, op: sum, field: minutes, windows: [7d, 30d]}
  music_min:          {event: app_session, where: {app_category: music}, op: sum, field: minutes, windows: [30d]}
  fitness_min:        {event: app_session, where: {app_category: fitness}, op: sum, field: minutes, windows: [7d, 30d]}
  gaming_min:         {event: app_session, where: {app_category: gaming}, op: sum, field: minutes, windows: [30d]}
  dropped_calls:      {event: network, op: sum, field: dropped_calls, windows: [7d, 30d]}
  throttle_events:    {event: network, where: {throttled: true}, op: count, windows: [30d]}
  last_plan_change:   {event: plan_change, op: last_time}
  churned:            {event: churn, op: last_time}
  # The built-in `decision` and `response` events (written by decide and POST /v1/responses) can
  # be counted like any other event type.
  offers_accepted:    {event: response, where: {outcome: accepted}, op: count, windows: [90d]}
  last_accepted:      {event: response, where: {outcome: accepted}, op: last_time}

# Interaction history per subscriber (actions shown, responses): feeds contact caps, suppression,
# max_times, cooldowns and history.* rules. Older or surplus interactions are dropped.
history: {retention: 90d, max_interactions: 200}

# Billing-cycle forecasts: usage so far, expected usage to the cycle end with a 90% interval,
# days until the allowance (or prepaid credit) runs out.
forecasts:
  data:   {series: data_mb, allowance: data_allowance_mb, remaining: data_remaining_mb,
           cycle_anchor: cycle_anchor, cycle_days: cycle_days, default_cycle_days: 30, lookback: 28d}
  voice:  {series: voice_min, allowance: voice_allowance_min, remaining: voice_remaining_min,
           cycle_anchor: cycle_anchor, cycle_days: cycle_days, default_cycle_days: 30, lookback: 28d}
  credit: {series: spend_eur, remaining: credit_eur, cycle_anchor: cycle_anchor, cycle_days: cycle_days,
           default_cycle_days: 28, lookback: 28d}
)yaml";
}

}  // namespace kairos
