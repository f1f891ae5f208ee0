#include "profile/profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/hash.h"
#include "common/time_format.h"
#include "schema/config.h"
#include "schema/score_fields.h"

namespace kairos {
namespace {

constexpr int64_t kWindow = 72 * kMsPerHour;

class ProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    ASSERT_TRUE(s.ok());
    schema_ = *s;
    profile_ = Profile::Empty(*schema_);
  }
  // Applies a JSON event; returns the outcome.
  ApplyOutcome Apply(const std::string& json) {
    EventParser parser(schema_);
    Event e;
    Status s = parser.Parse(json, &e);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ApplyEvent(*schema_, e, StableHash64(e.event_id), kWindow, &profile_);
  }
  static std::string Usage(const std::string& id, const std::string& ts, const char* kind, double amount) {
    return R"({"event_id":")" + id + R"(","subscriber_id":"s1","type":"usage","ts":")" + ts +
           R"(","kind":")" + kind + R"(","amount":)" + std::to_string(amount) + "}";
  }
  double Window(const char* agg, int days, const char* now) {
    const int idx = schema_->AggregateIndex(agg);
    return WindowValue(*schema_, profile_, idx, days, *ParseRfc3339(now));
  }
  std::shared_ptr<const Schema> schema_;
  Profile profile_;
};

TEST_F(ProfileTest, WindowedSumsByUtcDay) {
  // Hand-computed: data on Jan 1 (100), Jan 5 (50 + 25), Jan 7 (10); voice on Jan 7 (3).
  ASSERT_EQ(Apply(Usage("a", "2026-01-01T12:00:00Z", "data", 100)), ApplyOutcome::kApplied);
  ASSERT_EQ(Apply(Usage("b", "2026-01-05T08:00:00Z", "data", 50)), ApplyOutcome::kApplied);
  ASSERT_EQ(Apply(Usage("c", "2026-01-05T23:59:59Z", "data", 25)), ApplyOutcome::kApplied);
  ASSERT_EQ(Apply(Usage("d", "2026-01-07T00:00:00Z", "data", 10)), ApplyOutcome::kApplied);
  ASSERT_EQ(Apply(Usage("e", "2026-01-07T01:00:00Z", "voice", 3)), ApplyOutcome::kApplied);
  const char* now = "2026-01-07T18:00:00Z";
  EXPECT_DOUBLE_EQ(Window("data_mb", 1, now), 10);    // Jan 7
  EXPECT_DOUBLE_EQ(Window("data_mb", 7, now), 185);   // Jan 1..7
  EXPECT_DOUBLE_EQ(Window("data_mb", 30, now), 185);
  EXPECT_DOUBLE_EQ(Window("voice_min", 7, now), 3);
  // A week later the Jan 1 and Jan 5 usage has left the 7-day window.
  EXPECT_DOUBLE_EQ(Window("data_mb", 7, "2026-01-12T00:00:00Z"), 10);
  EXPECT_DOUBLE_EQ(Window("data_mb", 1, "2026-01-12T00:00:00Z"), 0);
  EXPECT_EQ(profile_.events_applied, 5);
}

