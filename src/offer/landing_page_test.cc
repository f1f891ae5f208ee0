// Landing pages: every catalog string escaped, self-contained (no scripts, no external
// resources), the accept form posts to /o/{token}/accept, friendly error pages.
#include "offer/landing_page.h"

#include <gtest/gtest.h>

#include "schema/config.h"
#include "schema/schema.h"

namespace kairos::offer {
namespace {

std::shared_ptr<const Schema> DefaultSchema() {
  static const std::shared_ptr<const Schema> schema = [] {
    auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : nullptr;
  }();
  return schema;
}

constexpr const char* kPolicies = R"(
channels:
  web: {top_k: 1}
arbitration: {min_priority: 0}
)";

constexpr const char* kCatalog = R"(
issues:
  Sales:
    groups:
      Data:
        actions:
          - id: EVIL
            name: "<script>alert(1)</script>"
            value: 1
            treatments:
              web: {title: "<script>alert('t')</script> & \"more\"", body: "<img src=x onerror=alert(2)>", price: 2.50}
          - {id: PLAIN, name: "Plain offer", value: 0, treatments: {web: {}}}
)";

void ExpectSelfContained(const std::string& html) {
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("name=\"viewport\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
}

class LandingPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = Decisioning::Parse(kPolicies, kCatalog, DefaultSchema());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    d_ = *d;
  }
  OfferClaims Claims(const std::string& action) {
    OfferClaims c;
    c.nonce = "n";
    c.subscriber_id = "s";
    c.action_id = action;
    c.expires_at = 1'773'223'200'000;
    return c;
  }
  std::shared_ptr<const Decisioning> d_;
};

TEST_F(LandingPageTest, OfferPageEscapesEveryCatalogString) {
  auto view = MakeOfferPageView(*d_, Claims("EVIL"), "k1.abc-_.xyz");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const std::string html = RenderOfferPage(*view);
  ExpectSelfContained(html);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &amp; &quot;more&quot;"),
            std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  EXPECT_NE(html.find("2.50 EUR"), std::string::npos);
  EXPECT_NE(html.find("<form method=\"post\" action=\"/o/k1.abc-_.xyz/accept\">"),
            std::string::npos);
  EXPECT_NE(html.find("Accept</button>"), std::string::npos);
  EXPECT_NE(html.find("Valid until 2026-03-11 10:00 UTC"), std::string::npos);
}

TEST_F(LandingPageTest, NameIsTheTitleWhenTheTreatmentHasNone) {
  auto d = Decisioning::Parse(kPolicies, R"(
issues:
  Sales:
    groups:
      Data:
        actions:
          - {id: X, name: "<script>x</script>", value: 0, treatments: {web: {}}}
)",
                              DefaultSchema());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto view = MakeOfferPageView(**d, Claims("X"), "t");
  ASSERT_TRUE(view.ok());
  const std::string html = RenderOfferPage(*view);
  ExpectSelfContained(html);
  EXPECT_NE(html.find("<h1>&lt;script&gt;x&lt;/script&gt;</h1>"), std::string::npos);
  EXPECT_NE(html.find("<title>&lt;script&gt;x&lt;/script&gt;</title>"), std::string::npos);
  EXPECT_EQ(html.find("class=\"price\""), std::string::npos);  // free: no price line
}

TEST_F(LandingPageTest, TokenInTheFormIsEncoded) {
  OfferPageView v;
  v.token = "a\"b<c>/d e";
  v.title = "T";
  const std::string html = RenderOfferPage(v);
  EXPECT_NE(html.find("action=\"/o/a%22b%3Cc%3E%2Fd%20e/accept\""), std::string::npos);
}

TEST_F(LandingPageTest, UnknownActionAndTreatment) {
  EXPECT_EQ(MakeOfferPageView(*d_, Claims("GONE"), "t").status().code(), ErrorCode::kNotFound);
  OfferClaims c = Claims("EVIL");
  c.treatment = "EVIL/sms";
  EXPECT_EQ(MakeOfferPageView(*d_, c, "t").status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LandingPageTest, AcceptedAndErrorPages) {
  Order o;
  o.id = "ord_<b>";
  o.state = OrderState::kPaid;
  o.amount_minor = 250;
  o.currency = "EUR";
  const std::string html = RenderAcceptedPage(o, "<i>Title</i>");
  ExpectSelfContained(html);
  EXPECT_NE(html.find("ord_&lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find(">paid<"), std::string::npos);
  EXPECT_NE(html.find("&lt;i&gt;Title&lt;/i&gt;"), std::string::npos);
  for (auto p : {OfferPageProblem::kExpired, OfferPageProblem::kInvalid,
                 OfferPageProblem::kWithdrawn, OfferPageProblem::kUnavailable}) {
    const std::string e = RenderOfferErrorPage(p);
    ExpectSelfContained(e);
    EXPECT_NE(e.find("<h1>"), std::string::npos);
  }
  EXPECT_NE(RenderOfferErrorPage(OfferPageProblem::kExpired).find("expired"), std::string::npos);
}

TEST(HtmlEscapeTest, EscapesAndRepairs) {
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9"), "caf\xC3\xA9");           // valid UTF-8 kept
  EXPECT_EQ(HtmlEscape("x\xFFy"), "x\xEF\xBF\xBDy");             // invalid byte → U+FFFD
  EXPECT_EQ(HtmlEscape("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)), "a b");          // control characters
  EXPECT_EQ(PercentEncodeSegment("k1.AZaz09-_~"), "k1.AZaz09-_~");
}

}  // namespace
}  // namespace kairos::offer
