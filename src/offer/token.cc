#include "offer/token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>

namespace kairos::offer {

namespace {

constexpr size_t kFixedPayloadBytes = 1 + 8 + kNonceBytes;

// The HMAC implementation, fetched once (immutable afterwards; EVP_MAC is reference counted and
// thread-safe to use from many contexts).
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// HMAC-SHA256(key, data) into out[32]; false on an OpenSSL failure.
bool HmacSha256(std::string_view key, std::string_view data, unsigned char* out) {
  EVP_MAC* alg = HmacAlgorithm();
  if (alg == nullptr) return false;
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(alg));
  if (!ctx) return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    return false;
  }
  if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return false;
  }
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out, &len, kMacBytes) != 1 || len != kMacBytes) return false;
  return true;
}

Status Refuse(TokenError why, TokenError* error, std::string message) {
  if (error != nullptr) *error = why;
  ErrorCode code = ErrorCode::kInvalidArgument;
  switch (why) {
    case TokenError::kTooLarge: code = ErrorCode::kTooLarge; break;
    case TokenError::kUnknownKey: code = ErrorCode::kNotFound; break;
    case TokenError::kRetiredKey: code = ErrorCode::kFailedPrecondition; break;
    case TokenError::kExpired: code = ErrorCode::kOutOfRange; break;
    default: break;
  }
  return Status(code, "offer token: " + message, "token");
}

// Shows at most 40 characters of untrusted input, printable ASCII only.
std::string Excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > 40) out += "...";
  return out;
}

bool ReadString(std::string_view payload, size_t* pos, std::string* out) {
  if (*pos >= payload.size()) return false;
  const size_t len = static_cast<uint8_t>(payload[*pos]);
  ++*pos;
  if (len == 0 || payload.size() - *pos < len) return false;
  out->assign(payload.substr(*pos, len));
  *pos += len;
  return true;
}

}  // namespace

std::string TokenClaims::NonceHex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kNonceBytes);
  for (uint8_t b : nonce) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string_view TokenErrorName(TokenError e) {
  switch (e) {
    case TokenError::kNone: return "none";
    case TokenError::kMalformed: return "malformed";
    case TokenError::kTooLarge: return "too_large";
    case TokenError::kUnsupportedVersion: return "unsupported_version";
    case TokenError::kUnknownKey: return "unknown_key";
    case TokenError::kRetiredKey: return "retired_key";
    case TokenError::kBadSignature: return "bad_signature";
    case TokenError::kExpired: return "expired";
  }
  return "malformed";
}

std::string EncodeTokenPayload(const TokenClaims& claims, uint8_t version) {
  std::string p;
  p.reserve(kFixedPayloadBytes + 3 + claims.subscriber_id.size() + claims.action_id.size() +
            claims.treatment.size());
  p.push_back(static_cast<char>(version));
  const uint64_t exp = static_cast<uint64_t>(claims.expires_at);
  for (int shift = 56; shift >= 0; shift -= 8) p.push_back(static_cast<char>((exp >> shift) & 0xff));
  p.append(reinterpret_cast<const char*>(claims.nonce.data()), claims.nonce.size());
  for (const std::string* s : {&claims.subscriber_id, &claims.action_id, &claims.treatment}) {
    const size_t len = s->size() > kMaxClaimString ? kMaxClaimString : s->size();
    p.push_back(static_cast<char>(len));
    p.append(*s, 0, len);
  }
  return p;
}

Result<std::string> SignTokenPayload(const OfferKey& key, std::string_view payload) {
  std::string token;
  token.reserve(key.kid.size() + 2 + (payload.size() * 4 + 2) / 3 + 43);
  token.append(key.kid);
  token.push_back('.');
  AppendBase64Url(payload, &token);
  unsigned char mac[kMacBytes];
  if (!HmacSha256(key.secret, token, mac)) {
    return Internal("offer token: HMAC-SHA256 failed (OpenSSL)");
  }
  token.push_back('.');
  AppendBase64Url(std::string_view(reinterpret_cast<const char*>(mac), kMacBytes), &token);
  return token;
}

