// The offer signing keyring: `<workspace>/offer-keys.json`, the HMAC-SHA256 keys that sign and
// verify offer link tokens (token.h).
//
// Each key has a short id (`kid`, carried in every token), a 32-byte random secret and a status:
//   active   signs and verifies (exactly one key is active);
//   verify   verifies tokens still in flight after a rotation, signs nothing;
//   retired  refused: a token signed with it no longer verifies.
// Rotation makes a new active key and turns the previous active key into a verify key;
// retirement turns a verify key into a retired one. Keys are never deleted, so a retired kid
// stays recognisable ("re-signed with an old key") instead of looking unknown.
//
// The file is JSON (docs/offers.md), created with one active key on first use, written with
// mode 0600 atomically (temp file, fsync, rename, folder fsync). Read-modify-write operations on
// the file (rotate, retire, create) hold an exclusive flock on `<file>.lock`, so a CLI rotation
// and a server creating the file cannot lose each other's keys.
//
// Thread-safety: an OfferKeyring is a plain value; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace kairos::offer {

enum class KeyStatus : uint8_t { kActive, kVerify, kRetired };
// "active", "verify", "retired".
std::string_view KeyStatusName(KeyStatus s);

inline constexpr size_t kKeySecretBytes = 32;
inline constexpr size_t kMaxKidLength = 16;

struct OfferKey {
  std::string kid;     // 1..16 characters of [A-Za-z0-9_-]
  std::string secret;  // kKeySecretBytes random bytes; never printed
  KeyStatus status = KeyStatus::kActive;
  TimestampMs created_ms = 0;
};

// True when `kid` is a well-formed key id (1..16 of [A-Za-z0-9_-]).
bool ValidKid(std::string_view kid);

class OfferKeyring {
 public:
  static constexpr std::string_view kFileName = "offer-keys.json";
  // `<workspace_dir>/offer-keys.json`.
  static std::string PathIn(const std::string& workspace_dir);

  // Parses the file's text. Errors (kInvalidArgument) are "<file_name>: <JSON pointer>: what is
  // wrong", with the pointer also as the Status field: malformed JSON (with its byte offset),
  // missing or mistyped members, unknown members, a kid that is malformed or used twice, a
  // secret that is not base64url of 32 bytes, an unknown status, no active key or more than one.
  static Result<OfferKeyring> Parse(std::string_view json, std::string_view file_name);
  // The file's text (secrets base64url-encoded).
  std::string ToJson() const;

  // Reads and parses `path`. kNotFound when the file does not exist, kIoError when it cannot be
  // read, Parse's errors otherwise (prefixed with the path).
  static Result<OfferKeyring> Load(const std::string& path);
  // Load, or when the file does not exist, creates it with one active key (under the lock).
  static Result<OfferKeyring> LoadOrCreate(const std::string& path, TimestampMs now);

  // A new keyring with one active key (kid "k1").
  static Result<OfferKeyring> Generate(TimestampMs now);

  // The key that signs. Always present in a parsed or generated keyring.
  const OfferKey& active() const { return keys_[active_]; }
  // The key with id `kid`, or null.
  const OfferKey* Find(std::string_view kid) const;
  const std::vector<OfferKey>& keys() const { return keys_; }

  // In memory: a new active key (a fresh kid); the previous active key becomes `verify`.
  // Returns the new key. kInternal when the random generator fails.
  Result<OfferKey> Rotate(TimestampMs now);
  // In memory: `kid` becomes retired. kNotFound for an unknown kid; kFailedPrecondition for the
  // active key (rotate first). Retiring a retired key is a no-op.
  Status Retire(std::string_view kid);

 private:
  std::vector<OfferKey> keys_;
  size_t active_ = 0;
};

// Writes `keyring` to `path` atomically with mode 0600.
Status SaveKeyring(const std::string& path, const OfferKeyring& keyring);

// Read-modify-write of the file under its lock (creating it first when absent). Return the new
// active key / the retired key; the caller prints the kid, never the secret.
Result<OfferKey> RotateKeyFile(const std::string& path, TimestampMs now);
Result<OfferKey> RetireKeyFile(const std::string& path, std::string_view kid, TimestampMs now);

// URL-safe base64 without padding (RFC 4648 §5), as used in tokens and the keyring file.
void AppendBase64Url(std::string_view in, std::string* out);
// Strict: false on a character outside the alphabet, an impossible length, or non-zero unused
// bits in the last character (so every byte string has exactly one encoding).
bool DecodeBase64Url(std::string_view in, std::string* out);

}  // namespace kairos::offer
