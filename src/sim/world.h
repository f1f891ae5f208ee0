// The synthetic operator's world: one compact state per subscriber and the rules that move it
// forward one day at a time. Internal to src/sim (generator.h is the public face).
//
// Randomness: subscriber i draws from streams of its own, all keyed by (seed, i, stream)
// — 0: traits (who the subscriber is), 1: life (when it joined, its contract and cycle),
// 2: behaviour (what it does each day), 3 and 4: the truth's look-ahead (next cycle, churn).
// Traits therefore do not depend on the number of days simulated or on any other subscriber
// (except that a family card copies its household's region), and the live stream sees the
// same people as the history.
//
// Thread-safety: a Simulator is immutable after construction and may be shared; a Subscriber
// and a DayEmitter belong to one thread.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "sim/event_format.h"
#include "sim/line_writer.h"
#include "common/rng.h"
#include "sim/world_model.h"

namespace kairos::sim {

inline constexpr int kSecondsPerDay = 86400;

enum SubscriberFlag : uint16_t {
  kPrepaid = 1 << 0,
  kFamily = 1 << 1,
  kInnovator = 1 << 2,
  kDealSeeker = 1 << 3,
  kSleepingDog = 1 << 4,
  kAutoData = 1 << 5,  // postpaid: automatic 250 MB top-ups; prepaid: buys 1 GB passes
  kAutoTopup = 1 << 6,
  kLatePayer = 1 << 7,
  kBundleActive = 1 << 8,  // prepaid: this cycle's bundle is booked
  kThrottled = 1 << 9,
  kThrottledThisCycle = 1 << 10,
  kLongContract = 1 << 11,
  kJoinDevice = 1 << 12,  // buys a handset on the day it joins
  kSilentChurn = 1 << 13,
};

enum class Life : uint8_t { kNotYet, kActive, kDormant, kGone };

// Everything about one subscriber, kept small: a million of them live in memory at once.
struct Subscriber {
  Rng rng;  // behaviour stream
  // Latent traits (fixed for life).
  float data_month = 0;   // desired MB per 30 days
  float voice_month = 0;  // desired minutes per 30 days
  float sms_month = 0;
  float p_data_day = 0;  // chance of using data at all on a day
  float p_voice_day = 0;
  float price_sensitivity = 0;
  float network_quality = 0;
  float digital_affinity = 0;
  float late_tendency = 0;     // chance that a bill is paid late
  float contact_uplift = 0;    // relative churn change when contacted (sleeping dogs > 0)
  float retention_effect = 0;  // relative churn change from a proactive retention offer
  float content_affinity = 0;
  float device_life_days = 0;           // age at which the current handset gets replaced
  std::array<uint8_t, 8> app_weight{};  // traffic share per AppCategory, out of ~255
  uint16_t flags = 0;
  uint16_t birth_year = 0;
  uint8_t plan = 0;
  uint8_t region = 0;
  uint8_t device = 0;
  uint8_t consents = 0;
  uint8_t topup_lead = 0;     // prepaid: tops up this many days before renewal
  uint8_t voucher_habit = 0;  // prepaid: smallest voucher usually bought (€)
  uint8_t device_tier = 0;
  Life life = Life::kNotYet;
  ChurnReason churn_reason = ChurnReason::kNone;
  uint8_t trip_left = 0;
  uint8_t non_eu_trip = 0;
  uint8_t packs = 0;  // data packs bought this cycle
  uint8_t pending_contacts = 0;
  uint8_t issue_category = 0;
  int16_t days_late = 0;
  int64_t household = 0;
  // Life, as day indices relative to the history start (negative: before it).
  int32_t join_day = 0;
  int32_t anchor_day = 0;
  int32_t contract_end_day = 0;
  int32_t device_day = 0;
  int32_t dormant_since_day = 0;
  int32_t deactivate_day = 0;
  int32_t churn_day = -1;
  int32_t churn_sec = 0;
  int32_t payment_day = -1;
  int32_t next_contact_day = 0;
  int32_t active_days = 0;
  // Cycle and money.
  float data_used = 0;
  float data_extra = 0;  // MB added by packs this cycle
  float voice_used = 0;
  float credit = 0;       // prepaid
  float bill_extras = 0;  // postpaid charges of this cycle on top of the fee
  float installment = 0;  // postpaid handset instalment per month
  float pending_payment = 0;
  float recurring_revenue = 0;  // fees and instalments
  float extra_revenue = 0;      // add-ons, content, out-of-bundle charges
  // Recent experience, decayed with a 30-day time constant; drives churn and care.
  float recent_tickets = 0;
  float recent_drops = 0;
  float recent_throttle = 0;
  float recent_late = 0;
  uint32_t events = 0;  // events written so far; numbers the event ids
};

// Facts shared by every subscriber on one simulated day.
struct DayContext {
  int day = 0;            // relative to the history start
  TimestampMs start = 0;  // the day's first millisecond
  int dow = 0;            // local day of week, 0 = Monday
  int utc_offset = 0;     // seconds east of UTC (Europe/Berlin, with summer time)
  int start_sod = 0;      // second of the UTC day at which `start` falls
};

// One line of a day's buffer, for the stable sort by second.
struct LineRec {
  uint32_t block;
  uint32_t offset;  // within the block
  uint32_t length;
  uint32_t sec;
};

// Collects one day's lines for every subscriber, in subscriber order. Lines go into blocks
// of at most kBlockBytes that are kept and reused from day to day: a million subscribers
// make ~0.75 GB on the first day (master data), and a single growing buffer would briefly
// need twice that while it reallocates.
class DayEmitter {
 public:
  static constexpr size_t kBlockBytes = size_t{32} << 20;  // a power of two: growth stops there
  static constexpr size_t kLineMax = size_t{64} << 10;     // our lines are < 1 KB

