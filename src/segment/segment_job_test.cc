// The segmentation job on hand-built profiles: tiers, behavioural segments, RFM and the scores
// written into profiles, read back by rules; a re-run and an older run.
#include "segment/segment_job.h"

#include "segment/churn_training.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "common/time_format.h"
#include "decide/feature_cache.h"
#include "schema/score_fields.h"

namespace kairos {
namespace {

constexpr const char* kSegments = R"yaml(
value:
  months: 1
  revenue: "coalesce(profile.price_eur, 0) + agg.topup_eur(30d)"
  margin: "coalesce(profile.price_eur, 0) * 0.5 + agg.topup_eur(30d) * 0.5"
  effort:
    tickets: {amount: "agg.tickets(30d)", cost: 20}
tiers:
  method: absolute
  value_high: 20
  value_low: 5
  effort_high: 15
segments:
  usage:
    - {name: data_heavy, when: "agg.data_mb(30d) >= 10000"}
    - {name: light}
rfm:
  recency_days: "coalesce(days_since(agg.last_topup), 999)"
  frequency: "agg.topups(90d)"
churn:
  horizon: 5d
  label: churned
  keep_snapshots: 2
  features:
    tickets: "agg.tickets(30d)"
    price: "profile.price_eur"
)yaml";

class SegmentJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kairos-segment-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
    std::ofstream(dir_ / "segments.yaml") << kSegments;
    auto ws = Workspace::Load(dir_.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = *ws;
    auto engine = Engine::Open(ws_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    auto d = Decisioning::Load(dir_.string(), ws_.schema);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    d_ = *d;
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Ingest(const std::string& ndjson) {
    const IngestResult r = engine_->IngestNdjson(ndjson);
    ASSERT_TRUE(r.rejected.empty()) << r.rejected[0].error;
  }
  Profile Read(const std::string& id) {
    Profile p;
    EXPECT_TRUE(engine_->ReadProfile(id, &p).ok());
    return p;
  }
  static std::string Str(const Profile& p, ScoreId id) {
    const Value& v = p.scores.at(static_cast<size_t>(id));
    return v.is_null ? "null" : v.s;
  }
  static double Num(const Profile& p, ScoreId id) {
    const Value& v = p.scores.at(static_cast<size_t>(id));
    return v.is_null ? -1 : v.number;
  }
  Result<SegmentReport> Run(TimestampMs now) {
    SegmentRunOptions o;
    o.now = now;
    o.workspace_dir = dir_.string();
    return RunSegmentation(*engine_, *d_, o);
  }

  std::filesystem::path dir_;
  Workspace ws_;
  ManualClock clock_{*ParseRfc3339("2026-03-11T10:00:00Z")};
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<const Decisioning> d_;
};

std::string Event(const std::string& id, const std::string& sub, const std::string& type,
                  const std::string& day, const std::string& fields) {
  return R"({"event_id":")" + id + R"(","subscriber_id":")" + sub + R"(","type":")" + type +
         R"(","ts":"2026-03-)" + day + R"(T09:00:00Z")" + (fields.empty() ? "" : "," + fields) + "}\n";
}

