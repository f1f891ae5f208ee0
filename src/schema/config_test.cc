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

TEST(Config, InputLimitsAndTls) {
  auto c = Config::Parse(DefaultConfigYaml(), "kairos.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.max_json_depth, 32);
  EXPECT_EQ(c->server.max_string_bytes, 64 << 10);
  EXPECT_EQ(c->server.max_header_bytes, 16 << 10);
  EXPECT_EQ(c->server.request_timeout_ms, 60000);
  EXPECT_TRUE(c->server.tls_cert.empty());
  c = Config::Parse(
      "server:\n  max_json_depth: 8\n  max_string_bytes: 1KiB\n  request_timeout: 2s\n"
      "  max_header_bytes: 4KiB\n  max_connections: 50\n"
      "  tls: {cert: tls/cert.pem, key: /etc/kairos/key.pem}\n",
      "kairos.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.max_json_depth, 8);
  EXPECT_EQ(c->server.max_string_bytes, 1024);
  EXPECT_EQ(c->server.request_timeout_ms, 2000);
  EXPECT_EQ(c->server.max_header_bytes, 4096);
  EXPECT_EQ(c->server.max_connections, 50);
  EXPECT_EQ(c->server.tls_cert, "tls/cert.pem");
  EXPECT_EQ(c->server.tls_key, "/etc/kairos/key.pem");

  c = Config::Parse("server:\n  max_json_depth: 1\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("kairos.yaml:2:19:", 0), 0u) << c.status().message();
  c = Config::Parse("server:\n  request_timeout: 10ms\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("at least 100ms"), std::string::npos);
  c = Config::Parse("server:\n  tls: {cert: a.pem}\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("both cert and key"), std::string::npos);
  c = Config::Parse("server:\n  tls: {cert: a.pem, key: b.pem, ca: c.pem}\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key \"ca\""), std::string::npos);
}

TEST(Config, ConsoleDir) {
  auto c = Config::Parse(DefaultConfigYaml(), "kairos.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->console.dir.empty());  // next to the binary
  c = Config::Parse("console:\n  dir: /srv/kairos/console\n", "kairos.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->console.dir, "/srv/kairos/console");
  c = Config::Parse("console:\n  path: x\n", "kairos.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key \"path\""), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace kairos