  explicit DayEmitter(int id_width) : width_(id_width) { blocks_.emplace_back(); }

  void StartDay(const DayContext& c) {
    for (LineWriter& b : blocks_) b.Clear();
    block_ = 0;
    recs_.clear();
    day_start_ = c.start;
  }
  void SetSubscriber(int64_t index, uint32_t* counter) {
    index_ = index;
    counter_ = counter;
  }
  // Starts a line at second `sec` of the day; append the members, then call End().
  LineWriter& Begin(EventKind kind, int sec) {
    if (blocks_[block_].size() + kLineMax > kBlockBytes && ++block_ == blocks_.size()) {
      blocks_.emplace_back();
    }
    LineWriter& w = blocks_[block_];
    begin_ = static_cast<uint32_t>(w.size());
    sec_ = static_cast<uint32_t>(sec);
    ++counts_[static_cast<int>(kind)];
    WriteEnvelope(w, kind, EventId{index_, width_, ++*counter_, 0},
                  day_start_ + int64_t{sec} * kMsPerSecond);
    return w;
  }
  void End() {
    LineWriter& w = blocks_[block_];
    EndLine(w);
    recs_.push_back(LineRec{static_cast<uint32_t>(block_), begin_,
                            static_cast<uint32_t>(w.size() - begin_), sec_});
  }

  const char* block_data(uint32_t block) const { return blocks_[block].data(); }
  const std::vector<LineRec>& records() const { return recs_; }
  const std::array<int64_t, kEventKindCount>& counts() const { return counts_; }

 private:
  std::vector<LineWriter> blocks_;
  size_t block_ = 0;
  std::vector<LineRec> recs_;
  std::array<int64_t, kEventKindCount> counts_{};
  TimestampMs day_start_ = 0;
  int width_;
  int64_t index_ = 0;
  uint32_t* counter_ = nullptr;
  uint32_t begin_ = 0;
  uint32_t sec_ = 0;
};

enum class Shape : uint8_t { kTraffic, kBusiness };

class Simulator {
 public:
  // `history_start` is day 0; `history_days` the number of simulated days (0 for the live
  // stream, which has no history and no joiners). The model must be valid.
  Simulator(const WorldModel& model, uint64_t seed, TimestampMs history_start, int history_days,
            int64_t subscribers);