TEST_F(ProfileTest, FiltersCountsMaxAndLastTime) {
  Apply(R"({"event_id":"r1","subscriber_id":"s1","type":"usage","ts":"2026-01-02T00:00:00Z","kind":"data","amount":40,"roaming":true})");
  Apply(R"({"event_id":"r2","subscriber_id":"s1","type":"usage","ts":"2026-01-02T01:00:00Z","kind":"data","amount":60,"roaming":false})");
  Apply(R"({"event_id":"t1","subscriber_id":"s1","type":"ticket","ts":"2026-01-02T02:00:00Z","category":"network"})");
  Apply(R"({"event_id":"t2","subscriber_id":"s1","type":"ticket","ts":"2026-01-03T02:00:00Z","category":"billing"})");
  Apply(R"({"event_id":"p1","subscriber_id":"s1","type":"payment","ts":"2026-01-03T02:00:00Z","amount_eur":30,"days_late":4})");
  Apply(R"({"event_id":"p2","subscriber_id":"s1","type":"payment","ts":"2026-01-03T03:00:00Z","amount_eur":30,"days_late":9})");
  Apply(R"({"event_id":"u1","subscriber_id":"s1","type":"topup","ts":"2026-01-03T04:00:00Z","amount_eur":15})");
  const char* now = "2026-01-04T00:00:00Z";
  EXPECT_DOUBLE_EQ(Window("roaming_mb", 30, now), 40);
  EXPECT_DOUBLE_EQ(Window("data_mb", 30, now), 100);
  EXPECT_DOUBLE_EQ(Window("tickets", 30, now), 2);
  EXPECT_DOUBLE_EQ(Window("max_days_late", 90, now), 9);
  EXPECT_TRUE(std::isnan(Window("max_days_late", 90, "2026-06-01T00:00:00Z")));
  const int last = schema_->AggregateIndex("last_topup");
  EXPECT_EQ(profile_.aggregates[last].last_ms, *ParseRfc3339("2026-01-03T04:00:00Z"));
}

TEST_F(ProfileTest, DuplicatesAndLateEvents) {
  ASSERT_EQ(Apply(Usage("a", "2026-01-10T00:00:00Z", "data", 5)), ApplyOutcome::kApplied);
  EXPECT_EQ(Apply(Usage("a", "2026-01-10T00:00:00Z", "data", 5)), ApplyOutcome::kDuplicate);
  // Same id, different content: still the same event id, so a duplicate.
  EXPECT_EQ(Apply(Usage("a", "2026-01-10T00:00:01Z", "data", 7)), ApplyOutcome::kDuplicate);
  // Older than newest - 72 h: cannot be checked, refused.
  EXPECT_EQ(Apply(Usage("old", "2026-01-06T23:59:59Z", "data", 1)), ApplyOutcome::kTooLate);
  // Within the window: applied even though out of order.
  EXPECT_EQ(Apply(Usage("b", "2026-01-08T00:00:00Z", "data", 1)), ApplyOutcome::kApplied);
  EXPECT_EQ(profile_.events_applied, 2);
  EXPECT_DOUBLE_EQ(Window("data_mb", 30, "2026-01-10T00:00:00Z"), 6);
}

TEST_F(ProfileTest, NewerMasterDataWins) {
  Apply(R"({"event_id":"a","subscriber_id":"s1","type":"subscriber","ts":"2026-01-10T00:00:00Z","plan_id":"L"})");
  Apply(R"({"event_id":"b","subscriber_id":"s1","type":"subscriber","ts":"2026-01-09T00:00:00Z","plan_id":"S","region":"north"})");
  const int plan = schema_->AttributeIndex("plan_id");
  const int region = schema_->AttributeIndex("region");
  EXPECT_EQ(profile_.attributes[plan].value.s, "L");      // older event did not overwrite
  EXPECT_EQ(profile_.attributes[region].value.s, "north");  // but filled what was unset
}

