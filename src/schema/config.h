// Config: the workspace's kairos.yaml (server, store, durability, ingestion limits).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kairos {

enum class Durability {
  kStrict,  // each write is fsynced on its own, LMDB data synced on every commit
  kGroup,   // concurrent writes share one WAL fsync; LMDB synced at checkpoints
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 2;
  int64_t max_body_bytes = 32 << 20;
  int64_t max_batch_events = 100000;
  int64_t idle_timeout_ms = 30000;
  // Input limits (each refused with its own error and counted in /metrics by limit).
  int64_t max_header_bytes = 16 << 10;  // request line and headers → 431
  int64_t max_json_depth = 32;          // arrays/objects nested deeper → 400 naming the pointer
  int64_t max_string_bytes = 64 << 10;  // any JSON string or key longer → 400 naming the field
  int64_t request_timeout_ms = 60000;   // head and body must arrive within this → 408, closed
  int64_t max_connections = 10000;      // open connections beyond this are refused (503)
  // TLS: both set = HTTPS only on the port. Relative paths are relative to the workspace
  // (Config::Load resolves them against the folder of kairos.yaml).
  std::string tls_cert;
  std::string tls_key;
};

struct StoreConfig {
  std::string path = "data";            // relative to the workspace
  int64_t map_size_bytes = int64_t{16} << 30;
  int64_t wal_segment_bytes = 16 << 20;
  int64_t checkpoint_interval_ms = 5000;
  int partitions = 2;                   // independent writers (one per core); fixed per store
  int64_t decision_log_retention_ms = 30LL * 86400000;
};

struct IngestConfig {
  int64_t max_future_ms = 24 * 3600 * 1000LL;
  int64_t dedupe_window_ms = 72 * 3600 * 1000LL;
};

// API keys live in keys.json (`kairos keys`); this is how hard each key may be used.
struct AuthConfig {
  double rate_limit_per_second = 0;  // per key; 0 = no limit (a key's own limit wins)
  double rate_limit_burst = 0;       // 0 = one second's worth
  bool metrics_public = false;       // /metrics without a key (for a scraper on a private network)
};

// The operator console's built files (index.html, assets/); empty = next to the kairos binary
// (<exe dir>/../web/dist). Relative paths are relative to the workspace.
struct ConsoleConfig {
  std::string dir;
};

struct Config {
  ServerConfig server;
  ConsoleConfig console;
  AuthConfig auth;
  StoreConfig store;
  Durability durability = Durability::kGroup;
  IngestConfig ingest;
  // offers.base_url: where customers reach Kairos (links, QR codes); empty = this server.
  std::string offers_base_url;
  // The payments: section is the offer module's (offer/payment_config.h); listed here so that
  // the file's own check accepts it.

  static Result<Config> Parse(std::string_view yaml_text, std::string_view file_name);
  static Result<Config> Load(const std::string& path);
};

// The commented files `kairos init` writes. Both parse as-is (tested).
std::string_view DefaultConfigYaml();
std::string_view DefaultSchemaYaml();

}  // namespace kairos
