#include "channel/dispatcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "channel/channel_test_util.h"

namespace kairos::channel {
namespace {

using testing::ScratchDir;
using testing::WaitFor;

Delivery Make(const std::string& id, const std::string& channel = "sms") {
  Delivery d;
  d.id = id;
  d.channel = channel;
  d.subscriber_id = "sub-" + id;
  d.created_ms = 1700000000000;
  d.payload = R"({"text":"hello","id":")" + id + R"("})";
  return d;
}

AdapterConfig FileAdapter(const std::string& path) {
  AdapterConfig c;
  c.kind = AdapterKind::kFile;
  c.path = path;
  c.backoff_initial_ms = 10;
  c.backoff_max_ms = 50;
  return c;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(DispatcherTest, EnqueueIsIdempotent) {
  ScratchDir dir;
  ManualClock clock(1700000000000);
  auto d = Dispatcher::Open(dir / "outbox", &clock, 1);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(dir / "sms.ndjson")}}).ok());

  auto first = (*d)->Enqueue(Make("dec1/a1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto again = (*d)->Enqueue(Make("dec1/a1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);

  // Within one batch, and against the outbox.
  const std::vector<Delivery> batch = {Make("dec2/a1"), Make("dec2/a1"), Make("dec1/a1"),
                                       Make("dec2/a2")};
  auto inserted = (*d)->EnqueueBatch(batch);
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(*inserted, (std::vector<bool>{true, false, false, true}));

  const ChannelStats s = (*d)->Stats().channels.at("sms");
  EXPECT_EQ(s.enqueued, 3);
  EXPECT_EQ(s.duplicates, 3);
  EXPECT_EQ(s.pending, 3);
}

TEST(DispatcherTest, EnqueueRejectsBadInput) {
  ScratchDir dir;
  ManualClock clock(1700000000000);
  auto d = Dispatcher::Open(dir / "outbox", &clock, 1);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(dir / "sms.ndjson")}}).ok());

  EXPECT_EQ((*d)->Enqueue(Make("x", "email")).status().code(), ErrorCode::kInvalidArgument);
  Delivery bad = Make("x");
  bad.payload = "[1,2]";
  EXPECT_EQ((*d)->Enqueue(bad).status().code(), ErrorCode::kInvalidArgument);
  bad.payload = R"({"a":1} {"b":2})";
  EXPECT_EQ((*d)->Enqueue(bad).status().code(), ErrorCode::kInvalidArgument);
  bad.payload = R"({"a":)";
  EXPECT_EQ((*d)->Enqueue(bad).status().field(), "payload");
  bad = Make("has space");
  EXPECT_EQ((*d)->Enqueue(bad).status().field(), "id");
  bad = Make("");
  EXPECT_EQ((*d)->Enqueue(bad).status().code(), ErrorCode::kInvalidArgument);
  bad = Make("x");
  bad.subscriber_id = "a\r\nb";
  EXPECT_EQ((*d)->Enqueue(bad).status().field(), "subscriber_id");
  bad.subscriber_id = "\xc3\x28";  // invalid UTF-8
  EXPECT_EQ((*d)->Enqueue(bad).status().field(), "subscriber_id");
  bad.subscriber_id = "Zo\xc3\xab";  // "Zoë"
  EXPECT_TRUE((*d)->Enqueue(bad).ok());
  // One bad delivery fails the whole batch.
  const std::vector<Delivery> batch = {Make("ok1"), Make("bad", "nope")};
  EXPECT_FALSE((*d)->EnqueueBatch(batch).ok());
  EXPECT_EQ((*d)->Stats().channels.at("sms").enqueued, 1);
}

TEST(DispatcherTest, ConfigureIsAllOrNothing) {
  ScratchDir dir;
  ManualClock clock(1700000000000);
  auto d = Dispatcher::Open(dir / "outbox", &clock, 1);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(dir / "sms.ndjson")}}).ok());

  AdapterConfig web;
  web.kind = AdapterKind::kWebhook;
  web.url = "ftp://example/";
  Status st = (*d)->Configure({{"sms", FileAdapter(dir / "sms.ndjson")}, {"push", web}});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.field(), "channels.push.url");
  web.url = "https://example.com/hook";
  EXPECT_EQ((*d)->Configure({{"push", web}}).code(), ErrorCode::kInvalidArgument);
  web.url = "http://127.0.0.1:8080/hook";
  web.max_attempts = 0;
  EXPECT_EQ((*d)->Configure({{"push", web}}).field(), "channels.push.max_attempts");
  web.max_attempts = 3;
  web.backoff_max_ms = 1;
  EXPECT_EQ((*d)->Configure({{"push", web}}).field(), "channels.push.backoff_max_ms");
  {
    std::ofstream(dir / "plain-file") << "x";  // a file where the sink's folder would go
  }
  EXPECT_EQ((*d)->Configure({{"sms", FileAdapter(dir / "plain-file/x.ndjson")}}).code(),
            ErrorCode::kIoError);
  AdapterConfig nats;
  nats.kind = AdapterKind::kNats;
  EXPECT_EQ((*d)->Configure({{"n", nats}}).field(), "channels.n.nats_url");

  // The failed reloads left the old set: sms works, push does not exist.
  EXPECT_TRUE((*d)->Enqueue(Make("a")).ok());
  EXPECT_EQ((*d)->Enqueue(Make("b", "push")).status().code(), ErrorCode::kInvalidArgument);

  // A reload without sms: its pending delivery waits, new ones are refused.
  web.backoff_max_ms = 1000;
  ASSERT_TRUE((*d)->Configure({{"push", web}}).ok());
  EXPECT_EQ((*d)->Enqueue(Make("c")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*d)->Stats().channels.at("sms").pending, 1);
}