TEST_F(ProfileTest, EncodeDecodeRoundTripAndCompactness) {
  Apply(R"({"event_id":"s","subscriber_id":"s1","type":"subscriber","ts":"2026-01-01T00:00:00Z",)"
        R"("plan_type":"postpaid","plan_id":"M12","price_eur":39.99,"data_allowance_mb":12000,)"
        R"("consents":{"sms":true,"email":false},"birth_year":1985,"cycle_days":30,"contract_end":"2027-01-01T00:00:00Z"})");
  for (int d = 1; d <= 28; ++d) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-01-%02dT10:00:00Z", d);
    Apply(Usage("d" + std::to_string(d), ts, "data", 200 + d));
    Apply(Usage("v" + std::to_string(d), ts, "voice", 4));
  }
  // Sparse series (a ticket, a late payment in a 90-day max) beside the dense daily ones.
  Apply(R"({"event_id":"t","subscriber_id":"s1","type":"ticket","ts":"2026-01-27T00:00:00Z","category":"billing"})");
  Apply(R"({"event_id":"p","subscriber_id":"s1","type":"payment","ts":"2026-01-28T05:00:00Z","amount_eur":39.99,"days_late":3})");
  std::string bytes;
  EncodeProfile(*schema_, profile_, &bytes);
  EXPECT_LT(bytes.size(), 512u);
  Profile back;
  ASSERT_TRUE(DecodeProfile(*schema_, bytes, &back).ok());
  std::string again;
  EncodeProfile(*schema_, back, &again);
  EXPECT_EQ(bytes, again);
  EXPECT_EQ(back.events_applied, profile_.events_applied);
  EXPECT_EQ(back.attributes[schema_->AttributeIndex("consents")].value.flags,
            (Flags{{"sms", true}, {"email", false}}));
  EXPECT_EQ(back.attributes[schema_->AttributeIndex("plan_id")].set_ms, *ParseRfc3339("2026-01-01T00:00:00Z"));
  const TimestampMs now = *ParseRfc3339("2026-01-28T12:00:00Z");
  for (size_t i = 0; i < schema_->aggregates().size(); ++i) {
    for (int days : schema_->aggregates()[i].windows_days) {
      const double a = WindowValue(*schema_, profile_, static_cast<int>(i), days, now);
      const double b = WindowValue(*schema_, back, static_cast<int>(i), days, now);
      if (std::isnan(a)) EXPECT_TRUE(std::isnan(b));
      else EXPECT_NEAR(a, b, 0.005 * days) << schema_->aggregates()[i].name << " " << days;
    }
  }
  EXPECT_DOUBLE_EQ(WindowValue(*schema_, back, schema_->AggregateIndex("max_days_late"), 90, now), 3);
  EXPECT_DOUBLE_EQ(WindowValue(*schema_, back, schema_->AggregateIndex("tickets"), 30, now), 1);
  // Every truncation and a flipped version byte are detected, never read out of bounds.
  for (size_t n = 0; n < bytes.size(); ++n) {
    Status s = DecodeProfile(*schema_, std::string_view(bytes).substr(0, n), &back);
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << n;
  }
  bytes[0] = 9;
  EXPECT_EQ(DecodeProfile(*schema_, bytes, &back).code(), ErrorCode::kCorruption);
}


std::string Decision(const std::string& id, const std::string& ts, const std::string& actions,
                     const char* channel = "sms") {
  return R"({"event_id":")" + id + R"(","subscriber_id":"s1","type":"decision","ts":")" + ts +
         R"(","decision_id":")" + id + R"(","channel":")" + channel + R"(","actions":")" + actions + R"("})";
}
std::string Response(const std::string& event_id, const std::string& decision, const std::string& ts,
                     const char* action, const char* outcome) {
  return R"({"event_id":")" + event_id + R"(","subscriber_id":"s1","type":"response","ts":")" + ts +
         R"(","decision_id":")" + decision + R"(","action_id":")" + action + R"(","outcome":")" + outcome +
         R"("})";
}

