#include "decide/decide_request.h"

#include <gtest/gtest.h>

#include <string>

#include "schema/config.h"

namespace kairos {
namespace {

std::shared_ptr<const Decisioning> Demo() {
  static const std::shared_ptr<const Decisioning> d = [] {
    auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    EXPECT_TRUE(schema.ok());
    auto parsed = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), *schema);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return *parsed;
  }();
  return d;
}

TEST(DecideRequest, ParsesAValidRequest) {
  auto r = ParseDecideRequest(
      R"({"subscriber_id":"s1","channel":"web","context":{"page":"data","roaming":true},"limit":2})",
      *Demo());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->subscriber_id, "s1");
  EXPECT_EQ(r->limit, 2);
  EXPECT_EQ(r->context_json, R"({"page":"data","roaming":true})");
}

// RapidJSON recurses per level; a hostile body must be refused before it parses.
TEST(DecideRequest, DeeplyNestedBodiesAreRefusedWithoutCrashing) {
  for (const std::string& body :
       {std::string(100000, '['), std::string(100000, '{'),
        R"({"subscriber_id":"s1","channel":"web","context":)" + std::string(100000, '[')}) {
    auto r = ParseDecideRequest(body, *Demo());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("nested deeper than 64 levels"), std::string::npos)
        << r.status().message();
  }
  auto resp = ParseResponseRequest(std::string(100000, '['));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kairos
