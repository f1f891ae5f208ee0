// WorldModel: every figure the synthetic operator is built from, in one place.
//
// Defaults come from ../shared/WORLD.md (sourced figures for a German mobile operator) where it
// has one, marked "WORLD"; "derived" marks our reading of a WORLD range; "invented" marks an
// assumption of ours where WORLD.md has no figure (it lists several as "not found"). Change
// them here or per run through GeneratorOptions::world — never as literals in the simulation.
// src/sim/README.md explains how each one is used.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace kairos::sim {

// Allowances the schema cannot express as "unlimited" (it has no null-means-unlimited), so an
// unlimited allowance is written as this large number.
inline constexpr double kUnlimitedDataMb = 999999;
inline constexpr double kUnlimitedVoiceMin = 99999;
inline constexpr double kMbPerGb = 1024;

// One tariff of the ladder.
struct Plan {
  std::string id;
  bool prepaid = false;
  bool family = false;    // an add-on card of a postpaid household
  bool discount = false;  // a discount-brand bundle, favoured by deal seekers
  double price_eur = 0;   // per cycle (30 days postpaid, 28 days prepaid)
  double data_mb = 0;
  double voice_min = 0;  // kUnlimitedVoiceMin = flat
  bool sms_flat = true;
};

// WORLD: Vodafone 5/12/25/50 GB at 29.99/39.99/49.99/59.99 €, unlimited 30–85 € (we take
// 69.99), family cards 9.95–19.95 € (we give them their own 10 GB bucket: the schema has no
// shared bucket), prepaid in 28-day bundles (sizes and prices invented around the discount
// brands' 10 GB for 4.99 €).
std::vector<Plan> DefaultPlans();

struct WorldModel {
  // --- Subscribers and contracts -------------------------------------------------------------
  double prepaid_share = 0.28;              // WORLD derived: 72% postpaid / 28% prepaid
  double family_share_of_postpaid = 0.20;   // WORLD derived: 15–25% of postpaid are add-on cards
  int contract_days = 730;                  // WORLD: 24-month minimum term
  double long_contract_share = 0.15;        // invented share of the 36-month handset contracts
  int long_contract_days = 1095;            // WORLD: premium handset contracts 36–48 months
  double postpaid_mean_tenure_months = 60;  // WORLD: postpaid lifetime ~67 months
  double prepaid_mean_tenure_months = 17;   // WORLD: prepaid lifetime ~17 months
  double renewed_share_after_term = 0.55;   // invented: share of long-tenure lines in a new term
  double gross_adds_per_month = 0.014;      // invented: joins roughly replace churners
  double dormant_prepaid_share = 0.04;      // invented: prepaid SIMs already silent at start
  int prepaid_deactivation_days = 365;      // WORLD: SIMs deactivated after ~12 months
  int postpaid_cycle_days = 30;
  int prepaid_cycle_days = 28;  // WORLD: prepaid bundles run in 4-week cycles

  // --- Usage -----------------------------------------------------------------------------------
  // Log-normal desired data per 30 days. sigma 1.8 puts ~70% of the desired volume on the top
  // 10%; allowances and throttling trim the tail, so ~64% of the *metered* volume (WORLD
  // derived: 60–70%). The desired mean is set so that metered usage averages ~7.3 GB per
  // active SIM per month (WORLD: 7.2 GB in 2023, 7.4 in 2024); measured, see README.
  double data_desired_mean_mb = 10.6 * kMbPerGb;
  double data_sigma = 1.8;
  double prepaid_data_factor = 0.6;  // invented: prepaid users use less data
  double voice_mean_min = 120;       // WORLD: 115–126 outgoing minutes per SIM-month
  double voice_sigma = 1.0;          // invented; WORLD value tiers 55..645 min/month
  double sms_mean = 4;               // WORLD: ~4 SMS per month
  double daily_noise_sigma = 0.6;    // invented day-to-day variation
  // WORLD: throttled to 32 kbit/s; we meter a tenth of the wanted volume, at most this much a
  // day (what 32 kbit/s allows for an hour or so of active use).
  double throttled_mb_per_day = 15;
  double auto_data_mb = 250;  // WORLD: automatic top-up +250 MB for 3 €,
  double auto_data_eur = 3;   //        at most 3 times a month
  int auto_data_max = 3;
  double auto_data_optin = 0.5;  // invented share of postpaid lines with it on
  double trips_per_year = 1.5;   // invented: roaming trips
  double trip_mean_days = 6;     // invented

