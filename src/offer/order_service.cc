#include "offer/order_service.h"

#include <cmath>
#include <cstdio>
#include <random>

#include "common/hash.h"
#include "common/rng.h"

namespace kairos::offer {

namespace {

constexpr int64_t kMaxAmountMinor = int64_t{100'000'000'000'000};  // 1e12 units

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t RandomSalt() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

// The decision_id under which an acceptance is recorded: the nonce when it is short and plain,
// else a stable hash of it (a nonce may be raw bytes).
std::string OfferReference(std::string_view nonce) {
  bool plain = nonce.size() <= 58;
  for (char c : nonce) {
    plain = plain && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '-' || c == '_');
  }
  return "offer:" + (plain ? std::string(nonce) : Hex16(StableHash64(nonce)));
}

std::string_view ContentOf(const Treatment& t, std::string_view key) {
  for (const auto& [k, v] : t.content) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

OfferClaims ToOfferClaims(const TokenClaims& token) {
  OfferClaims c;
  c.nonce = token.NonceHex();
  c.subscriber_id = token.subscriber_id;
  c.action_id = token.action_id;
  c.treatment = token.treatment;
  c.expires_at = token.expires_at * kMsPerSecond;
  return c;
}

Result<int64_t> ParseAmountMinor(std::string_view text, const std::string& field) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument(field + ": \"" + std::string(text.substr(0, 32)) + "\" is not an amount (" +
                               why + ")",
                           field);
  };
  if (text.empty()) return bad("empty");
  int64_t units = 0;
  size_t i = 0;
  size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
    units = units * 10 + (text[i] - '0');
    if (units > kMaxAmountMinor / 100) return bad("too large");
  }
  if (digits == 0) return bad("expected digits, e.g. 9.99");
  int64_t cents = 0;
  if (i < text.size()) {
    if (text[i] != '.') return bad("expected digits and at most one '.'");
    ++i;
    size_t decimals = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++decimals) {
      if (decimals == 2) return bad("more than two decimals");
      cents = cents * 10 + (text[i] - '0');
    }
    if (decimals == 0) return bad("no digits after '.'");
    if (decimals == 1) cents *= 10;
    if (i < text.size()) return bad("unexpected character");
  }
  return units * 100 + cents;
}

Result<const Treatment*> FindOfferTreatment(const Decisioning& d, const Action& action,
                                          std::string_view treatment_id) {
  if (!treatment_id.empty()) {
    for (const Treatment& t : action.treatments) {
      if (t.id == treatment_id) return &t;
    }
    return InvalidArgument("treatment \"" + std::string(treatment_id.substr(0, 96)) +
                               "\" is not a treatment of action " + action.id,
                           "treatment");
  }
  if (const int web = d.policies.ChannelIndex("web"); web >= 0) {
    if (const Treatment* t = action.TreatmentFor(web)) return t;
  }
  if (action.treatments.empty()) return static_cast<const Treatment*>(nullptr);
  return &action.treatments.front();
}

Result<OfferPrice> PriceOf(const Action& action, const Treatment* treatment,
                           std::string_view default_currency) {
  OfferPrice p;
  p.currency = std::string(default_currency);
  if (treatment) {
    if (std::string_view c = ContentOf(*treatment, "currency"); !c.empty()) {
      p.currency = std::string(c);
    }
    if (std::string_view price = ContentOf(*treatment, "price"); !price.empty()) {
      auto amount = ParseAmountMinor(price, "catalog action " + action.id + " treatment " +
                                                treatment->id + " price");
      if (!amount.ok()) return Status(ErrorCode::kFailedPrecondition, amount.status().message());
      p.amount_minor = *amount;
      p.source = "treatment";
      return p;
    }
  }
  if (!action.value_expr && std::isfinite(action.value) && action.value >= 0 &&
      action.value * 100 < static_cast<double>(kMaxAmountMinor)) {
    p.amount_minor = std::llround(action.value * 100);
    p.source = "action value";
    return p;
  }
  p.source = "none";
  return p;
}

OrderService::OrderService(OrderStore* store, PaymentProvider* provider,
                           DecisionService* decisions, const Clock* clock, Options options)
    : store_(store),
      provider_(provider),
      decisions_(decisions),
      clock_(clock),
      options_(std::move(options)),
      salt_(RandomSalt()) {}

std::string OrderService::NewOrderId() {
  const uint64_t seq = sequence_.fetch_add(1, std::memory_order_relaxed);
  return "ord_" + Hex16(MixKey(salt_, seq, 0x6f726472));
}