TEST(DispatcherTest, PendingSurvivesReopenAndDeliveredStaysDelivered) {
  ScratchDir dir;
  ManualClock clock(1700000000000);
  const std::string file = dir / "sms.ndjson";
  {
    auto d = Dispatcher::Open(dir / "outbox", &clock, 1);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(file)}}).ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*d)->Enqueue(Make("p" + std::to_string(i))).ok());
    // Closed without Start: nothing delivered.
  }
  EXPECT_TRUE(ReadLines(file).empty());
  {
    auto d = Dispatcher::Open(dir / "outbox", &clock, 1);
    ASSERT_TRUE(d.ok());
    // Known from the outbox alone, before any Configure.
    EXPECT_EQ((*d)->Stats().channels.at("sms").pending, 5);
    EXPECT_EQ((*d)->Enqueue(Make("p0")).status().code(), ErrorCode::kInvalidArgument);
    ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(file)}}).ok());
    EXPECT_FALSE(*(*d)->Enqueue(Make("p3")));
    (*d)->Start();
    ASSERT_TRUE(WaitFor([&] { return (*d)->Stats().channels.at("sms").delivered == 5; }));
    EXPECT_EQ((*d)->Stats().channels.at("sms").pending, 0);
  }
  EXPECT_EQ(ReadLines(file).size(), 5u);
  {
    auto d = Dispatcher::Open(dir / "outbox", &clock, 1);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(file)}}).ok());
    EXPECT_EQ((*d)->Stats().channels.at("sms").pending, 0);
    EXPECT_FALSE(*(*d)->Enqueue(Make("p0")));  // delivered ids are remembered
    (*d)->Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(ReadLines(file).size(), 5u);  // nothing sent twice
}

// A process killed with SIGKILL right after Enqueue returned, while its workers were failing
// against a receiver that is down: every delivery is still there after the restart.
void KillDuringDeliveryAndRecover(const DispatcherOptions& options) {
  ScratchDir dir;
  const std::string outbox = dir / "outbox";
  constexpr int kCount = 40;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SystemClock clock;
    auto d = Dispatcher::Open(outbox, &clock, 1, options);
    if (!d.ok()) ::_exit(2);
    AdapterConfig down;
    down.kind = AdapterKind::kWebhook;
    down.url = "http://127.0.0.1:1/hook";  // nothing listens on port 1
    down.timeout_ms = 200;
    down.backoff_initial_ms = 1;
    down.backoff_max_ms = 5;
    down.max_attempts = 1000;  // stays pending (failing) until the kill
    if (!(*d)->Configure({{"sms", down}}).ok()) ::_exit(3);
    (*d)->Start();
    for (int i = 0; i < kCount; ++i) {
      auto r = (*d)->Enqueue(Make("k" + std::to_string(i)));
      if (!r.ok() || !*r) ::_exit(4);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  SystemClock clock;
  auto d = Dispatcher::Open(outbox, &clock, 1);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->Stats().channels.at("sms").pending, kCount);
  const std::string file = dir / "sms.ndjson";
  ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(file)}}).ok());
  (*d)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*d)->Stats().channels.at("sms").delivered == kCount; }));
  std::set<std::string> ids;
  for (const std::string& line : ReadLines(file)) {
    const size_t at = line.find("\"id\":\"");
    ASSERT_NE(at, std::string::npos);
    ids.insert(line.substr(at + 6, line.find('"', at + 6) - at - 6));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCount));
  EXPECT_TRUE((*d)->DeadLetters(10).empty());
}

TEST(DispatcherTest, SurvivesKill9) { KillDuringDeliveryAndRecover(DispatcherOptions()); }

// Commits that reached the OS but not the disk survive a killed process too.
TEST(DispatcherTest, SurvivesKill9WithoutFsyncPerEnqueue) {
  DispatcherOptions options;
  options.fsync_each_enqueue = false;
  options.sync_interval_ms = 60000;  // no fsync at all before the kill
  KillDuringDeliveryAndRecover(options);
}

TEST(DispatcherTest, DeliveredIdsAreForgottenAfterRetention) {
  ScratchDir dir;
  ManualClock clock(1700000000000);
  DispatcherOptions options;
  options.retention_ms = kMsPerHour;
  auto d = Dispatcher::Open(dir / "outbox", &clock, 1, options);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Configure({{"sms", FileAdapter(dir / "sms.ndjson")}}).ok());
  (*d)->Start(1);
  ASSERT_TRUE(*(*d)->Enqueue(Make("r1")));
  ASSERT_TRUE(WaitFor([&] { return (*d)->Stats().channels.at("sms").delivered == 1; }));
  clock.Advance(30 * 60 * 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_FALSE(*(*d)->Enqueue(Make("r1")));  // still remembered
  clock.Advance(2 * kMsPerHour);
  // The writer purges within a wake-up (50 ms); then the id is new again.
  EXPECT_TRUE(WaitFor([&] {
    auto r = (*d)->Enqueue(Make("r1"));
    return r.ok() && *r;
  }));
}

}  // namespace
}  // namespace kairos::channel
