#include "schema/config.h"

#include <filesystem>

#include "schema/yaml_util.h"

namespace kairos {

Result<Config> Config::Parse(std::string_view yaml_text, std::string_view file) {
  KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(yaml_text, file));
  Config c;
  if (root.IsNull()) return c;  // an empty file means all defaults
  KAIROS_RETURN_IF_ERROR(CheckKeys(file, root, {"server", "store", "durability", "ingest", "auth", "metrics", "console", "offers", "payments"}, "kairos.yaml"));
  if (const YAML::Node s = root["server"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, s, {"host", "port", "threads", "max_body_bytes", "max_batch_events", "idle_timeout", "max_header_bytes", "max_json_depth", "max_string_bytes", "request_timeout", "max_connections", "tls"}, "server"));
    if (s["host"]) { KAIROS_ASSIGN_OR_RETURN(c.server.host, YamlString(file, s["host"], "server.host")); }
    if (s["port"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t p, YamlInt(file, s["port"], "server.port"));
      if (p < 0 || p > 65535) return YamlError(file, s["port"], "server.port must be 0..65535");
      c.server.port = static_cast<int>(p);
    }
    if (s["threads"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t t, YamlInt(file, s["threads"], "server.threads"));
      if (t < 1 || t > 256) return YamlError(file, s["threads"], "server.threads must be 1..256");
      c.server.threads = static_cast<int>(t);
    }
    if (s["max_body_bytes"]) { KAIROS_ASSIGN_OR_RETURN(c.server.max_body_bytes, YamlBytes(file, s["max_body_bytes"], "server.max_body_bytes")); }
    if (s["max_batch_events"]) {
      KAIROS_ASSIGN_OR_RETURN(c.server.max_batch_events, YamlInt(file, s["max_batch_events"], "server.max_batch_events"));
      if (c.server.max_batch_events < 1) return YamlError(file, s["max_batch_events"], "server.max_batch_events must be positive");
    }
    if (s["idle_timeout"]) { KAIROS_ASSIGN_OR_RETURN(c.server.idle_timeout_ms, YamlDurationMs(file, s["idle_timeout"], "server.idle_timeout")); }
    if (s["max_header_bytes"]) {
      KAIROS_ASSIGN_OR_RETURN(c.server.max_header_bytes, YamlBytes(file, s["max_header_bytes"], "server.max_header_bytes"));
      if (c.server.max_header_bytes < 1024 || c.server.max_header_bytes > (1 << 30)) return YamlError(file, s["max_header_bytes"], "server.max_header_bytes must be 1KiB..1GiB");
    }
    if (s["max_json_depth"]) {
      KAIROS_ASSIGN_OR_RETURN(c.server.max_json_depth, YamlInt(file, s["max_json_depth"], "server.max_json_depth"));
      if (c.server.max_json_depth < 2 || c.server.max_json_depth > 1000) return YamlError(file, s["max_json_depth"], "server.max_json_depth must be 2..1000");
    }
    if (s["max_string_bytes"]) {
      KAIROS_ASSIGN_OR_RETURN(c.server.max_string_bytes, YamlBytes(file, s["max_string_bytes"], "server.max_string_bytes"));
      if (c.server.max_string_bytes < 256) return YamlError(file, s["max_string_bytes"], "server.max_string_bytes must be at least 256 bytes");
    }
    if (s["request_timeout"]) {
      KAIROS_ASSIGN_OR_RETURN(c.server.request_timeout_ms, YamlDurationMs(file, s["request_timeout"], "server.request_timeout"));
      if (c.server.request_timeout_ms < 100) return YamlError(file, s["request_timeout"], "server.request_timeout must be at least 100ms");
    }
    if (s["max_connections"]) {
      KAIROS_ASSIGN_OR_RETURN(c.server.max_connections, YamlInt(file, s["max_connections"], "server.max_connections"));
      if (c.server.max_connections < 1) return YamlError(file, s["max_connections"], "server.max_connections must be positive");
    }
    if (const YAML::Node t = s["tls"]; t && !t.IsNull()) {
      KAIROS_RETURN_IF_ERROR(CheckKeys(file, t, {"cert", "key"}, "server.tls"));
      if (!t["cert"] || !t["key"]) return YamlError(file, t, "server.tls needs both cert and key (PEM files)");
      KAIROS_ASSIGN_OR_RETURN(c.server.tls_cert, YamlString(file, t["cert"], "server.tls.cert"));
      KAIROS_ASSIGN_OR_RETURN(c.server.tls_key, YamlString(file, t["key"], "server.tls.key"));
      if (c.server.tls_cert.empty() || c.server.tls_key.empty()) return YamlError(file, t, "server.tls.cert and server.tls.key must not be empty");
    }
  }
  if (const YAML::Node s = root["store"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, s, {"path", "map_size", "wal_segment_size", "checkpoint_interval", "partitions", "decision_log_retention"}, "store"));
    if (s["decision_log_retention"]) {
      KAIROS_ASSIGN_OR_RETURN(c.store.decision_log_retention_ms, YamlDurationMs(file, s["decision_log_retention"], "store.decision_log_retention"));
      if (c.store.decision_log_retention_ms < 3600000) return YamlError(file, s["decision_log_retention"], "store.decision_log_retention must be at least 1h");
    }
    if (s["path"]) { KAIROS_ASSIGN_OR_RETURN(c.store.path, YamlString(file, s["path"], "store.path")); }
    if (s["map_size"]) { KAIROS_ASSIGN_OR_RETURN(c.store.map_size_bytes, YamlBytes(file, s["map_size"], "store.map_size")); }
    if (s["wal_segment_size"]) { KAIROS_ASSIGN_OR_RETURN(c.store.wal_segment_bytes, YamlBytes(file, s["wal_segment_size"], "store.wal_segment_size")); }
    if (s["checkpoint_interval"]) { KAIROS_ASSIGN_OR_RETURN(c.store.checkpoint_interval_ms, YamlDurationMs(file, s["checkpoint_interval"], "store.checkpoint_interval")); }
    if (s["partitions"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file, s["partitions"], "store.partitions"));
      if (n < 1 || n > 64) return YamlError(file, s["partitions"], "store.partitions must be 1..64");
      c.store.partitions = static_cast<int>(n);
    }
    if (c.store.map_size_bytes < (int64_t{1} << 20)) return YamlError(file, s, "store.map_size must be at least 1MiB");
    if (c.store.wal_segment_bytes < (int64_t{1} << 16)) return YamlError(file, s, "store.wal_segment_size must be at least 64KiB");
  }
  if (const YAML::Node d = root["durability"]) {
    KAIROS_ASSIGN_OR_RETURN(std::string v, YamlString(file, d, "durability"));
    if (v == "strict") c.durability = Durability::kStrict;
    else if (v == "group") c.durability = Durability::kGroup;
    else return YamlError(file, d, "durability must be strict or group, got \"" + v + "\"");
  }
  if (const YAML::Node s = root["ingest"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, s, {"max_future", "dedupe_window"}, "ingest"));
    if (s["max_future"]) { KAIROS_ASSIGN_OR_RETURN(c.ingest.max_future_ms, YamlDurationMs(file, s["max_future"], "ingest.max_future")); }
    if (s["dedupe_window"]) { KAIROS_ASSIGN_OR_RETURN(c.ingest.dedupe_window_ms, YamlDurationMs(file, s["dedupe_window"], "ingest.dedupe_window")); }
  }
  if (const YAML::Node a = root["auth"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, a, {"rate_limit"}, "auth"));
    if (const YAML::Node r = a["rate_limit"]) {
      KAIROS_RETURN_IF_ERROR(CheckKeys(file, r, {"per_second", "burst"}, "auth.rate_limit"));
      if (r["per_second"]) {
        KAIROS_ASSIGN_OR_RETURN(c.auth.rate_limit_per_second,
                                YamlNumber(file, r["per_second"], "auth.rate_limit.per_second"));
        if (!(c.auth.rate_limit_per_second >= 0)) {
          return YamlError(file, r["per_second"], "auth.rate_limit.per_second must be >= 0");
        }
      }
      if (r["burst"]) {
        KAIROS_ASSIGN_OR_RETURN(c.auth.rate_limit_burst,
                                YamlNumber(file, r["burst"], "auth.rate_limit.burst"));
        if (!(c.auth.rate_limit_burst >= 0)) {
          return YamlError(file, r["burst"], "auth.rate_limit.burst must be >= 0");
        }
      }
    }
  }
  if (const YAML::Node k = root["console"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, k, {"dir"}, "console"));
    if (k["dir"]) { KAIROS_ASSIGN_OR_RETURN(c.console.dir, YamlString(file, k["dir"], "console.dir")); }
  }
  if (const YAML::Node o = root["offers"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, o, {"base_url"}, "offers"));
    if (o["base_url"]) {
      KAIROS_ASSIGN_OR_RETURN(c.offers_base_url, YamlString(file, o["base_url"], "offers.base_url"));
      if (c.offers_base_url.rfind("http://", 0) != 0 && c.offers_base_url.rfind("https://", 0) != 0) {
        return YamlError(file, o["base_url"], "offers.base_url must start with http:// or https://");
      }
      while (!c.offers_base_url.empty() && c.offers_base_url.back() == '/') c.offers_base_url.pop_back();
    }
  }
  if (const YAML::Node m = root["metrics"]) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file, m, {"public"}, "metrics"));
    if (m["public"]) {
      KAIROS_ASSIGN_OR_RETURN(c.auth.metrics_public, YamlBool(file, m["public"], "metrics.public"));
    }
  }
  return c;
}

