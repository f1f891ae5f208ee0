#include "offer/token.h"

#include <gtest/gtest.h>

#include <set>

namespace kairos::offer {
namespace {

constexpr TimestampMs kNow = 1767261600000;  // 2026-01-01T10:00:00Z
constexpr int64_t kNowS = kNow / 1000;

TokenClaims Claims(const std::string& subscriber = "S0001234") {
  TokenClaims c;
  c.subscriber_id = subscriber;
  c.action_id = "DATA_5GB";
  c.treatment = "DATA_5GB/web";
  c.expires_at = kNowS + 3600;
  return c;
}

OfferKeyring Ring() {
  auto r = OfferKeyring::Generate(kNow);
  EXPECT_TRUE(r.ok());
  return std::move(r).value();
}

TokenError Why(const OfferKeyring& ring, std::string_view token, TimestampMs now = kNow) {
  TokenError e = TokenError::kNone;
  auto r = VerifyToken(ring, token, now, &e);
  EXPECT_EQ(r.ok(), e == TokenError::kNone);
  if (!r.ok()) {
    EXPECT_EQ(r.status().field(), "token");
    EXPECT_NE(r.status().message().find("offer token: "), std::string::npos);
  }
  return e;
}

TEST(Token, RoundTrip) {
  const OfferKeyring ring = Ring();
  auto t = SignToken(ring, Claims());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
            std::string::npos)
      << t->token;
  EXPECT_TRUE(t->token.starts_with("k1."));
  EXPECT_LT(t->token.size(), 160u);
  auto c = VerifyToken(ring, t->token, kNow);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kid, "k1");
  EXPECT_EQ(c->version, kTokenVersion);
  EXPECT_EQ(c->subscriber_id, "S0001234");
  EXPECT_EQ(c->action_id, "DATA_5GB");
  EXPECT_EQ(c->treatment, "DATA_5GB/web");
  EXPECT_EQ(c->expires_at, kNowS + 3600);
  EXPECT_EQ(c->nonce, t->claims.nonce);
  EXPECT_EQ(c->NonceHex().size(), 24u);
}

TEST(Token, NoncesAreUnique) {
  const OfferKeyring ring = Ring();
  std::set<std::string> nonces, tokens;
  for (int i = 0; i < 1000; ++i) {
    auto t = SignToken(ring, Claims());
    ASSERT_TRUE(t.ok());
    nonces.insert(t->claims.NonceHex());
    tokens.insert(t->token);
  }
  EXPECT_EQ(nonces.size(), 1000u);
  EXPECT_EQ(tokens.size(), 1000u);
}

TEST(Token, RefusesBadClaims) {
  const OfferKeyring ring = Ring();
  TokenClaims c = Claims("");
  auto r = SignToken(ring, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "subscriber_id");
  c = Claims(std::string(300, 'x'));
  r = SignToken(ring, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "subscriber_id");
}

TEST(Token, Expired) {
  const OfferKeyring ring = Ring();
  auto t = SignToken(ring, Claims());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Why(ring, t->token, (kNowS + 3599) * 1000 + 999), TokenError::kNone);
  EXPECT_EQ(Why(ring, t->token, (kNowS + 3600) * 1000), TokenError::kExpired);
  auto r = VerifyToken(ring, t->token, (kNowS + 7200) * 1000);
  EXPECT_EQ(r.status().code(), ErrorCode::kOutOfRange);
}

TEST(Token, ForgedSignature) {
  const OfferKeyring ring = Ring();
  auto t = SignToken(ring, Claims());
  ASSERT_TRUE(t.ok());
  // Flip each character of the MAC part in turn (to another base64url character).
  const size_t mac_at = t->token.rfind('.') + 1;
  for (size_t i = mac_at; i < t->token.size(); ++i) {
    std::string forged = t->token;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    const TokenError e = Why(ring, forged);
    // The last character carries 2 unused bits: some flips are non-canonical (malformed).
    EXPECT_TRUE(e == TokenError::kBadSignature || (i + 1 == t->token.size() && e == TokenError::kMalformed))
        << i << " " << TokenErrorName(e);
  }
  // A token signed with another keyring's k1.
  const OfferKeyring other = Ring();
  auto foreign = SignToken(other, Claims());
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(Why(ring, foreign->token), TokenError::kBadSignature);
  EXPECT_EQ(VerifyToken(ring, foreign->token, kNow).status().code(), ErrorCode::kInvalidArgument);
  // An altered payload: another subscriber, expiry or action, re-encoded but not re-signed.
  TokenClaims altered = t->claims;
  altered.subscriber_id = "S9999999";
  altered.expires_at += 86400;
  std::string payload_text;
  AppendBase64Url(EncodeTokenPayload(altered), &payload_text);
  const std::string spliced = "k1." + payload_text + t->token.substr(t->token.rfind('.'));
  EXPECT_EQ(Why(ring, spliced), TokenError::kBadSignature);
}

