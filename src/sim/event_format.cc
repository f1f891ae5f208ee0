#include "sim/event_format.h"

namespace kairos::sim {
namespace {

constexpr std::string_view kEventKindNames[kEventKindCount] = {
    "subscriber", "usage",  "topup",        "balance",     "plan_change", "purchase",
    "payment",    "ticket", "care_contact", "app_session", "network",     "churn"};
constexpr std::string_view kAppNames[kAppCategoryCount] = {
    "video", "music", "social", "gaming", "fitness", "news", "messaging", "other"};
constexpr std::string_view kCareCategoryNames[] = {"billing", "network", "device", "tariff",
                                                   "other"};
constexpr std::string_view kCareChannelNames[] = {"call", "chat", "shop", "email"};
constexpr std::string_view kTopupChannelNames[] = {"voucher", "online", "auto", "shop"};
constexpr std::string_view kPurchaseCategoryNames[] = {"device",    "addon",     "content",
                                                       "accessory", "insurance", "other"};
constexpr std::string_view kChurnReasonNames[] = {"none", "port_out", "cancellation", "inactivity"};
constexpr std::string_view kDirectionNames[] = {"upgrade", "downgrade", "same"};

void Quoted(LineWriter& w, std::string_view s) {
  w.Char('"');
  w.Raw(s);
  w.Char('"');
}

}  // namespace

std::string_view EventKindName(EventKind kind) { return kEventKindNames[static_cast<int>(kind)]; }
std::string_view AppCategoryName(int category) { return kAppNames[category]; }
std::string_view ChurnReasonName(ChurnReason reason) {
  return kChurnReasonNames[static_cast<int>(reason)];
}

int SubscriberIdWidth(int64_t subscribers) {
  int width = 1;
  for (int64_t n = subscribers; n >= 10; n /= 10) ++width;
  return width < 7 ? 7 : width;
}

void WriteSubscriberId(LineWriter& w, int64_t index, int width) {
  w.Char('s');
  w.ZeroPadded(static_cast<uint64_t>(index + 1), width);
}

void WriteEnvelope(LineWriter& w, EventKind kind, const EventId& id, TimestampMs ts) {
  if (id.live_stamp == 0) {
    w.Raw("{\"event_id\":\"e");
    WriteSubscriberId(w, id.index, id.width);
  } else {
    w.Raw("{\"event_id\":\"l");
    WriteSubscriberId(w, id.index, id.width);
    w.Char('-');
    w.Int(static_cast<int64_t>(id.live_stamp));
  }
  w.Char('-');
  w.Int(static_cast<int64_t>(id.counter));
  w.Raw("\",\"subscriber_id\":\"");
  WriteSubscriberId(w, id.index, id.width);
  w.Raw("\",\"type\":\"");
  w.Raw(EventKindName(kind));
  w.Raw("\",\"ts\":");
  w.QuotedTimestamp(ts);
}

void AppendConsents(LineWriter& w, uint8_t consents) {
  w.Raw(",\"consents\":{\"sms\":");
  w.Bool(consents & kConsentSms);
  w.Raw(",\"email\":");
  w.Bool(consents & kConsentEmail);
  w.Raw(",\"push\":");
  w.Bool(consents & kConsentPush);
  w.Raw(",\"call\":");
  w.Bool(consents & kConsentCall);
  w.Char('}');
}

void AppendMasterData(LineWriter& w, const MasterData& m) {
  w.Raw(",\"plan_type\":");
  Quoted(w, m.plan->prepaid ? "prepaid" : "postpaid");
  w.Raw(",\"plan_id\":");
  Quoted(w, m.plan->id);
  w.Raw(",\"price_eur\":");
  w.Fixed(m.plan->price_eur, 2);
  w.Raw(",\"data_allowance_mb\":");
  w.Fixed(m.plan->data_mb, 0);
  w.Raw(",\"voice_allowance_min\":");
  w.Fixed(m.plan->voice_min, 0);
  w.Raw(",\"region\":");
  Quoted(w, m.region);
  w.Raw(",\"timezone\":");
  Quoted(w, m.timezone);
  w.Raw(",\"birth_year\":");
  w.Int(m.birth_year);
  w.Raw(",\"household_id\":\"h");
  w.ZeroPadded(static_cast<uint64_t>(m.household + 1), m.width);
  w.Char('"');
  if (m.contract_end >= 0) {
    w.Raw(",\"contract_end\":");
    w.QuotedTimestamp(m.contract_end);
  }
  AppendConsents(w, m.consents);
  w.Raw(",\"cycle_anchor\":");
  w.QuotedTimestamp(m.cycle_anchor);
  w.Raw(",\"cycle_days\":");
  w.Int(m.cycle_days);
  w.Raw(",\"device\":");
  Quoted(w, m.device);
}

void AppendUsage(LineWriter& w, UsageKind kind, double amount, bool roaming, double charge_eur) {
  switch (kind) {
    case UsageKind::kData:
      w.Raw(",\"kind\":\"data\",\"amount\":");
      w.Fixed(amount, 2);
      break;
    case UsageKind::kVoice:
      w.Raw(",\"kind\":\"voice\",\"amount\":");
      w.Fixed(amount, 1);
      break;
    case UsageKind::kSms:
      w.Raw(",\"kind\":\"sms\",\"amount\":");
      w.Fixed(amount, 0);
      break;
  }
  if (roaming) w.Raw(",\"roaming\":true");
  if (charge_eur >= 0) {
    w.Raw(",\"charge_eur\":");
    w.Fixed(charge_eur, 2);
  }
}

void AppendTopup(LineWriter& w, double amount_eur, TopupChannel channel, double balance_after) {
  w.Raw(",\"amount_eur\":");
  w.Fixed(amount_eur, 2);
  w.Raw(",\"channel\":");
  Quoted(w, kTopupChannelNames[static_cast<int>(channel)]);
  w.Raw(",\"balance_after_eur\":");
  w.Fixed(balance_after, 2);
}

void AppendBalance(LineWriter& w, double credit_eur, double data_remaining_mb,
                   double voice_remaining_min) {
  w.Raw(",\"credit_eur\":");
  w.Fixed(credit_eur, 2);
  w.Raw(",\"data_remaining_mb\":");
  w.Fixed(data_remaining_mb < 0 ? 0 : data_remaining_mb, 1);
  w.Raw(",\"voice_remaining_min\":");
  w.Fixed(voice_remaining_min < 0 ? 0 : voice_remaining_min, 1);
}

void AppendPlanChange(LineWriter& w, const Plan& plan, Direction direction) {
  w.Raw(",\"plan_id\":");
  Quoted(w, plan.id);
  w.Raw(",\"plan_type\":");
  Quoted(w, plan.prepaid ? "prepaid" : "postpaid");
  w.Raw(",\"price_eur\":");
  w.Fixed(plan.price_eur, 2);
  w.Raw(",\"data_allowance_mb\":");
  w.Fixed(plan.data_mb, 0);
  w.Raw(",\"voice_allowance_min\":");
  w.Fixed(plan.voice_min, 0);
  w.Raw(",\"direction\":");
  Quoted(w, kDirectionNames[static_cast<int>(direction)]);
}

void AppendPurchase(LineWriter& w, std::string_view product, PurchaseCategory category,
                    double price_eur, double margin_eur, double discount_eur) {
  w.Raw(",\"product\":");
  Quoted(w, product);
  w.Raw(",\"category\":");
  Quoted(w, kPurchaseCategoryNames[static_cast<int>(category)]);
  w.Raw(",\"price_eur\":");
  w.Fixed(price_eur, 2);
  w.Raw(",\"margin_eur\":");
  w.Fixed(margin_eur, 2);
  if (discount_eur > 0) {
    w.Raw(",\"discount_eur\":");
    w.Fixed(discount_eur, 2);
  }
}

void AppendPayment(LineWriter& w, double amount_eur, int days_late) {
  w.Raw(",\"amount_eur\":");
  w.Fixed(amount_eur, 2);
  w.Raw(",\"days_late\":");
  w.Int(days_late);
}

void AppendTicket(LineWriter& w, CareCategory category, double cost_eur) {
  w.Raw(",\"category\":");
  Quoted(w, kCareCategoryNames[static_cast<int>(category)]);
  w.Raw(",\"cost_eur\":");
  w.Fixed(cost_eur, 2);
}

void AppendCareContact(LineWriter& w, CareCategory category, CareChannel channel, double cost_eur) {
  w.Raw(",\"category\":");
  Quoted(w, kCareCategoryNames[static_cast<int>(category)]);
  w.Raw(",\"channel\":");
  Quoted(w, kCareChannelNames[static_cast<int>(channel)]);
  w.Raw(",\"cost_eur\":");
  w.Fixed(cost_eur, 2);
}

void AppendAppSession(LineWriter& w, int category, double minutes, double mb) {
  w.Raw(",\"app_category\":");
  Quoted(w, kAppNames[category]);
  w.Raw(",\"minutes\":");
  w.Fixed(minutes, 1);
  w.Raw(",\"mb\":");
  w.Fixed(mb, 2);
}

void AppendNetwork(LineWriter& w, int dropped_calls, int throttled) {
  if (dropped_calls >= 0) {
    w.Raw(",\"dropped_calls\":");
    w.Int(dropped_calls);
  }
  if (throttled >= 0) {
    w.Raw(",\"throttled\":");
    w.Bool(throttled != 0);
  }
}

void AppendChurn(LineWriter& w, ChurnReason reason, std::string_view to_operator) {
  w.Raw(",\"reason\":");
  Quoted(w, kChurnReasonNames[static_cast<int>(reason)]);
  if (!to_operator.empty()) {
    w.Raw(",\"to_operator\":");
    Quoted(w, to_operator);
  }
}

}  // namespace kairos::sim
