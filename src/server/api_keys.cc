#include "server/api_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "schema/json_write.h"

namespace kairos {
namespace {

constexpr std::string_view kKeyPrefix = "kai_";
constexpr size_t kIdHexLen = 12;
constexpr size_t kSecretLen = 43;  // 32 bytes, base64url without padding
constexpr int64_t kRefreshEveryNs = 100'000'000;

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string Base64Url(const unsigned char* p, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < n) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (i + 1 < n) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Internal("the system random generator failed");
  }
  return out;
}

// SHA-256(salt || key) as raw bytes; empty on an OpenSSL failure (then nothing matches).
std::string SaltedHash(std::string_view salt, std::string_view key) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
            EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, digest, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  return std::string(reinterpret_cast<const char*>(digest), len);
}

Status FileError(const std::string& path, std::string_view pointer, std::string_view what) {
  return Status(ErrorCode::kCorruption, path + ": " + std::string(pointer) + ": " + std::string(what),
                std::string(pointer));
}

std::string Serialize(const std::vector<ApiKeyRecord>& keys) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  json::Key(w, "keys");
  w.StartArray();
  for (const ApiKeyRecord& k : keys) {
    w.StartObject();
    json::Key(w, "id");
    json::String(w, k.id);
    json::Key(w, "name");
    json::String(w, k.name);
    json::Key(w, "role");
    json::String(w, RoleName(k.role));
    json::Key(w, "salt");
    json::String(w, k.salt_hex);
    json::Key(w, "hash");
    json::String(w, k.hash_hex);
    json::Key(w, "created_ms");
    w.Int64(k.created_ms);
    json::Key(w, "revoked_ms");
    w.Int64(k.revoked_ms);
    json::Key(w, "rate_per_second");
    w.Double(k.rate_per_second);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  out.push_back('\n');
  return out;
}

