#include "offer/link.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "schema/config.h"
#include "schema/schema.h"

namespace kairos::offer {
namespace {

constexpr TimestampMs kNow = 1767261600000;  // 2026-01-01T10:00:00Z

std::shared_ptr<const Decisioning> Demo() {
  static const std::shared_ptr<const Decisioning> d = [] {
    auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    EXPECT_TRUE(schema.ok());
    auto dec = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), *schema);
    EXPECT_TRUE(dec.ok()) << dec.status().message();
    return *dec;
  }();
  return d;
}

class LinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("kairos_link_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto l = OfferLinks::Open(dir_, [] { return Demo(); }, &clock_, "https://offers.example.eu/");
    ASSERT_TRUE(l.ok()) << l.status().message();
    links_ = std::move(l).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  LinkRequest Req() const {
    LinkRequest r;
    r.subscriber_id = "S0000042";
    r.action_id = "DATA_5GB";
    return r;
  }

  ManualClock clock_{kNow};
  std::string dir_;
  std::unique_ptr<OfferLinks> links_;
};

TEST_F(LinkTest, CreatesLinkWithWebTreatmentByDefault) {
  auto link = links_->Create(Req());
  ASSERT_TRUE(link.ok()) << link.status().message();
  EXPECT_EQ(link->url, "https://offers.example.eu/o/" + link->token);
  EXPECT_EQ(link->qr_png_url, link->url + "/qr.png");
  EXPECT_EQ(link->qr_svg_url, link->url + "/qr.svg");
  EXPECT_EQ(link->claims.treatment, "DATA_5GB/web");
  EXPECT_EQ(link->claims.expires_at, kNow / 1000 + kDefaultExpiresInSeconds);
  auto claims = links_->Verify(link->token);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->subscriber_id, "S0000042");
  EXPECT_EQ(claims->action_id, "DATA_5GB");
  EXPECT_TRUE(std::filesystem::exists(OfferKeyring::PathIn(dir_)));
  const std::string json = LinkToJson(*link);
  EXPECT_NE(json.find("\"qr_svg_url\":\"" + link->qr_svg_url + "\""), std::string::npos);
  EXPECT_NE(json.find("\"expires_at\":\"2026-01-08T10:00:00Z\""), std::string::npos) << json;
}

TEST_F(LinkTest, TreatmentByChannelOrId) {
  LinkRequest r = Req();
  r.treatment = "sms";
  auto by_channel = links_->Create(r);
  ASSERT_TRUE(by_channel.ok()) << by_channel.status().message();
  EXPECT_EQ(by_channel->claims.treatment, "DATA_5GB/sms");
  r.treatment = "DATA_5GB/email";
  auto by_id = links_->Create(r);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->claims.treatment, "DATA_5GB/email");
}

