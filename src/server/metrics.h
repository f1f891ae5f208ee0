// A small thread-safe metrics registry for the HTTP edge, rendered in the Prometheus text
// exposition format (version 0.0.4).
//
// Hot-path updates are single relaxed atomic operations, no locks: counters and histograms are
// created once (at server construction) and then only incremented from any thread. Rendering
// reads the atomics without stopping writers, so a scrape may see a histogram whose buckets
// and count differ by an in-flight observation; Prometheus tolerates that.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kairos {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A histogram with fixed upper bounds (ascending); values above the last bound land in +Inf.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Cumulative counts per bound, then +Inf (= count), as Prometheus wants them.
  std::vector<uint64_t> CumulativeCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 slots, not cumulative
  std::atomic<double> sum_{0};
};

// Request latency buckets in seconds: 100 µs .. 10 s.
std::vector<double> DefaultLatencyBuckets();

// Appends Prometheus text: one "# HELP" and "# TYPE" per family, then samples. Label values are
// escaped as the format requires (backslash, double quote, newline).
class PrometheusWriter {
 public:
  explicit PrometheusWriter(std::string* out) : out_(out) {}

  // `type` is "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // `labels` is a list of name/value pairs; empty for an unlabelled sample.
  void Sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value);
  // The _bucket, _sum and _count samples of one labelled histogram (family already written).
  void HistogramSamples(std::string_view name, std::string_view label_name,
                        std::string_view label_value, const Histogram& h);

 private:
  void Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              std::string_view extra_name = {}, std::string_view extra_value = {});
  void Number(double v);

  std::string* out_;
};

// The input limits of the HTTP edge (server.* in kairos.yaml); each refusal is counted by limit.
enum class InputLimit : uint8_t {
  kBodyBytes,       // 413: body over max_body_bytes
  kHeaderBytes,     // 431: request head over max_header_bytes
  kBatchEvents,     // 413: NDJSON batch over max_batch_events
  kJsonDepth,       // 400: JSON nested deeper than max_json_depth
  kStringBytes,     // 400: a JSON string longer than max_string_bytes
  kRequestTimeout,  // 408: head and body not in within request_timeout (slow client)
  kConnections,     // 503: more open connections than max_connections
};
inline constexpr int kInputLimitCount = 7;
// "body_bytes", "header_bytes", "batch_events", "json_depth", "string_bytes",
// "request_timeout", "connections": the `limit` label.
const char* InputLimitName(InputLimit limit);

// Per-route request counts by status code and latency histograms. Route indices are positions
// in the route table; index `routes` (one past the last) counts requests that matched no route.
class HttpMetrics {
 public:
  // `route_labels`: the label value of each route (its pattern); the "unmatched" bucket is
  // added after them.
  explicit HttpMetrics(std::vector<std::string> route_labels);

  // Thread-safe. `route` in [0, routes]; `status` 100..599 (others are clamped to 599 rather
  // than dropped, so a miscoded response still shows up).
  void Record(int route, unsigned status, double seconds);

  void AppendText(PrometheusWriter* w) const;

  Counter connections_accepted;
  Gauge connections_open;
  Gauge engine_calls_in_flight;
  Counter requests_too_large;  // 413: Content-Length or chunked body over max_body_bytes
  Counter requests_malformed;  // unparsable HTTP (400/431), connection closed
  Counter tls_handshake_failures;  // TLS port: handshakes that failed (plain HTTP, bad client)

  // Thread-safe; callable through a const HttpMetrics (the Api holds one): the counters are
  // plain atomics that rendering only reads.
  void CountLimit(InputLimit limit) const {
    limits_[static_cast<int>(limit)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t LimitCount(InputLimit limit) const {
    return limits_[static_cast<int>(limit)].load(std::memory_order_relaxed);
  }

 private:
  struct PerRoute {
    PerRoute() : latency(DefaultLatencyBuckets()) {}
    // One slot per status code 100..599: a fixed array keeps Record() lock-free; 4 KiB a route.
    std::array<std::atomic<uint64_t>, 500> by_status{};
    Histogram latency;
  };

  std::vector<std::string> labels_;
  std::unique_ptr<PerRoute[]> routes_;
  mutable std::array<std::atomic<uint64_t>, kInputLimitCount> limits_{};
};

}  // namespace kairos
