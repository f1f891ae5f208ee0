#include "schema/schema.h"

#include <gtest/gtest.h>

#include "schema/config.h"

namespace kairos {
namespace {

TEST(Schema, DefaultSchemaLoads) {
  auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Schema& schema = **s;
  // 12 declared + the built-in decision, response, scores and erasure events.
  EXPECT_EQ(schema.event_types().size(), 16u);
  for (const char* t : {"subscriber", "usage", "topup", "balance", "plan_change", "purchase", "payment",
                        "ticket", "care_contact", "app_session", "network", "churn", "decision",
                        "response", "scores", "erasure"}) {
    EXPECT_GE(schema.EventTypeIndex(t), 0) << t;
  }
  const int data = schema.AggregateIndex("data_mb");
  ASSERT_GE(data, 0);
  EXPECT_EQ(schema.aggregates()[data].windows_days, (std::vector<int>{1, 7, 30}));
  // The forecast's look-back and month-long cycles extend the retention of its series.
  EXPECT_GE(schema.aggregates()[data].retention_days, 31);
  EXPECT_EQ(schema.forecasts().size(), 3u);
  EXPECT_EQ(schema.builtin().decision, schema.EventTypeIndex("decision"));
  EXPECT_EQ(schema.builtin().response, schema.EventTypeIndex("response"));
  EXPECT_EQ(schema.history().max_interactions, 200);
}

TEST(Schema, BuiltinEventNamesAreReserved) {
  auto s = Schema::Parse("event_types:\n  decision:\n    fields: {x: {type: int}}\n", "schema.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("schema.yaml:2:3"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("reserved"), std::string::npos);
}

TEST(Schema, HistoryLimitsAreChecked) {
  auto s = Schema::Parse("event_types: {a: }\nhistory: {retention: 2h}\n", "schema.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("between 1d and 800d"), std::string::npos) << s.status().message();
  auto ok = Schema::Parse("event_types: {a: }\nhistory: {retention: 30d, max_interactions: 50}\n", "schema.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->history().retention_ms, 30LL * 86400000);
  EXPECT_EQ((*ok)->history().max_interactions, 50);
}

struct BadSchema {
  const char* yaml;
  const char* where;    // expected "file:line:column" prefix
  const char* message;  // expected part of the message
};

void PrintTo(const BadSchema& b, std::ostream* os) { *os << b.message; }

class SchemaErrors : public ::testing::TestWithParam<BadSchema> {};

TEST_P(SchemaErrors, NameFileLineColumnAndProblem) {
  auto s = Schema::Parse(GetParam().yaml, "schema.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().rfind(GetParam().where, 0), 0u) << s.status().message();
  EXPECT_NE(s.status().message().find(GetParam().message), std::string::npos) << s.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SchemaErrors,
    ::testing::Values(
        BadSchema{"event_types:\n  usage: {fields: {amount: {type: number}\n", "schema.yaml:3:1", "end of map"},
        BadSchema{"event_types:\n  usage:\n    fields:\n      amount: {type: numbr}\n", "schema.yaml:4:22",
                  "unknown type \"numbr\""},
        BadSchema{"event_types:\n  usage:\n    fields:\n      amount: {type: number}\naggregates:\n"
                  "  x: {event: usag, op: sum, field: amount, windows: [1d]}\n",
                  "schema.yaml:6:14", "unknown event type \"usag\""},
        BadSchema{"event_types:\n  usage:\n    fields:\n      amount: {type: number}\naggregates:\n"
                  "  x: {event: usage, op: sum, field: amount, windos: [1d]}\n",
                  "schema.yaml:6:45", "unknown key \"windos\""},
        BadSchema{"event_types:\n  usage:\n    fields:\n      amount: {type: string}\naggregates:\n"
                  "  x: {event: usage, op: sum, field: amount, windows: [1d]}\n",
                  "schema.yaml:6:37", "not numeric"},
        BadSchema{"event_types:\n  usage:\n    fields:\n      amount: {type: number}\naggregates:\n"
                  "  x: {event: usage, op: sum, field: amount, windows: [36h]}\n",
                  "schema.yaml:6:55", "whole number of days"},
        BadSchema{"attributes:\n  plan: {type: int}\nevent_types:\n  s:\n    fields:\n      plan: {type: string}\n"
                  "    sets: [plan]\n",
                  "schema.yaml:7:12", "does not match attribute plan"},
        BadSchema{"event_types:\n  usage:\n    fields:\n      ts: {type: number}\n", "schema.yaml:4:7",
                  "reserved"},
        BadSchema{"event_types: []\n", "schema.yaml:1:14", "non-empty mapping"}));

}  // namespace
}  // namespace kairos