TEST_F(LinkTest, ErrorsNameTheField) {
  struct Case {
    LinkRequest r;
    std::string field;
    std::string words;
  };
  std::vector<Case> cases;
  LinkRequest r = Req();
  r.subscriber_id = "";
  cases.push_back({r, "/subscriber_id", "empty"});
  r = Req();
  r.subscriber_id = std::string(65, 's');
  cases.push_back({r, "/subscriber_id", "longer than 64"});
  r = Req();
  r.action_id = "NO_SUCH";
  cases.push_back({r, "/action_id", "no action \"NO_SUCH\""});
  r = Req();
  r.treatment = "call_center";
  cases.push_back({r, "/treatment", "DATA_5GB/sms"});
  r = Req();
  r.action_id = "DATA_1GB";  // no web treatment
  cases.push_back({r, "/treatment", "no treatment for channel web"});
  r = Req();
  r.expires_in_seconds = 0;
  cases.push_back({r, "/expires_in", "outside"});
  r = Req();
  r.expires_in_seconds = kMaxExpiresInSeconds + 1;
  cases.push_back({r, "/expires_in", "outside"});
  r = Req();
  r.base_url = "ftp://x";
  cases.push_back({r, "base_url", "expected http"});
  r = Req();
  r.base_url = "https://x/a b";
  cases.push_back({r, "base_url", "not allowed"});
  for (const Case& c : cases) {
    auto l = links_->Create(c.r);
    ASSERT_FALSE(l.ok()) << c.field;
    EXPECT_EQ(l.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(l.status().field(), c.field);
    EXPECT_NE(l.status().message().find(c.words), std::string::npos) << l.status().message();
  }
}

TEST_F(LinkTest, ExpiresIn) {
  EXPECT_EQ(*ParseExpiresIn("3600"), 3600);
  EXPECT_EQ(*ParseExpiresIn("1h"), 3600);
  EXPECT_EQ(*ParseExpiresIn("7d"), 7 * 86400);
  EXPECT_EQ(*ParseExpiresIn("366d"), kMaxExpiresInSeconds);
  for (const char* bad : {"", "0", "367d", "1.5h", "-5", "1y", "500ms", "99999999999999999999", "7 d"}) {
    auto r = ParseExpiresIn(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "expires_in") << bad;
  }
  clock_.Set(kNow);
  LinkRequest r = Req();
  r.expires_in_seconds = 60;
  auto l = links_->Create(r);
  ASSERT_TRUE(l.ok());
  clock_.Advance(60 * 1000);
  TokenError why;
  EXPECT_FALSE(links_->Verify(l->token, &why).ok());
  EXPECT_EQ(why, TokenError::kExpired);
}

TEST_F(LinkTest, ParsesRequestJson) {
  auto r = ParseLinkRequestJson(
      R"({"subscriber_id":"S1","action_id":"DATA_5GB","treatment":"sms","expires_in":"1h"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->subscriber_id, "S1");
  EXPECT_EQ(r->treatment, "sms");
  EXPECT_EQ(r->expires_in_seconds, 3600);
  r = ParseLinkRequestJson(R"({"subscriber_id":"S1","action_id":"A","expires_in":120})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expires_in_seconds, 120);
  EXPECT_TRUE(r->treatment.empty());

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{", ""},
      {"[]", "/"},
      {R"({"action_id":"A"})", "/subscriber_id"},
      {R"({"subscriber_id":"S"})", "/action_id"},
      {R"({"subscriber_id":1,"action_id":"A"})", "/subscriber_id"},
      {R"({"subscriber_id":"S","action_id":"A","expires_in":-1})", "/expires_in"},
      {R"({"subscriber_id":"S","action_id":"A","expires_in":1.5})", "/expires_in"},
      {R"({"subscriber_id":"S","action_id":"A","expires_in":"soon"})", "/expires_in"},
      {R"({"subscriber_id":"S","action_id":"A","expires_in":99999999999})", "/expires_in"},
      {R"({"subscriber_id":"S","action_id":"A","treatment":7})", "/treatment"},
      {R"({"subscriber_id":"S","action_id":"A","colour":"red"})", "/colour"},
  };
  for (const auto& [json, field] : bad) {
    auto p = ParseLinkRequestJson(json);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().field(), field) << json << " → " << p.status().message();
  }
  EXPECT_EQ(ParseLinkRequestJson(std::string(70000, ' ')).status().code(), ErrorCode::kTooLarge);
}

TEST_F(LinkTest, ReloadKeysAfterRotation) {
  auto before = links_->Create(Req());
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(RotateKeyFile(OfferKeyring::PathIn(dir_), kNow).ok());
  ASSERT_TRUE(links_->ReloadKeys().ok());
  auto after = links_->Create(Req());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->claims.kid, "k2");
  EXPECT_TRUE(links_->Verify(before->token).ok());
  ASSERT_TRUE(RetireKeyFile(OfferKeyring::PathIn(dir_), "k1", kNow).ok());
  ASSERT_TRUE(links_->ReloadKeys().ok());
  TokenError why;
  EXPECT_FALSE(links_->Verify(before->token, &why).ok());
  EXPECT_EQ(why, TokenError::kRetiredKey);
  EXPECT_TRUE(links_->Verify(after->token).ok());
}

TEST_F(LinkTest, RenderedQrHoldsTheUrl) {
  auto link = links_->Create(Req());
  ASSERT_TRUE(link.ok());
  auto png = links_->RenderPng(link->url);
  ASSERT_TRUE(png.ok());
  auto svg = links_->RenderSvg(link->url);
  ASSERT_TRUE(svg.ok());
  EXPECT_TRUE(svg->starts_with("<svg"));
}

}  // namespace
}  // namespace kairos::offer
