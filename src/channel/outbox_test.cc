#include "channel/outbox.h"

#include <gtest/gtest.h>

#include "channel/channel_test_util.h"

namespace kairos::channel {
namespace {

using testing::ScratchDir;

OutboxRecord Pending(const std::string& channel, TimestampMs t) {
  OutboxRecord r;
  r.state = RecordState::kPending;
  r.created_ms = t;
  r.enqueued_ms = t;
  r.next_attempt_ms = t;
  r.channel = channel;
  r.subscriber_id = "s1";
  r.payload = R"({"a":1})";
  return r;
}

TEST(OutboxTest, RecordRoundTripAndCorruption) {
  OutboxRecord r = Pending("sms", 1700000000000);
  r.attempts = 3;
  r.last_error = "HTTP 503 from http://x/";
  r.finished_ms = -5;
  const std::string bytes = EncodeRecord(r);
  OutboxRecord back;
  ASSERT_TRUE(DecodeRecord(bytes, &back).ok());
  EXPECT_EQ(back.attempts, 3);
  EXPECT_EQ(back.created_ms, r.created_ms);
  EXPECT_EQ(back.finished_ms, -5);
  EXPECT_EQ(back.channel, "sms");
  EXPECT_EQ(back.payload, r.payload);
  EXPECT_EQ(back.last_error, r.last_error);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_EQ(DecodeRecord(bytes.substr(0, cut), &back).code(), ErrorCode::kCorruption) << cut;
  }
  std::string bad = bytes;
  bad[0] = 9;  // unknown version
  EXPECT_EQ(DecodeRecord(bad, &back).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeRecord(bytes + "x", &back).code(), ErrorCode::kCorruption);
}

TEST(OutboxTest, IndexesFollowTheStateAndPurgeByTime) {
  ScratchDir dir;
  auto box = Outbox::Open(dir / "outbox", {});
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  {
    auto txn = (*box)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(txn->Put("d" + std::to_string(i), Pending("sms", 1000 + i)).ok());
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  {
    auto txn = (*box)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    OutboxRecord r = Pending("sms", 1000);
    r.state = RecordState::kDelivered;
    r.finished_ms = 5000;
    ASSERT_TRUE(txn->Put("d0", r).ok());
    r.state = RecordState::kDead;
    r.finished_ms = 6000;
    ASSERT_TRUE(txn->Put("d1", r).ok());
    r.finished_ms = 7000;
    ASSERT_TRUE(txn->Put("d2", r).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  std::vector<std::string> pending;
  ASSERT_TRUE((*box)
                  ->ForEachPending([&](std::string_view id, const OutboxRecord&) {
                    pending.emplace_back(id);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(pending, std::vector<std::string>{"d3"});
  auto dead = (*box)->NewestDead(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].first, "d2");  // newest first
  EXPECT_EQ((*dead)[1].first, "d1");

  auto txn = (*box)->BeginWrite();
  ASSERT_TRUE(txn.ok());
  auto purged = txn->PurgeDelivered(5000, 100);  // finished at 5000: not before 5000
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 0);
  purged = txn->PurgeDelivered(5001, 100);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  purged = txn->PurgeDead(6500, 100);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_FALSE(*(*box)->Contains("d0"));
  EXPECT_FALSE(*(*box)->Contains("d1"));
  EXPECT_TRUE(*(*box)->Contains("d2"));
  EXPECT_TRUE(*(*box)->Contains("d3"));
}

}  // namespace
}  // namespace kairos::channel
