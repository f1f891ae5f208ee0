#include "offer/order.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/time_format.h"

namespace kairos::offer {

std::string_view OrderStateName(OrderState s) {
  switch (s) {
    case OrderState::kCreated:
      return "created";
    case OrderState::kPaid:
      return "paid";
    case OrderState::kFailed:
      return "failed";
    case OrderState::kExpired:
      return "expired";
  }
  return "unknown";
}

bool IsLegalTransition(OrderState from, OrderState to) {
  return from == OrderState::kCreated && to != OrderState::kCreated;
}

std::string FormatAmount(int64_t amount_minor) {
  const bool negative = amount_minor < 0;
  // Unsigned arithmetic: INT64_MIN has no positive counterpart.
  const uint64_t u = negative ? 0 - static_cast<uint64_t>(amount_minor)
                              : static_cast<uint64_t>(amount_minor);
  std::string cents = std::to_string(u % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(u / 100) + "." + cents;
}

std::string OrderToJson(const Order& o) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  const auto str = [&w](std::string_view key, std::string_view value) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("order_id", o.id);
  str("state", OrderStateName(o.state));
  str("subscriber_id", o.subscriber_id);
  str("action_id", o.action_id);
  str("treatment", o.treatment);
  str("amount", FormatAmount(o.amount_minor));
  w.Key("amount_minor");
  w.Int64(o.amount_minor);
  str("currency", o.currency);
  str("created_at", FormatRfc3339(o.created_at));
  str("updated_at", FormatRfc3339(o.updated_at));
  str("payment_id", o.payment_id);
  str("failure_reason", o.failure_reason);
  w.Key("erased");
  w.Bool(o.erased);
  w.Key("history");
  w.StartArray();
  for (const OrderStateChange& c : o.history) {
    w.StartObject();
    str("state", OrderStateName(c.state));
    str("at", FormatRfc3339(c.at));
    str("note", c.note);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace kairos::offer
