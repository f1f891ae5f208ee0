#include "sim/world.h"

#include <algorithm>
#include <cmath>

#include "common/time_format.h"
#include "sim/catalog.h"

namespace kairos::sim {
namespace {

// Hour-of-day weights in local time (WORLD: "ramp from ~07:00, broad plateau noon–23:00;
// weekends start later"; the numbers themselves are invented to that description).
constexpr double kWeekdayHours[24] = {1.6, 0.9, 0.5, 0.35, 0.3, 0.45, 1.2, 2.6, 3.6, 4.0, 4.3, 4.6,
                                      5.0, 5.0, 5.0, 5.0,  5.1, 5.2,  5.3, 5.4, 5.5, 5.4, 5.0, 3.4};
constexpr double kWeekendHours[24] = {2.2, 1.4, 0.8, 0.5, 0.35, 0.35, 0.6, 1.0, 2.0, 3.2, 4.2, 4.7,
                                      5.0, 5.1, 5.1, 5.1, 5.2,  5.3,  5.4, 5.5, 5.5, 5.4, 5.1, 3.6};
// Shops, care desks, online orders and payments: business hours (invented).
constexpr double kBusinessHours[24] = {0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.6,
                                       2.0,  3.5,  4.0,  4.2,  4.0,  4.0,  4.2, 4.2,
                                       4.0,  3.8,  3.4,  2.6,  1.6,  0.9,  0.5, 0.2};
// Weekly seasonality, Monday first, mean 1 (invented: data peaks at weekends, calls on
// weekdays).
constexpr double kWeekData[7] = {0.96, 0.95, 0.96, 0.97, 1.02, 1.07, 1.07};
constexpr double kWeekVoice[7] = {1.08, 1.08, 1.08, 1.08, 1.06, 0.86, 0.76};

// 30-day memory for the "recent" signals: exp(-1/30).
constexpr double kDecay = 0.9672161004820059;
// Reference year of the population's birth years (ages are drawn for 2025).
constexpr int kPopulationYear = 2025;
constexpr double kDaysPerMonth = 30.4375;

// Calibration: the contract-term factors and the experience multipliers do not average to 1
// over the population; dividing by these measured means makes the base rates in WorldModel
// the realised population rates (postpaid churn, prepaid churn, care contacts). Re-measure
// (README: "Calibration") when the multipliers or the initial population change.
constexpr double kHazardMeanPostpaid = 0.84;
constexpr double kHazardMeanPrepaid = 1.10;
constexpr double kIssueMean = 0.93;

bool BerlinSummerTime(TimestampMs t) {
  // EU rule: from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC.
  int64_t y;
  unsigned mo, d;
  CivilFromDays(DayOf(t), &y, &mo, &d);
  auto last_sunday = [y](unsigned month) {
    const int64_t d31 = DaysFromCivil(y, month, 31);
    const int64_t dow = ((d31 + 3) % 7 + 7) % 7;  // 0 = Monday
    return d31 - (dow + 1) % 7;
  };
  const TimestampMs begin = last_sunday(3) * kMsPerDay + kMsPerHour;
  const TimestampMs end = last_sunday(10) * kMsPerDay + kMsPerHour;
  return t >= begin && t < end;
}

template <size_t N>
int PickWeighted(Rng& r, const double (&w)[N]) {
  double total = 0;
  for (double x : w) total += x;
  double u = r.Uniform() * total;
  for (size_t i = 0; i < N; ++i) {
    u -= w[i];
    if (u < 0) return static_cast<int>(i);
  }
  return static_cast<int>(N - 1);
}

double Clamp(double x, double lo, double hi) { return std::min(hi, std::max(lo, x)); }

}  // namespace

Simulator::Simulator(const WorldModel& model, uint64_t seed, TimestampMs history_start,
                     int history_days, int64_t subscribers)
    : m_(model),
      seed_(seed),
      start_(history_start),
      days_(history_days),
      width_(SubscriberIdWidth(subscribers)) {
  for (int i = 0; i < static_cast<int>(m_.plans.size()); ++i) {
    const Plan& p = m_.plans[i];
    if (p.prepaid) {
      if (p.discount && discount_plan_ < 0) {
        discount_plan_ = i;
      } else if (!p.discount) {
        prepaid_ladder_.push_back(i);
      }
    } else if (p.family) {
      if (family_plan_ < 0) family_plan_ = i;
    } else {
      postpaid_ladder_.push_back(i);
    }
  }
  // A ladder made only of discount bundles still needs a ladder.
  if (prepaid_ladder_.empty()) prepaid_ladder_.push_back(discount_plan_);
  auto by_data = [this](int a, int b) { return m_.plans[a].data_mb < m_.plans[b].data_mb; };
  std::stable_sort(postpaid_ladder_.begin(), postpaid_ladder_.end(), by_data);
  std::stable_sort(prepaid_ladder_.begin(), prepaid_ladder_.end(), by_data);
  const double* tables[3] = {kWeekdayHours, kWeekendHours, kBusinessHours};
  for (int t = 0; t < 3; ++t) {
    double acc = 0;
    for (int h = 0; h < 24; ++h) cum_[t][h] = (acc += tables[t][h]);
  }
  hazard_norm_pp_ = kHazardMeanPostpaid;
  hazard_norm_pre_ = kHazardMeanPrepaid;
  issue_norm_ = kIssueMean;
}

DayContext Simulator::Day(int day) const {
  DayContext c;
  c.day = day;
  c.start = DayStart(day);
  const TimestampMs mid = c.start + 12 * kMsPerHour;
  c.utc_offset = BerlinSummerTime(mid) ? 7200 : 3600;
  const int64_t local_day = DayOf(mid + int64_t{c.utc_offset} * kMsPerSecond);
  c.dow = static_cast<int>(((local_day + 3) % 7 + 7) % 7);
  c.start_sod = static_cast<int>((c.start - DayOf(c.start) * kMsPerDay) / kMsPerSecond);
  return c;
}

int Simulator::SampleSec(Rng& r, Shape shape, const DayContext& c, int lo, int hi) const {
  const int table = shape == Shape::kBusiness ? 2 : (c.dow >= 5 ? 1 : 0);
  const auto& cum = cum_[table];
  const double u = r.Uniform() * cum[23];
  int hour = 0;
  while (hour < 23 && u >= cum[hour]) ++hour;
  const int local = hour * 3600 + static_cast<int>(r.Below(3600));
  // Local time of day → second since this simulated day's start.
  int sec = Mod(local - c.utc_offset - c.start_sod, kSecondsPerDay);
  if (sec < lo || sec > hi) sec = static_cast<int>(r.Between(lo, hi));
  return sec;
}

// ---------------------------------------------------------------------------------------------
// Initialisation

bool Simulator::IsPostpaid(int64_t index) const {
  Rng r(seed_, static_cast<uint64_t>(index), 0);
  return !r.Bernoulli(m_.prepaid_share);
}

bool Simulator::IsFamily(int64_t index) const {
  if (index <= 0 || family_plan_ < 0) return false;
  Rng r(seed_, static_cast<uint64_t>(index), 0);
  const bool prepaid = r.Bernoulli(m_.prepaid_share);
  // A family card joins the household of the line before it, which must be postpaid; the
  // chance is raised so that family cards are family_share_of_postpaid of all postpaid lines.
  const double p =
      std::min(1.0, m_.family_share_of_postpaid / std::max(0.01, 1 - m_.prepaid_share));
  const bool candidate = r.Bernoulli(p);
  return !prepaid && candidate && IsPostpaid(index - 1);
}

int Simulator::RegionDraw(int64_t index) const {
  Rng r(seed_, static_cast<uint64_t>(index), 0);
  r.Next();  // prepaid
  r.Next();  // family candidate
  double u = r.Uniform();
  for (int i = 0; i < catalog::kRegionCount; ++i) {
    u -= catalog::kRegions[i].population_share;
    if (u < 0) return i;
  }
  return 0;
}

int Simulator::ChooseDevice(Rng& r, int tier, bool current_only) const {
  int candidates[catalog::kDeviceCount];
  int n = 0;
  for (int i = 0; i < catalog::kDeviceCount; ++i) {
    if (catalog::kDevices[i].tier == tier && (catalog::kDevices[i].current || !current_only)) {
      candidates[n++] = i;
    }
  }
  return candidates[r.Below(static_cast<uint64_t>(n))];
}

int Simulator::ChoosePlan(Rng& r, const Subscriber& s) const {
  if (s.flags & kFamily) return family_plan_;
  const bool prepaid = s.flags & kPrepaid;
  if (prepaid && discount_plan_ >= 0 && (s.flags & kDealSeeker) && r.Bernoulli(0.7)) {
    return discount_plan_;
  }
  const std::vector<int>& ladder = prepaid ? prepaid_ladder_ : postpaid_ladder_;
  // The smallest plan that covers the wanted volume with some headroom (invented rule) ...
  const double need = s.data_month * r.Uniform(1.0, 1.4);
  int step = static_cast<int>(ladder.size()) - 1;
  for (int i = 0; i < static_cast<int>(ladder.size()); ++i) {
    if (m_.plans[ladder[i]].data_mb >= need) {
      step = i;
      break;
    }
  }
  // ... except that price-sensitive people skimp and innovators splurge.
  if (step > 0 && r.Bernoulli(0.6 * s.price_sensitivity)) --step;
  if (step + 1 < static_cast<int>(ladder.size()) && (s.flags & kInnovator) && r.Bernoulli(0.3)) {
    ++step;
  }
  return ladder[step];
}

void Simulator::InitTraits(int64_t index, Subscriber* s) const {
  Rng r(seed_, static_cast<uint64_t>(index), 0);
  // The first three draws are also read by IsPostpaid / IsFamily / RegionDraw.
  const bool prepaid = r.Bernoulli(m_.prepaid_share);
  r.Next();  // family candidate, resolved by IsFamily
  r.Next();  // region, resolved by RegionDraw
  s->flags = prepaid ? kPrepaid : 0;
  if (IsFamily(index)) s->flags |= kFamily;
  int64_t head = index;
  while (IsFamily(head)) --head;
  s->household = head;
  s->region = static_cast<uint8_t>(RegionDraw(head));

  if (r.Bernoulli(m_.innovator_share)) s->flags |= kInnovator;
  if (r.Bernoulli(m_.deal_seeker_share)) s->flags |= kDealSeeker;
  if (r.Bernoulli(m_.sleeping_dog_share)) s->flags |= kSleepingDog;
  const bool innovator = s->flags & kInnovator;
  const bool deal = s->flags & kDealSeeker;
  s->price_sensitivity = static_cast<float>(deal ? r.Beta(5, 2) : r.Beta(2, 3));
  s->network_quality = static_cast<float>(
      Clamp(catalog::kRegions[s->region].network_quality + r.Normal(0, 0.12), 0.05, 0.99));

  // Age: prepaid skews young and old (invented).
  double age;
  if (!prepaid) {
    age = Clamp(r.Normal(46, 15), 18, 90);
  } else if (r.Bernoulli(0.45)) {
    age = r.Uniform(16, 30);
  } else {
    age = Clamp(r.Normal(52, 17), 18, 92);
  }
  s->birth_year = static_cast<uint16_t>(kPopulationYear - static_cast<int>(age));
  s->digital_affinity = static_cast<float>(Clamp(1.1 - age / 70 + r.Normal(0, 0.15), 0, 1));
  if (r.Bernoulli(m_.late_payer_share)) s->flags |= kLatePayer;
  s->late_tendency = (s->flags & kLatePayer) ? 0.5f : 0.02f;
  s->consents = static_cast<uint8_t>((r.Bernoulli(m_.consent_sms) ? kConsentSms : 0) |
                                     (r.Bernoulli(m_.consent_email) ? kConsentEmail : 0) |
                                     (r.Bernoulli(m_.consent_push) ? kConsentPush : 0) |
                                     (r.Bernoulli(m_.consent_call) ? kConsentCall : 0));

  // Usage: log-normal levels; the young and innovators use more data, the old more voice.
  const double sd = m_.data_sigma;
  const double data_mu = std::log(m_.data_desired_mean_mb) - 0.5 * sd * sd;
  double data = r.LogNormal(data_mu, sd) * std::exp(-0.01 * (age - 42));
  if (prepaid) data *= m_.prepaid_data_factor;
  if (innovator) data *= 1.25;
  s->data_month = static_cast<float>(std::min(data, 500.0 * kMbPerGb));
  const double vs = m_.voice_sigma;
  double voice = r.LogNormal(std::log(m_.voice_mean_min) - 0.5 * vs * vs, vs) *
                 std::exp(0.008 * (age - 42)) * (prepaid ? 0.8 : 1.05);
  s->voice_month = static_cast<float>(std::min(voice, 5000.0));
  s->sms_month = static_cast<float>(m_.sms_mean * r.UnitLogNormal(1.0));
  s->p_data_day = static_cast<float>(Clamp(0.75 + 0.08 * std::log(data / 1000), 0.3, 0.98));
  s->p_voice_day = static_cast<float>(Clamp(0.45 + 0.1 * std::log(voice / 60), 0.15, 0.9));

  // App mix around the market's traffic shares.
  double w[kAppCategoryCount];
  for (int i = 0; i < kAppCategoryCount; ++i) {
    w[i] = catalog::kAppTrafficShare[i] * r.UnitLogNormal(0.5);
  }
  const int video = static_cast<int>(AppCategory::kVideo);
  const int gaming = static_cast<int>(AppCategory::kGaming);
  if (innovator) {
    w[video] *= 1.4;
    w[gaming] *= 1.5;
  }
  if (age > 55) {
    w[video] *= 0.6;
    w[static_cast<int>(AppCategory::kNews)] *= 2;
  } else if (age < 25) {
    w[static_cast<int>(AppCategory::kSocial)] *= 1.5;
    w[gaming] *= 2;
  }
  if (r.Bernoulli(0.12)) w[static_cast<int>(AppCategory::kFitness)] *= 8;  // fitness fans
  double total = 0;
  for (double x : w) total += x;
  for (int i = 0; i < kAppCategoryCount; ++i) {
    s->app_weight[i] = static_cast<uint8_t>(std::max(1.0, std::round(250 * w[i] / total)));
  }

  if (r.Bernoulli(prepaid ? 0.35 : m_.auto_data_optin)) s->flags |= kAutoData;
  if (prepaid && r.Bernoulli(m_.auto_topup_share)) s->flags |= kAutoTopup;
  s->topup_lead = static_cast<uint8_t>(r.Between(0, 4));
  static constexpr double kHabitWeights[7] = {0.1, 0.25, 0.25, 0.2, 0.08, 0.07, 0.05};
  s->voucher_habit = static_cast<uint8_t>(m_.vouchers_eur[PickWeighted(r, kHabitWeights)]);

  // Handsets: innovators buy flagships, the price-sensitive budget phones.
  const double ps = s->price_sensitivity;
  if (innovator) {
    s->device_tier = r.Bernoulli(0.7) ? 2 : 1;
  } else if (ps > 0.6) {
    const double u = r.Uniform();
    s->device_tier = u < 0.6 ? 0 : (u < 0.95 ? 1 : 2);
  } else {
    const double u = r.Uniform();
    s->device_tier = u < 0.25 ? 0 : (u < 0.75 ? 1 : 2);
  }
  s->device = static_cast<uint8_t>(ChooseDevice(r, s->device_tier, false));
  const double life_days = m_.device_replacement_months * kDaysPerMonth;
  s->device_life_days = static_cast<float>(std::max(
      200.0, r.Normal(life_days * (innovator ? 0.65 : 1.0) * (1 + 0.4 * (ps - 0.5)), 150)));

  s->plan = static_cast<uint8_t>(ChoosePlan(r, *s));
  s->content_affinity = static_cast<float>(std::min(1.0, r.Beta(2, 5) + (innovator ? 0.3 : 0)));
  if (s->flags & kSleepingDog) {
    s->contact_uplift =
        static_cast<float>(r.Uniform(m_.sleeping_dog_uplift_min, m_.sleeping_dog_uplift_max));
    s->retention_effect = s->contact_uplift;  // an offer is a contact: it backfires
  } else {
    s->contact_uplift = 0;
    s->retention_effect =
        static_cast<float>(Clamp(r.Normal(m_.retention_effect_mean * 1.2, 0.08), -0.4, 0.05));
  }
}

void Simulator::InitLife(int64_t index, Subscriber* s) const {
  Rng r(seed_, static_cast<uint64_t>(index), 1);
  const bool prepaid = s->flags & kPrepaid;
  const Plan& plan = m_.plans[s->plan];
  const int cycle = prepaid ? m_.prepaid_cycle_days : m_.postpaid_cycle_days;
  const double tenure_months =
      prepaid ? m_.prepaid_mean_tenure_months : m_.postpaid_mean_tenure_months;
  const bool joins =
      days_ >= 2 && r.Bernoulli(std::min(0.9, m_.gross_adds_per_month * days_ / kDaysPerMonth));
  s->life = Life::kNotYet;
  if (prepaid && r.Bernoulli(m_.dormant_prepaid_share)) {
    // Already silent at the start: stopped topping up some time in the last year and will be
    // deactivated a year after that.
    s->life = Life::kDormant;
    s->dormant_since_day = -static_cast<int32_t>(r.Between(1, m_.prepaid_deactivation_days - 1));
    s->deactivate_day = s->dormant_since_day + m_.prepaid_deactivation_days;
    s->join_day = s->dormant_since_day - static_cast<int32_t>(r.Between(30, 700));
  } else if (joins) {
    s->join_day = static_cast<int32_t>(r.Between(1, days_ - 1));
  } else {
    const double tenure = std::min(25 * 365.0, r.Exponential(tenure_months * kDaysPerMonth));
    s->join_day = -std::max<int32_t>(1, static_cast<int32_t>(tenure));
  }
  // Cycles count from the day the line was activated.
  s->anchor_day = s->join_day >= 0 ? s->join_day : s->join_day + (-s->join_day) / cycle * cycle;
  if (!prepaid) {
    if (r.Bernoulli(m_.long_contract_share)) s->flags |= kLongContract;
    const int term = (s->flags & kLongContract) ? m_.long_contract_days : m_.contract_days;
    const int tenure = -s->join_day;
    if (s->join_day >= 0 || tenure < term) {
      s->contract_end_day = s->join_day + term;
    } else if (r.Bernoulli(m_.renewed_share_after_term)) {
      s->contract_end_day = static_cast<int32_t>(r.Between(1, term));
    } else {
      s->contract_end_day = -static_cast<int32_t>(r.Between(0, std::min(tenure - term, 1095)));
    }
  }
  s->credit = prepaid ? static_cast<float>(r.Uniform(0, 1.5 * plan.price_eur)) : 0;
  if (prepaid) s->flags |= kBundleActive;
  if (s->join_day >= 0 && r.Bernoulli(0.4)) {
    s->flags |= kJoinDevice;
    s->device_day = s->join_day;
  } else {
    // The handset in use today (or on the join day) is somewhere in its life.
    const int age = static_cast<int>(r.Uniform(0, s->device_life_days));
    s->device_day = std::max(s->join_day, 0) - age;
  }
  if (!prepaid && !(s->flags & kJoinDevice) && r.Bernoulli(0.45)) {
    s->installment = static_cast<float>(Clamp(catalog::kDevices[s->device].price_eur * 0.03,
                                              m_.installment_min_eur, m_.installment_max_eur));
  }
}

void Simulator::Init(int64_t index, Subscriber* s) const {
  *s = Subscriber{};
  InitTraits(index, s);
  InitLife(index, s);
  s->rng = Rng(seed_, static_cast<uint64_t>(index), 2);
}

MasterData Simulator::Master(const Subscriber& s) const {
  MasterData md;
  md.plan = &m_.plans[s.plan];
  md.region = catalog::kRegions[s.region].code;
  md.timezone = catalog::kTimezone;
  md.birth_year = s.birth_year;
  md.household = s.household;
  md.width = width_;
  md.contract_end = (s.flags & kPrepaid) ? -1 : DayStart(s.contract_end_day);
  md.consents = s.consents;
  md.cycle_anchor = DayStart(s.anchor_day);
  md.cycle_days = (s.flags & kPrepaid) ? m_.prepaid_cycle_days : m_.postpaid_cycle_days;
  md.device = catalog::kDevices[s.device].model;
  return md;
}

// ---------------------------------------------------------------------------------------------
// Daily behaviour

double Simulator::MonthlyHazard(const Subscriber& s, int day) const {
  double h;
  if (s.flags & kPrepaid) {
    h = m_.prepaid_churn_month / hazard_norm_pre_;
  } else {
    h = m_.postpaid_churn_month / hazard_norm_pp_;
    const int since_end = day - s.contract_end_day;
    if (since_end < 0) {
      h *= m_.in_term_factor;
    } else if (since_end < m_.contract_end_spike_days) {
      h *= m_.contract_end_spike;
    } else {
      h *= m_.out_of_term_factor;
    }
  }
  h *= 1 + m_.per_ticket_factor * s.recent_tickets;
  h *= 1 + m_.per_dropped_call_factor * std::min(10.0f, s.recent_drops);
  h *= 1 + m_.per_throttled_day_factor * std::min(15.0f, s.recent_throttle);
  const double w = m_.price_sensitivity_weight;
  h *= 1 - w + 2 * w * s.price_sensitivity;
  if (s.flags & kDealSeeker) h *= m_.deal_seeker_factor;
  if (s.recent_late > 0.5f) h *= m_.late_payment_factor;
  return std::min(h, 0.9);
}

Simulator::Usage Simulator::DrawUsage(Subscriber& s, int dow, bool roaming) const {
  Rng& r = s.rng;
  Usage u;
  if (r.Bernoulli(s.p_data_day)) {
    u.data = s.data_month / 30.0 / s.p_data_day * kWeekData[dow] *
             r.UnitLogNormal(m_.daily_noise_sigma) * (roaming ? 0.6 : 1.0);
  }
  if (r.Bernoulli(s.p_voice_day)) {
    u.voice = std::max(0.5, s.voice_month / 30.0 / s.p_voice_day * kWeekVoice[dow] *
                                r.UnitLogNormal(0.7) * (roaming ? 0.7 : 1.0));
  }
  // SMS come in ones and twos on a few days a month.
  if (r.Bernoulli(s.sms_month / 30.0 / 1.3)) u.sms = 1 + (r.Bernoulli(0.3) ? 1 : 0);
  return u;
}

double Simulator::ApplyData(Subscriber& s, double want, int* packs, bool* throttled_now) const {
  *packs = 0;
  *throttled_now = false;
  if (want <= 0) return 0;
  const bool prepaid = s.flags & kPrepaid;
  if (prepaid && !(s.flags & kBundleActive)) return 0;  // no bundle, no data (invented)
  const Plan& plan = m_.plans[s.plan];
  if (plan.data_mb >= kUnlimitedDataMb) {
    s.data_used += static_cast<float>(want);
    return want;
  }
  // What gets through at 32 kbit/s varies with how long the phone is in use that day.
  auto trickle = [&](double rest) {
    return std::min(rest * 0.1, m_.throttled_mb_per_day * s.rng.Uniform(0.4, 1.0));
  };
  if (s.flags & kThrottled) return trickle(want);
  const double avail = std::max(0.0, plan.data_mb + s.data_extra - s.data_used);
  if (want <= avail) {
    s.data_used += static_cast<float>(want);
    return want;
  }
  double got = avail;
  double rest = want - avail;
  s.data_used += static_cast<float>(avail);
  if (s.flags & kAutoData) {
    // Postpaid: automatic +250 MB packs billed later; prepaid: 1 GB passes paid from credit.
    const double size = prepaid ? kMbPerGb : m_.auto_data_mb;
    const double price = prepaid ? catalog::kPrepaidPass.price_eur : m_.auto_data_eur;
    const int max_packs = prepaid ? 2 : m_.auto_data_max;
    while (rest > 0 && s.packs < max_packs && (!prepaid || s.credit >= price)) {
      ++s.packs;
      ++*packs;
      s.data_extra += static_cast<float>(size);
      if (prepaid) {
        s.credit -= static_cast<float>(price);
      } else {
        s.bill_extras += static_cast<float>(price);
      }
      const double take = std::min(rest, size);
      got += take;
      rest -= take;
      s.data_used += static_cast<float>(take);
    }
  }
  if (rest > 0) {
    s.flags |= kThrottled | kThrottledThisCycle;
    *throttled_now = true;
    got += trickle(rest);
  }
  return got;
}

int Simulator::Voucher(const Subscriber& s, double shortfall) const {
  for (int v : m_.vouchers_eur) {
    if (v >= shortfall && v >= s.voucher_habit) return v;
  }
  return *std::max_element(m_.vouchers_eur.begin(), m_.vouchers_eur.end());
}

void Simulator::EmitPurchase(Subscriber& s, DayEmitter& em, int sec, std::string_view product,
                             PurchaseCategory cat, double list_price, double margin_share) const {
  Rng& r = s.rng;
  double discount = 0;
  const bool goods = cat == PurchaseCategory::kDevice || cat == PurchaseCategory::kAccessory;
  if (goods) {
    // Deal seekers hunt for vouchers and bundle deals (invented rates).
    if ((s.flags & kDealSeeker) && r.Bernoulli(0.6)) {
      discount = list_price * r.Uniform(0.10, 0.25);
    } else if (r.Bernoulli(0.1)) {
      discount = list_price * r.Uniform(0.05, 0.15);
    }
  }
  discount = std::round(discount * 100) / 100;
  const double price = list_price - discount;
  LineWriter& w = em.Begin(EventKind::kPurchase, sec);
  AppendPurchase(w, product, cat, price, price * margin_share, discount);
  em.End();
}

void Simulator::StartCycle(Subscriber& s, const DayContext& c, int sec, DayEmitter& em) const {
  Rng& r = s.rng;
  const bool prepaid = s.flags & kPrepaid;
  if (s.flags & kThrottled) {
    LineWriter& w = em.Begin(EventKind::kNetwork, sec);
    AppendNetwork(w, -1, 0);
    em.End();
  }
  // Plan changes take effect at a cycle start, decided on the cycle that just ended.
  if (!(s.flags & kFamily)) {
    const std::vector<int>& ladder = prepaid ? prepaid_ladder_ : postpaid_ladder_;
    const auto pos = std::find(ladder.begin(), ladder.end(), s.plan);
    int next = -1;
    Direction dir = Direction::kSame;
    if (pos != ladder.end()) {
      const size_t i = static_cast<size_t>(pos - ladder.begin());
      const Plan& p = m_.plans[s.plan];
      if ((s.flags & kThrottledThisCycle) && i + 1 < ladder.size() &&
          r.Bernoulli(0.12 * (1 - 0.5 * s.price_sensitivity))) {
        next = ladder[i + 1];
        dir = Direction::kUpgrade;
      } else if (i > 0 && s.data_used < 0.3 * p.data_mb &&
                 r.Bernoulli(0.04 * s.price_sensitivity)) {
        next = ladder[i - 1];
        dir = Direction::kDowngrade;
      } else if (prepaid && discount_plan_ >= 0 && (s.flags & kDealSeeker) && r.Bernoulli(0.02)) {
        next = discount_plan_;
        dir = m_.plans[next].data_mb >= p.data_mb ? Direction::kSame : Direction::kDowngrade;
      }
    }
    if (next >= 0) {
      s.plan = static_cast<uint8_t>(next);
      LineWriter& w = em.Begin(EventKind::kPlanChange, sec);
      AppendPlanChange(w, m_.plans[next], dir);
      em.End();
    }
  }
  const Plan& plan = m_.plans[s.plan];
  if (!prepaid) {
    // The bill: this month's fee in advance plus last month's extras (German practice).
    const double bill = plan.price_eur + s.installment + s.bill_extras;
    s.recurring_revenue += static_cast<float>(plan.price_eur + s.installment);
    s.extra_revenue += s.bill_extras;
    s.bill_extras = 0;
    if (s.pending_payment > 0) {
      s.pending_payment += static_cast<float>(bill);  // paid together with the open one
    } else {
      s.pending_payment = static_cast<float>(bill);
      int late = 0;
      if (r.Bernoulli(s.late_tendency))
        late = 1 + static_cast<int>(std::min(89.0, r.Exponential(8)));
      s.days_late = static_cast<int16_t>(late);
      s.payment_day = c.day + m_.payment_due_days + late;
    }
  } else {
    if ((s.flags & kAutoTopup) && s.credit < plan.price_eur) {
      const int amount = Voucher(s, plan.price_eur - s.credit);
      s.credit += static_cast<float>(amount);
      LineWriter& w = em.Begin(EventKind::kTopup, sec);
      AppendTopup(w, amount, TopupChannel::kAuto, s.credit);
      em.End();
    }
    if (s.credit >= plan.price_eur) {
      s.credit -= static_cast<float>(plan.price_eur);
      s.recurring_revenue += static_cast<float>(plan.price_eur);
      s.flags |= kBundleActive;
    } else {
      s.flags &= static_cast<uint16_t>(~kBundleActive);
    }
  }
  s.data_used = s.data_extra = s.voice_used = 0;
  s.packs = 0;
  s.flags &= static_cast<uint16_t>(~(kThrottled | kThrottledThisCycle));
}

int Simulator::MaybeTopup(Subscriber& s, const DayContext& c, int lo, int hi,
                          DayEmitter& em) const {
  Rng& r = s.rng;
  const Plan& plan = m_.plans[s.plan];
  const int cycle = m_.prepaid_cycle_days;
  const int to_renewal = cycle - Mod(c.day - s.anchor_day, cycle);
  bool topup = false;
  if (!(s.flags & kBundleActive)) {
    topup = r.Bernoulli(0.35);  // lapsed: tops up within a few days (invented)
  } else if (s.credit < plan.price_eur && to_renewal <= s.topup_lead + 1) {
    topup = r.Bernoulli(0.5);
  } else if (s.credit < 1 && r.Bernoulli(0.01)) {
    topup = true;  // ran dry on out-of-bundle use
  }
  if (!topup) return lo;
  const double shortfall =
      plan.price_eur - s.credit + (plan.voice_min < kUnlimitedVoiceMin ? 3 : 0);
  const int amount = Voucher(s, shortfall);
  s.credit += static_cast<float>(amount);
  const double u = r.Uniform();
  const TopupChannel channel =
      u < 0.45 ? TopupChannel::kVoucher : (u < 0.85 ? TopupChannel::kOnline : TopupChannel::kShop);
  const int sec = SampleSec(r, Shape::kBusiness, c, lo, hi);
  LineWriter& w = em.Begin(EventKind::kTopup, sec);
  AppendTopup(w, amount, channel, s.credit);
  em.End();
  if (!(s.flags & kBundleActive) && s.credit >= plan.price_eur) {
    // Booking a lapsed bundle starts a new 28-day period today.
    s.credit -= static_cast<float>(plan.price_eur);
    s.recurring_revenue += static_cast<float>(plan.price_eur);
    s.flags |= kBundleActive;
    s.anchor_day = c.day;
    s.data_used = s.data_extra = s.voice_used = 0;
    s.packs = 0;
    s.flags &= static_cast<uint16_t>(~(kThrottled | kThrottledThisCycle));
    LineWriter& w2 = em.Begin(EventKind::kSubscriber, sec);
    w2.Raw(",\"cycle_anchor\":");
    w2.QuotedTimestamp(c.start);
    em.End();
    return sec;  // the day's usage happens with the new bundle, so after this
  }
  return lo;
}

void Simulator::BuyDevice(Subscriber& s, const DayContext& c, int sec, bool installment,
                          DayEmitter& em) const {
  Rng& r = s.rng;
  const double ps = s.price_sensitivity;
  if (s.flags & kInnovator) {
    s.device_tier = r.Bernoulli(0.7) ? 2 : 1;
  } else if (r.Bernoulli(0.2)) {
    s.device_tier = ps > 0.6 ? 0 : static_cast<uint8_t>(r.Between(0, 2));  // tastes drift
  }
  const int device = ChooseDevice(r, s.device_tier, true);
  const catalog::Device& d = catalog::kDevices[device];
  EmitPurchase(s, em, sec, d.model, PurchaseCategory::kDevice, d.price_eur, m_.device_margin);
  s.device = static_cast<uint8_t>(device);
  s.device_day = c.day;
  const double life_days = m_.device_replacement_months * kDaysPerMonth;
  s.device_life_days = static_cast<float>(std::max(
      200.0,
      r.Normal(life_days * ((s.flags & kInnovator) ? 0.65 : 1.0) * (1 + 0.4 * (ps - 0.5)), 150)));
  if (installment && !(s.flags & kPrepaid)) {
    s.installment = static_cast<float>(
        Clamp(d.price_eur * 0.03, m_.installment_min_eur, m_.installment_max_eur));
  }
  LineWriter& w = em.Begin(EventKind::kSubscriber, sec);
  w.Raw(",\"device\":\"");
  w.Raw(d.model);
  w.Char('"');
  em.End();
  if (r.Bernoulli(m_.insurance_take_rate)) {
    EmitPurchase(s, em, sec, catalog::kInsurance.id, PurchaseCategory::kInsurance,
                 catalog::kInsurance.price_eur, catalog::kInsurance.margin_share);
  }
  if (r.Bernoulli(0.3)) {
    const catalog::Product& p = catalog::kAccessories[r.Below(2)];  // case or protector
    EmitPurchase(s, em, sec, p.id, PurchaseCategory::kAccessory, p.price_eur, p.margin_share);
  }
}

void Simulator::Purchases(Subscriber& s, const DayContext& c, int lo, int hi,
                          DayEmitter& em) const {
  Rng& r = s.rng;
  const bool prepaid = s.flags & kPrepaid;
  // Contract renewal after the minimum term: a new term, usually with a new handset.
  if (!prepaid && c.day >= s.contract_end_day) {
    const int since = c.day - s.contract_end_day;
    const double p = since < 2 * m_.contract_end_spike_days ? m_.renewal_per_day_after_term
                                                            : m_.renewal_per_day_after_term / 5;
    if (r.Bernoulli(p)) {
      const int sec = SampleSec(r, Shape::kBusiness, c, lo, hi);
      const int term = (s.flags & kLongContract) ? m_.long_contract_days : m_.contract_days;
      s.contract_end_day = c.day + term;
      LineWriter& w = em.Begin(EventKind::kSubscriber, sec);
      w.Raw(",\"contract_end\":");
      w.QuotedTimestamp(DayStart(s.contract_end_day));
      em.End();
      const int age = c.day - s.device_day;
      if (age > 0.5 * s.device_life_days || (s.flags & kInnovator)) {
        BuyDevice(s, c, sec, true, em);
      }
      return;
    }
  }
  // A handset that has reached its replacement age is replaced within about a month.
  if (c.day - s.device_day >= s.device_life_days && r.Bernoulli(1.0 / 30)) {
    BuyDevice(s, c, SampleSec(r, Shape::kBusiness, c, lo, hi), false, em);
    return;
  }
  const double content_rate = m_.content_purchases_per_month / 30 *
                              ((s.flags & kInnovator) ? 2.5 : 1.0) *
                              (0.4 + 1.2 * s.content_affinity);
  if (r.Bernoulli(content_rate)) {
    const catalog::Product& p = catalog::kContent[r.Below(std::size(catalog::kContent))];
    if (!prepaid || s.credit >= p.price_eur) {
      if (prepaid) {
        s.credit -= static_cast<float>(p.price_eur);
        s.extra_revenue += static_cast<float>(p.price_eur);
      } else {
        s.bill_extras += static_cast<float>(p.price_eur);
      }
      EmitPurchase(s, em, SampleSec(r, Shape::kTraffic, c, lo, hi), p.id,
                   PurchaseCategory::kContent, p.price_eur, p.margin_share);
    }
  }
  if (r.Bernoulli(m_.accessory_purchases_per_month / 30)) {
    const catalog::Product& p = catalog::kAccessories[r.Below(std::size(catalog::kAccessories))];
    EmitPurchase(s, em, SampleSec(r, Shape::kBusiness, c, lo, hi), p.id,
                 PurchaseCategory::kAccessory, p.price_eur, p.margin_share);
  }
  if (r.Bernoulli(0.01 / 30)) {
    const catalog::Product& p = catalog::kOther[r.Below(std::size(catalog::kOther))];
    EmitPurchase(s, em, SampleSec(r, Shape::kBusiness, c, lo, hi), p.id, PurchaseCategory::kOther,
                 p.price_eur, p.margin_share);
  }
}

void Simulator::Care(Subscriber& s, const DayContext& c, int lo, int hi, DayEmitter& em) const {
  Rng& r = s.rng;
  auto contact = [&](int sec) {
    const double da = s.digital_affinity;
    const double p_call = 0.75 - 0.45 * da;
    const double u = r.Uniform();
    CareChannel ch;
    double cost;
    if (u < p_call) {
      ch = CareChannel::kCall;
      cost = m_.call_cost_eur;
    } else if (u < p_call + (1 - p_call) * 0.55) {
      ch = CareChannel::kChat;
      cost = m_.chat_cost_eur;
    } else if (u < p_call + (1 - p_call) * 0.85) {
      ch = CareChannel::kShop;
      cost = m_.shop_cost_eur;
    } else {
      ch = CareChannel::kEmail;
      cost = m_.email_cost_eur;
    }
    LineWriter& w = em.Begin(EventKind::kCareContact, sec);
    AppendCareContact(w, static_cast<CareCategory>(s.issue_category), ch, cost);
    em.End();
  };
  if (s.pending_contacts > 0) {
    if (c.day >= s.next_contact_day) {
      contact(SampleSec(r, Shape::kBusiness, c, lo, hi));
      --s.pending_contacts;
      s.next_contact_day = c.day + 1 + static_cast<int32_t>(r.Poisson(2));
    }
    return;  // one open issue at a time
  }
  // Issues: network quality, throttling and late bills raise the rate; each issue takes about
  // contacts_per_issue contacts, so care contacts average care_contacts_per_year.
  const double recent_throttle = std::min(10.0f, s.recent_throttle);
  const double mult = (0.55 + 1.5 * (1 - s.network_quality)) * (1 + 0.08 * recent_throttle) *
                      (1 + 0.8 * std::min(1.0f, s.recent_late)) / issue_norm_;
  const double rate = m_.care_contacts_per_year / m_.contacts_per_issue / 365.0 * mult;
  if (!r.Bernoulli(rate)) return;
  const double other = 1 - m_.billing_issue_share;
  const double weights[kCareCategoryCount] = {
      m_.billing_issue_share * (1 + 2 * std::min(1.0f, s.recent_late)),
      other * 0.30 * (0.4 + 2.5 * (1 - s.network_quality)),
      other * 0.20 * (c.day - s.device_day > s.device_life_days ? 2 : 1),
      other * 0.25 * (1 + 0.3 * recent_throttle),
      other * 0.25,
  };
  s.issue_category = static_cast<uint8_t>(PickWeighted(r, weights));
  const int contacts = 1 + static_cast<int>(r.Poisson(m_.contacts_per_issue - 1));
  const int sec = SampleSec(r, Shape::kBusiness, c, lo, hi);
  contact(sec);
  if (contacts >= 2) {
    // Not solved at the first contact: a ticket follows it.
    LineWriter& w = em.Begin(EventKind::kTicket, sec);
    AppendTicket(w, static_cast<CareCategory>(s.issue_category), m_.ticket_cost_eur);
    em.End();
    s.recent_tickets += 1;
    s.pending_contacts = static_cast<uint8_t>(std::min(contacts - 1, 20));
    s.next_contact_day = c.day + 1 + static_cast<int32_t>(r.Poisson(2));
  }
}

void Simulator::StepDay(int64_t index, Subscriber& s, const DayContext& c, DayEmitter& em) const {
  if (s.life == Life::kGone) return;
  if (s.life == Life::kNotYet) {
    if (c.day < s.join_day) return;
    s.life = Life::kActive;
  }
  em.SetSubscriber(index, &s.events);
  Rng& r = s.rng;
  const bool prepaid = s.flags & kPrepaid;
  constexpr int kLastSec = kSecondsPerDay - 1;
  int lo = 0;
  if (c.day == std::max(s.join_day, 0)) {
    // First day in the files: the master data comes first (joiners sign up in shop hours).
    if (s.join_day >= 0) lo = SampleSec(r, Shape::kBusiness, c, 0, kLastSec);
    LineWriter& w = em.Begin(EventKind::kSubscriber, lo);
    AppendMasterData(w, Master(s));
    em.End();
    if (s.flags & kJoinDevice) BuyDevice(s, c, lo, true, em);
  }
  if (s.life == Life::kDormant) {
    if (c.day >= s.deactivate_day) {
      const int sec = SampleSec(r, Shape::kBusiness, c, lo, kLastSec);
      LineWriter& w = em.Begin(EventKind::kChurn, sec);
      AppendChurn(w, ChurnReason::kInactivity, {});
      em.End();
      s.life = Life::kGone;
      s.churn_reason = ChurnReason::kInactivity;
      s.churn_day = c.day;
      s.churn_sec = sec;
    }
    return;
  }
  ++s.active_days;
  const int cycle = prepaid ? m_.prepaid_cycle_days : m_.postpaid_cycle_days;
  if (c.day > s.join_day && Mod(c.day - s.anchor_day, cycle) == 0) StartCycle(s, c, lo, em);

  // Churn is decided first so that the day's other events can end before it.
  int hi = kLastSec;
  bool churning = false;
  if (r.Bernoulli(MonthlyHazard(s, c.day) / 30)) {
    if (prepaid && r.Bernoulli(m_.prepaid_silent_share)) {
      // Silent churn: the SIM simply falls quiet; the operator deactivates it a year later,
      // beyond the files. Only the truth knows.
      s.life = Life::kGone;
      s.flags |= kSilentChurn;
      s.churn_reason = ChurnReason::kInactivity;
      s.churn_day = c.day;
      s.churn_sec = lo;
      return;
    }
    const double port_out = prepaid ? 0.7 : m_.postpaid_port_out_share;
    s.churn_reason = r.Bernoulli(port_out) ? ChurnReason::kPortOut : ChurnReason::kCancellation;
    hi = SampleSec(r, Shape::kBusiness, c, lo, kLastSec);
    churning = true;
  }

  bool roaming = false;
  if (s.trip_left > 0) {
    --s.trip_left;
    roaming = true;
  } else if (r.Bernoulli(m_.trips_per_year / 365)) {
    s.trip_left = static_cast<uint8_t>(std::min<int64_t>(60, r.Poisson(m_.trip_mean_days - 1)));
    s.non_eu_trip = r.Bernoulli(0.15);
    roaming = true;
    if (s.non_eu_trip && !prepaid && r.Bernoulli(0.4)) {
      const catalog::Product& p = catalog::kRoamingPass;
      s.bill_extras += static_cast<float>(p.price_eur);
      EmitPurchase(s, em, SampleSec(r, Shape::kTraffic, c, lo, hi), p.id, PurchaseCategory::kAddon,
                   p.price_eur, p.margin_share);
    }
  }

  if (prepaid) lo = MaybeTopup(s, c, lo, hi, em);
  const Plan& plan = m_.plans[s.plan];

  // Usage: one summary record per kind and active day (CDR aggregates).
  const Usage want = DrawUsage(s, c.dow, roaming);
  int packs = 0;
  bool throttled_now = false;
  const double data = ApplyData(s, want.data, &packs, &throttled_now);
  if (data >= 0.01) {
    const int sec = SampleSec(r, Shape::kTraffic, c, lo, hi);
    LineWriter& w = em.Begin(EventKind::kUsage, sec);
    AppendUsage(w, UsageKind::kData, data, roaming, -1);
    em.End();
    for (int i = 0; i < packs; ++i) {
      const catalog::Product& p = prepaid ? catalog::kPrepaidPass : catalog::kAutoData;
      if (prepaid) s.extra_revenue += static_cast<float>(p.price_eur);
      LineWriter& pw = em.Begin(EventKind::kPurchase, sec);
      AppendPurchase(pw, p.id, PurchaseCategory::kAddon, p.price_eur, p.price_eur * p.margin_share,
                     0);
      em.End();
    }
    if (throttled_now) {
      LineWriter& nw = em.Begin(EventKind::kNetwork, sec);
      AppendNetwork(nw, -1, 1);
      em.End();
    }
    // App summaries: the day's main app categories (about one a day).
    int first = -1;
    for (int k = 0; k < 2; ++k) {
      if (!r.Bernoulli(k == 0 ? 0.75 : 0.3)) continue;
      double fw[kAppCategoryCount];
      int total_w = 0;
      for (int i = 0; i < kAppCategoryCount; ++i) total_w += s.app_weight[i];
      for (int i = 0; i < kAppCategoryCount; ++i) {
        fw[i] = i == first ? 0 : s.app_weight[i] + 25.0;  // frequency flatter than traffic
      }
      const int cat = PickWeighted(r, fw);
      first = cat;
      const double mb = data * s.app_weight[cat] / total_w * r.UnitLogNormal(0.25);
      const double minutes = std::min(900.0, mb / catalog::kAppMbPerMinute[cat]);
      if (minutes < 0.05) continue;
      LineWriter& aw = em.Begin(EventKind::kAppSession, SampleSec(r, Shape::kTraffic, c, lo, hi));
      AppendAppSession(aw, cat, minutes, mb);
      em.End();
    }
  }
  if (s.flags & kThrottled) s.recent_throttle += 1;
  if (want.voice > 0) {
    double minutes = want.voice;
    double charge = -1;
    if (prepaid) {
      const bool active = s.flags & kBundleActive;
      const double bundle = active ? plan.voice_min : 0;
      const double free =
          bundle >= kUnlimitedVoiceMin ? minutes : std::clamp(bundle - s.voice_used, 0.0, minutes);
      double billable = minutes - free;
      const double rate = m_.out_of_bundle_eur_per_min;
      if (billable * rate > s.credit) billable = std::floor(std::max(0.0f, s.credit) / rate);
      charge = billable * rate;
      minutes = free + billable;
      s.credit -= static_cast<float>(charge);
      s.extra_revenue += static_cast<float>(charge);
      if (charge < 0.005) charge = -1;
    }
    s.voice_used += static_cast<float>(minutes);
    if (minutes >= 0.05) {
      LineWriter& w = em.Begin(EventKind::kUsage, SampleSec(r, Shape::kTraffic, c, lo, hi));
      AppendUsage(w, UsageKind::kVoice, minutes, roaming, charge);
      em.End();
      // Dropped calls: ~2.6 minutes a call; poor coverage drops more (invented rates).
      const double q = 1 - s.network_quality;
      const double drops_mean = (minutes / 2.6 + 1) * (0.004 + 0.05 * q * q);
      const int drops = static_cast<int>(r.Poisson(drops_mean));
      if (drops > 0) {
        s.recent_drops += static_cast<float>(drops);
        LineWriter& nw = em.Begin(EventKind::kNetwork, SampleSec(r, Shape::kTraffic, c, lo, hi));
        AppendNetwork(nw, drops, -1);
        em.End();
      }
    }
  }
  if (want.sms > 0) {
    int sms = want.sms;
    double charge = -1;
    if (prepaid && !(plan.sms_flat && (s.flags & kBundleActive))) {
      const double rate = m_.out_of_bundle_eur_per_sms;
      while (sms > 0 && sms * rate > s.credit) --sms;
      charge = sms * rate;
      s.credit -= static_cast<float>(charge);
      s.extra_revenue += static_cast<float>(charge);
    }
    if (sms > 0) {
      LineWriter& w = em.Begin(EventKind::kUsage, SampleSec(r, Shape::kTraffic, c, lo, hi));
      AppendUsage(w, UsageKind::kSms, sms, roaming, charge);
      em.End();
    }
  }
  if (prepaid && r.Bernoulli(0.25)) {
    // Balance report, every four days or so (when the subscriber checks or the network tells).
    const bool active = s.flags & kBundleActive;
    const double data_left =
        !active ? 0
                : (plan.data_mb >= kUnlimitedDataMb ? kUnlimitedDataMb
                                                    : plan.data_mb + s.data_extra - s.data_used);
    const double voice_left =
        !active ? 0
                : (plan.voice_min >= kUnlimitedVoiceMin ? kUnlimitedVoiceMin
                                                        : plan.voice_min - s.voice_used);
    LineWriter& w = em.Begin(EventKind::kBalance, SampleSec(r, Shape::kTraffic, c, lo, hi));
    AppendBalance(w, s.credit, data_left, voice_left);
    em.End();
  }
  if (!prepaid && s.pending_payment > 0 && c.day >= s.payment_day) {
    LineWriter& w = em.Begin(EventKind::kPayment, SampleSec(r, Shape::kBusiness, c, lo, hi));
    AppendPayment(w, s.pending_payment, s.days_late);
    em.End();
    if (s.days_late > 0) s.recent_late += 1;
    s.pending_payment = 0;
  }
  Purchases(s, c, lo, hi, em);
  Care(s, c, lo, hi, em);
  if (r.Bernoulli(1.0 / 700)) {
    // Now and then someone changes a consent (invented rate).
    s.consents ^= static_cast<uint8_t>(1u << r.Below(4));
    LineWriter& w = em.Begin(EventKind::kSubscriber, SampleSec(r, Shape::kTraffic, c, lo, hi));
    AppendConsents(w, s.consents);
    em.End();
  }
  s.recent_tickets *= static_cast<float>(kDecay);
  s.recent_drops *= static_cast<float>(kDecay);
  s.recent_throttle *= static_cast<float>(kDecay);
  s.recent_late *= static_cast<float>(kDecay);
  if (churning) {
    LineWriter& w = em.Begin(EventKind::kChurn, hi);
    std::string_view to;
    if (s.churn_reason == ChurnReason::kPortOut) {
      to = catalog::kCompetitors[PickWeighted(r, catalog::kCompetitorWeights)];
    }
    AppendChurn(w, s.churn_reason, to);
    em.End();
    s.life = Life::kGone;
    s.churn_day = c.day;
    s.churn_sec = hi;
  }
}

// ---------------------------------------------------------------------------------------------
// Truth

void Simulator::WriteTruth(int64_t index, const Subscriber& s0, LineWriter& w) const {
  Subscriber s = s0;  // the look-ahead must not disturb the history's state
  s.rng = Rng(seed_, static_cast<uint64_t>(index), 3);
  const bool prepaid = s.flags & kPrepaid;
  const Plan& plan = m_.plans[s.plan];
  const int cycle = prepaid ? m_.prepaid_cycle_days : m_.postpaid_cycle_days;
  auto key = [&w](std::string_view k) {
    w.Raw(",\"");
    w.Raw(k);
    w.Raw("\":");
  };
  auto flag = [&](std::string_view k, bool b) {
    key(k);
    w.Bool(b);
  };
  auto num = [&](std::string_view k, double v, int decimals) {
    key(k);
    w.Fixed(v, decimals);
  };
  auto ts_or_null = [&](std::string_view k, bool present, TimestampMs t) {
    key(k);
    if (present) {
      w.QuotedTimestamp(t);
    } else {
      w.Raw("null");
    }
  };

  w.Raw("{\"subscriber_id\":\"");
  WriteSubscriberId(w, index, width_);
  w.Raw("\",\"status\":\"");
  const bool active = s.life == Life::kActive;
  w.Raw(active ? "active" : (s.life == Life::kDormant ? "dormant" : "churned"));
  w.Char('"');
  key("plan_type");
  w.Raw(prepaid ? "\"prepaid\"" : "\"postpaid\"");
  key("plan_id");
  w.Char('"');
  w.Raw(plan.id);
  w.Char('"');
  key("household_id");
  w.Raw("\"h");
  w.ZeroPadded(static_cast<uint64_t>(s.household + 1), width_);
  w.Char('"');
  flag("family_card", s.flags & kFamily);
  ts_or_null("joined", true, DayStart(s.join_day));
  flag("joined_in_history", s.join_day >= 0);
  // Latent traits.
  flag("innovator", s.flags & kInnovator);
  flag("deal_seeker", s.flags & kDealSeeker);
  flag("sleeping_dog", s.flags & kSleepingDog);
  flag("late_payer", s.flags & kLatePayer);
  num("price_sensitivity", s.price_sensitivity, 3);
  num("network_quality", s.network_quality, 3);
  num("digital_affinity", s.digital_affinity, 3);
  num("content_affinity", s.content_affinity, 3);
  num("contact_churn_uplift", s.contact_uplift, 3);
  num("retention_effect", s.retention_effect, 3);
  num("data_mb_month", s.data_month, 1);
  num("voice_min_month", s.voice_month, 1);
  num("sms_month", s.sms_month, 1);
  key("usage_level");
  const double gb = s.data_month / kMbPerGb;
  w.Raw(gb < 1 ? "\"low\"" : gb < 5 ? "\"medium\"" : gb < 20 ? "\"high\"" : "\"heavy\"");
  // Churn: the day the subscriber was lost (for a silent or dormant SIM, when it fell quiet)
  // and whether the files show a churn event for it.
  const bool churned = s.life == Life::kGone || s.life == Life::kDormant;
  TimestampMs churn_ts = 0;
  if (s.life == Life::kDormant) {
    churn_ts = DayStart(s.dormant_since_day);
  } else if (s.life == Life::kGone) {
    churn_ts = DayStart(s.churn_day) + int64_t{s.churn_sec} * kMsPerSecond;
    if (s.churn_reason == ChurnReason::kInactivity && !(s.flags & kSilentChurn)) {
      churn_ts = DayStart(s.dormant_since_day);  // a deactivated dormant SIM
    }
  }
  ts_or_null("churn_ts", churned, churn_ts);
  key("churn_reason");
  if (churned) {
    w.Char('"');
    w.Raw(ChurnReasonName(s.life == Life::kDormant ? ChurnReason::kInactivity : s.churn_reason));
    w.Char('"');
  } else {
    w.Raw("null");
  }
  const bool churn_event = s.life == Life::kGone && !(s.flags & kSilentChurn);
  ts_or_null("churn_event_ts", churn_event,
             DayStart(s.churn_day) + int64_t{s.churn_sec} * kMsPerSecond);

  // Revenue per 30 days while active: fees from the plan, extras as observed.
  const double fee = plan.price_eur * 30.0 / cycle + (prepaid ? 0 : s.installment);
  const double extras = s.active_days > 0 ? s.extra_revenue / s.active_days * 30.0 : 0;
  // A SIM that was silent throughout pays nothing.
  const bool never_active =
      s.life == Life::kDormant ||
      (s.churn_reason == ChurnReason::kInactivity && !(s.flags & kSilentChurn));
  const double monthly = never_active ? 0 : fee + extras;
  num("monthly_revenue_eur", monthly, 2);

  if (!active) {
    w.Raw(
        ",\"churn_hazard_month\":null,\"churn_next_90d_ts\":null,\"clv_eur\":0.00"
        ",\"next_cycle_start\":null,\"next_cycle_days\":null,\"next_cycle_data_mb\":null"
        ",\"next_cycle_voice_min\":null,\"next_cycle_exhausted\":null}\n");
    return;
  }
  const double hazard = MonthlyHazard(s, days_);
  num("churn_hazard_month", hazard, 4);
  // Would the subscriber churn in the 90 days after the files end (left alone)? Drawn from
  // the same hazard, moving the contract clock but not the recent experience.
  int churn_after = -1;
  {
    Subscriber f = s;
    f.rng = Rng(seed_, static_cast<uint64_t>(index), 4);  // not the next cycle's stream
    for (int d = days_; d < days_ + 90 && churn_after < 0; ++d) {
      if (f.rng.Bernoulli(MonthlyHazard(f, d) / 30)) churn_after = d;
      f.recent_tickets *= static_cast<float>(kDecay);
      f.recent_drops *= static_cast<float>(kDecay);
      f.recent_throttle *= static_cast<float>(kDecay);
      f.recent_late *= static_cast<float>(kDecay);
    }
  }
  ts_or_null("churn_next_90d_ts", churn_after >= 0,
             churn_after >= 0 ? DayStart(churn_after) + 12 * kMsPerHour : 0);
  // CLV-ish: five years of monthly revenue, survival from today's hazard, 1%/month discount.
  double clv = 0, survive = 1;
  for (int month = 1; month <= 60; ++month) {
    survive *= (1 - hazard) / 1.01;
    clv += monthly * survive;
  }
  num("clv_eur", clv, 2);

  // The next full billing cycle after the files end, metered as the events would show it,
  // assuming the subscriber stays and keeps the bundle.
  int next = days_;
  while (Mod(next - s.anchor_day, cycle) != 0) ++next;
  s.data_used = s.data_extra = s.voice_used = 0;
  s.packs = 0;
  s.flags &= static_cast<uint16_t>(~(kThrottled | kThrottledThisCycle));
  s.flags |= kBundleActive;
  s.credit = 1e6f;
  double data = 0, voice = 0;
  for (int d = next; d < next + cycle; ++d) {
    const DayContext c = Day(d);
    bool roaming = false;
    if (s.trip_left > 0) {
      --s.trip_left;
      roaming = true;
    } else if (s.rng.Bernoulli(m_.trips_per_year / 365)) {
      s.trip_left =
          static_cast<uint8_t>(std::min<int64_t>(60, s.rng.Poisson(m_.trip_mean_days - 1)));
      roaming = true;
    }
    const Usage u = DrawUsage(s, c.dow, roaming);
    int packs;
    bool throttled_now;
    data += ApplyData(s, u.data, &packs, &throttled_now);
    voice += u.voice;
  }
  ts_or_null("next_cycle_start", true, DayStart(next));
  key("next_cycle_days");
  w.Int(cycle);
  num("next_cycle_data_mb", data, 1);
  num("next_cycle_voice_min", voice, 1);
  flag("next_cycle_exhausted", s.flags & kThrottledThisCycle);
  w.Raw("}\n");
}

}  // namespace kairos::sim