TEST_F(SegmentJobTest, TiersSegmentsAndRfmFromHandBuiltProfiles) {
  std::string body;
  // A: high margin (30), no effort → protect; heavy data user.
  body += Event("a1", "A", "subscriber", "01", R"("plan_type":"postpaid","price_eur":60)");
  body += Event("a2", "A", "usage", "09", R"("kind":"data","amount":12000)");
  // B: high margin, two tickets (effort 40) → balanced.
  body += Event("b1", "B", "subscriber", "01", R"("plan_type":"postpaid","price_eur":60)");
  body += Event("b2", "B", "ticket", "05", R"("category":"network")");
  body += Event("b3", "B", "ticket", "06", R"("category":"billing")");
  // C: low margin (2), one ticket (effort 20) → reduce_effort.
  body += Event("c1", "C", "subscriber", "01", R"("plan_type":"prepaid")");
  body += Event("c2", "C", "topup", "02", R"("amount_eur":4)");
  body += Event("c3", "C", "ticket", "03", R"("category":"billing")");
  // D: mid margin (15), no effort → develop; three recent top-ups.
  body += Event("d1", "D", "subscriber", "01", R"("plan_type":"prepaid")");
  body += Event("d2", "D", "topup", "04", R"("amount_eur":10)");
  body += Event("d3", "D", "topup", "07", R"("amount_eur":10)");
  body += Event("d4", "D", "topup", "10", R"("amount_eur":10)");
  // E: nothing but master data → low value, no effort → develop.
  body += Event("e1", "E", "subscriber", "01", R"("plan_type":"prepaid")");
  Ingest(body);

  const TimestampMs now = *ParseRfc3339("2026-03-11T12:00:00Z");
  auto report = Run(now);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->subscribers, 5);
  EXPECT_EQ(report->written, 5);

  const Profile a = Read("A"), b = Read("B"), c = Read("C"), d = Read("D"), e = Read("E");
  EXPECT_EQ(Str(a, ScoreId::kValueTier), "protect");
  EXPECT_EQ(Str(b, ScoreId::kValueTier), "balanced");
  EXPECT_EQ(Str(c, ScoreId::kValueTier), "reduce_effort");
  EXPECT_EQ(Str(d, ScoreId::kValueTier), "develop");
  EXPECT_EQ(Str(e, ScoreId::kValueTier), "develop");
  EXPECT_DOUBLE_EQ(Num(a, ScoreId::kMargin), 30);
  EXPECT_DOUBLE_EQ(Num(b, ScoreId::kEffort), 40);
  EXPECT_DOUBLE_EQ(Num(d, ScoreId::kRevenue), 30);
  EXPECT_EQ(Str(a, ScoreId::kUsage), "data_heavy");
  EXPECT_EQ(Str(b, ScoreId::kUsage), "light");
  // Not configured: left null.
  EXPECT_TRUE(a.scores[static_cast<size_t>(ScoreId::kBehaviour)].is_null);
  EXPECT_TRUE(a.scores[static_cast<size_t>(ScoreId::kChurn)].is_null);
  // RFM: D topped up last (1 day ago) and most often: best recency, frequency, monetary of the
  // prepaid ones; A, B, E never topped up.
  EXPECT_EQ(Num(d, ScoreId::kRecency), 5);
  EXPECT_GT(Num(d, ScoreId::kFrequency), Num(c, ScoreId::kFrequency));
  EXPECT_GT(Num(c, ScoreId::kRecency), Num(a, ScoreId::kRecency));
  EXPECT_EQ(Str(d, ScoreId::kRfmCode).size(), 3u);
  // Scores are not activity: last_seen and events_applied stay.
  EXPECT_EQ(a.events_applied, 2);
  EXPECT_EQ(a.last_seen, *ParseRfc3339("2026-03-09T09:00:00Z"));
  EXPECT_EQ(a.scored_ms, now);

  // The report adds up.
  EXPECT_EQ(report->tiers.at("develop").subscribers, 2);
  EXPECT_EQ(report->tiers.at("protect").subscribers, 1);
  EXPECT_DOUBLE_EQ(report->total.margin, 30 + 30 + 2 + 15 + 0);
  auto saved = ReadFile(SegmentReportPath(dir_.string()));
  ASSERT_TRUE(saved.ok());
  EXPECT_NE(saved->find("\"reduce_effort\""), std::string::npos);

  // Rules read the scores.
  expr::CompileError err;
  auto rule = expr::Expr::Compile("segment.value_tier == \"protect\" and value.margin >= 30",
                                  *d_->features, expr::Type::kBool, &err);
  ASSERT_NE(rule, nullptr) << err.message;
  const std::vector<ContextValue> none;
  FeatureCache ca(*d_, a, now, "", none), cb(*d_, b, now, "", none);
  EXPECT_TRUE(rule->Evaluate(ca).b);
  EXPECT_FALSE(rule->Evaluate(cb).b);

  // The profile JSON shows them.
  auto json = engine_->ProfileJson("A", now);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"segment.value_tier\":\"protect\""), std::string::npos) << *json;
}

TEST_F(SegmentJobTest, ARerunReplacesAndAnOlderRunDoesNot) {
  Ingest(Event("a1", "A", "subscriber", "01", R"("plan_type":"postpaid","price_eur":60)"));
  const TimestampMs t1 = *ParseRfc3339("2026-03-11T12:00:00Z");
  ASSERT_TRUE(Run(t1).ok());
  EXPECT_EQ(Str(Read("A"), ScoreId::kValueTier), "protect");
  // Master data changes; a later run sees it.
  Ingest(Event("a2", "A", "subscriber", "10", R"("price_eur":4)"));
  const TimestampMs t2 = t1 + 3600000;
  ASSERT_TRUE(Run(t2).ok());
  Profile a = Read("A");
  EXPECT_EQ(Str(a, ScoreId::kValueTier), "develop");
  EXPECT_EQ(a.scored_ms, t2);
  // A run with an older time (a replayed or delayed one) changes nothing.
  ASSERT_TRUE(Run(t1 - 1).ok());
  a = Read("A");
  EXPECT_EQ(Str(a, ScoreId::kValueTier), "develop");
  EXPECT_EQ(a.scored_ms, t2);
  // The same run twice is harmless.
  ASSERT_TRUE(Run(t2).ok());
  EXPECT_EQ(Str(Read("A"), ScoreId::kValueTier), "develop");
}