TEST_F(ProfileTest, DecisionsAndResponsesBuildTheInteractionHistory) {
  ASSERT_EQ(Apply(Decision("d1", "2026-03-01T10:00:00Z", "DATA_1GB:DataAddOns:Sales,FIX_NET:Network:Service")),
            ApplyOutcome::kApplied);
  ASSERT_EQ(profile_.interactions.size(), 2u);
  const Interaction& x = profile_.interactions[0];
  EXPECT_EQ(x.kind, InteractionKind::kImpression);
  EXPECT_EQ(x.action, HistoryKey("DATA_1GB"));
  EXPECT_EQ(x.group, HistoryKey("DataAddOns"));
  EXPECT_EQ(x.issue, HistoryKey("Sales"));
  EXPECT_EQ(x.channel, HistoryKey("sms"));
  EXPECT_EQ(x.decision, HistoryKey("d1"));
  EXPECT_EQ(LifetimeImpressions(profile_, HistoryKey("DATA_1GB")), 1u);

  // A response takes its group, issue and channel from the impression it answers.
  ASSERT_EQ(Apply(Response("r1", "d1", "2026-03-01T11:00:00Z", "DATA_1GB", "accepted")), ApplyOutcome::kApplied);
  ASSERT_EQ(profile_.interactions.size(), 3u);
  EXPECT_EQ(profile_.interactions[2].kind, InteractionKind::kAccepted);
  EXPECT_EQ(profile_.interactions[2].group, HistoryKey("DataAddOns"));
  EXPECT_EQ(profile_.interactions[2].channel, HistoryKey("sms"));
  // The same outcome for the same decision and action counts once, even under another event id.
  EXPECT_EQ(Apply(Response("r1-again", "d1", "2026-03-01T11:05:00Z", "DATA_1GB", "accepted")),
            ApplyOutcome::kDuplicate);
  EXPECT_EQ(Apply(Response("r1", "d1", "2026-03-01T11:05:00Z", "DATA_1GB", "accepted")), ApplyOutcome::kDuplicate);
  // Another outcome is a new fact.
  EXPECT_EQ(Apply(Response("r2", "d1", "2026-03-01T11:06:00Z", "DATA_1GB", "converted")), ApplyOutcome::kApplied);
  EXPECT_EQ(profile_.interactions.size(), 4u);
  // The built-in events count in aggregates like any other.
  EXPECT_EQ(Window("offers_accepted", 90, "2026-03-02T00:00:00Z"), 1.0);
}

TEST_F(ProfileTest, HistoryIsBoundedByRetentionAndCount) {
  ASSERT_EQ(Apply(Decision("old", "2026-01-01T10:00:00Z", "A:G:I")), ApplyOutcome::kApplied);
  // 90 days of retention behind the newest event: the January impression falls out in April.
  ASSERT_EQ(Apply(Usage("u", "2026-04-15T10:00:00Z", "data", 1)), ApplyOutcome::kApplied);
  EXPECT_TRUE(profile_.interactions.empty());
  EXPECT_EQ(LifetimeImpressions(profile_, HistoryKey("A")), 1u) << "lifetime totals outlive the history";
  for (int i = 0; i < 250; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-04-16T%02d:%02d:00Z", i / 60, i % 60);
    ASSERT_EQ(Apply(Decision("d" + std::to_string(i), ts, "A:G:I")), ApplyOutcome::kApplied);
  }
  EXPECT_EQ(profile_.interactions.size(), 200u);
  EXPECT_EQ(profile_.interactions.front().decision, HistoryKey("d50"));
  EXPECT_EQ(LifetimeImpressions(profile_, HistoryKey("A")), 251u);
}

TEST_F(ProfileTest, HistoryRoundTripsThroughTheEncoding) {
  ASSERT_EQ(Apply(Usage("u", "2026-03-01T09:00:00Z", "data", 10)), ApplyOutcome::kApplied);
  ASSERT_EQ(Apply(Decision("d1", "2026-03-01T10:00:00Z", "A:G:I,B:G:I", "app")), ApplyOutcome::kApplied);
  ASSERT_EQ(Apply(Response("r", "d1", "2026-03-01T10:30:00Z", "B", "rejected")), ApplyOutcome::kApplied);
  std::string bytes;
  EncodeProfile(*schema_, profile_, &bytes);
  Profile back;
  ASSERT_TRUE(DecodeProfile(*schema_, bytes, &back).ok());
  ASSERT_EQ(back.interactions.size(), profile_.interactions.size());
  for (size_t i = 0; i < back.interactions.size(); ++i) {
    const Interaction &a = back.interactions[i], &b = profile_.interactions[i];
    EXPECT_EQ(a.ts, b.ts);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.decision, b.decision);
    EXPECT_EQ(a.action, b.action);
    EXPECT_EQ(a.group, b.group);
    EXPECT_EQ(a.issue, b.issue);
    EXPECT_EQ(a.channel, b.channel);
  }
  EXPECT_EQ(LifetimeImpressions(back, HistoryKey("B")), 1u);
  // Every truncation fails cleanly.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeProfile(*schema_, std::string_view(bytes).substr(0, n), &back).ok()) << n;
  }
}