Result<Config> Config::Load(const std::string& path) {
  KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  KAIROS_ASSIGN_OR_RETURN(Config c, Parse(text, path));
  // TLS files are named relative to the workspace, the folder of kairos.yaml.
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  for (std::string* f : {&c.server.tls_cert, &c.server.tls_key, &c.console.dir}) {
    if (!f->empty() && std::filesystem::path(*f).is_relative()) *f = (dir / *f).string();
  }
  return c;
}

std::string_view DefaultConfigYaml() {
  return R"yaml(# Kairos workspace configuration. Durations: 500ms, 30s, 15m, 48h, 7d. Sizes: 64KiB, 64MiB, 8GiB.

server:
  host: 127.0.0.1          # listen address; use 0.0.0.0 to accept other machines
  port: 8080
  threads: 2               # I/O threads (one per core is right)
  max_body_bytes: 32MiB    # larger request bodies get 413 before they are read
  max_batch_events: 100000 # events per NDJSON request
  idle_timeout: 30s        # a client that sends nothing for this long is disconnected
  request_timeout: 60s     # a request's head and body must arrive within this (else 408)
  max_header_bytes: 16KiB  # request line and headers (else 431)
  max_json_depth: 32       # arrays/objects nested deeper are refused (400)
  max_string_bytes: 64KiB  # any longer JSON string is refused (400)
  max_connections: 10000   # connections beyond this are refused (503)
  # tls: {cert: tls/cert.pem, key: tls/key.pem}   # HTTPS only; paths relative to this folder

store:
  path: data               # profile store (LMDB) and write-ahead log, relative to this folder
  map_size: 16GiB          # upper bound of each partition's LMDB file; disk is used as profiles grow
  wal_segment_size: 16MiB   # the current segment stays after a checkpoint: small keeps disk low
  checkpoint_interval: 5s  # how often LMDB is synced and old WAL segments are removed
  partitions: 2            # subscribers are split over this many writers (one per core);
                           # fixed when the store is created
  decision_log_retention: 30d  # decisions (what was offered, why) are kept this long for
                               # responses, replay and off-policy evaluation

# strict: every acknowledged write is on disk on its own (fsync per request).
# group:  concurrent writes share one fsync before they are acknowledged; same guarantee
#         against a killed process, higher throughput. LMDB itself is synced at checkpoints.
durability: group

ingest:
  max_future: 24h          # events stamped further ahead of the server clock are rejected
  dedupe_window: 72h       # event ids are remembered per subscriber this long (event time);
                           # older events than newest-minus-window are rejected as too late

# API keys: `kairos keys create --workspace DIR --role viewer|decision|operator|admin`.
auth:
  rate_limit: {per_second: 0, burst: 0}   # per key; 0 = no limit; a key's own --rate-limit wins

metrics:
  public: false            # true: /metrics answers without a key (a scraper on a private network)
)yaml";
}

}  // namespace kairos
