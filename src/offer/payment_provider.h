// PaymentProvider: where an order's payment is started. The outcome is never the return value:
// it arrives later as a signed webhook (payment_webhook.h), as with real payment providers.
#pragma once

#include <string>

#include "common/status.h"
#include "offer/order.h"

namespace kairos::offer {

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;

  // Starts the payment of `order` and returns the provider's payment id at once (it does not
  // wait for the outcome). The provider later reports the outcome of the payment for
  // order.id by webhook, at least once. An error means no payment was started
  // (kUnavailable: the provider cannot take it now; kInvalidArgument: it refuses the order).
  // Thread-safe.
  virtual Result<std::string> Charge(const Order& order) = 0;
};

}  // namespace kairos::offer