TEST_F(ProfileTest, VersionTwoRecordsWithoutHistoryStillDecode) {
  ASSERT_EQ(Apply(Usage("u", "2026-03-01T09:00:00Z", "data", 10)), ApplyOutcome::kApplied);
  std::string bytes;
  EncodeProfile(*schema_, profile_, &bytes);
  // A version 4 record with an empty history and no scores ends with three zero counts and a
  // zero score time; version 3 had no score time, version 2 none of the four.
  ASSERT_EQ(bytes.substr(bytes.size() - 4), std::string(4, '\0'));
  std::string v3 = bytes.substr(0, bytes.size() - 1);
  v3[0] = 3;
  std::string v2 = bytes.substr(0, bytes.size() - 4);
  v2[0] = 2;
  for (const std::string& old : {v2, v3}) {
    Profile back;
    ASSERT_TRUE(DecodeProfile(*schema_, old, &back).ok()) << int(old[0]);
    EXPECT_EQ(back.events_applied, 1);
    EXPECT_EQ(back.scored_ms, 0);
  }
  EXPECT_EQ(Window("data_mb", 1, "2026-03-01T12:00:00Z"), 10.0);
}

TEST_F(ProfileTest, ScoresRoundTripAndReplaceOnlyWhenNotOlder) {
  ASSERT_EQ(Apply(Usage("u", "2026-03-01T09:00:00Z", "data", 10)), ApplyOutcome::kApplied);
  const BuiltinEvents& b = schema_->builtin();
  Event e;
  e.event_id = "run1/s1";
  e.subscriber_id = "s1";
  e.type = b.scores;
  e.ts = *ParseRfc3339("2026-03-02T00:00:00Z");
  e.fields.assign(schema_->event_types()[b.scores].fields.size(), Value::Null());
  e.fields[b.s_run] = Value::String("run1");
  e.fields[b.s_first_score + static_cast<int>(ScoreId::kValueTier)] = Value::String("protect");
  e.fields[b.s_first_score + static_cast<int>(ScoreId::kChurn)] = Value::Number(0.25);
  ASSERT_EQ(ApplyEvent(*schema_, e, 1, 72 * 3600000LL, &profile_), ApplyOutcome::kApplied);
  EXPECT_EQ(profile_.events_applied, 1);  // not activity
  std::string bytes;
  EncodeProfile(*schema_, profile_, &bytes);
  Profile back;
  ASSERT_TRUE(DecodeProfile(*schema_, bytes, &back).ok());
  EXPECT_EQ(back.score_run, "run1");
  EXPECT_EQ(back.scored_ms, e.ts);
  ASSERT_EQ(back.scores.size(), static_cast<size_t>(kScoreCount));
  EXPECT_EQ(back.scores[static_cast<size_t>(ScoreId::kValueTier)].s, "protect");
  EXPECT_EQ(back.scores[static_cast<size_t>(ScoreId::kChurn)].number, 0.25);
  EXPECT_TRUE(back.scores[static_cast<size_t>(ScoreId::kMargin)].is_null);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeProfile(*schema_, std::string_view(bytes).substr(0, n), &back).ok()) << n;
  }
  // An older run changes nothing; a newer one replaces every score.
  Event older = e;
  older.ts -= 1;
  older.fields[b.s_first_score + static_cast<int>(ScoreId::kValueTier)] = Value::String("develop");
  EXPECT_EQ(ApplyEvent(*schema_, older, 2, 72 * 3600000LL, &profile_), ApplyOutcome::kDuplicate);
  EXPECT_EQ(profile_.scores[static_cast<size_t>(ScoreId::kValueTier)].s, "protect");
  Event newer = e;
  newer.ts += 1;
  newer.fields[b.s_first_score + static_cast<int>(ScoreId::kChurn)] = Value::Null();
  ASSERT_EQ(ApplyEvent(*schema_, newer, 3, 72 * 3600000LL, &profile_), ApplyOutcome::kApplied);
  EXPECT_TRUE(profile_.scores[static_cast<size_t>(ScoreId::kChurn)].is_null);
}

}  // namespace
}  // namespace kairos
