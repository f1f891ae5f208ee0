#include "channel/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

#include "common/clock.h"

namespace kairos::channel {
namespace {

TEST(BackoffTest, CeilingDoublesUpToTheCap) {
  const Backoff b(500, 300000);
  EXPECT_EQ(b.CeilingMs(1), 500);
  EXPECT_EQ(b.CeilingMs(2), 1000);
  EXPECT_EQ(b.CeilingMs(3), 2000);
  EXPECT_EQ(b.CeilingMs(10), 256000);
  EXPECT_EQ(b.CeilingMs(11), 300000);
  EXPECT_EQ(b.CeilingMs(1000), 300000);
  EXPECT_EQ(b.CeilingMs(INT_MAX), 300000);
  const Backoff huge(1, INT64_MAX);  // no overflow on the way to a cap this large
  EXPECT_EQ(huge.CeilingMs(62), int64_t{1} << 61);
  EXPECT_EQ(huge.CeilingMs(200), INT64_MAX);
}

TEST(BackoffTest, FullJitterStaysWithinBoundsAndSpreadsEvenly) {
  const Backoff b(100, 10000);
  Rng rng(42);
  for (int failures = 1; failures <= 12; ++failures) {
    const int64_t ceiling = b.CeilingMs(failures);
    double sum = 0;
    int64_t lo = INT64_MAX, hi = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
      const int64_t d = b.DelayMs(failures, rng);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      sum += static_cast<double>(d);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Uniform on [0, ceiling]: mean ceiling/2, and the draws reach both ends.
    EXPECT_NEAR(sum / n, ceiling / 2.0, ceiling * 0.02) << "failures=" << failures;
    EXPECT_LE(lo, ceiling / 100);
    EXPECT_GE(hi, ceiling - ceiling / 100);
  }
}

TEST(BackoffTest, SameSeedSameDelays) {
  const Backoff b(500, 300000);
  Rng a(7), c(7), other(8);
  bool differs = false;
  for (int i = 1; i <= 50; ++i) {
    const int64_t x = b.DelayMs(i % 12 + 1, a);
    EXPECT_EQ(x, b.DelayMs(i % 12 + 1, c));
    differs |= x != b.DelayMs(i % 12 + 1, other);
  }
  EXPECT_TRUE(differs);
}

TEST(BackoffTest, RetryAfterIsAFloorCappedAtTheMaximum) {
  const Backoff b(10, 60000);
  Rng rng(1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_GE(b.DelayMs(1, 5000, rng), 5000);
    EXPECT_LE(b.DelayMs(1, 5000, rng), 5000);  // the jitter (<= 10) is below the floor
    EXPECT_EQ(b.DelayMs(1, int64_t{365} * kMsPerDay, rng), 60000);
    EXPECT_LE(b.DelayMs(1, -1, rng), 10);
  }
}

}  // namespace
}  // namespace kairos::channel
