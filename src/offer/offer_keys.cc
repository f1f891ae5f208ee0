#include "offer/offer_keys.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/file_util.h"
#include "common/time_format.h"

namespace kairos::offer {

namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int B64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

Status FieldError(std::string_view file_name, const std::string& pointer, const std::string& what) {
  return InvalidArgument(std::string(file_name) + ": " + pointer + ": " + what, pointer);
}

// An exclusive flock on `<path>.lock` for the lifetime of the object.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    const std::string lock_path = path + ".lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return IoError("cannot open " + lock_path + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      return IoError("cannot lock " + lock_path + ": " + err);
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

Result<std::string> RandomSecret() {
  std::string secret(kKeySecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1) {
    return Internal("the random generator (OpenSSL RAND_bytes) failed to make a key secret");
  }
  return secret;
}

// The next kid: "k" + one more than the largest number among kids of the form k<N>.
std::string NextKid(const std::vector<OfferKey>& keys) {
  uint64_t max = 0;
  for (const OfferKey& k : keys) {
    if (k.kid.size() < 2 || k.kid[0] != 'k' || k.kid.size() > 10) continue;
    uint64_t n = 0;
    bool digits = true;
    for (size_t i = 1; i < k.kid.size(); ++i) {
      if (k.kid[i] < '0' || k.kid[i] > '9') {
        digits = false;
        break;
      }
      n = n * 10 + static_cast<uint64_t>(k.kid[i] - '0');
    }
    if (digits && n > max) max = n;
  }
  return "k" + std::to_string(max + 1);
}

}  // namespace

std::string_view KeyStatusName(KeyStatus s) {
  switch (s) {
    case KeyStatus::kActive: return "active";
    case KeyStatus::kVerify: return "verify";
    case KeyStatus::kRetired: return "retired";
  }
  return "retired";
}

bool ValidKid(std::string_view kid) {
  if (kid.empty() || kid.size() > kMaxKidLength) return false;
  for (char c : kid) {
    if (B64UrlValue(c) < 0) return false;  // the base64url alphabet is [A-Za-z0-9_-]
  }
  return true;
}

