#include "offer/offer_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"

namespace kairos::offer {
namespace {

constexpr TimestampMs kNow = 1767261600000;  // 2026-01-01T10:00:00Z

std::string TempDir(const std::string& name) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("kairos_offer_keys_" + name + "_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

const std::string kSecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";  // 32 zero bytes

std::string Key(const std::string& kid, const std::string& status,
                const std::string& secret = kSecret) {
  return R"({"kid":")" + kid + R"(","secret":")" + secret + R"(","status":")" + status + R"("})";
}

TEST(Base64Url, RoundTripAndStrictness) {
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(i * 37 + 251));
    std::string enc, dec;
    AppendBase64Url(bytes, &enc);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    ASSERT_TRUE(DecodeBase64Url(enc, &dec)) << n;
    EXPECT_EQ(dec, bytes);
  }
  std::string out;
  EXPECT_FALSE(DecodeBase64Url("A", &out));      // impossible length
  EXPECT_FALSE(DecodeBase64Url("AB=", &out));    // padding is not base64url here
  EXPECT_FALSE(DecodeBase64Url("AB+/", &out));   // standard alphabet
  EXPECT_FALSE(DecodeBase64Url("AB", &out));     // non-zero unused bits (B = 000001)
  EXPECT_TRUE(DecodeBase64Url("AA", &out));
}

TEST(OfferKeyring, ParsesAndWritesBack) {
  auto ring = OfferKeyring::Parse(
      R"({"version":1,"keys":[)" + Key("k1", "verify") + "," + Key("k2", "active") + "," +
          Key("old", "retired") + "]}",
      "offer-keys.json");
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  EXPECT_EQ(ring->active().kid, "k2");
  ASSERT_NE(ring->Find("old"), nullptr);
  EXPECT_EQ(ring->Find("old")->status, KeyStatus::kRetired);
  EXPECT_EQ(ring->Find("nope"), nullptr);
  auto again = OfferKeyring::Parse(ring->ToJson(), "x");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->keys().size(), 3u);
  EXPECT_EQ(again->active().secret, std::string(32, '\0'));
}

struct BadCase {
  std::string json;
  std::string field;  // expected Status field
  std::string words;  // expected in the message
};

TEST(OfferKeyring, FileErrorsNameFileAndField) {
  const std::vector<BadCase> cases = {
      {"{\"keys\":[", "", "malformed JSON at byte"},
      {"[]", "/", "expected an object"},
      {"{}", "/keys", "missing"},
      {"{\"keys\":{}}", "/keys", "expected an array"},
      {"{\"keys\":[]}", "/keys", "no keys"},
      {"{\"keys\":[1]}", "/keys/0", "expected an object"},
      {"{\"keys\":[{\"secret\":\"" + kSecret + "\",\"status\":\"active\"}]}", "/keys/0/kid", "missing"},
      {"{\"keys\":[{\"kid\":\"k1\",\"status\":\"active\"}]}", "/keys/0/secret", "missing"},
      {"{\"keys\":[{\"kid\":\"k1\",\"secret\":\"" + kSecret + "\"}]}", "/keys/0/status", "missing"},
      {"{\"keys\":[{\"kid\":1,\"secret\":\"" + kSecret + "\",\"status\":\"active\"}]}", "/keys/0/kid",
       "expected a string"},
      {"{\"keys\":[" + Key("k.1", "active") + "]}", "/keys/0/kid", "not a key id"},
      {"{\"keys\":[" + Key("k1", "active", "c2hvcnQ") + "]}", "/keys/0/secret", "32 random bytes"},
      {"{\"keys\":[" + Key("k1", "enabled") + "]}", "/keys/0/status", "not a status"},
      {"{\"keys\":[" + Key("k1", "active") + "," + Key("k1", "verify") + "]}", "/keys/1/kid",
       "used twice"},
      {"{\"keys\":[" + Key("k1", "active") + "," + Key("k2", "active") + "]}", "/keys",
       "2 active keys (k1, k2)"},
      {"{\"keys\":[" + Key("k1", "verify") + "]}", "/keys", "no active key"},
      {"{\"keys\":[" + Key("k1", "active") + "],\"extra\":1}", "/extra", "unknown member"},
      {"{\"version\":2,\"keys\":[" + Key("k1", "active") + "]}", "/version", "expected 1"},
  };
  for (const BadCase& c : cases) {
    auto r = OfferKeyring::Parse(c.json, "ws/offer-keys.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << c.json;
    EXPECT_EQ(r.status().field(), c.field) << c.json;
    EXPECT_NE(r.status().message().find("ws/offer-keys.json: "), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.words), std::string::npos) << r.status().message();
  }
}

TEST(OfferKeyring, CreatedOnFirstUseWithMode0600) {
  const std::string dir = TempDir("create");
  const std::string path = OfferKeyring::PathIn(dir);
  auto missing = OfferKeyring::Load(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);

  auto ring = OfferKeyring::LoadOrCreate(path, kNow);
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  EXPECT_EQ(ring->keys().size(), 1u);
  EXPECT_EQ(ring->active().kid, "k1");
  EXPECT_EQ(ring->active().secret.size(), kKeySecretBytes);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  // A second use reads the same key.
  auto again = OfferKeyring::LoadOrCreate(path, kNow + 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->active().secret, ring->active().secret);
  std::filesystem::remove_all(dir);
}

TEST(OfferKeyring, RotateAndRetireFile) {
  const std::string dir = TempDir("rotate");
  const std::string path = OfferKeyring::PathIn(dir);
  auto first = OfferKeyring::LoadOrCreate(path, kNow);
  ASSERT_TRUE(first.ok());

  auto k2 = RotateKeyFile(path, kNow + 1000);
  ASSERT_TRUE(k2.ok()) << k2.status().message();
  EXPECT_EQ(k2->kid, "k2");
  auto k3 = RotateKeyFile(path, kNow + 2000);
  ASSERT_TRUE(k3.ok());
  EXPECT_EQ(k3->kid, "k3");
  EXPECT_NE(k3->secret, k2->secret);

  auto ring = OfferKeyring::Load(path);
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  EXPECT_EQ(ring->active().kid, "k3");
  EXPECT_EQ(ring->Find("k1")->status, KeyStatus::kVerify);
  EXPECT_EQ(ring->Find("k2")->status, KeyStatus::kVerify);
  EXPECT_EQ(ring->Find("k1")->secret, first->active().secret);

  auto retired = RetireKeyFile(path, "k1", kNow);
  ASSERT_TRUE(retired.ok()) << retired.status().message();
  EXPECT_EQ(retired->status, KeyStatus::kRetired);
  EXPECT_EQ(OfferKeyring::Load(path)->Find("k1")->status, KeyStatus::kRetired);

  auto active = RetireKeyFile(path, "k3", kNow);
  ASSERT_FALSE(active.ok());
  EXPECT_EQ(active.status().code(), ErrorCode::kFailedPrecondition);
  auto unknown = RetireKeyFile(path, "k9", kNow);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("k1, k2, k3"), std::string::npos);

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::filesystem::remove_all(dir);
}

TEST(OfferKeyring, CorruptFileIsReportedNotReplaced) {
  const std::string dir = TempDir("corrupt");
  const std::string path = OfferKeyring::PathIn(dir);
  ASSERT_TRUE(WriteFileAtomic(path, "{\"keys\": [").ok());
  auto r = OfferKeyring::LoadOrCreate(path, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  auto rot = RotateKeyFile(path, kNow);
  ASSERT_FALSE(rot.ok());
  EXPECT_EQ(*ReadFile(path), "{\"keys\": [");  // nothing lost
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kairos::offer
