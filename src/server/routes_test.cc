#include "server/routes.h"

#include <gtest/gtest.h>

namespace kairos {
namespace {

TEST(RoutesTest, MatchesStaticAndParameterisedPaths) {
  RouteMatch m = MatchRoute("POST", "/v1/events");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->id, RouteId::kPostEvents);

  m = MatchRoute("GET", "/v1/subscribers/s%201");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->id, RouteId::kGetSubscriber);
  EXPECT_EQ(m.param, "s%201");
  EXPECT_EQ(&Routes()[m.route_index], m.route);
}

TEST(RoutesTest, UnknownPathsAndWrongMethods) {
  EXPECT_EQ(MatchRoute("GET", "/nope").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(MatchRoute("GET", "/v1/subscribers/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(MatchRoute("GET", "/v1/subscribers/a/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(MatchRoute("GET", "/healthz/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(MatchRoute("GET", "").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(MatchRoute("GET", "healthz").kind, RouteMatch::Kind::kNotFound);

  RouteMatch m = MatchRoute("GET", "/v1/events");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
  m = MatchRoute("DELETE", "/healthz");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET");
}

TEST(RoutesTest, EveryRouteMatchesItsOwnPattern) {
  for (const Route& r : Routes()) {
    std::string path(r.pattern);
    size_t brace = path.find('{');
    if (brace != std::string::npos) path = path.substr(0, brace) + "x" + path.substr(path.find('}') + 1);
    RouteMatch m = MatchRoute(r.method, path);
    ASSERT_EQ(m.kind, RouteMatch::Kind::kFound) << r.pattern;
    EXPECT_EQ(m.route, &r);
  }
}

TEST(RoutesTest, PercentDecode) {
  std::string out;
  ASSERT_TRUE(PercentDecode("a%20b%2Fc%c3%a9+", &out));
  EXPECT_EQ(out, "a b/c\xc3\xa9+");
  EXPECT_FALSE(PercentDecode("bad%2", &out));
  EXPECT_FALSE(PercentDecode("bad%", &out));
  EXPECT_FALSE(PercentDecode("bad%zz", &out));
}

}  // namespace
}  // namespace kairos