// Holds an exclusive flock on <path>.lock: `kairos keys` commands run by two operators at once
// must not lose each other's change (read-modify-write of the whole file).
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string lock_path = path + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return IoError(lock_path + ": cannot open: " + std::strerror(errno));
    if (::flock(fd, LOCK_EX) != 0) {
      int err = errno;
      ::close(fd);
      return IoError(lock_path + ": cannot lock: " + std::strerror(err));
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

Status Save(const std::string& path, const std::vector<ApiKeyRecord>& keys) {
  KAIROS_RETURN_IF_ERROR(WriteFileAtomic(path, Serialize(keys)));
  // Hashes only, but still nobody else's business.
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kDecision: return "decision";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "decision") return Role::kDecision;
  if (name == "operator") return Role::kOperator;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool RoleAllows(Role role, Access access) {
  switch (access) {
    case Access::kPublic:
    case Access::kMetrics:
    case Access::kViewer:
      return true;
    case Access::kDecision:
      return role == Role::kDecision || role == Role::kAdmin;
    case Access::kOperator:
      return role == Role::kOperator || role == Role::kAdmin;
    case Access::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

std::optional<std::string_view> KeyIdOf(std::string_view key) {
  if (key.size() != kKeyPrefix.size() + kIdHexLen + 1 + kSecretLen) return std::nullopt;
  if (key.substr(0, kKeyPrefix.size()) != kKeyPrefix) return std::nullopt;
  if (key[kKeyPrefix.size() + kIdHexLen] != '_') return std::nullopt;
  return key.substr(kKeyPrefix.size(), kIdHexLen);
}

std::string KeyFile::PathIn(const std::string& workspace_dir) {
  return (std::filesystem::path(workspace_dir) / "keys.json").string();
}

Result<std::vector<ApiKeyRecord>> KeyFile::Load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<ApiKeyRecord>{};
  KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    return FileError(path, "", std::string("not JSON at byte ") +
                                   std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject() || !doc.HasMember("keys") || !doc["keys"].IsArray()) {
    return FileError(path, "/keys", "expected an object with a \"keys\" array");
  }
  std::vector<ApiKeyRecord> out;
  const auto& arr = doc["keys"];
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    const std::string at = "/keys/" + std::to_string(i);
    const auto& v = arr[i];
    if (!v.IsObject()) return FileError(path, at, "expected an object");
    auto str = [&](const char* name, std::string* dst) -> Status {
      auto it = v.FindMember(name);
      if (it == v.MemberEnd() || !it->value.IsString()) {
        return FileError(path, at + "/" + name, "expected a string");
      }
      dst->assign(it->value.GetString(), it->value.GetStringLength());
      return Status::Ok();
    };
    auto i64 = [&](const char* name, int64_t* dst) -> Status {
      auto it = v.FindMember(name);
      if (it == v.MemberEnd() || !it->value.IsInt64()) {
        return FileError(path, at + "/" + name, "expected an integer");
      }
      *dst = it->value.GetInt64();
      return Status::Ok();
    };
    ApiKeyRecord r;
    std::string role;
    KAIROS_RETURN_IF_ERROR(str("id", &r.id));
    KAIROS_RETURN_IF_ERROR(str("name", &r.name));
    KAIROS_RETURN_IF_ERROR(str("role", &role));
    KAIROS_RETURN_IF_ERROR(str("salt", &r.salt_hex));
    KAIROS_RETURN_IF_ERROR(str("hash", &r.hash_hex));
    KAIROS_RETURN_IF_ERROR(i64("created_ms", &r.created_ms));
    KAIROS_RETURN_IF_ERROR(i64("revoked_ms", &r.revoked_ms));
    auto rate = v.FindMember("rate_per_second");
    if (rate != v.MemberEnd()) {
      if (!rate->value.IsNumber() || !(rate->value.GetDouble() >= 0)) {
        return FileError(path, at + "/rate_per_second", "expected a number >= 0");
      }
      r.rate_per_second = rate->value.GetDouble();
    }
    std::optional<Role> parsed = ParseRole(role);
    if (!parsed) return FileError(path, at + "/role", "unknown role \"" + role + "\"");
    r.role = *parsed;
    std::string bytes;
    if (r.id.size() != kIdHexLen || !Unhex(r.id, &bytes)) {
      return FileError(path, at + "/id", "expected 12 lower-case hex digits");
    }
    if (!Unhex(r.salt_hex, &bytes) || bytes.size() != 16) {
      return FileError(path, at + "/salt", "expected 32 lower-case hex digits");
    }
    if (!Unhex(r.hash_hex, &bytes) || bytes.size() != 32) {
      return FileError(path, at + "/hash", "expected 64 lower-case hex digits");
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<KeyFile::Created> KeyFile::Create(const std::string& path, Role role, std::string name,
                                         double rate_per_second, TimestampMs now) {
  if (!(rate_per_second >= 0) || !std::isfinite(rate_per_second)) {
    return InvalidArgument("rate limit must be a number >= 0", "rate_per_second");
  }
  if (name.size() > 200) return InvalidArgument("name longer than 200 bytes", "name");
  KAIROS_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path));
  KAIROS_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, Load(path));
  KAIROS_ASSIGN_OR_RETURN(std::string id_bytes, RandomBytes(kIdHexLen / 2));
  KAIROS_ASSIGN_OR_RETURN(std::string secret, RandomBytes(32));
  KAIROS_ASSIGN_OR_RETURN(std::string salt, RandomBytes(16));
  ApiKeyRecord r;
  r.id = Hex(reinterpret_cast<const unsigned char*>(id_bytes.data()), id_bytes.size());
  for (const ApiKeyRecord& k : keys) {
    if (k.id == r.id) return Internal("key id collision; run the command again");
  }
  std::string key = std::string(kKeyPrefix) + r.id + "_" +
                    Base64Url(reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  std::string hash = SaltedHash(salt, key);
  if (hash.empty()) return Internal("SHA-256 failed");
  r.name = name.empty() ? std::string(RoleName(role)) + "-" + r.id.substr(0, 4) : std::move(name);
  r.role = role;
  r.salt_hex = Hex(reinterpret_cast<const unsigned char*>(salt.data()), salt.size());
  r.hash_hex = Hex(reinterpret_cast<const unsigned char*>(hash.data()), hash.size());
  r.created_ms = now;
  r.rate_per_second = rate_per_second;
  keys.push_back(r);
  KAIROS_RETURN_IF_ERROR(Save(path, keys));
  return Created{std::move(r), std::move(key)};
}

Result<ApiKeyRecord> KeyFile::Revoke(const std::string& path, std::string_view id,
                                     TimestampMs now) {
  KAIROS_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path));
  KAIROS_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, Load(path));
  for (ApiKeyRecord& k : keys) {
    if (k.id != id) continue;
    if (k.revoked_ms != 0) {
      return Status(ErrorCode::kFailedPrecondition, "key " + k.id + " is already revoked");
    }
    k.revoked_ms = now;
    KAIROS_RETURN_IF_ERROR(Save(path, keys));
    return k;
  }
  return NotFound("no key with id \"" + std::string(id) + "\"");
}

Authenticator::Authenticator(std::string keys_path, RateLimit default_limit, bool metrics_public)
    : keys_path_(std::move(keys_path)),
      default_limit_(default_limit),
      metrics_public_(metrics_public),
      snapshot_(std::make_shared<KeySet>()) {
  Refresh(true);
}

