#include "common/json_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace kairos {
namespace {

TEST(JsonLimits, AcceptsWhatFits) {
  JsonLimits l{.max_depth = 3, .max_string_bytes = 5};
  EXPECT_TRUE(CheckJsonLimits(R"({"a":[{"b":"12345"}]})", l).ok());
  EXPECT_TRUE(CheckJsonLimits(R"([1,[2,[3]]])", l).ok());
  EXPECT_TRUE(CheckJsonLimits("", l).ok());
  // Brackets inside strings, and escaped quotes, are text.
  EXPECT_TRUE(CheckJsonLimits(R"(["[[[[", "\"{{{"])", JsonLimits{.max_depth = 1}).ok());
}

TEST(JsonLimits, DepthNamesThePointerOfTheLevelTooDeep) {
  JsonLimits l{.max_depth = 3, .max_string_bytes = 100};
  JsonLimit which;
  Status s = CheckJsonLimits(R"({"a":[1,{"b~/":[[0]]}]})", l, false, &which);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(which, JsonLimit::kDepth);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "/a/1/b~0~1");
  EXPECT_NE(s.message().find("/a/1/b~0~1: nested deeper than 3 levels (server.max_json_depth)"),
            std::string::npos)
      << s.message();
}

TEST(JsonLimits, HundredThousandOpeningBracketsStopAtTheLimit) {
  const std::string deep(100000, '[');
  JsonLimit which;
  Status s = CheckJsonLimits(deep, JsonLimits{.max_depth = 32}, false, &which);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(which, JsonLimit::kDepth);
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += "/0";
  EXPECT_EQ(s.field(), expected);
}

TEST(JsonLimits, StringsAndKeysNameTheirField) {
  JsonLimits l{.max_depth = 8, .max_string_bytes = 4};
  JsonLimit which;
  Status s = CheckJsonLimits(R"({"ok":"abcd","list":["a","abcde"]})", l, false, &which);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(which, JsonLimit::kStringBytes);
  EXPECT_EQ(s.field(), "/list/1");
  EXPECT_NE(s.message().find("string of 5 bytes exceeds the limit of 4 bytes (server.max_string_bytes)"),
            std::string::npos)
      << s.message();
  s = CheckJsonLimits(R"({"a":{"toolong":1}})", l, false, &which);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "/a/toolong");
  EXPECT_NE(s.message().find("key of 7 bytes"), std::string::npos) << s.message();
  // Escapes count as sent.
  EXPECT_FALSE(CheckJsonLimits(R"(["\"\"\""])", l).ok());  // 3 characters, 6 bytes
}

TEST(JsonLimits, NdjsonNamesTheLine) {
  JsonLimits l{.max_depth = 2, .max_string_bytes = 100};
  Status s = CheckJsonLimits("{\"a\":1}\n\n{\"a\":[1]}\r\n{\"b\":[[1]]}\n", l, true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "/b/0");
  EXPECT_EQ(s.message().rfind("line 4: /b/0: ", 0), 0u) << s.message();
  // Each line starts at depth 0: an unclosed line does not carry over.
  EXPECT_TRUE(CheckJsonLimits("[[\n[[\n", l, true).ok());
}

TEST(JsonLimits, UnterminatedAndUnbalancedInputIsScannedSafely) {
  JsonLimits l{.max_depth = 2, .max_string_bytes = 3};
  EXPECT_TRUE(CheckJsonLimits("]]]}}}[", l).ok());
  EXPECT_TRUE(CheckJsonLimits("\"ab\\", l).ok());
  EXPECT_FALSE(CheckJsonLimits("\"abcd", l).ok());
}

}  // namespace
}  // namespace kairos