  const WorldModel& model() const { return m_; }
  int id_width() const { return width_; }
  DayContext Day(int day) const;
  const Plan& PlanOf(const Subscriber& s) const { return m_.plans[s.plan]; }
  MasterData Master(const Subscriber& s) const;

  // Builds subscriber `index` as it stands before day 0.
  void Init(int64_t index, Subscriber* s) const;
  // Moves `s` through day `c`, writing its events to `em`.
  void StepDay(int64_t index, Subscriber& s, const DayContext& c, DayEmitter& em) const;
  // Appends the subscriber's truth line (after the last day), simulating what the truth needs
  // beyond the history on a copy.
  void WriteTruth(int64_t index, const Subscriber& s, LineWriter& w) const;

  // Monthly churn hazard of `s` on `day`, with every multiplier applied.
  double MonthlyHazard(const Subscriber& s, int day) const;
  // A second of day `c` in [lo, hi] drawn from the shape of the local day.
  int SampleSec(Rng& r, Shape shape, const DayContext& c, int lo, int hi) const;

 private:
  struct Usage {
    double data = 0, voice = 0;
    int sms = 0;
  };
  Usage DrawUsage(Subscriber& s, int dow, bool roaming) const;
  // Meters `want` MB against the allowance; returns the metered MB. Buys packs when allowed
  // (*packs counts them) and sets *throttled_now when the allowance ran out today.
  double ApplyData(Subscriber& s, double want, int* packs, bool* throttled_now) const;
  void InitTraits(int64_t index, Subscriber* s) const;
  void InitLife(int64_t index, Subscriber* s) const;
  bool IsPostpaid(int64_t index) const;
  bool IsFamily(int64_t index) const;
  int RegionDraw(int64_t index) const;
  int ChoosePlan(Rng& r, const Subscriber& s) const;
  int ChooseDevice(Rng& r, int tier, bool current_only) const;
  void StartCycle(Subscriber& s, const DayContext& c, int sec, DayEmitter& em) const;
  // Prepaid top-ups; returns the second from which the day's other events may happen (later
  // than `lo` when a lapsed bundle was booked again).
  int MaybeTopup(Subscriber& s, const DayContext& c, int lo, int hi, DayEmitter& em) const;
  void BuyDevice(Subscriber& s, const DayContext& c, int sec, bool installment,
                 DayEmitter& em) const;
  void Care(Subscriber& s, const DayContext& c, int lo, int hi, DayEmitter& em) const;
  void Purchases(Subscriber& s, const DayContext& c, int lo, int hi, DayEmitter& em) const;
  void EmitPurchase(Subscriber& s, DayEmitter& em, int sec, std::string_view product,
                    PurchaseCategory cat, double list_price, double margin_share) const;
  int Voucher(const Subscriber& s, double shortfall) const;
  TimestampMs DayStart(int day) const { return start_ + int64_t{day} * kMsPerDay; }

  WorldModel m_;
  uint64_t seed_;
  TimestampMs start_;
  int days_;
  int width_;
  std::vector<int> postpaid_ladder_, prepaid_ladder_;  // plan indices by data allowance
  int family_plan_ = -1, discount_plan_ = -1;
  std::array<std::array<double, 24>, 3> cum_{};  // hour CDFs: weekday, weekend, business
  double hazard_norm_pp_ = 1, hazard_norm_pre_ = 1, issue_norm_ = 1;
};

// Non-negative remainder.
inline int Mod(int a, int n) {
  const int r = a % n;
  return r < 0 ? r + n : r;
}

}  // namespace kairos::sim
