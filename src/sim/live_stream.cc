// LiveStream: the synthetic world at wall-clock time, one event at a time.
//
// The history summarises usage per day; a live demo needs a steady trickle instead, so each
// live event is a slice of what the subscriber does (a session's data, a call), drawn from the
// same traits and plans as the history. Subscribers are built on first touch from (seed,
// index), exactly as Generate builds them.

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "sim/catalog.h"
#include "sim/event_format.h"
#include "sim/generator.h"
#include "sim/world.h"

namespace kairos::sim {
namespace {

// Share of live events per kind (invented, close to the history's mix).
enum LiveKind {
  kData,
  kVoice,
  kSms,
  kApp,
  kNet,
  kBalance,
  kTopup,
  kBuy,
  kPay,
  kCare,
  kTicket,
  kPlan,
  kChurn,
  kLiveKinds
};
constexpr double kLiveWeights[kLiveKinds] = {0.30, 0.17, 0.03,  0.30,  0.04,  0.04, 0.02,
                                             0.02, 0.01, 0.015, 0.005, 0.002, 0.001};

struct LiveSubscriber {
  Subscriber s;
  bool announced = false;
  bool churned = false;
};

}  // namespace

struct LiveStream::State {
  State(uint64_t seed, int64_t n, const WorldModel& world)
      : subscribers(std::max<int64_t>(1, n)),
        // History ends at kDefaultEnd; live continues from there, without a history of its own.
        sim(world.Validate().ok() ? world : WorldModel{}, seed, kDefaultEnd, 0, subscribers),
        rng(seed, 0, 5) {}

  LiveSubscriber& Get(int64_t index) {
    auto it = known.find(index);
    if (it != known.end()) return it->second;
    LiveSubscriber& ls = known[index];
    sim.Init(index, &ls.s);
    // Dormant SIMs are silent in the history; they stay silent here.
    if (ls.s.life == Life::kDormant) ls.churned = true;
    return ls;
  }

