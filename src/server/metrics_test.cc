#include "server/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "server/http_json.h"

namespace kairos {
namespace {

TEST(MetricsTest, HistogramBucketsAreCumulativeAndInclusive) {
  Histogram h({0.1, 1, 10});
  h.Observe(0.05);
  h.Observe(0.1);  // "le" is inclusive
  h.Observe(5);
  h.Observe(50);
  EXPECT_EQ(h.CumulativeCounts(), (std::vector<uint64_t>{2, 2, 3, 4}));
  EXPECT_EQ(h.Count(), 4u);
  EXPECT_DOUBLE_EQ(h.Sum(), 55.15);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  HttpMetrics m({"/a"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) m.Record(0, 200, 0.001);
    });
  }
  for (auto& t : threads) t.join();
  std::string text;
  PrometheusWriter w(&text);
  m.AppendText(&w);
  EXPECT_NE(text.find("kairos_http_requests_total{route=\"/a\",code=\"200\"} 40000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kairos_http_request_duration_seconds_count{route=\"/a\"} 40000\n"),
            std::string::npos);
  EXPECT_NE(text.find("kairos_http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} "
                      "40000\n"),
            std::string::npos);
}

TEST(MetricsTest, OutOfRangeRouteAndStatusAreStillCounted) {
  HttpMetrics m({"/a"});
  m.Record(-1, 404, 0.001);
  m.Record(7, 999, 0.001);
  std::string text;
  PrometheusWriter w(&text);
  m.AppendText(&w);
  EXPECT_NE(text.find("{route=\"unmatched\",code=\"404\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("{route=\"unmatched\",code=\"599\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  std::string text;
  PrometheusWriter w(&text);
  w.Family("x_total", "counter", "a \\ b\nc");
  w.Sample("x_total", {{"l", "q\"\\\n"}}, 1.5);
  EXPECT_EQ(text,
            "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\n"
            "x_total{l=\"q\\\"\\\\\\n\"} 1.5\n");
}

TEST(MetricsTest, LimitRejectionsAreCountedByLimit) {
  HttpMetrics m({"/a"});
  m.CountLimit(InputLimit::kJsonDepth);
  m.CountLimit(InputLimit::kJsonDepth);
  m.CountLimit(InputLimit::kRequestTimeout);
  std::string text;
  PrometheusWriter w(&text);
  m.AppendText(&w);
  EXPECT_NE(text.find("kairos_http_limit_rejections_total{limit=\"json_depth\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kairos_http_limit_rejections_total{limit=\"request_timeout\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kairos_http_limit_rejections_total{limit=\"connections\"} 0\n"), std::string::npos);
}

TEST(HttpJsonTest, ErrorCodesMapToStatuses) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kTooLarge), 413u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kAlreadyExists), 409u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kFailedPrecondition), 409u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kOutOfRange), 400u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kIoError), 500u);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kCorruption), 500u);
}

TEST(HttpJsonTest, ErrorJsonIsValidUtf8AndOmitsEmptyField) {
  EXPECT_EQ(ErrorJson(ErrorCode::kNotFound, "unknown \"s\xff\""),
            "{\"error\":{\"code\":\"not_found\",\"message\":\"unknown \\\"s\xEF\xBF\xBD\\\"\"}}");
  EXPECT_EQ(ErrorJson(ErrorCode::kInvalidArgument, "bad", "/amount"),
            R"({"error":{"code":"invalid_argument","message":"bad","field":"/amount"}})");
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

}  // namespace
}  // namespace kairos
