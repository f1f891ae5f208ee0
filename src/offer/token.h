// Offer link tokens: what an offer URL carries, signed with HMAC-SHA256 so that nobody can
// forge, alter or re-target one.
//
//   token   = kid "." base64url(payload) "." base64url(mac)        (URL-safe, no padding)
//   mac     = HMAC-SHA256(secret of kid, kid "." base64url(payload))  (32 bytes)
//   payload = version (1 byte, = 1) | expires_at (int64 big-endian, unix seconds) |
//             nonce (12 random bytes) | subscriber_id | action_id | treatment
//             (each string: 1 length byte, then 1..255 bytes)
//
// The MAC covers the kid, so a payload cannot be moved under another key, and every byte of the
// payload, so two valid tokens cannot be spliced. The 96-bit nonce makes each token unique: the
// orders side keys an order by it (single use on acceptance). Tokens are at most
// kMaxTokenBytes; anything longer is refused before any decoding. Format: docs/offers.md.
//
// Thread-safety: free functions, safe to call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "offer/offer_keys.h"

namespace kairos::offer {

inline constexpr uint8_t kTokenVersion = 1;
inline constexpr size_t kMaxTokenBytes = 1024;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kMacBytes = 32;
inline constexpr size_t kMaxClaimString = 255;

struct TokenClaims {
  std::string kid;            // the key that signed it
  uint8_t version = kTokenVersion;
  std::string subscriber_id;
  std::string action_id;
  std::string treatment;      // treatment id, "<action id>/<channel>"
  int64_t expires_at = 0;     // unix seconds; the token is refused from this second on
  std::array<uint8_t, kNonceBytes> nonce{};

  // 24 lower-case hex digits: the key of the order this token may create (single use).
  std::string NonceHex() const;
};

// Why a token was refused: one class per kind of bad token, for tests, metrics and logs. The
// Status code of each: kMalformed, kUnsupportedVersion, kBadSignature → kInvalidArgument;
// kTooLarge → kTooLarge; kUnknownKey → kNotFound; kRetiredKey → kFailedPrecondition;
// kExpired → kOutOfRange.
enum class TokenError : uint8_t {
  kNone,
  kMalformed,           // not kid.payload.mac, bad base64url, truncated or trailing bytes
  kTooLarge,            // longer than kMaxTokenBytes
  kUnsupportedVersion,  // a payload version this build does not know
  kUnknownKey,          // no key with this kid
  kRetiredKey,          // signed with a key that was retired (an old key)
  kBadSignature,        // the MAC does not match (forged or altered)
  kExpired,             // now ≥ expires_at
};
// "malformed", "too_large", "unsupported_version", "unknown_key", "retired_key",
// "bad_signature", "expired" ("none" for kNone): stable names for metrics and JSON errors.
std::string_view TokenErrorName(TokenError e);

struct SignedToken {
  std::string token;
  TokenClaims claims;  // kid and nonce filled in
};

// Signs `claims` (subscriber_id, action_id, treatment, expires_at) with the keyring's active key
// and a fresh random nonce. kInvalidArgument when a string is empty or longer than
// kMaxClaimString (field: "subscriber_id", "action_id" or "treatment"); kInternal when OpenSSL
// fails.
Result<SignedToken> SignToken(const OfferKeyring& keys, const TokenClaims& claims);

// Checks everything, in this order: size, shape (kid.payload.mac, base64url, MAC length), key
// (unknown, retired), signature (constant time), payload (version, layout), expiry against
// `now`. Returns the claims, or the first failure with its class in `*error` (when given; set to
// kNone on success). The message names what is wrong and never echoes more than 40 characters of
// the input.
Result<TokenClaims> VerifyToken(const OfferKeyring& keys, std::string_view token, TimestampMs now,
                                TokenError* error = nullptr);

// Lower level, for tools and tests: the payload bytes of `claims` with the given version byte,
// and a token from a payload signed by `key` (no checks on the payload).
std::string EncodeTokenPayload(const TokenClaims& claims, uint8_t version = kTokenVersion);
Result<std::string> SignTokenPayload(const OfferKey& key, std::string_view payload);

}  // namespace kairos::offer
