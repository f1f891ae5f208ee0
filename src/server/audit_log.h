// The audit log: who changed what, when. One JSON object per line in <workspace>/audit.log,
// appended and fsynced before the change is reported done, never rewritten. Every key
// operation, configuration change, model import and privacy erase writes one line, from the
// server and from the CLI alike (an exclusive flock keeps lines whole across processes).
//
// A line: {"ts":"RFC 3339","actor":"key:<id>"|"cli:<user>","role":"admin","action":"keys.create",
//          "target":"...","outcome":"ok"|"error: ...","detail":{...}}
// Subscriber ids never appear in clear: erasing someone must not leave their id behind, so a
// privacy action names the subscriber by the SHA-256 of the id (SubscriberRef).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace kairos {

struct AuditEntry {
  std::string actor;   // "key:<id>" for an API key, "cli:<user>" for the command line
  std::string role;    // the actor's role, empty for the command line
  std::string action;  // "keys.create", "config.reload", "subscriber.erase", ...
  std::string target;  // what it acted on: a key id, a file, a SubscriberRef
  std::string outcome = "ok";
  std::string detail_json;  // optional: a JSON object with more (never personal data)
};

class AuditLog {
 public:
  static std::string PathIn(const std::string& workspace_dir);
  explicit AuditLog(std::string path) : path_(std::move(path)) {}

  // Appends and fsyncs one line. Thread- and process-safe.
  Status Append(const AuditEntry& entry, TimestampMs now) const;
  // The newest `limit` lines, newest first (each a JSON object as written).
  Result<std::vector<std::string>> Tail(size_t limit) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// "sha256:<hex>" of a subscriber id, for audit lines about one subscriber.
std::string SubscriberRef(std::string_view subscriber_id);
// "cli:<login name>" for commands run from a shell.
std::string CliActor();

}  // namespace kairos
