#include "offer/payment_config.h"

#include <cmath>

#include "channel/webhook.h"
#include "schema/yaml_util.h"

namespace kairos::offer {

namespace {
bool Rate(double r) { return std::isfinite(r) && r >= 0 && r <= 1; }
}  // namespace

Status ValidatePaymentsConfig(const PaymentsConfig& c) {
  if (c.provider != "local") {
    return InvalidArgument("payments.provider: unknown provider \"" + c.provider.substr(0, 64) +
                               "\" (known: local)",
                           "payments.provider");
  }
  if (c.webhook_secret.empty()) {
    return InvalidArgument("payments.webhook_secret: required", "payments.webhook_secret");
  }
  if (c.delay_ms < 0) return InvalidArgument("payments.delay_ms: must be >= 0", "payments.delay_ms");
  if (!Rate(c.fail_rate)) {
    return InvalidArgument("payments.fail_rate: must be between 0 and 1", "payments.fail_rate");
  }
  if (!Rate(c.timeout_rate) || c.fail_rate + c.timeout_rate > 1) {
    return InvalidArgument("payments.timeout_rate: must be between 0 and 1 - fail_rate",
                           "payments.timeout_rate");
  }
  if (!Rate(c.duplicate_rate)) {
    return InvalidArgument("payments.duplicate_rate: must be between 0 and 1",
                           "payments.duplicate_rate");
  }
  if (c.timeout_ms <= 0) {
    return InvalidArgument("payments.timeout: must be positive", "payments.timeout");
  }
  if (c.max_attempts < 1 || c.max_attempts > 100) {
    return InvalidArgument("payments.max_attempts: must be between 1 and 100",
                           "payments.max_attempts");
  }
  if (c.retry_initial_ms <= 0 || c.retry_max_ms < c.retry_initial_ms) {
    return InvalidArgument("payments.retry_initial / retry_max: initial must be > 0 and <= max",
                           "payments.retry_initial");
  }
  if (c.http_timeout_ms <= 0) {
    return InvalidArgument("payments.http_timeout: must be positive", "payments.http_timeout");
  }
  // Empty: `kairos serve` points the provider at its own /v1/payments/webhook.
  if (c.webhook_url.empty()) return Status::Ok();
  auto url = channel::ParseHttpUrl(c.webhook_url, "payments.webhook_url");
  return url.ok() ? Status::Ok() : url.status();
}

Result<PaymentsConfig> ParsePaymentsConfig(const YAML::Node& node, std::string_view file) {
  if (!node.IsMap()) return YamlError(file, node, "payments: must be a mapping");
  KAIROS_RETURN_IF_ERROR(CheckKeys(file, node,
                                   {"provider", "webhook_url", "webhook_secret", "delay_ms",
                                    "fail_rate", "timeout_rate", "duplicate_rate", "seed",
                                    "timeout", "max_attempts", "retry_initial", "retry_max",
                                    "http_timeout"},
                                   "payments"));
  PaymentsConfig c;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    const std::string what = "payments." + key;
    if (key == "provider") {
      KAIROS_ASSIGN_OR_RETURN(c.provider, YamlString(file, v, what));
    } else if (key == "webhook_url") {
      KAIROS_ASSIGN_OR_RETURN(c.webhook_url, YamlString(file, v, what));
    } else if (key == "webhook_secret") {
      KAIROS_ASSIGN_OR_RETURN(c.webhook_secret, YamlString(file, v, what));
    } else if (key == "delay_ms") {
      KAIROS_ASSIGN_OR_RETURN(c.delay_ms, YamlInt(file, v, what));
    } else if (key == "fail_rate") {
      KAIROS_ASSIGN_OR_RETURN(c.fail_rate, YamlNumber(file, v, what));
    } else if (key == "timeout_rate") {
      KAIROS_ASSIGN_OR_RETURN(c.timeout_rate, YamlNumber(file, v, what));
    } else if (key == "duplicate_rate") {
      KAIROS_ASSIGN_OR_RETURN(c.duplicate_rate, YamlNumber(file, v, what));
    } else if (key == "seed") {
      KAIROS_ASSIGN_OR_RETURN(int64_t seed, YamlInt(file, v, what));
      if (seed < 0) return YamlError(file, v, what + ": must be >= 0");
      c.seed = static_cast<uint64_t>(seed);
    } else if (key == "timeout") {
      KAIROS_ASSIGN_OR_RETURN(c.timeout_ms, YamlDurationMs(file, v, what));
    } else if (key == "max_attempts") {
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file, v, what));
      if (n < 1 || n > 100) return YamlError(file, v, what + ": must be between 1 and 100");
      c.max_attempts = static_cast<int>(n);
    } else if (key == "retry_initial") {
      KAIROS_ASSIGN_OR_RETURN(c.retry_initial_ms, YamlDurationMs(file, v, what));
    } else if (key == "retry_max") {
      KAIROS_ASSIGN_OR_RETURN(c.retry_max_ms, YamlDurationMs(file, v, what));
    } else if (key == "http_timeout") {
      KAIROS_ASSIGN_OR_RETURN(c.http_timeout_ms, YamlDurationMs(file, v, what));
    }
  }
  // Range and URL checks, reported at the offending key (or the section when it is missing).
  if (Status s = ValidatePaymentsConfig(c); !s.ok()) {
    const std::string key = s.field().substr(std::string_view("payments.").size());
    const YAML::Node at = node[key];
    return YamlError(file, at ? at : node, s.message());
  }
  return c;
}

Result<std::optional<PaymentsConfig>> ParsePaymentsConfigYaml(std::string_view yaml_text,
                                                              std::string_view file) {
  KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(yaml_text, file));
  if (!root.IsMap() || !root["payments"]) return std::optional<PaymentsConfig>();
  KAIROS_ASSIGN_OR_RETURN(PaymentsConfig c, ParsePaymentsConfig(root["payments"], file));
  return std::optional<PaymentsConfig>(std::move(c));
}

}  // namespace kairos::offer