TEST_F(SegmentJobTest, ScoresSurviveARestart) {
  Ingest(Event("a1", "A", "subscriber", "01", R"("plan_type":"postpaid","price_eur":60)"));
  ASSERT_TRUE(Run(*ParseRfc3339("2026-03-11T12:00:00Z")).ok());
  engine_.reset();
  auto engine = Engine::Open(ws_, &clock_);
  ASSERT_TRUE(engine.ok());
  engine_ = std::move(*engine);
  EXPECT_EQ(Str(Read("A"), ScoreId::kValueTier), "protect");
}

TEST_F(SegmentJobTest, PublicIngestCannotWriteScores) {
  const IngestResult r = engine_->IngestNdjson(
      R"({"event_id":"x","subscriber_id":"A","type":"scores","ts":"2026-03-01T00:00:00Z","run":"r"})");
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_NE(r.rejected[0].error.find("written by Kairos itself"), std::string::npos);
}

TEST_F(SegmentJobTest, ChurnTrainingSetIsPointInTime) {
  std::string body;
  body += Event("a1", "A", "subscriber", "01", R"("plan_type":"postpaid","price_eur":60)");
  body += Event("b1", "B", "subscriber", "01", R"("plan_type":"postpaid","price_eur":20)");
  body += Event("b2", "B", "ticket", "02", R"("category":"network")");
  body += Event("c1", "C", "subscriber", "01", R"("plan_type":"prepaid")");
  body += Event("c2", "C", "churn", "03", R"("reason":"port_out")");  // left before the snapshot
  body += Event("d1", "D", "subscriber", "01", R"("plan_type":"prepaid")");
  Ingest(body);
  const TimestampMs t0 = *ParseRfc3339("2026-03-04T00:00:00Z");
  auto too_early = BuildChurnTrainingSet(*engine_, *d_, dir_.string(), t0);
  ASSERT_FALSE(too_early.ok());
  EXPECT_NE(too_early.status().message().find("none yet"), std::string::npos) << too_early.status().message();
  ASSERT_TRUE(Run(t0).ok());
  EXPECT_EQ(ListChurnSnapshots(dir_.string()).size(), 1u);
  // After the snapshot: B leaves within the 5-day horizon, D after it.
  Ingest(Event("b3", "B", "churn", "06", R"("reason":"port_out")") +
         Event("d2", "D", "churn", "10", R"("reason":"cancellation")"));
  auto early = BuildChurnTrainingSet(*engine_, *d_, dir_.string(), t0 + 86400000);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("old enough from 2026-03-09"), std::string::npos) << early.status().message();

  auto set = BuildChurnTrainingSet(*engine_, *d_, dir_.string(), t0 + 5 * 86400000LL);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->snapshot_at, t0);
  EXPECT_EQ(set->features.rows(), 3);  // A, B, D; C had left already
  EXPECT_EQ(set->dropped.at("left before the snapshot"), 1);
  EXPECT_EQ(set->positives, 1);
  // The features are those of the snapshot: B's ticket, A's price.
  const analytics::Column& tickets = set->features.column(*set->features.Find("tickets"));
  const analytics::Column& price = set->features.column(*set->features.Find("price"));
  double tickets_of_positive = -1, sum_price = 0;
  for (int64_t r = 0; r < set->features.rows(); ++r) {
    if (set->labels[static_cast<size_t>(r)] == 1) tickets_of_positive = tickets.numbers[static_cast<size_t>(r)];
    if (!std::isnan(price.numbers[static_cast<size_t>(r)])) sum_price += price.numbers[static_cast<size_t>(r)];
  }
  EXPECT_EQ(tickets_of_positive, 1);
  EXPECT_EQ(sum_price, 80);  // D has no price: missing, not 0

  // Only the newest keep_snapshots stay.
  { auto r = Run(t0 + 1000); ASSERT_TRUE(r.ok()) << r.status().ToString(); }
  ASSERT_TRUE(Run(t0 + 2000).ok());
  const auto kept = ListChurnSnapshots(dir_.string());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept.front().first, t0 + 1000);
}

TEST_F(SegmentJobTest, WithoutSegmentsYamlTheJobSaysSo) {
  std::filesystem::remove(dir_ / "segments.yaml");
  auto d = Decisioning::Load(dir_.string(), ws_.schema);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  SegmentRunOptions o;
  o.now = 1;
  o.workspace_dir = dir_.string();
  auto r = RunSegmentation(*engine_, **d, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("segments.yaml"), std::string::npos);
}

}  // namespace
}  // namespace kairos
