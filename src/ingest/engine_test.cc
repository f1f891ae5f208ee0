#include "ingest/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/time_format.h"
#include "schema/yaml_util.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kairos-engine-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Engine> Open(const std::string& dir) {
    auto ws = Workspace::Load(dir);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    ws->config.store.checkpoint_interval_ms = 3600 * 1000;  // only explicit checkpoints
    auto e = Engine::Open(*ws, &clock_, {});
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  }
  static std::string Usage(const std::string& id, const std::string& sub, double mb,
                           const char* ts = "2026-01-01T10:00:00Z") {
    return R"({"event_id":")" + id + R"(","subscriber_id":")" + sub + R"(","type":"usage","ts":")" + ts +
           R"(","kind":"data","amount":)" + std::to_string(mb) + "}";
  }
  int64_t EventsApplied(Engine& e, const std::string& sub) {
    auto json = e.ProfileJson(sub, clock_.Now());
    if (!json.ok()) return -1;
    const auto pos = json->find("\"events_applied\":");
    return std::stoll(json->substr(pos + 17));
  }

  ManualClock clock_{*ParseRfc3339("2026-01-02T00:00:00Z")};
  fs::path dir_;
};

TEST_F(EngineTest, IngestsNdjsonReportsRejectsAndDuplicates) {
  auto engine = Open(dir_.string());
  const std::string body = Usage("e1", "s1", 10) + "\n" + "{not json}\n\n" + Usage("e2", "s1", 5) + "\r\n" +
                           Usage("e1", "s1", 10) + "\n" +
                           R"({"event_id":"e9","subscriber_id":"s2","type":"usage","ts":"2026-01-05T00:00:00Z","kind":"data","amount":1})";
  IngestResult r = engine->IngestNdjson(body);
  EXPECT_EQ(r.accepted, 2);
  EXPECT_EQ(r.duplicates, 1);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].line, 2);
  EXPECT_NE(r.rejected[0].error.find("malformed JSON"), std::string::npos);
  EXPECT_EQ(r.rejected[1].line, 6);  // more than 24 h ahead of the clock
  EXPECT_EQ(r.rejected[1].code, ErrorCode::kOutOfRange);
  EXPECT_EQ(r.rejected[1].field, "/ts");
  EXPECT_EQ(EventsApplied(*engine, "s1"), 2);
  EXPECT_EQ(engine->ProfileJson("s2", clock_.Now()).status().code(), ErrorCode::kNotFound);
  const EngineStats st = engine->Stats();
  EXPECT_EQ(st.events_accepted, 2);
  EXPECT_EQ(st.events_duplicate, 1);
  EXPECT_EQ(st.events_rejected, 2);
  EXPECT_EQ(st.subscribers, 1);
}

