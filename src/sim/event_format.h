// Event lines of the synthetic operator, spelled once for the history files and the live stream.
//
// Every function appends members to a line started by WriteEnvelope and the line is closed
// with EndLine. Names and enum values are those of the default schema
// (src/schema/default_schema.cc); generator_test.cc parses every line against it, so a
// misspelling here fails a test rather than an ingestion.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/clock.h"
#include "sim/line_writer.h"
#include "sim/world_model.h"

namespace kairos::sim {

enum class EventKind : uint8_t {
  kSubscriber,
  kUsage,
  kTopup,
  kBalance,
  kPlanChange,
  kPurchase,
  kPayment,
  kTicket,
  kCareContact,
  kAppSession,
  kNetwork,
  kChurn,
};
inline constexpr int kEventKindCount = 12;
std::string_view EventKindName(EventKind kind);

enum class UsageKind : uint8_t { kData, kVoice, kSms };

enum class AppCategory : uint8_t {
  kVideo,
  kMusic,
  kSocial,
  kGaming,
  kFitness,
  kNews,
  kMessaging,
  kOther,
};
inline constexpr int kAppCategoryCount = 8;
std::string_view AppCategoryName(int category);

enum class CareCategory : uint8_t { kBilling, kNetwork, kDevice, kTariff, kOther };
inline constexpr int kCareCategoryCount = 5;
enum class CareChannel : uint8_t { kCall, kChat, kShop, kEmail };
enum class TopupChannel : uint8_t { kVoucher, kOnline, kAuto, kShop };
enum class PurchaseCategory : uint8_t { kDevice, kAddon, kContent, kAccessory, kInsurance, kOther };
enum class ChurnReason : uint8_t { kNone, kPortOut, kCancellation, kInactivity };
std::string_view ChurnReasonName(ChurnReason reason);
enum class Direction : uint8_t { kUpgrade, kDowngrade, kSame };

// Consent flags as bits.
inline constexpr uint8_t kConsentSms = 1, kConsentEmail = 2, kConsentPush = 4, kConsentCall = 8;

// Identifies one event. History ids are "e<subscriber_id>-<counter>" (counter counts that
// subscriber's events from 1). Live ids add the stream's stamp,
// "l<subscriber_id>-<stamp>-<counter>", so that a restarted live stream never repeats an id
// that an earlier run (or the history) already sent — ingestion would drop it as a duplicate.
struct EventId {
  int64_t index = 0;  // subscriber index (0-based; the id shows index + 1)
  int width = 7;      // digits of the subscriber number
  uint64_t counter = 0;
  uint64_t live_stamp = 0;  // 0 for history events
};

// "s0000001"-style subscriber id for 0-based `index`.
void WriteSubscriberId(LineWriter& w, int64_t index, int width);
// Digits needed for `subscribers` ids (at least 7, as in "s0000001").
int SubscriberIdWidth(int64_t subscribers);

// {"event_id":..,"subscriber_id":..,"type":..,"ts":..
void WriteEnvelope(LineWriter& w, EventKind kind, const EventId& id, TimestampMs ts);
inline void EndLine(LineWriter& w) { w.Raw("}\n"); }

// Master data written by a `subscriber` event.
struct MasterData {
  const Plan* plan = nullptr;
  std::string_view region;
  std::string_view timezone;
  int birth_year = 0;
  int64_t household = 0;  // index of the household's main line
  int width = 7;
  TimestampMs contract_end = -1;  // < 0: none (prepaid)
  uint8_t consents = 0;
  TimestampMs cycle_anchor = 0;
  int cycle_days = 30;
  std::string_view device;
};
void AppendMasterData(LineWriter& w, const MasterData& m);
void AppendConsents(LineWriter& w, uint8_t consents);

// `charge_eur` < 0 is left out (no out-of-bundle charge); roaming is written only when true.
void AppendUsage(LineWriter& w, UsageKind kind, double amount, bool roaming, double charge_eur);
void AppendTopup(LineWriter& w, double amount_eur, TopupChannel channel, double balance_after);
void AppendBalance(LineWriter& w, double credit_eur, double data_remaining_mb,
                   double voice_remaining_min);
void AppendPlanChange(LineWriter& w, const Plan& plan, Direction direction);
void AppendPurchase(LineWriter& w, std::string_view product, PurchaseCategory category,
                    double price_eur, double margin_eur, double discount_eur);
void AppendPayment(LineWriter& w, double amount_eur, int days_late);
void AppendTicket(LineWriter& w, CareCategory category, double cost_eur);
void AppendCareContact(LineWriter& w, CareCategory category, CareChannel channel, double cost_eur);
void AppendAppSession(LineWriter& w, int category, double minutes, double mb);
// dropped_calls < 0 and throttled < 0 are left out.
void AppendNetwork(LineWriter& w, int dropped_calls, int throttled);
// to_operator empty: left out.
void AppendChurn(LineWriter& w, ChurnReason reason, std::string_view to_operator);

}  // namespace kairos::sim
