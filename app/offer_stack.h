// The offer side of `kairos serve`: signed links (offer-keys.json), the order store
// (<store>/orders), the payment provider from kairos.yaml's payments: section, the webhook
// verifier, and the HTTP routes over them.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "decide/decision_service.h"
#include "offer/link.h"
#include "offer/local_payment_provider.h"
#include "offer/order_service.h"
#include "offer/order_store.h"
#include "offer/payment_webhook.h"
#include "schema/workspace.h"
#include "server/offer_routes.h"

namespace kairos::app {

struct OfferStack {
  std::unique_ptr<offer::OfferLinks> links;
  std::unique_ptr<offer::OrderStore> store;
  std::unique_ptr<offer::LocalPaymentProvider> provider;
  std::unique_ptr<offer::OrderService> orders;
  std::unique_ptr<offer::PaymentWebhook> webhook;
  std::unique_ptr<OfferRoutes> routes;

  // `public_url`: where customers reach this server (links and QR codes point there);
  // `self_url`: where the local payment provider posts its webhooks.
  static Result<std::unique_ptr<OfferStack>> Open(const Workspace& ws, DecisionService* decisions,
                                                  const Clock* clock, const std::string& public_url,
                                                  const std::string& self_url);
  // Expires unpaid orders and picks up rotated or retired signing keys. Errors are reported, the
  // next call tries again.
  Status Maintain(TimestampMs now);
};

}  // namespace kairos::app
