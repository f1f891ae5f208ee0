#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kairos {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double value) {
  // First bound >= value: Prometheus buckets are "less than or equal".
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

uint64_t Histogram::Count() const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) total += counts_[i].load(std::memory_order_relaxed);
  return total;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

void PrometheusWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_->append("# HELP ").append(name).append(" ");
  // HELP text escapes only backslash and newline.
  for (char c : help) {
    if (c == '\\') {
      out_->append("\\\\");
    } else if (c == '\n') {
      out_->append("\\n");
    } else {
      out_->push_back(c);
    }
  }
  out_->append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusWriter::Labels(
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
    std::string_view extra_name, std::string_view extra_value) {
  if (labels.size() == 0 && extra_name.empty()) return;
  out_->push_back('{');
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) out_->push_back(',');
    first = false;
    out_->append(name).append("=\"");
    for (char c : value) {
      if (c == '\\') {
        out_->append("\\\\");
      } else if (c == '"') {
        out_->append("\\\"");
      } else if (c == '\n') {
        out_->append("\\n");
      } else {
        out_->push_back(c);
      }
    }
    out_->push_back('"');
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out_->push_back('}');
}

void PrometheusWriter::Number(double v) {
  if (std::isinf(v)) {
    out_->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  if (std::isnan(v)) {
    out_->append("NaN");
    return;
  }
  char buf[64];
  // Shortest round-trip form: integers print without a fraction ("42"), others exactly.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, ec == std::errc() ? end - buf : 0);
}

void PrometheusWriter::Sample(
    std::string_view name,
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
  out_->append(name);
  Labels(labels);
  out_->push_back(' ');
  Number(value);
  out_->push_back('\n');
}

void PrometheusWriter::HistogramSamples(std::string_view name, std::string_view label_name,
                                        std::string_view label_value, const Histogram& h) {
  std::vector<uint64_t> cumulative = h.CumulativeCounts();
  const std::vector<double>& bounds = h.upper_bounds();
  std::string bucket_name = std::string(name) + "_bucket";
  std::string le;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    if (i < bounds.size()) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), bounds[i]);
      le.assign(buf, ec == std::errc() ? end - buf : 0);
    } else {
      le = "+Inf";
    }
    out_->append(bucket_name);
    Labels({{label_name, label_value}}, "le", le);
    out_->push_back(' ');
    Number(static_cast<double>(cumulative[i]));
    out_->push_back('\n');
  }
  Sample(std::string(name) + "_sum", {{label_name, label_value}}, h.Sum());
  // The count is the +Inf bucket of the same snapshot, so the two always agree.
  Sample(std::string(name) + "_count", {{label_name, label_value}},
         static_cast<double>(cumulative.back()));
}

const char* InputLimitName(InputLimit limit) {
  switch (limit) {
    case InputLimit::kBodyBytes: return "body_bytes";
    case InputLimit::kHeaderBytes: return "header_bytes";
    case InputLimit::kBatchEvents: return "batch_events";
    case InputLimit::kJsonDepth: return "json_depth";
    case InputLimit::kStringBytes: return "string_bytes";
    case InputLimit::kRequestTimeout: return "request_timeout";
    case InputLimit::kConnections: return "connections";
  }
  return "unknown";
}

HttpMetrics::HttpMetrics(std::vector<std::string> route_labels)
    : labels_(std::move(route_labels)), routes_(std::make_unique<PerRoute[]>(labels_.size() + 1)) {
  labels_.push_back("unmatched");
}

void HttpMetrics::Record(int route, unsigned status, double seconds) {
  if (route < 0 || route >= static_cast<int>(labels_.size())) {
    route = static_cast<int>(labels_.size()) - 1;
  }
  status = std::clamp(status, 100u, 599u);
  PerRoute& r = routes_[route];
  r.by_status[status - 100].fetch_add(1, std::memory_order_relaxed);
  r.latency.Observe(seconds);
}

void HttpMetrics::AppendText(PrometheusWriter* w) const {
  w->Family("kairos_http_requests_total", "counter", "HTTP requests by route and status code.");
  for (size_t i = 0; i < labels_.size(); ++i) {
    for (unsigned s = 0; s < routes_[i].by_status.size(); ++s) {
      uint64_t n = routes_[i].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string code = std::to_string(s + 100);
      w->Sample("kairos_http_requests_total", {{"route", labels_[i]}, {"code", code}},
                static_cast<double>(n));
    }
  }
  w->Family("kairos_http_request_duration_seconds", "histogram",
            "Time from a request fully read to its response ready to write, by route.");
  for (size_t i = 0; i < labels_.size(); ++i) {
    w->HistogramSamples("kairos_http_request_duration_seconds", "route", labels_[i],
                        routes_[i].latency);
  }
  w->Family("kairos_http_connections_accepted_total", "counter", "TCP connections accepted.");
  w->Sample("kairos_http_connections_accepted_total", {},
            static_cast<double>(connections_accepted.Value()));
  w->Family("kairos_http_connections_open", "gauge", "TCP connections currently open.");
  w->Sample("kairos_http_connections_open", {}, static_cast<double>(connections_open.Value()));
  w->Family("kairos_http_engine_calls_in_flight", "gauge",
            "Requests queued for or running on the engine worker pool.");
  w->Sample("kairos_http_engine_calls_in_flight", {},
            static_cast<double>(engine_calls_in_flight.Value()));
  w->Family("kairos_http_requests_too_large_total", "counter",
            "Requests refused with 413: body over server.max_body_bytes.");
  w->Sample("kairos_http_requests_too_large_total", {},
            static_cast<double>(requests_too_large.Value()));
  w->Family("kairos_http_requests_malformed_total", "counter",
            "Requests that were not valid HTTP; their connection was closed.");
  w->Sample("kairos_http_requests_malformed_total", {},
            static_cast<double>(requests_malformed.Value()));
  w->Family("kairos_http_limit_rejections_total", "counter",
            "Requests or connections refused by an input limit (server.* in kairos.yaml), by limit.");
  for (int i = 0; i < kInputLimitCount; ++i) {
    const auto limit = static_cast<InputLimit>(i);
    w->Sample("kairos_http_limit_rejections_total", {{"limit", InputLimitName(limit)}},
              static_cast<double>(LimitCount(limit)));
  }
  w->Family("kairos_http_tls_handshake_failures_total", "counter",
            "TLS handshakes that failed (e.g. plain HTTP sent to the HTTPS port).");
  w->Sample("kairos_http_tls_handshake_failures_total", {},
            static_cast<double>(tls_handshake_failures.Value()));
}

}  // namespace kairos
