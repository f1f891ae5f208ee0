#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace kairos {
namespace {

TEST(Crc32c, MatchesPublishedCheckValues) {
  // RFC 3720 (iSCSI) appendix B.4 and the standard "123456789" check value.
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xe3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(0, zeros.data(), zeros.size()), 0x8a9136aau);
  const std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(0, ones.data(), ones.size()), 0x62a8ab43u);
}

TEST(Crc32c, ExtendsAcrossPieces) {
  const std::string s = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(Crc32c(Crc32c(0, s.data(), cut), s.data() + cut, s.size() - cut), Crc32c(0, s.data(), s.size()));
  }
}

}  // namespace
}  // namespace kairos