TEST_F(EngineTest, SingleJsonErrorsAreStatuses) {
  auto engine = Open(dir_.string());
  auto bad = engine->IngestJson(R"({"event_id":"x","subscriber_id":"s","type":"usage","ts":"2026-01-01T00:00:00Z","kind":"data","amount":"many"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "/amount");
  auto good = engine->IngestJson(Usage("x", "s", 1));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->accepted, 1);
  auto again = engine->IngestJson(Usage("x", "s", 1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(EventsApplied(*engine, "s"), 1);
}

TEST_F(EngineTest, DecisionEventsComeOnlyFromTheDecisionPipeline) {
  auto engine = Open(dir_.string());
  const std::string decision =
      R"({"event_id":"d1","subscriber_id":"s","type":"decision","ts":"2026-01-01T00:00:00Z","decision_id":"d1","channel":"app","actions":"A:G:I","record":"{}"})";
  auto forged = engine->IngestJson(decision);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.status().field(), "/type");
  const IngestResult batch = engine->IngestNdjson(decision + "\n" + Usage("u", "s", 1) + "\n");
  EXPECT_EQ(batch.accepted, 1);
  ASSERT_EQ(batch.rejected.size(), 1u);
  EXPECT_EQ(batch.rejected[0].field, "/type");
  EXPECT_EQ(engine->FindDecision("d1").status().code(), ErrorCode::kNotFound);
  // The pipeline's own path stores the impression and the log entry together (one event, or a
  // batch for tools that seed history).
  auto own = engine->RecordBuiltin(decision);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  const IngestResult seeded = engine->RecordBuiltinNdjson(
      R"({"event_id":"d2","subscriber_id":"t","type":"decision","ts":"2026-01-01T00:00:00Z","decision_id":"d2","channel":"sms"})"
      "\n" + Usage("u2", "t", 1) + "\n");
  EXPECT_EQ(seeded.accepted, 2);
  EXPECT_TRUE(seeded.rejected.empty());
  EXPECT_TRUE(engine->FindDecision("d2").ok());
  auto logged = engine->FindDecision("d1");
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(logged->subscriber_id, "s");
  EXPECT_EQ(logged->channel, "app");
  EXPECT_EQ(logged->actions, "A:G:I");
  EXPECT_EQ(logged->record, "{}");
  Profile p;
  ASSERT_TRUE(engine->ReadProfile("s", &p).ok());
  EXPECT_EQ(p.interactions.size(), 1u);
}

TEST_F(EngineTest, TheDecisionLogKeepsItsRetention) {
  auto engine = Open(dir_.string());
  const TimestampMs t0 = clock_.Now();
  const std::string id = DecisionIdPrefix(t0) + "-00000001";
  const std::string decision = R"({"event_id":")" + id + R"(","subscriber_id":"s","type":"decision","ts":)" +
                               std::to_string(t0) + R"(,"decision_id":")" + id + R"(","channel":"app"})";
  ASSERT_TRUE(engine->RecordBuiltin(decision).ok());
  clock_.Set(t0 + 29LL * kMsPerDay);
  ASSERT_TRUE(engine->Checkpoint().ok());
  EXPECT_TRUE(engine->FindDecision(id).ok()) << "29 days old: kept (store.decision_log_retention is 30d)";
  clock_.Set(t0 + 31LL * kMsPerDay);
  ASSERT_TRUE(engine->Checkpoint().ok());
  EXPECT_EQ(engine->FindDecision(id).status().code(), ErrorCode::kNotFound);
  // Decision ids sort by time.
  EXPECT_LT(DecisionIdPrefix(t0), DecisionIdPrefix(t0 + 1));
  EXPECT_LT(DecisionIdPrefix(0xfffffffff), DecisionIdPrefix(0x1000000000));
}

TEST_F(EngineTest, ConcurrentWritersShareGroupCommits) {
  auto engine = Open(dir_.string());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 20; ++b) {
        std::string body;
        for (int i = 0; i < 50; ++i) {
          body += Usage("t" + std::to_string(t) + "b" + std::to_string(b) + "i" + std::to_string(i),
                        "s" + std::to_string(i % 7), 1) + "\n";
        }
        IngestResult r = engine->IngestNdjson(body);
        EXPECT_EQ(r.accepted, 50);
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (int s = 0; s < 7; ++s) total += EventsApplied(*engine, "s" + std::to_string(s));
  EXPECT_EQ(total, 8 * 20 * 50);
  EXPECT_EQ(engine->Stats().events_accepted, 8000);
}

TEST_F(EngineTest, LargeBatchesSpanSeveralTransactions) {
  auto engine = Open(dir_.string());
  std::string body;
  for (int i = 0; i < 40000; ++i) body += Usage("big" + std::to_string(i), "sub" + std::to_string(i), 1) + "\n";
  IngestResult r = engine->IngestNdjson(body);
  EXPECT_EQ(r.accepted, 40000);
  EXPECT_GE(engine->Stats().commits, 2);  // more subscribers than one transaction takes
  EXPECT_EQ(engine->Stats().subscribers, 40000);
  EXPECT_EQ(EventsApplied(*engine, "sub39999"), 1);
  r = engine->IngestNdjson(body);
  EXPECT_EQ(r.duplicates, 40000);
}

TEST_F(EngineTest, RecoversFromTheWalWhenTheStoreIsBehind) {
  // Simulates a crash: the profile store as of an early moment, the WAL as of a later one.
  const fs::path crash = dir_.string() + "-crash";
  fs::remove_all(crash);
  {
    auto engine = Open(dir_.string());
    ASSERT_EQ(engine->IngestNdjson(Usage("a", "s1", 10) + "\n" + Usage("b", "s2", 20)).accepted, 2);
    fs::copy(dir_, crash, fs::copy_options::recursive);  // store + WAL at this point
    std::string more;
    for (int i = 0; i < 100; ++i) more += Usage("m" + std::to_string(i), "s" + std::to_string(i % 3), 1) + "\n";
    ASSERT_EQ(engine->IngestNdjson(more).accepted, 100);
    // Take the later WALs into the crashed copy.
    for (const char* part : {"p0", "p1"}) {
      fs::remove_all(crash / "data" / part / "wal");
      fs::copy(dir_ / "data" / part / "wal", crash / "data" / part / "wal", fs::copy_options::recursive);
    }
  }
  auto recovered = Open(crash.string());
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(recovered->Stats().recovered_events, 100);
  EXPECT_EQ(EventsApplied(*recovered, "s0"), 34);
  EXPECT_EQ(EventsApplied(*recovered, "s1"), 1 + 33);
  EXPECT_EQ(EventsApplied(*recovered, "s2"), 1 + 33);
  // Replaying did not forget ids: the same events again are duplicates.
  EXPECT_EQ(recovered->IngestNdjson(Usage("m5", "s2", 1)).duplicates, 1);
  recovered.reset();
  // A clean restart replays nothing.
  auto again = Open(crash.string());
  EXPECT_EQ(again->Stats().recovered_events, 0);
  EXPECT_EQ(EventsApplied(*again, "s0"), 34);
  fs::remove_all(crash);
}

TEST_F(EngineTest, PartitionCountIsFixedPerStore) {
  { auto engine = Open(dir_.string()); }
  auto ws = Workspace::Load(dir_.string());
  ASSERT_TRUE(ws.ok());
  ws->config.store.partitions = 3;
  auto e = Engine::Open(*ws, &clock_, {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("has 2 partitions"), std::string::npos) << e.status().message();
}

TEST_F(EngineTest, RefusesAFolderThatIsNotAKnownStore) {
  fs::create_directories(dir_ / "data" / "profiles");  // something else lives there
  auto ws = Workspace::Load(dir_.string());
  ASSERT_TRUE(ws.ok());
  auto e = Engine::Open(*ws, &clock_, {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("no PARTITIONS file"), std::string::npos) << e.status().message();
}

TEST_F(EngineTest, OneProcessPerStore) {
  auto first = Open(dir_.string());
  auto ws = Workspace::Load(dir_.string());
  auto second = Engine::Open(*ws, &clock_, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(EngineTest, RefusesAStoreMadeWithAnotherSchema) {
  { auto engine = Open(dir_.string()); }
  const fs::path schema = dir_ / "schema.yaml";
  std::string text = *ReadFile(schema.string());
  text.replace(text.find("attributes:\n"), 12, "attributes:\n  loyalty_points: {type: int}\n");
  std::ofstream(schema) << text;
  auto ws = Workspace::Load(dir_.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto e = Engine::Open(*ws, &clock_, {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("attr loyalty_points"), std::string::npos) << e.status().message();
}

}  // namespace
}  // namespace kairos
