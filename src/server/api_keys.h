// API keys: who may call the HTTP API, in which role, how often.
//
// Keys live in the workspace file keys.json as salted SHA-256 hashes; the key itself is printed
// once, by `kairos keys create`, and never stored. A key reads "kai_<id>_<secret>": the id
// (12 hex digits) finds the record without a scan, the 256-bit secret is what the hash covers.
// SHA-256 rather than a slow password hash: the secret is random and long, so guessing is
// hopeless anyway, and a slow hash would cost more than the decision it guards.
//
// `kairos keys` changes the file while `serve` runs: writers take an exclusive lock on
// keys.json.lock and replace the file atomically; the Authenticator notices within 100 ms
// (at once for a key it does not know yet).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "server/routes.h"

namespace kairos {

// viewer ⊂ decision ⊂ admin; viewer ⊂ operator ⊂ admin.
enum class Role { kViewer, kDecision, kOperator, kAdmin };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// True when `role` may call a route of `access` (kMetrics counts as kViewer here).
bool RoleAllows(Role role, Access access);

struct ApiKeyRecord {
  std::string id;    // public: shown by `keys list`, written to the audit log
  std::string name;  // the operator's label ("crm-prod")
  Role role = Role::kViewer;
  std::string salt_hex;  // 16 random bytes
  std::string hash_hex;  // SHA-256(salt || key)
  TimestampMs created_ms = 0;
  TimestampMs revoked_ms = 0;  // 0 = in force
  double rate_per_second = 0;  // 0 = the workspace's default (auth.rate_limit)
};

// The key file of a workspace.
class KeyFile {
 public:
  static std::string PathIn(const std::string& workspace_dir);

  // A missing file is an empty list. Errors name the file and the JSON pointer.
  static Result<std::vector<ApiKeyRecord>> Load(const std::string& path);

  struct Created {
    ApiKeyRecord record;
    std::string key;  // the only time the key exists outside the caller's hands
  };
  static Result<Created> Create(const std::string& path, Role role, std::string name,
                                double rate_per_second, TimestampMs now);
  // kNotFound for an unknown id; kFailedPrecondition when already revoked.
  static Result<ApiKeyRecord> Revoke(const std::string& path, std::string_view id,
                                     TimestampMs now);
};

// Parses "kai_<id>_<secret>"; the id, or nullopt when the text is not shaped like a key.
std::optional<std::string_view> KeyIdOf(std::string_view key);

struct RateLimit {
  double per_second = 0;  // 0 = off
  double burst = 0;       // bucket size; 0 = max(1, per_second)
};

struct Principal {
  std::string key_id;
  std::string name;
  Role role = Role::kViewer;
};

struct AuthOutcome {
  Status status;  // ok, kUnauthenticated, kPermissionDenied or kRateLimited
  Principal principal;
  int retry_after_s = 0;  // kRateLimited: seconds until a request would pass
};

// Checks the key a request presents. Thread-safe; the hot path takes one short lock for the
// key set snapshot and, with rate limits on, one for the key's bucket.
class Authenticator {
 public:
  Authenticator(std::string keys_path, RateLimit default_limit, bool metrics_public);

  // `presented`: the key from "Authorization: Bearer <key>" or "X-API-Key", empty if none.
  AuthOutcome Check(std::string_view presented, Access access);

  struct Counts {
    uint64_t missing = 0, unknown = 0, revoked = 0, forbidden = 0, rate_limited = 0, ok = 0;
  };
  Counts counts() const;
  size_t active_keys();

 private:
  struct Entry {
    ApiKeyRecord record;
    std::string salt;  // bytes
    std::string hash;  // bytes
  };
  struct KeySet {
    std::unordered_map<std::string, Entry> by_id;
    size_t active = 0;
  };
  struct FileStamp {
    int64_t mtime_ns = -1, size = -1, inode = -1;
    bool operator==(const FileStamp&) const = default;
  };
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
  };

  std::shared_ptr<const KeySet> Snapshot();
  // Re-reads the file if it changed since the last read. `force` skips the 100 ms throttle.
  void Refresh(bool force);
  // 0 when the request may pass, else seconds to wait.
  int TakeToken(const Entry& entry);

  const std::string keys_path_;
  const RateLimit default_limit_;
  const bool metrics_public_;

  std::mutex snapshot_mu_;
  std::shared_ptr<const KeySet> snapshot_;
  std::mutex refresh_mu_;  // one reader of the file at a time
  FileStamp stamp_;        // guarded by refresh_mu_
  std::atomic<int64_t> last_check_ns_{0};

  std::mutex buckets_mu_;
  std::unordered_map<std::string, Bucket> buckets_;

  std::atomic<uint64_t> missing_{0}, unknown_{0}, revoked_{0}, forbidden_{0}, limited_{0}, ok_{0};
};

}  // namespace kairos