  // --- Prepaid money ------------------------------------------------------------------------
  std::array<int, 7> vouchers_eur = {5, 10, 15, 20, 25, 30, 50};  // WORLD
  double out_of_bundle_eur_per_min = 0.09;                        // invented
  double out_of_bundle_eur_per_sms = 0.09;                        // invented
  double auto_topup_share = 0.15;  // invented share of prepaid with automatic top-up

  // --- Churn (monthly hazards before the multipliers below) ------------------------------------
  double postpaid_churn_month = 0.010;  // WORLD derived: 0.8–1.2%/month
  double prepaid_churn_month = 0.032;   // WORLD derived: 2.5–4%/month incl. inactivity
  double in_term_factor = 0.45;         // invented: within the term only moves, deaths, disputes
  double contract_end_spike = 4.0;      // WORLD derived: 3–5× in the 1–3 months after term
  int contract_end_spike_days = 90;
  double out_of_term_factor = 1.3;               // invented: monthly cancellable afterwards
  double renewal_per_day_after_term = 1.0 / 75;  // invented: about half renew in the spike window
  double prepaid_silent_share = 0.6;             // invented: prepaid churners who just go quiet
  double postpaid_port_out_share = 0.65;         // invented: the rest cancel
  // Multipliers: the hazard rises with recent (30-day-decayed) experience.
  double per_ticket_factor = 0.6;          // invented: +60% per recent ticket
  double per_dropped_call_factor = 0.06;   // invented: +6% per recent dropped call (cap 10)
  double per_throttled_day_factor = 0.03;  // invented: +3% per recent throttled day (cap 15)
  double late_payment_factor = 1.3;        // invented
  double deal_seeker_factor = 1.2;         // invented
  // price_sensitivity p scales the hazard by (1 - w + 2 w p), mean 1.
  double price_sensitivity_weight = 0.4;  // invented

  // --- Care ----------------------------------------------------------------------------------
  double care_contacts_per_year = 2.5;  // WORLD: 2.5 care calls per subscriber-year
  double contacts_per_issue = 2.0;      // WORLD: 2 contacts on average to solve an issue
  double billing_issue_share = 0.35;    // WORLD: 30–40% about bills
  double call_cost_eur = 7.0;           // WORLD: ~7 € per agent call
  double chat_cost_eur = 3.0;           // invented
  double email_cost_eur = 2.5;          // invented
  double shop_cost_eur = 10.0;          // invented
  double ticket_cost_eur = 12.0;        // invented back-office cost of a ticket

  // --- Devices and purchases ------------------------------------------------------------------
  double device_replacement_months = 24;  // WORLD: phones replaced every ~24 months (Bitkom)
  double device_price_mean_eur = 600;     // WORLD: ~600 € (the catalog averages about that)
  double installment_min_eur = 10;        // WORLD: handset bundles add 10–25 € a month
  double installment_max_eur = 25;
  double device_margin = 0.08;                  // invented
  double content_purchases_per_month = 0.12;    // invented
  double accessory_purchases_per_month = 0.05;  // invented
  double insurance_take_rate = 0.25;            // invented, per device purchase

  // --- Payments ------------------------------------------------------------------------------
  double late_payer_share = 0.08;  // invented; WORLD: bad debt 1–2% of revenue
  int payment_due_days = 10;       // invented

  // --- Latent traits --------------------------------------------------------------------------
  double innovator_share = 0.16;         // invented (Rogers: innovators + early adopters)
  double deal_seeker_share = 0.25;       // invented
  double sleeping_dog_share = 0.075;     // WORLD derived: 5–10% of the base
  double sleeping_dog_uplift_min = 0.2;  // WORLD derived: churn +20–60% when contacted
  double sleeping_dog_uplift_max = 0.6;
  double retention_effect_mean = -0.10;  // WORLD derived: offers cut churn 0–20% relative
  double consent_sms = 0.85;             // invented
  double consent_email = 0.60;           // invented
  double consent_push = 0.65;            // WORLD: push opt-in 50–80%
  double consent_call = 0.30;            // invented

  std::vector<Plan> plans = DefaultPlans();

  // Checks ranges and the plan ladder (at least one prepaid and one non-family postpaid plan).
  Status Validate() const;
};

}  // namespace kairos::sim
