// Fuzzes the signed offer token verifier (src/offer/token.h) with a fixed keyring: k1 retired,
// k2 verify (rotated out), k3 active.
//
// Invariants beyond "no crash":
//  * VerifyToken succeeds exactly when it reports no error class, is deterministic, and its
//    message stays short whatever the input (it quotes at most 40 characters);
//  * a token it accepts is canonical: re-encoding its claims and signing them with the key it
//    names gives back the same bytes (no second spelling of a valid token), and that key is not
//    retired and the token not expired;
//  * the other way round, claims built from the input are signed, verify to equal claims, and
//    flipping any one byte of the signed token makes it fail.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_common.h"
#include "offer/offer_keys.h"
#include "offer/token.h"

namespace kairos::fuzz {
namespace {

constexpr TimestampMs kNow = 1772366400000;  // 2026-03-01T12:00:00Z

const offer::OfferKeyring& Keys() {
  static const offer::OfferKeyring keys = [] {
    auto k = offer::OfferKeyring::Parse(
        R"({"version":1,"keys":[
          {"kid":"k1","status":"retired","created":"2026-01-01T10:00:00Z","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"},
          {"kid":"k2","status":"verify","created":"2026-02-01T10:00:00Z","secret":"BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY"},
          {"kid":"k3","status":"active","created":"2026-03-01T10:00:00Z","secret":"Dg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0"}]})",
        "offer-keys.json");
    if (!k.ok()) Fail("fuzz keyring does not parse", k.status().message());
    return *k;
  }();
  return keys;
}

void CheckVerify(std::string_view token) {
  const offer::OfferKeyring& keys = Keys();
  offer::TokenError error = offer::TokenError::kNone;
  Result<offer::TokenClaims> claims = offer::VerifyToken(keys, token, kNow, &error);
  offer::TokenError again_error = offer::TokenError::kNone;
  Result<offer::TokenClaims> again = offer::VerifyToken(keys, token, kNow, &again_error);
  KAIROS_FUZZ_CHECK(claims.ok() == (error == offer::TokenError::kNone), "");
  KAIROS_FUZZ_CHECK(again.ok() == claims.ok() && again_error == error, "");
  if (!claims.ok()) {
    KAIROS_FUZZ_CHECK(!claims.status().message().empty(), "");
    KAIROS_FUZZ_CHECK(claims.status().message().size() < 400, claims.status().message());
    return;
  }
  const offer::OfferKey* key = keys.Find(claims->kid);
  KAIROS_FUZZ_CHECK(key != nullptr && key->status != offer::KeyStatus::kRetired, claims->kid);
  KAIROS_FUZZ_CHECK(claims->expires_at * 1000 > kNow, "");
  const std::string payload = offer::EncodeTokenPayload(*claims, claims->version);
  Result<std::string> resigned = offer::SignTokenPayload(*key, payload);
  KAIROS_FUZZ_CHECK(resigned.ok(), resigned.status().message());
  KAIROS_FUZZ_CHECK(*resigned == token, "an accepted token has a second spelling");
}

void CheckSignVerify(std::string_view input) {
  if (input.size() < 4) return;
  // Claims from the input: three strings cut at bytes 1..3, expiry from byte 0.
  const size_t a = 1 + static_cast<uint8_t>(input[1]) % (input.size() - 1);
  const size_t b = a + (input.size() > a ? static_cast<uint8_t>(input[2]) % (input.size() - a + 1) : 0);
  offer::TokenClaims c;
  c.subscriber_id = std::string(input.substr(3, a > 3 ? a - 3 : 0));
  c.action_id = std::string(input.substr(a, b - a));
  c.treatment = std::string(input.substr(b));
  c.expires_at = kNow / 1000 + 1 + static_cast<uint8_t>(input[0]) * 3600;
  Result<offer::SignedToken> signed_token = offer::SignToken(Keys(), c);
  const bool valid = [&] {
    for (const std::string* s : {&c.subscriber_id, &c.action_id, &c.treatment}) {
      if (s->empty() || s->size() > offer::kMaxClaimString) return false;
    }
    return true;
  }();
  if (!valid) {
    KAIROS_FUZZ_CHECK(!signed_token.ok(), "signed a claim out of bounds");
    return;
  }
  if (!signed_token.ok()) {
    // Claims within bounds whose token would exceed kMaxTokenBytes are refused too.
    KAIROS_FUZZ_CHECK(signed_token.status().code() == ErrorCode::kInvalidArgument &&
                          c.subscriber_id.size() + c.action_id.size() + c.treatment.size() > 600,
                      signed_token.status().message());
    return;
  }
  const std::string& token = signed_token->token;
  KAIROS_FUZZ_CHECK(token.size() <= offer::kMaxTokenBytes, "");
  Result<offer::TokenClaims> got = offer::VerifyToken(Keys(), token, kNow);
  KAIROS_FUZZ_CHECK(got.ok(), got.status().message());
  KAIROS_FUZZ_CHECK(got->kid == Keys().active().kid, got->kid);
  KAIROS_FUZZ_CHECK(got->subscriber_id == c.subscriber_id && got->action_id == c.action_id &&
                        got->treatment == c.treatment && got->expires_at == c.expires_at,
                    token);
  KAIROS_FUZZ_CHECK(got->nonce == signed_token->claims.nonce, token);
  // Any one byte changed (position and value from the input) must be refused.
  std::string forged = token;
  const size_t pos = (static_cast<uint8_t>(input[2]) * 131u + static_cast<uint8_t>(input[3])) % forged.size();
  const char replacement = static_cast<char>(forged[pos] ^ (1 + static_cast<uint8_t>(input[0]) % 127));
  forged[pos] = replacement;
  KAIROS_FUZZ_CHECK(!offer::VerifyToken(Keys(), forged, kNow).ok(), forged);
  // Expired one second after its expiry.
  KAIROS_FUZZ_CHECK(!offer::VerifyToken(Keys(), token, c.expires_at * 1000).ok(), token);
}

}  // namespace
}  // namespace kairos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  kairos::fuzz::CheckVerify(input);
  kairos::fuzz::CheckSignVerify(input);
  return 0;
}