std::shared_ptr<const Authenticator::KeySet> Authenticator::Snapshot() {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void Authenticator::Refresh(bool force) {
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  if (!force && now_ns - last_check_ns_.load(std::memory_order_relaxed) < kRefreshEveryNs) return;
  std::unique_lock lock(refresh_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    if (!force) return;  // another thread is reading the file right now
    lock.lock();
  }
  last_check_ns_.store(now_ns, std::memory_order_relaxed);
  FileStamp stamp;
  struct stat st{};
  if (::stat(keys_path_.c_str(), &st) == 0) {
    stamp = {int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
             static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_ino)};
  }
  if (stamp == stamp_) return;
  Result<std::vector<ApiKeyRecord>> loaded = KeyFile::Load(keys_path_);
  // A file caught half-written cannot happen (atomic rename); a broken one keeps the keys in
  // force rather than locking everybody out, and is tried again at the next change.
  if (!loaded.ok()) return;
  stamp_ = stamp;
  auto set = std::make_shared<KeySet>();
  for (ApiKeyRecord& r : *loaded) {
    Entry e;
    Unhex(r.salt_hex, &e.salt);
    Unhex(r.hash_hex, &e.hash);
    if (r.revoked_ms == 0) ++set->active;
    std::string id = r.id;
    e.record = std::move(r);
    set->by_id[id] = std::move(e);
  }
  std::lock_guard swap(snapshot_mu_);
  snapshot_ = std::move(set);
}

int Authenticator::TakeToken(const Entry& entry) {
  RateLimit limit = default_limit_;
  if (entry.record.rate_per_second > 0) limit = {entry.record.rate_per_second, 0};
  if (limit.per_second <= 0) return 0;
  const double burst = limit.burst > 0 ? limit.burst : std::max(1.0, limit.per_second);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(buckets_mu_);
  auto [it, fresh] = buckets_.try_emplace(entry.record.id);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst, b.tokens + elapsed * limit.per_second);
  }
  b.refilled = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / limit.per_second)));
}

AuthOutcome Authenticator::Check(std::string_view presented, Access access) {
  AuthOutcome out;
  if (access == Access::kPublic || (access == Access::kMetrics && metrics_public_)) return out;
  if (presented.empty()) {
    missing_.fetch_add(1, std::memory_order_relaxed);
    out.status = Status(ErrorCode::kUnauthenticated,
                        "this endpoint needs an API key: send \"Authorization: Bearer <key>\" or "
                        "\"X-API-Key: <key>\" (create one with `kairos keys create`)");
    return out;
  }
  std::optional<std::string_view> id = KeyIdOf(presented);
  if (!id) {
    unknown_.fetch_add(1, std::memory_order_relaxed);
    out.status = Status(ErrorCode::kUnauthenticated, "the API key is malformed");
    return out;
  }
  Refresh(false);
  std::shared_ptr<const KeySet> set = Snapshot();
  auto it = set->by_id.find(std::string(*id));
  if (it == set->by_id.end()) {
    Refresh(true);  // a key created a moment ago
    set = Snapshot();
    it = set->by_id.find(std::string(*id));
  }
  const std::string hash =
      it == set->by_id.end() ? std::string() : SaltedHash(it->second.salt, presented);
  if (it == set->by_id.end() || hash.size() != it->second.hash.size() ||
      CRYPTO_memcmp(hash.data(), it->second.hash.data(), hash.size()) != 0) {
    unknown_.fetch_add(1, std::memory_order_relaxed);
    out.status = Status(ErrorCode::kUnauthenticated, "unknown API key");
    return out;
  }
  const Entry& e = it->second;
  if (e.record.revoked_ms != 0) {
    revoked_.fetch_add(1, std::memory_order_relaxed);
    out.status = Status(ErrorCode::kUnauthenticated, "API key " + e.record.id + " was revoked");
    return out;
  }
  out.principal = {e.record.id, e.record.name, e.record.role};
  if (!RoleAllows(e.record.role, access)) {
    forbidden_.fetch_add(1, std::memory_order_relaxed);
    out.status = Status(ErrorCode::kPermissionDenied,
                        "API key " + e.record.id + " has role " +
                            std::string(RoleName(e.record.role)) + ", which may not call this");
    return out;
  }
  if (int wait = TakeToken(e); wait > 0) {
    limited_.fetch_add(1, std::memory_order_relaxed);
    out.retry_after_s = wait;
    out.status = Status(ErrorCode::kRateLimited,
                        "API key " + e.record.id + " is over its rate limit; retry in " +
                            std::to_string(wait) + " s");
    return out;
  }
  ok_.fetch_add(1, std::memory_order_relaxed);
  return out;
}

Authenticator::Counts Authenticator::counts() const {
  Counts c;
  c.missing = missing_.load(std::memory_order_relaxed);
  c.unknown = unknown_.load(std::memory_order_relaxed);
  c.revoked = revoked_.load(std::memory_order_relaxed);
  c.forbidden = forbidden_.load(std::memory_order_relaxed);
  c.rate_limited = limited_.load(std::memory_order_relaxed);
  c.ok = ok_.load(std::memory_order_relaxed);
  return c;
}

size_t Authenticator::active_keys() {
  Refresh(false);
  return Snapshot()->active;
}

}  // namespace kairos
