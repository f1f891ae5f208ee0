// The `payments:` section of kairos.yaml: which payment provider runs orders' payments and how
// their webhooks are signed and timed. Format: docs/offers.md ("Payment provider").
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kairos::offer {

struct PaymentsConfig {
  std::string provider = "local";
  std::string webhook_url;       // http://host:port/v1/payments/webhook
  std::string webhook_secret;    // shared with PaymentWebhook
  int64_t delay_ms = 2000;       // Charge → first delivery attempt
  double fail_rate = 0;          // share of payments that fail (0..1)
  double timeout_rate = 0;       // share of payments never answered (0..1)
  double duplicate_rate = 0;     // share of events delivered twice (0..1)
  uint64_t seed = 1;
  int64_t timeout_ms = 15 * 60 * 1000;  // Kairos side: no outcome within this → expired
  int max_attempts = 8;                 // delivery attempts per event
  int64_t retry_initial_ms = 500;
  int64_t retry_max_ms = 60'000;
  int64_t http_timeout_ms = 5000;       // one attempt
};

// Checks ranges and the URL; kInvalidArgument naming the field ("payments.fail_rate", ...).
Status ValidatePaymentsConfig(const PaymentsConfig& config);

// Reads a `payments:` mapping (`node`), then validates it. Errors are
// "file:line:column: payments.<key>: what is wrong"; unknown keys are refused.
Result<PaymentsConfig> ParsePaymentsConfig(const YAML::Node& node, std::string_view file);
// The `payments:` section of a whole kairos.yaml text; nullopt when it has none (no payments:
// accepting an offer then cannot start a payment).
Result<std::optional<PaymentsConfig>> ParsePaymentsConfigYaml(std::string_view yaml_text,
                                                              std::string_view file);

}  // namespace kairos::offer
