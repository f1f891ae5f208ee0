#include "app/offer_stack.h"

#include <openssl/rand.h>

#include <filesystem>

#include "common/file_util.h"
#include "offer/payment_config.h"

namespace kairos::app {

Result<std::unique_ptr<OfferStack>> OfferStack::Open(const Workspace& ws, DecisionService* decisions,
                                                     const Clock* clock, const std::string& public_url,
                                                     const std::string& self_url) {
  auto stack = std::make_unique<OfferStack>();
  KAIROS_ASSIGN_OR_RETURN(stack->links,
                          offer::OfferLinks::Open(
                              ws.dir, [decisions] { return decisions->decisioning(); }, clock,
                              public_url));
  KAIROS_ASSIGN_OR_RETURN(stack->store,
                          offer::OrderStore::Open(offer::OrderStore::DirFor(ws.StorePath()),
                                                  offer::OrderStore::Options{}));
  const std::filesystem::path config_path = std::filesystem::path(ws.dir) / "kairos.yaml";
  KAIROS_ASSIGN_OR_RETURN(std::string yaml, ReadFile(config_path.string()));
  KAIROS_ASSIGN_OR_RETURN(std::optional<offer::PaymentsConfig> configured,
                          offer::ParsePaymentsConfigYaml(yaml, config_path.string()));
  // No payments: section → the local test provider, its webhook secret made up for this run
  // (both ends live in this process).
  offer::PaymentsConfig payments = configured.value_or(offer::PaymentsConfig{});
  if (payments.webhook_secret.empty()) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("the system random generator failed");
    static constexpr char kDigits[] = "0123456789abcdef";
    for (unsigned char b : bytes) {
      payments.webhook_secret.push_back(kDigits[b >> 4]);
      payments.webhook_secret.push_back(kDigits[b & 15]);
    }
  }
  if (payments.webhook_url.empty()) payments.webhook_url = self_url + "/v1/payments/webhook";
  KAIROS_ASSIGN_OR_RETURN(stack->provider, offer::LocalPaymentProvider::Make(payments, clock));
  offer::OrderService::Options o;
  o.payment_timeout_ms = payments.timeout_ms;
  stack->orders = std::make_unique<offer::OrderService>(stack->store.get(), stack->provider.get(),
                                                        decisions, clock, o);
  stack->webhook = std::make_unique<offer::PaymentWebhook>(stack->store.get(), clock,
                                                           payments.webhook_secret);
  stack->routes = std::make_unique<OfferRoutes>(stack->links.get(), stack->orders.get(),
                                                stack->webhook.get(), decisions, clock);
  return stack;
}

Status OfferStack::Maintain(TimestampMs now) {
  Result<int64_t> expired = orders->SweepExpired(now);
  Status keys = links->ReloadKeys();
  if (!expired.ok()) return expired.status();
  return keys;
}

}  // namespace kairos::app
