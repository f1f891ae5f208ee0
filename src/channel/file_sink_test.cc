#include "channel/file_sink.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <set>

#include "channel/channel_test_util.h"
#include "channel/dispatcher.h"

namespace kairos::channel {
namespace {

using testing::ScratchDir;
using testing::WaitFor;

TEST(FileSinkTest, LineFormat) {
  std::string line;
  FileSink::AppendLine(SinkItem{"d\"1", "sms", "Zo\xc3\xab", 1700000000000, R"({"x":[1,2]})"},
                       &line);
  EXPECT_EQ(line,
            "{\"id\":\"d\\\"1\",\"channel\":\"sms\",\"subscriber_id\":\"Zo\xc3\xab\","
            "\"ts\":1700000000000,\"payload\":{\"x\":[1,2]}}\n");
}

TEST(FileSinkTest, DispatcherWritesOneLinePerDelivery) {
  ScratchDir dir;
  SystemClock clock;
  const std::string file = dir / "out.ndjson";
  constexpr int kCount = 300;
  {
    auto d = Dispatcher::Open(dir / "outbox", &clock, 3);
    ASSERT_TRUE(d.ok());
    AdapterConfig config;
    config.kind = AdapterKind::kFile;
    config.path = file;
    ASSERT_TRUE((*d)->Configure({{"email", config}}).ok());
    (*d)->Start();
    std::vector<Delivery> batch;
    for (int i = 0; i < kCount; ++i) {
      Delivery dl;
      dl.id = "dec" + std::to_string(i) + "/a";
      dl.channel = "email";
      dl.subscriber_id = "s" + std::to_string(i % 7);
      dl.created_ms = 1700000000000 + i;
      dl.payload = R"({"n":)" + std::to_string(i) + R"(,"text":"line\nbreak"})";
      batch.push_back(dl);
    }
    auto inserted = (*d)->EnqueueBatch(batch);
    ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
    ASSERT_TRUE(WaitFor([&] { return (*d)->Stats().channels.at("email").delivered == kCount; }));
    EXPECT_EQ((*d)->Stats().channels.at("email").pending, 0);
  }
  std::ifstream in(file);
  std::set<std::string> ids;
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    rapidjson::Document doc;
    doc.Parse(line.c_str(), line.size());
    ASSERT_FALSE(doc.HasParseError()) << line;
    ASSERT_TRUE(doc.IsObject());
    const std::string id = doc["id"].GetString();
    ids.insert(id);
    EXPECT_EQ(std::string(doc["channel"].GetString()), "email");
    const int n = doc["payload"]["n"].GetInt();
    EXPECT_EQ(id, "dec" + std::to_string(n) + "/a");
    EXPECT_EQ(doc["ts"].GetInt64(), 1700000000000 + n);
    EXPECT_EQ(std::string(doc["subscriber_id"].GetString()), "s" + std::to_string(n % 7));
    EXPECT_EQ(std::string(doc["payload"]["text"].GetString()), "line\nbreak");
  }
  EXPECT_EQ(lines, kCount);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCount));
}

}  // namespace
}  // namespace kairos::channel