void AppendBase64Url(std::string_view in, std::string* out) {
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint32_t{static_cast<uint8_t>(in[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    out->push_back(kB64Url[n >> 18]);
    out->push_back(kB64Url[(n >> 12) & 63]);
    out->push_back(kB64Url[(n >> 6) & 63]);
    out->push_back(kB64Url[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (i + 1 < in.size()) n |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out->push_back(kB64Url[n >> 18]);
    out->push_back(kB64Url[(n >> 12) & 63]);
    if (i + 1 < in.size()) out->push_back(kB64Url[(n >> 6) & 63]);
  }
}

bool DecodeBase64Url(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 == 1) return false;
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = B64UrlValue(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits (2 or 4) must be zero: one encoding per byte string.
  return (acc & ((1u << bits) - 1)) == 0;
}

std::string OfferKeyring::PathIn(const std::string& workspace_dir) {
  return (std::filesystem::path(workspace_dir) / kFileName).string();
}

const OfferKey* OfferKeyring::Find(std::string_view kid) const {
  for (const OfferKey& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

Result<OfferKeyring> OfferKeyring::Parse(std::string_view json, std::string_view file_name) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return InvalidArgument(std::string(file_name) + ": malformed JSON at byte " +
                           std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return FieldError(file_name, "/", "expected an object with a \"keys\" array");
  // Through a const view: C++20 finds RapidJSON's mixed const/non-const iterator comparisons
  // ambiguous (clang warns); const-to-const ones are not.
  const rapidjson::Value& root = doc;
  for (auto m = root.MemberBegin(); m != root.MemberEnd(); ++m) {
    const std::string name(m->name.GetString(), m->name.GetStringLength());
    if (name != "keys" && name != "version") {
      return FieldError(file_name, "/" + name, "unknown member (expected version, keys)");
    }
  }
  if (doc.HasMember("version")) {
    const auto& v = doc["version"];
    if (!v.IsInt() || v.GetInt() != 1) return FieldError(file_name, "/version", "expected 1");
  }
  if (!doc.HasMember("keys")) return FieldError(file_name, "/keys", "missing (an array of keys)");
  const auto& arr = doc["keys"];
  if (!arr.IsArray()) return FieldError(file_name, "/keys", "expected an array of keys");
  if (arr.Empty()) return FieldError(file_name, "/keys", "no keys (one must be active)");

  OfferKeyring ring;
  std::set<std::string, std::less<>> seen;
  std::vector<std::string> active_kids;
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    const std::string at = "/keys/" + std::to_string(i);
    const auto& k = arr[i];
    if (!k.IsObject()) return FieldError(file_name, at, "expected an object");
    for (auto m = k.MemberBegin(); m != k.MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      if (name != "kid" && name != "secret" && name != "status" && name != "created") {
        return FieldError(file_name, at + "/" + name,
                          "unknown member (expected kid, secret, status, created)");
      }
    }
    auto str = [&](const char* name, bool required, std::string* out) -> Status {
      if (!k.HasMember(name)) {
        if (required) return FieldError(file_name, at + "/" + name, "missing");
        return Status::Ok();
      }
      const auto& v = k[name];
      if (!v.IsString()) return FieldError(file_name, at + "/" + name, "expected a string");
      out->assign(v.GetString(), v.GetStringLength());
      return Status::Ok();
    };
    OfferKey key;
    std::string secret_text, status_text, created_text;
    KAIROS_RETURN_IF_ERROR(str("kid", true, &key.kid));
    KAIROS_RETURN_IF_ERROR(str("secret", true, &secret_text));
    KAIROS_RETURN_IF_ERROR(str("status", true, &status_text));
    KAIROS_RETURN_IF_ERROR(str("created", false, &created_text));
    if (!ValidKid(key.kid)) {
      return FieldError(file_name, at + "/kid",
                        "\"" + key.kid.substr(0, 40) + "\" is not a key id (1 to 16 of A-Z a-z 0-9 _ -)");
    }
    if (!seen.insert(key.kid).second) {
      return FieldError(file_name, at + "/kid", "key id \"" + key.kid + "\" is used twice");
    }
    if (!DecodeBase64Url(secret_text, &key.secret) || key.secret.size() != kKeySecretBytes) {
      return FieldError(file_name, at + "/secret",
                        "expected base64url (no padding) of " + std::to_string(kKeySecretBytes) +
                            " random bytes");
    }
    if (status_text == "active") {
      key.status = KeyStatus::kActive;
      active_kids.push_back(key.kid);
      ring.active_ = ring.keys_.size();
    } else if (status_text == "verify") {
      key.status = KeyStatus::kVerify;
    } else if (status_text == "retired") {
      key.status = KeyStatus::kRetired;
    } else {
      return FieldError(file_name, at + "/status",
                        "\"" + status_text.substr(0, 40) + "\" is not a status (active, verify, retired)");
    }
    if (!created_text.empty()) {
      auto t = ParseRfc3339(created_text);
      if (!t.ok()) return FieldError(file_name, at + "/created", t.status().message());
      key.created_ms = *t;
    }
    ring.keys_.push_back(std::move(key));
  }
  if (active_kids.empty()) {
    return FieldError(file_name, "/keys", "no active key (exactly one key must have status active)");
  }
  if (active_kids.size() > 1) {
    std::string list;
    for (const std::string& kid : active_kids) list += (list.empty() ? "" : ", ") + kid;
    return FieldError(file_name, "/keys",
                      std::to_string(active_kids.size()) + " active keys (" + list +
                          "); exactly one key must have status active");
  }
  return ring;
}

std::string OfferKeyring::ToJson() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  w.Key("keys");
  w.StartArray();
  for (const OfferKey& k : keys_) {
    w.StartObject();
    w.Key("kid");
    w.String(k.kid.c_str(), static_cast<rapidjson::SizeType>(k.kid.size()));
    w.Key("status");
    const std::string_view status = KeyStatusName(k.status);
    w.String(status.data(), static_cast<rapidjson::SizeType>(status.size()));
    w.Key("created");
    const std::string created = FormatRfc3339(k.created_ms);
    w.String(created.c_str(), static_cast<rapidjson::SizeType>(created.size()));
    w.Key("secret");
    std::string secret;
    AppendBase64Url(k.secret, &secret);
    w.String(secret.c_str(), static_cast<rapidjson::SizeType>(secret.size()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string out(sb.GetString(), sb.GetSize());
  out.push_back('\n');
  return out;
}

Result<OfferKeyring> OfferKeyring::Load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("no offer key file " + path);
  KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

Result<OfferKeyring> OfferKeyring::Generate(TimestampMs now) {
  OfferKeyring ring;
  OfferKey key;
  key.kid = "k1";
  KAIROS_ASSIGN_OR_RETURN(key.secret, RandomSecret());
  key.status = KeyStatus::kActive;
  key.created_ms = now;
  ring.keys_.push_back(std::move(key));
  ring.active_ = 0;
  return ring;
}

Result<OfferKeyring> OfferKeyring::LoadOrCreate(const std::string& path, TimestampMs now) {
  auto loaded = Load(path);
  if (loaded.ok() || loaded.status().code() != ErrorCode::kNotFound) return loaded;
  KAIROS_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path));
  // Another process may have created it while we waited for the lock.
  auto again = Load(path);
  if (again.ok() || again.status().code() != ErrorCode::kNotFound) return again;
  KAIROS_ASSIGN_OR_RETURN(OfferKeyring ring, Generate(now));
  KAIROS_RETURN_IF_ERROR(SaveKeyring(path, ring));
  return ring;
}

Result<OfferKey> OfferKeyring::Rotate(TimestampMs now) {
  OfferKey key;
  key.kid = NextKid(keys_);
  KAIROS_ASSIGN_OR_RETURN(key.secret, RandomSecret());
  key.status = KeyStatus::kActive;
  key.created_ms = now;
  keys_[active_].status = KeyStatus::kVerify;
  keys_.push_back(key);
  active_ = keys_.size() - 1;
  return key;
}

Status OfferKeyring::Retire(std::string_view kid) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].kid != kid) continue;
    if (i == active_) {
      return Status(ErrorCode::kFailedPrecondition,
                    "key " + std::string(kid) + " is the active key; rotate first, then retire it");
    }
    keys_[i].status = KeyStatus::kRetired;
    return Status::Ok();
  }
  std::string list;
  for (const OfferKey& k : keys_) list += (list.empty() ? "" : ", ") + k.kid;
  return NotFound("no offer key " + std::string(kid.substr(0, 40)) + " (keys: " + list + ")");
}

Status SaveKeyring(const std::string& path, const OfferKeyring& keyring) {
  const std::string text = keyring.ToJson();
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a stale temp file may carry looser permissions
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);  // whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string err = std::strerror(errno);
      ::close(fd);
      return IoError("cannot write " + tmp + ": " + err);
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return IoError("cannot sync " + tmp + ": " + err);
  }
  if (::close(fd) != 0) return IoError("cannot close " + tmp + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return IoError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

namespace {
// Loads (or generates) under the lock held by the caller.
Result<OfferKeyring> LoadLocked(const std::string& path, TimestampMs now) {
  auto loaded = OfferKeyring::Load(path);
  if (loaded.ok() || loaded.status().code() != ErrorCode::kNotFound) return loaded;
  return OfferKeyring::Generate(now);
}
}  // namespace

Result<OfferKey> RotateKeyFile(const std::string& path, TimestampMs now) {
  KAIROS_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path));
  KAIROS_ASSIGN_OR_RETURN(OfferKeyring ring, LoadLocked(path, now));
  KAIROS_ASSIGN_OR_RETURN(OfferKey key, ring.Rotate(now));
  KAIROS_RETURN_IF_ERROR(SaveKeyring(path, ring));
  return key;
}

Result<OfferKey> RetireKeyFile(const std::string& path, std::string_view kid, TimestampMs now) {
  KAIROS_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path));
  KAIROS_ASSIGN_OR_RETURN(OfferKeyring ring, LoadLocked(path, now));
  KAIROS_RETURN_IF_ERROR(ring.Retire(kid));
  KAIROS_RETURN_IF_ERROR(SaveKeyring(path, ring));
  return *ring.Find(kid);
}

}  // namespace kairos::offer
