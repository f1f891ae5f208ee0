// Server: the HTTP edge of a Kairos node (Boost.Beast/Asio). Routes requests to the Engine,
// maps ErrorCodes to HTTP status codes (the only place that knows them), serves /healthz,
// /readyz, /metrics and /v1/openapi.json. See README.md in this folder for routes and threading.
//
// Lifecycle: construct → Start() (binds, I/O threads run; /healthz answers) → AttachEngine()
// once recovery is done (/readyz and /v1/* start serving) → Stop() (or the destructor).
//
// Thread-safety: Start, AttachEngine and Stop may be called from any thread except the
// server's own I/O and worker threads; port() and ready() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "schema/config.h"

namespace kairos {

class Automation;
class DecisionService;
class OfferRoutes;

class Engine;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = an ephemeral port, returned by Start()
  int threads = 2;  // I/O threads; <= 0 means one per hardware thread
  // Threads that run Engine calls. Ingestion blocks until its group commit is durable, so these
  // are many (each waiting caller adds to the next group) and never the I/O threads.
  int worker_threads = 16;
  int64_t max_body_bytes = 32 << 20;    // larger Content-Length → 413 before reading the body
  int64_t max_batch_events = 100000;    // more NDJSON lines → 413
  int64_t idle_timeout_ms = 30000;      // a connection silent (or too slow) this long is closed
  int64_t max_header_bytes = 16 << 10;  // larger request head → 431
  int64_t max_json_depth = 32;          // JSON bodies nested deeper → 400 naming the pointer
  int64_t max_string_bytes = 64 << 10;  // a longer JSON string → 400 naming its field
  // A request's head and body (and, with TLS, the handshake) must arrive within this, counted
  // from its first byte → 408 and closed: a slow client cannot hold a connection forever.
  int64_t request_timeout_ms = 60000;
  int64_t max_connections = 10000;  // open connections beyond this → 503, closed at once
  // HTTPS only on the port when set: PEM certificate chain and unencrypted private key.
  std::string tls_cert;
  std::string tls_key;
  // API keys (KeyFile) and the audit log, normally <workspace>/keys.json and audit.log. With no
  // keys file every route but the public ones answers 401.
  std::string keys_path;
  std::string audit_path;
  double rate_limit_per_second = 0;  // per key, 0 = off (a key's own limit wins)
  double rate_limit_burst = 0;
  bool metrics_public = false;  // /metrics without a key

  static ServerOptions FromConfig(const ServerConfig& config);
};

class Server {
 public:
  // `clock` (the source of "now" for profile reads) must outlive the server.
  Server(ServerOptions options, const Clock* clock);
  // Stops the server if it is running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and starts the I/O and worker threads. Returns the bound port (useful with
  // port 0). Errors: kInvalidArgument (host is not an IP address; a TLS certificate or key
  // that is missing, unreadable, not PEM or not a pair — the message names the file), kIoError
  // (bind/listen failed, e.g. the port is taken), kFailedPrecondition (already started or
  // stopped).
  Result<int> Start();

  // Until an engine is attached, /readyz and every /v1/ route except the OpenAPI document
  // answer 503 with code "unavailable" (recovery in progress); /healthz answers 200
  // meanwhile. `engine` must stay valid until Stop() returns. Attach once.
  void AttachEngine(Engine* engine);
  // Serves the decisioning routes with `decisions` (after AttachEngine); must outlive Stop().
  void AttachDecisions(DecisionService* decisions);
  void AttachAutomation(Automation* automation);
  // Offer links, landing pages, orders and payments; must outlive Stop().
  void AttachOffers(const OfferRoutes* offers);

  // Graceful: stops accepting, closes idle connections, lets requests already handed to the
  // engine finish and their responses be written, then joins every thread. Idempotent.
  void Stop();

  // The bound port; 0 before Start().
  int port() const;
  // True when an engine is attached and the server is not stopping.
  bool ready() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kairos
