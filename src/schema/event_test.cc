#include "schema/event.h"

#include <gtest/gtest.h>

#include "schema/config.h"

namespace kairos {
namespace {

class EventParse : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    ASSERT_TRUE(s.ok());
    schema_ = *s;
  }
  Status Parse(std::string_view json) {
    EventParser p(schema_);
    return p.Parse(json, &event_);
  }
  std::shared_ptr<const Schema> schema_;
  Event event_;
};

TEST_F(EventParse, ParsesEnvelopeAndTypedFields) {
  ASSERT_TRUE(Parse(R"({"event_id":"e1","subscriber_id":"s1","type":"usage","ts":"2026-01-01T10:00:00Z",)"
                    R"("kind":"data","amount":120.5,"roaming":true})").ok());
  EXPECT_EQ(event_.event_id, "e1");
  EXPECT_EQ(event_.subscriber_id, "s1");
  const EventTypeDef& et = schema_->event_types()[event_.type];
  EXPECT_EQ(et.name, "usage");
  EXPECT_EQ(event_.ts, 1767261600000);
  EXPECT_EQ(event_.fields[et.FieldIndex("kind")], Value::Enum(0));
  EXPECT_EQ(event_.fields[et.FieldIndex("amount")], Value::Number(120.5));
  EXPECT_EQ(event_.fields[et.FieldIndex("roaming")], Value::Bool(true));
  EXPECT_TRUE(event_.fields[et.FieldIndex("charge_eur")].is_null);
}

TEST_F(EventParse, AcceptsEpochMillisAndFlags) {
  ASSERT_TRUE(Parse(R"({"type":"subscriber","event_id":"e2","subscriber_id":"s1","ts":1767261600000,)"
                    R"("plan_type":"prepaid","consents":{"sms":true,"email":false},"cycle_days":28})").ok());
  const EventTypeDef& et = schema_->event_types()[event_.type];
  EXPECT_EQ(event_.ts, 1767261600000);
  EXPECT_EQ(event_.fields[et.FieldIndex("consents")].flags,
            (Flags{{"sms", true}, {"email", false}}));
  EXPECT_EQ(event_.fields[et.FieldIndex("cycle_days")], Value::Int(28));
}

TEST_F(EventParse, RoundTripsThroughCanonicalJson) {
  const char* json = R"({"event_id":"e3","subscriber_id":"s9","type":"purchase","ts":"2026-01-01T10:00:00.5Z",)"
                     R"("product":"phone \"X\"","category":"device","price_eur":599,"discount_eur":50})";
  ASSERT_TRUE(Parse(json).ok());
  const Event first = event_;
  ASSERT_TRUE(Parse(EventToJson(*schema_, first)).ok());
  EXPECT_EQ(event_.fields, first.fields);
  EXPECT_EQ(event_.ts, first.ts);
}

struct BadEvent {
  const char* json;
  const char* field;    // expected JSON pointer ("" when the error is about the whole text)
  const char* message;  // expected part of the message
};

void PrintTo(const BadEvent& b, std::ostream* os) { *os << b.field << " " << b.message; }

class EventErrors : public EventParse, public ::testing::WithParamInterface<BadEvent> {};

TEST_P(EventErrors, NameTheFieldAndTheProblem) {
  Status s = Parse(GetParam().json);
  ASSERT_FALSE(s.ok()) << GetParam().json;
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), GetParam().field) << s.message();
  EXPECT_NE(s.message().find(GetParam().message), std::string::npos) << s.message();
}

#define ENV R"("event_id":"e1","subscriber_id":"s1","ts":"2026-01-01T10:00:00Z")"
INSTANTIATE_TEST_SUITE_P(
    Cases, EventErrors,
    ::testing::Values(
        BadEvent{R"({"event_id":"e1", "type":)", "", "malformed JSON"},
        BadEvent{R"([1,2])", "", "must be a JSON object"},
        BadEvent{"{" ENV "}", "/type", "missing"},
        BadEvent{"{" ENV R"(,"type":"usagee","kind":"data","amount":1})", "/type", "unknown event type \"usagee\""},
        BadEvent{"{" ENV R"(,"type":"usage","kind":"data","amount":"12"})", "/amount", "expected a number, got string"},
        BadEvent{"{" ENV R"(,"type":"usage","kind":"data","amount":-1})", "/amount", "at least"},
        BadEvent{"{" ENV R"(,"type":"usage","kind":"fax","amount":1})", "/kind", "not one of data, voice, sms"},
        BadEvent{"{" ENV R"(,"type":"usage","kind":"data"})", "/amount", "missing (required"},
        BadEvent{"{" ENV R"(,"type":"usage","kind":"data","amount":1,"amout":2})", "/amout", "unknown field"},
        BadEvent{R"({"subscriber_id":"s1","ts":"2026-01-01T10:00:00Z","type":"usage","kind":"data","amount":1})",
                 "/event_id", "missing"},
        BadEvent{R"({"event_id":"","subscriber_id":"s1","ts":"2026-01-01T10:00:00Z","type":"usage","kind":"data","amount":1})",
                 "/event_id", "1 to 128 bytes"},
        BadEvent{R"({"event_id":"e1","subscriber_id":"s1","ts":"yesterday","type":"usage","kind":"data","amount":1})",
                 "/ts", "invalid timestamp"},
        BadEvent{R"({"event_id":"e1","subscriber_id":"s1","ts":12.5,"type":"usage","kind":"data","amount":1})",
                 "/ts", "expected an RFC 3339 string"},
        BadEvent{"{" ENV R"(,"type":"subscriber","cycle_days":2.5})", "/cycle_days", "fraction"},
        BadEvent{"{" ENV R"(,"type":"subscriber","consents":{"sms":"yes"}})", "/consents/sms", "true or false"},
        BadEvent{"{\"event_id\":\"e\xff\",\"subscriber_id\":\"s1\"}", "", "malformed JSON"}));

TEST_F(EventParse, RefusesHugeEvents) {
  std::string big = "{" ENV R"(,"type":"usage","kind":"data","amount":1,"x":")" + std::string(70000, 'a') + "\"}";
  Status s = Parse(big);
  EXPECT_EQ(s.code(), ErrorCode::kTooLarge);
}

// Found by fuzz/event_fuzzer: a fresh parser given an empty body copied from a null buffer.
TEST_F(EventParse, EmptyInputIsRefusedCleanly) {
  Status s = Parse("");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("malformed JSON"), std::string::npos) << s.message();
}

// simdjson stops at its own depth limit (1024) instead of recursing.
TEST_F(EventParse, DeeplyNestedInputIsRefusedCleanly) {
  for (char open : {'[', '{'}) {
    Status s = Parse(std::string(60000, open));  // under kMaxEventBytes
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  }
  std::string nested = "{" ENV R"(,"type":"usage","kind":"data","amount":)" + std::string(5000, '[');
  EXPECT_EQ(Parse(nested).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kairos