TEST(Token, PayloadSwappedBetweenTwoValidTokens) {
  const OfferKeyring ring = Ring();
  auto a = SignToken(ring, Claims("S0000001"));
  auto b = SignToken(ring, Claims("S0000002"));
  ASSERT_TRUE(a.ok() && b.ok());
  auto parts = [](const std::string& t) {
    const size_t d1 = t.find('.'), d2 = t.rfind('.');
    return std::array<std::string, 3>{t.substr(0, d1), t.substr(d1 + 1, d2 - d1 - 1), t.substr(d2 + 1)};
  };
  const auto pa = parts(a->token), pb = parts(b->token);
  EXPECT_EQ(Why(ring, pa[0] + "." + pb[1] + "." + pa[2]), TokenError::kBadSignature);
  EXPECT_EQ(Why(ring, pa[0] + "." + pa[1] + "." + pb[2]), TokenError::kBadSignature);
  EXPECT_EQ(Why(ring, a->token), TokenError::kNone);
  EXPECT_EQ(Why(ring, b->token), TokenError::kNone);
}

TEST(Token, TruncatedAtEveryLength) {
  const OfferKeyring ring = Ring();
  auto t = SignToken(ring, Claims());
  ASSERT_TRUE(t.ok());
  for (size_t n = 0; n < t->token.size(); ++n) {
    const std::string cut = t->token.substr(0, n);
    const TokenError e = Why(ring, cut);
    EXPECT_TRUE(e == TokenError::kMalformed || e == TokenError::kBadSignature)
        << n << ": " << TokenErrorName(e);
  }
  // Dropping characters from the front or the middle.
  for (size_t n = 1; n < t->token.size(); ++n) {
    EXPECT_NE(Why(ring, t->token.substr(n)), TokenError::kNone) << n;
    std::string hole = t->token;
    hole.erase(n, 1);
    EXPECT_NE(Why(ring, hole), TokenError::kNone) << n;
  }
}

TEST(Token, Malformed) {
  const OfferKeyring ring = Ring();
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "k1..", "k1.AAAA", "k1.AAAA.BBBB.CCCC", "k1.!!!!.AAAA",
                                "k1.AAAA.AAAA", "k 1.AAAA.AAAA", "k1.AAAA.AA=A", std::string("k1.AA\0A.AAAA", 12),
                                "verylongkeyid0123456789.AAAA.AAAA", "\xff\xfe.AAAA.AAAA"}) {
    EXPECT_EQ(Why(ring, bad), TokenError::kMalformed) << bad;
  }
}

TEST(Token, Oversized) {
  const OfferKeyring ring = Ring();
  const std::string big = "k1." + std::string(kMaxTokenBytes, 'A') + ".AAAA";
  EXPECT_EQ(Why(ring, big), TokenError::kTooLarge);
  EXPECT_EQ(VerifyToken(ring, big, kNow).status().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(Why(ring, std::string(10 << 20, '.')), TokenError::kTooLarge);
}

TEST(Token, UnknownKey) {
  const OfferKeyring ring = Ring();
  auto t = SignToken(ring, Claims());
  ASSERT_TRUE(t.ok());
  const std::string other_kid = "k7" + t->token.substr(2);
  EXPECT_EQ(Why(ring, other_kid), TokenError::kUnknownKey);
  EXPECT_EQ(VerifyToken(ring, other_kid, kNow).status().code(), ErrorCode::kNotFound);
}

TEST(Token, RotationThenRetirement) {
  OfferKeyring ring = Ring();
  auto before = SignToken(ring, Claims());
  ASSERT_TRUE(before.ok());
  auto k2 = ring.Rotate(kNow);
  ASSERT_TRUE(k2.ok());
  // Signed before the rotation: still verifies while k1 is a verify key.
  EXPECT_EQ(Why(ring, before->token), TokenError::kNone);
  auto after = SignToken(ring, Claims());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->token.starts_with("k2."));
  EXPECT_EQ(Why(ring, after->token), TokenError::kNone);
  // Re-signing the old token's payload with the new key's id but the old MAC fails too.
  EXPECT_EQ(Why(ring, "k2" + before->token.substr(2)), TokenError::kBadSignature);

  ASSERT_TRUE(ring.Retire("k1").ok());
  EXPECT_EQ(Why(ring, before->token), TokenError::kRetiredKey);
  EXPECT_EQ(VerifyToken(ring, before->token, kNow).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Why(ring, after->token), TokenError::kNone);
  EXPECT_FALSE(ring.Retire("k2").ok());  // the active key
}

TEST(Token, UnsupportedVersion) {
  const OfferKeyring ring = Ring();
  TokenClaims c = Claims();
  auto t = SignTokenPayload(ring.active(), EncodeTokenPayload(c, 2));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Why(ring, *t), TokenError::kUnsupportedVersion);
  auto ok = SignTokenPayload(ring.active(), EncodeTokenPayload(c, kTokenVersion));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(Why(ring, *ok), TokenError::kNone);
}

TEST(Token, SignedButBadLayoutIsMalformed) {
  const OfferKeyring ring = Ring();
  const std::string good = EncodeTokenPayload(Claims());
  for (size_t n = 1; n < good.size(); ++n) {
    auto t = SignTokenPayload(ring.active(), good.substr(0, n));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(Why(ring, *t), TokenError::kMalformed) << n;
  }
  auto trailing = SignTokenPayload(ring.active(), good + "x");
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(Why(ring, *trailing), TokenError::kMalformed);
}

TEST(Token, ErrorNamesAreStable) {
  EXPECT_EQ(TokenErrorName(TokenError::kBadSignature), "bad_signature");
  EXPECT_EQ(TokenErrorName(TokenError::kRetiredKey), "retired_key");
  EXPECT_EQ(TokenErrorName(TokenError::kExpired), "expired");
}

}  // namespace
}  // namespace kairos::offer