Result<AcceptResult> OrderService::Accept(const OfferClaims& claims, TimestampMs now) {
  if (claims.nonce.empty()) return InvalidArgument("offer claims without a nonce", "nonce");
  if (claims.subscriber_id.empty()) {
    return InvalidArgument("offer claims without a subscriber_id", "subscriber_id");
  }
  if (claims.action_id.empty()) {
    return InvalidArgument("offer claims without an action_id", "action_id");
  }
  KAIROS_ASSIGN_OR_RETURN(std::optional<Order> existing, store_->FindByNonce(claims.nonce));
  if (existing) {
    repeated_.fetch_add(1, std::memory_order_relaxed);
    return AcceptResult{std::move(*existing), false};
  }
  if (claims.expires_at <= now) {
    return Status(ErrorCode::kFailedPrecondition, "the offer expired before it was accepted");
  }

  Order draft;
  draft.nonce = claims.nonce;
  draft.subscriber_id = claims.subscriber_id;
  draft.action_id = claims.action_id;
  draft.treatment = claims.treatment;
  draft.currency = options_.default_currency;
  std::string channel;
  if (decisions_) {
    const std::shared_ptr<const Decisioning> d = decisions_->decisioning();
    const int a = d->catalog.ActionIndex(claims.action_id);
    if (a < 0) {
      return NotFound("action " + claims.action_id.substr(0, 64) + " is no longer in the catalog");
    }
    const Action& action = d->catalog.actions[a];
    KAIROS_ASSIGN_OR_RETURN(const Treatment* treatment,
                            FindOfferTreatment(*d, action, claims.treatment));
    KAIROS_ASSIGN_OR_RETURN(OfferPrice price,
                            PriceOf(action, treatment, options_.default_currency));
    draft.amount_minor = price.amount_minor;
    draft.currency = std::move(price.currency);
    if (treatment) {
      draft.treatment = treatment->id;
      if (treatment->channel >= 0 &&
          static_cast<size_t>(treatment->channel) < d->policies.channels.size()) {
        channel = d->policies.channels[treatment->channel].name;
      }
    }
    // First the history (idempotent per token), so that an order never exists without it.
    KAIROS_ASSIGN_OR_RETURN(ResponseOutcome recorded,
                            decisions_->RecordOfferAcceptance(claims.subscriber_id,
                                                              claims.action_id, channel,
                                                              OfferReference(claims.nonce)));
    (void)recorded;
  }
  draft.id = NewOrderId();
  draft.state = OrderState::kCreated;
  draft.created_at = draft.updated_at = now;
  draft.history.push_back({OrderState::kCreated, now, "accepted"});

  KAIROS_ASSIGN_OR_RETURN(CreateResult stored, store_->Create(draft));
  if (!stored.created) {  // another accept of the same token won the race
    repeated_.fetch_add(1, std::memory_order_relaxed);
    return AcceptResult{std::move(stored.order), false};
  }
  accepted_.fetch_add(1, std::memory_order_relaxed);
  Order order = std::move(stored.order);
  auto payment = provider_->Charge(order);
  if (payment.ok()) {
    KAIROS_RETURN_IF_ERROR(store_->SetPaymentId(order.id, *payment));
    // The webhook may have settled it already: return what is stored.
    auto fresh = store_->Get(order.id);
    if (fresh.ok()) order = std::move(*fresh);
    return AcceptResult{std::move(order), true};
  }
  start_failures_.fetch_add(1, std::memory_order_relaxed);
  TransitionRequest fail;
  fail.order_id = order.id;
  fail.to = OrderState::kFailed;
  fail.at = clock_->Now();
  fail.reason = "the payment could not be started: " + payment.status().message();
  fail.note = "payment not started";
  auto failed = store_->Transition(fail);
  if (failed.ok()) order = std::move(*failed);
  return AcceptResult{std::move(order), true};
}

Result<int64_t> OrderService::SweepExpired(TimestampMs now) {
  const TimestampMs cutoff = now - options_.payment_timeout_ms;
  int64_t expired = 0;
  for (;;) {
    // OpenBefore is exclusive: orders created at exactly the cutoff are due too.
    KAIROS_ASSIGN_OR_RETURN(std::vector<Order> due,
                            store_->OpenBefore(cutoff + 1, options_.sweep_batch));
    int64_t changed = 0;
    for (const Order& o : due) {
      TransitionRequest req;
      req.order_id = o.id;
      req.to = OrderState::kExpired;
      req.at = now;
      req.reason = "no payment outcome within " +
                   std::to_string(options_.payment_timeout_ms / 1000) + " s";
      req.note = "payment timeout";
      auto r = store_->Transition(req);
      if (r.ok()) {
        ++changed;
      } else if (r.status().code() != ErrorCode::kFailedPrecondition) {
        return r.status();
      }
    }
    expired += changed;
    if (due.size() < options_.sweep_batch) break;
  }
  expired_.fetch_add(expired, std::memory_order_relaxed);
  return expired;
}

OrderServiceStats OrderService::Stats() const {
  OrderServiceStats s;
  s.accepted = accepted_.load(std::memory_order_relaxed);
  s.repeated_accepts = repeated_.load(std::memory_order_relaxed);
  s.payment_start_failures = start_failures_.load(std::memory_order_relaxed);
  s.expired = expired_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace kairos::offer