  int64_t subscribers;
  Simulator sim;
  Rng rng;
  std::unordered_map<int64_t, LiveSubscriber> known;
  int64_t churned = 0;
  uint64_t stamp = 0;
  uint64_t seq = 0;
};

LiveStream::LiveStream(uint64_t seed, int64_t subscribers, WorldModel world)
    : state_(std::make_unique<State>(seed, subscribers, world)) {}
LiveStream::~LiveStream() = default;
LiveStream::LiveStream(LiveStream&&) noexcept = default;
LiveStream& LiveStream::operator=(LiveStream&&) noexcept = default;

std::string LiveStream::NextBatch(TimestampMs now, int events) {
  State& st = *state_;
  if (st.stamp == 0) st.stamp = static_cast<uint64_t>(std::max<TimestampMs>(1, now));
  const WorldModel& m = st.sim.model();
  Rng& r = st.rng;
  LineWriter w;
  for (int produced = 0; produced < events;) {
    if (st.churned >= st.subscribers) break;
    const int64_t index = static_cast<int64_t>(r.Below(static_cast<uint64_t>(st.subscribers)));
    LiveSubscriber& ls = st.Get(index);
    if (ls.churned) {
      // Rejection sampling; falls back to a scan when most of a tiny world has churned.
      if (static_cast<int64_t>(st.known.size()) >= st.subscribers) {
        int64_t alive = 0;
        for (const auto& [i, x] : st.known) alive += x.churned ? 0 : 1;
        if (alive == 0) {
          st.churned = st.subscribers;
          break;
        }
      }
      continue;
    }
    Subscriber& s = ls.s;
    const bool prepaid = s.flags & kPrepaid;
    const Plan& plan = st.sim.PlanOf(s);
    const TimestampMs ts = now - static_cast<TimestampMs>(r.Below(5000));
    const EventId id{index, st.sim.id_width(), ++st.seq, st.stamp};
    ++produced;
    if (!ls.announced) {
      ls.announced = true;
      WriteEnvelope(w, EventKind::kSubscriber, id, ts);
      AppendMasterData(w, st.sim.Master(s));
      EndLine(w);
      continue;
    }
    int kind = 0;
    {
      double u = r.Uniform();
      while (kind < kLiveKinds - 1 && (u -= kLiveWeights[kind]) >= 0) ++kind;
    }
    // Kinds that do not fit the plan type fall back to a data record.
    if ((kind == kBalance || kind == kTopup) && !prepaid) kind = kData;
    if (kind == kPay && prepaid) kind = kData;
    if (kind == kPlan && (s.flags & kFamily)) kind = kData;
    switch (kind) {
      case kData:
      case kApp: {
        // A session: about a quarter of a day's data.
        const double mb = s.data_month / 30.0 / 4 * r.UnitLogNormal(0.8);
        if (kind == kData) {
          WriteEnvelope(w, EventKind::kUsage, id, ts);
          AppendUsage(w, UsageKind::kData, mb, s.trip_left > 0, -1);
        } else {
          double fw[kAppCategoryCount];
          for (int i = 0; i < kAppCategoryCount; ++i) fw[i] = s.app_weight[i] + 25.0;
          double total = 0;
          for (double x : fw) total += x;
          double u = r.Uniform() * total;
          int cat = 0;
          while (cat < kAppCategoryCount - 1 && (u -= fw[cat]) >= 0) ++cat;
          WriteEnvelope(w, EventKind::kAppSession, id, ts);
          AppendAppSession(w, cat, std::min(600.0, mb / catalog::kAppMbPerMinute[cat]), mb);
        }
        break;
      }
      case kVoice: {
        const double minutes = std::max(0.1, s.voice_month / 30.0 / 3 * r.UnitLogNormal(0.8));
        double charge = -1;
        if (prepaid && plan.voice_min < kUnlimitedVoiceMin && r.Bernoulli(0.2)) {
          charge =
              std::min<double>(std::max(0.0f, s.credit), minutes * m.out_of_bundle_eur_per_min);
          s.credit -= static_cast<float>(charge);
        }
        WriteEnvelope(w, EventKind::kUsage, id, ts);
        AppendUsage(w, UsageKind::kVoice, minutes, false, charge);
        break;
      }
      case kSms:
        WriteEnvelope(w, EventKind::kUsage, id, ts);
        AppendUsage(w, UsageKind::kSms, 1, false, -1);
        break;
      case kNet: {
        const double q = 1 - s.network_quality;
        WriteEnvelope(w, EventKind::kNetwork, id, ts);
        if (r.Bernoulli(0.2)) {
          AppendNetwork(w, -1, r.Bernoulli(0.5) ? 1 : 0);
        } else {
          AppendNetwork(w, 1 + static_cast<int>(r.Poisson(2 * q)), -1);
        }
        break;
      }
      case kBalance:
        WriteEnvelope(w, EventKind::kBalance, id, ts);
        AppendBalance(
            w, s.credit,
            plan.data_mb >= kUnlimitedDataMb ? plan.data_mb : plan.data_mb * r.Uniform(),
            plan.voice_min >= kUnlimitedVoiceMin ? plan.voice_min : plan.voice_min * r.Uniform());
        break;
      case kTopup: {
        const int amount = std::max<int>(s.voucher_habit, m.vouchers_eur[r.Below(4)]);
        s.credit += static_cast<float>(amount);
        WriteEnvelope(w, EventKind::kTopup, id, ts);
        AppendTopup(w, amount, r.Bernoulli(0.5) ? TopupChannel::kOnline : TopupChannel::kVoucher,
                    s.credit);
        break;
      }
      case kBuy: {
        WriteEnvelope(w, EventKind::kPurchase, id, ts);
        if (r.Bernoulli(0.5)) {
          const catalog::Product& p = catalog::kContent[r.Below(std::size(catalog::kContent))];
          AppendPurchase(w, p.id, PurchaseCategory::kContent, p.price_eur,
                         p.price_eur * p.margin_share, 0);
        } else {
          const catalog::Product& p = prepaid ? catalog::kPrepaidPass : catalog::kDataPass;
          AppendPurchase(w, p.id, PurchaseCategory::kAddon, p.price_eur,
                         p.price_eur * p.margin_share, 0);
        }
        break;
      }
      case kPay:
        WriteEnvelope(w, EventKind::kPayment, id, ts);
        AppendPayment(w, plan.price_eur + s.installment,
                      r.Bernoulli(s.late_tendency) ? 1 + static_cast<int>(r.Poisson(7)) : 0);
        break;
      case kCare:
      case kTicket: {
        const double q = 1 - s.network_quality;
        const double weights[kCareCategoryCount] = {m.billing_issue_share, 0.2 * (0.4 + 2.5 * q),
                                                    0.13, 0.16, 0.16};
        double total = 0;
        for (double x : weights) total += x;
        double u = r.Uniform() * total;
        int cat = 0;
        while (cat < kCareCategoryCount - 1 && (u -= weights[cat]) >= 0) ++cat;
        if (kind == kTicket) {
          WriteEnvelope(w, EventKind::kTicket, id, ts);
          AppendTicket(w, static_cast<CareCategory>(cat), m.ticket_cost_eur);
        } else {
          const bool call = r.Bernoulli(0.75 - 0.45 * s.digital_affinity);
          WriteEnvelope(w, EventKind::kCareContact, id, ts);
          AppendCareContact(w, static_cast<CareCategory>(cat),
                            call ? CareChannel::kCall : CareChannel::kChat,
                            call ? m.call_cost_eur : m.chat_cost_eur);
        }
        break;
      }
      case kPlan: {
        // Up or down one step on the subscriber's own ladder (same plan type).
        std::vector<int> ladder;
        for (int i = 0; i < static_cast<int>(m.plans.size()); ++i) {
          const Plan& p = m.plans[i];
          if (p.prepaid == prepaid && !p.family && !p.discount) ladder.push_back(i);
        }
        std::stable_sort(ladder.begin(), ladder.end(),
                         [&m](int a, int b) { return m.plans[a].data_mb < m.plans[b].data_mb; });
        const auto pos = std::find(ladder.begin(), ladder.end(), static_cast<int>(s.plan));
        int next = ladder.empty() ? s.plan : ladder.front();
        Direction dir = Direction::kSame;
        if (pos != ladder.end()) {
          const bool up = pos + 1 != ladder.end() && (pos == ladder.begin() || r.Bernoulli(0.6));
          next = up ? *(pos + 1) : (pos == ladder.begin() ? *pos : *(pos - 1));
          dir = next == s.plan ? Direction::kSame
                               : (up ? Direction::kUpgrade : Direction::kDowngrade);
        }
        s.plan = static_cast<uint8_t>(next);
        WriteEnvelope(w, EventKind::kPlanChange, id, ts);
        AppendPlanChange(w, m.plans[next], dir);
        break;
      }
      case kChurn:
      default:
        WriteEnvelope(w, EventKind::kChurn, id, ts);
        AppendChurn(w, ChurnReason::kPortOut,
                    catalog::kCompetitors[r.Below(std::size(catalog::kCompetitors))]);
        ls.churned = true;
        ++st.churned;
        break;
    }
    EndLine(w);
  }
  return std::string(w.view());
}

}  // namespace kairos::sim
