#include "schema/config.h"

#include <gtest/gtest.h>

namespace kairos {
namespace {

TEST(Config, DefaultConfigParsesToDefaults) {
  auto c = Config::Parse(DefaultConfigYaml(), "kairos.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->durability, Durability::kGroup);
  EXPECT_EQ(c->store.wal_segment_bytes, 16 << 20);
  EXPECT_EQ(c->ingest.max_future_ms, 24 * 3600 * 1000LL);
}

TEST(Config, ErrorsPointAtTheValue) {
  auto c = Config::Parse("server:\n  port: eighty\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("kairos.yaml:2:9:", 0), 0u) << c.status().message();
  c = Config::Parse("durability: sometimes\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strict or group"), std::string::npos);
  c = Config::Parse("store:\n  map_size: 12 parsecs\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("kairos.yaml:2:13:", 0), 0u) << c.status().message();
  c = Config::Parse("server: {prot: 1}\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key \"prot\""), std::string::npos);
  c = Config::Parse("server:\n  port: [1\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("kairos.yaml:", 0), 0u);
}

}  // namespace
}  // namespace kairos
