#include "decide/capacity.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

namespace kairos {
namespace {

constexpr int64_t kDay = 86400000;

// A day of 5,000 candidates for a channel that takes 500: values uniform on [0, 10), arriving
// evenly. First come first served would take the first 500 (mean value ~5); the gate should
// fill nearly all slots with candidates from the top of the distribution.
TEST(CapacityGate, GivesScarceSlotsToTheHighestExpectedValue) {
  CapacityGate gate;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> value(0, 10);
  const int n = 5000;
  const int64_t capacity = 500;
  double admitted_sum = 0, fcfs_sum = 0;
  int admitted = 0;
  const TimestampMs day_start = 20000 * kDay;
  for (int i = 0; i < n; ++i) {
    const double v = value(rng);
    const TimestampMs now = day_start + static_cast<TimestampMs>(i) * (kDay / n);
    if (i < capacity) fcfs_sum += v;
    const CapacityGate::Verdict verdict = gate.Admit("call_center", capacity, kDay, v, now, true, true);
    if (verdict.admit) {
      admitted_sum += v;
      ++admitted;
    }
  }
  std::printf("capacity 500 of 5000 candidates: admitted %d, mean value %.2f (first come first served: %.2f)\n",
              admitted, admitted_sum / admitted, fcfs_sum / capacity);
  EXPECT_LE(admitted, capacity);
  EXPECT_GE(admitted, 450) << "the gate should not leave many slots unused";
  const double gate_mean = admitted_sum / admitted;
  const double fcfs_mean = fcfs_sum / capacity;
  EXPECT_GT(gate_mean, 8.0) << "top decile of U(0,10) has mean 9.5";
  EXPECT_GT(gate_mean, 1.5 * fcfs_mean);
  EXPECT_EQ(gate.Used("call_center", kDay, day_start + kDay - 1), admitted);
}

TEST(CapacityGate, AdmitsEveryoneWhileFewerCandidatesThanSlotsAreExpected) {
  CapacityGate gate;
  const TimestampMs t0 = 20000 * kDay;
  // 100 candidates an hour → ~2,400 a day against a capacity of 5,000: no threshold.
  for (int i = 0; i < 200; ++i) {
    const auto v = gate.Admit("sms", 5000, kDay, i % 2 ? 0.1 : 5, t0 + i * 36000, true, true);
    ASSERT_TRUE(v.admit) << i;
  }
}

TEST(CapacityGate, RefusesWhenFullAndResetsNextPeriod) {
  CapacityGate gate;
  const TimestampMs t0 = 20000 * kDay;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(gate.Admit("call_center", 3, kDay, 1, t0 + i, true, true).admit);
  EXPECT_FALSE(gate.Admit("call_center", 3, kDay, 100, t0 + 10, true, true).admit);
  gate.Release("call_center", kDay, t0 + 11);
  EXPECT_TRUE(gate.Admit("call_center", 3, kDay, 100, t0 + 12, true, true).admit);
  EXPECT_TRUE(gate.Admit("call_center", 3, kDay, 1, t0 + kDay, true, true).admit) << "a new day";
  EXPECT_EQ(gate.Used("call_center", kDay, t0 + kDay), 1);
  // Checking without reserving takes nothing.
  EXPECT_TRUE(gate.Admit("call_center", 3, kDay, 1, t0 + kDay + 1, false, false).admit);
  EXPECT_EQ(gate.Used("call_center", kDay, t0 + kDay + 1), 1);
  gate.Restore("call_center", kDay, t0 + kDay + 2);
  EXPECT_EQ(gate.Used("call_center", kDay, t0 + kDay + 3), 2);
}

}  // namespace
}  // namespace kairos
