#include "sim/world_model.h"

#include <string>

namespace kairos::sim {

std::vector<Plan> DefaultPlans() {
  const double gb = kMbPerGb;
  const double flat = kUnlimitedVoiceMin;
  return {
      // Postpaid, 30-day cycle, voice flat (German postpaid plans are all "Allnet-Flat").
      {"pp_5gb", false, false, false, 29.99, 5 * gb, flat, true},
      {"pp_12gb", false, false, false, 39.99, 12 * gb, flat, true},
      {"pp_25gb", false, false, false, 49.99, 25 * gb, flat, true},
      {"pp_50gb", false, false, false, 59.99, 50 * gb, flat, true},
      {"pp_unlimited", false, false, false, 69.99, kUnlimitedDataMb, flat, true},
      {"pp_family_10gb", false, true, false, 9.95, 10 * gb, flat, true},
      // Prepaid, 28-day bundles.
      {"pre_s_3gb", true, false, false, 7.99, 3 * gb, 300, false},
      {"pre_m_8gb", true, false, false, 12.99, 8 * gb, flat, true},
      {"pre_l_15gb", true, false, false, 17.99, 15 * gb, flat, true},
      {"pre_xl_30gb", true, false, false, 24.99, 30 * gb, flat, true},
      {"pre_discount_10gb", true, false, true, 4.99, 10 * gb, flat, true},
  };
}

namespace {

Status CheckShare(double v, const char* name) {
  if (!(v >= 0 && v <= 1)) {
    return InvalidArgument(std::string(name) + " must be in [0, 1], got " + std::to_string(v),
                           name);
  }
  return Status::Ok();
}

Status CheckPositive(double v, const char* name) {
  if (!(v > 0)) {
    return InvalidArgument(std::string(name) + " must be positive, got " + std::to_string(v), name);
  }
  return Status::Ok();
}

}  // namespace

Status WorldModel::Validate() const {
  KAIROS_RETURN_IF_ERROR(CheckShare(prepaid_share, "prepaid_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(family_share_of_postpaid, "family_share_of_postpaid"));
  KAIROS_RETURN_IF_ERROR(CheckShare(long_contract_share, "long_contract_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(renewed_share_after_term, "renewed_share_after_term"));
  KAIROS_RETURN_IF_ERROR(CheckShare(gross_adds_per_month, "gross_adds_per_month"));
  KAIROS_RETURN_IF_ERROR(CheckShare(dormant_prepaid_share, "dormant_prepaid_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(auto_data_optin, "auto_data_optin"));
  KAIROS_RETURN_IF_ERROR(CheckShare(auto_topup_share, "auto_topup_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(postpaid_churn_month, "postpaid_churn_month"));
  KAIROS_RETURN_IF_ERROR(CheckShare(prepaid_churn_month, "prepaid_churn_month"));
  KAIROS_RETURN_IF_ERROR(CheckShare(prepaid_silent_share, "prepaid_silent_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(postpaid_port_out_share, "postpaid_port_out_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(renewal_per_day_after_term, "renewal_per_day_after_term"));
  KAIROS_RETURN_IF_ERROR(CheckShare(billing_issue_share, "billing_issue_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(insurance_take_rate, "insurance_take_rate"));
  KAIROS_RETURN_IF_ERROR(CheckShare(late_payer_share, "late_payer_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(innovator_share, "innovator_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(deal_seeker_share, "deal_seeker_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(sleeping_dog_share, "sleeping_dog_share"));
  KAIROS_RETURN_IF_ERROR(CheckShare(price_sensitivity_weight, "price_sensitivity_weight"));
  KAIROS_RETURN_IF_ERROR(CheckShare(consent_sms, "consent_sms"));
  KAIROS_RETURN_IF_ERROR(CheckShare(consent_email, "consent_email"));
  KAIROS_RETURN_IF_ERROR(CheckShare(consent_push, "consent_push"));
  KAIROS_RETURN_IF_ERROR(CheckShare(consent_call, "consent_call"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(contract_days, "contract_days"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(long_contract_days, "long_contract_days"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(postpaid_mean_tenure_months, "postpaid_mean_tenure_months"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(prepaid_mean_tenure_months, "prepaid_mean_tenure_months"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(prepaid_deactivation_days, "prepaid_deactivation_days"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(data_desired_mean_mb, "data_desired_mean_mb"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(data_sigma, "data_sigma"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(prepaid_data_factor, "prepaid_data_factor"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(voice_mean_min, "voice_mean_min"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(voice_sigma, "voice_sigma"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(sms_mean, "sms_mean"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(trip_mean_days, "trip_mean_days"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(contacts_per_issue, "contacts_per_issue"));
  KAIROS_RETURN_IF_ERROR(CheckPositive(device_replacement_months, "device_replacement_months"));
  if (contacts_per_issue < 1) {
    return InvalidArgument("contacts_per_issue must be at least 1", "contacts_per_issue");
  }
  if (postpaid_cycle_days < 1 || postpaid_cycle_days > 366 || prepaid_cycle_days < 1 ||
      prepaid_cycle_days > 366) {
    return InvalidArgument("cycle days must be 1..366 (the schema's range)", "cycle_days");
  }
  for (int v : vouchers_eur) {
    if (v <= 0) return InvalidArgument("voucher sizes must be positive", "vouchers_eur");
  }
  bool prepaid = false, postpaid = false, family = false;
  for (const Plan& p : plans) {
    if (p.id.empty() || p.id.size() > 64) {
      return InvalidArgument("plan ids must be 1 to 64 bytes", "plans");
    }
    for (char c : p.id) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return InvalidArgument("plan id \"" + p.id + "\" must be plain ASCII without quotes",
                               "plans");
      }
    }
    if (p.price_eur < 0 || p.data_mb < 0 || p.voice_min < 0) {
      return InvalidArgument("plan " + p.id + " has a negative price or allowance", "plans");
    }
    if (p.prepaid) prepaid = true;
    if (!p.prepaid && !p.family) postpaid = true;
    if (!p.prepaid && p.family) family = true;
  }
  if (!prepaid || !postpaid) {
    return InvalidArgument("plans need at least one prepaid and one postpaid (non-family) plan",
                           "plans");
  }
  if (family_share_of_postpaid > 0 && !family) {
    return InvalidArgument("family_share_of_postpaid > 0 needs a postpaid family plan", "plans");
  }
  return Status::Ok();
}

}  // namespace kairos::sim