Result<SignedToken> SignToken(const OfferKeyring& keys, const TokenClaims& claims) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"subscriber_id", &claims.subscriber_id},
      {"action_id", &claims.action_id},
      {"treatment", &claims.treatment}};
  for (const auto& [name, value] : fields) {
    if (value->empty()) return InvalidArgument(std::string(name) + ": must not be empty", name);
    if (value->size() > kMaxClaimString) {
      return InvalidArgument(std::string(name) + ": longer than " + std::to_string(kMaxClaimString) +
                                 " bytes",
                             name);
    }
  }
  SignedToken out;
  out.claims = claims;
  out.claims.version = kTokenVersion;
  const OfferKey& key = keys.active();
  out.claims.kid = key.kid;
  if (RAND_bytes(out.claims.nonce.data(), static_cast<int>(out.claims.nonce.size())) != 1) {
    return Internal("offer token: the random generator (OpenSSL RAND_bytes) failed");
  }
  KAIROS_ASSIGN_OR_RETURN(out.token, SignTokenPayload(key, EncodeTokenPayload(out.claims)));
  if (out.token.size() > kMaxTokenBytes) {
    return InvalidArgument("offer token: " + std::to_string(out.token.size()) + " bytes, more than " +
                           std::to_string(kMaxTokenBytes) + "; shorten the ids");
  }
  return out;
}

Result<TokenClaims> VerifyToken(const OfferKeyring& keys, std::string_view token, TimestampMs now,
                                TokenError* error) {
  if (error != nullptr) *error = TokenError::kNone;
  if (token.size() > kMaxTokenBytes) {
    return Refuse(TokenError::kTooLarge, error,
                  std::to_string(token.size()) + " bytes, more than the " +
                      std::to_string(kMaxTokenBytes) + " allowed");
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Refuse(TokenError::kMalformed, error,
                  "expected kid.payload.signature, got \"" + Excerpt(token) + "\"");
  }
  const std::string_view kid = token.substr(0, dot1);
  const std::string_view payload_text = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view mac_text = token.substr(dot2 + 1);
  if (!ValidKid(kid)) return Refuse(TokenError::kMalformed, error, "malformed key id \"" + Excerpt(kid) + "\"");
  std::string payload, mac;
  if (payload_text.empty() || !DecodeBase64Url(payload_text, &payload)) {
    return Refuse(TokenError::kMalformed, error, "payload is not base64url");
  }
  if (!DecodeBase64Url(mac_text, &mac) || mac.size() != kMacBytes) {
    return Refuse(TokenError::kMalformed, error,
                  "signature is not base64url of " + std::to_string(kMacBytes) + " bytes (truncated?)");
  }
  const OfferKey* key = keys.Find(kid);
  if (key == nullptr) {
    return Refuse(TokenError::kUnknownKey, error, "signed with unknown key \"" + std::string(kid) + "\"");
  }
  if (key->status == KeyStatus::kRetired) {
    return Refuse(TokenError::kRetiredKey, error,
                  "signed with retired key \"" + key->kid + "\" (an old key; ask for a new link)");
  }
  unsigned char expected[kMacBytes];
  if (!HmacSha256(key->secret, token.substr(0, dot2), expected)) {
    return Status(ErrorCode::kInternal, "offer token: HMAC-SHA256 failed (OpenSSL)", "token");
  }
  if (CRYPTO_memcmp(expected, mac.data(), kMacBytes) != 0) {
    return Refuse(TokenError::kBadSignature, error, "bad signature (forged or altered)");
  }
  // Signed by us: the payload's layout is ours, but check every length anyway.
  if (payload.empty()) return Refuse(TokenError::kMalformed, error, "empty payload");
  const uint8_t version = static_cast<uint8_t>(payload[0]);
  if (version != kTokenVersion) {
    return Refuse(TokenError::kUnsupportedVersion, error,
                  "payload version " + std::to_string(version) + " (this build knows " +
                      std::to_string(kTokenVersion) + ")");
  }
  if (payload.size() < kFixedPayloadBytes + 3) {
    return Refuse(TokenError::kMalformed, error, "payload truncated");
  }
  TokenClaims c;
  c.kid = key->kid;
  c.version = version;
  uint64_t exp = 0;
  for (size_t i = 1; i <= 8; ++i) exp = (exp << 8) | static_cast<uint8_t>(payload[i]);
  c.expires_at = static_cast<int64_t>(exp);
  for (size_t i = 0; i < kNonceBytes; ++i) c.nonce[i] = static_cast<uint8_t>(payload[9 + i]);
  size_t pos = kFixedPayloadBytes;
  if (!ReadString(payload, &pos, &c.subscriber_id) || !ReadString(payload, &pos, &c.action_id) ||
      !ReadString(payload, &pos, &c.treatment)) {
    return Refuse(TokenError::kMalformed, error, "payload truncated");
  }
  if (pos != payload.size()) {
    return Refuse(TokenError::kMalformed, error,
                  std::to_string(payload.size() - pos) + " trailing bytes in the payload");
  }
  if (c.expires_at < 0 || now / 1000 >= c.expires_at) {
    return Refuse(TokenError::kExpired, error,
                  "expired at unix time " + std::to_string(c.expires_at) + " (now " +
                      std::to_string(now / 1000) + ")");
  }
  return c;
}

}  // namespace kairos::offer
