// Event: one parsed, schema-validated event, and the JSON parser that makes it.
//
// Envelope (every event): event_id (string, 1..128 bytes, unique: ingestion is idempotent on
// it), subscriber_id (string, 1..64 bytes), type (a declared event type), ts (RFC 3339 string
// or integer epoch milliseconds). All other members are the type's declared fields, at the top
// level of the object. Unknown members are refused so that typos do not silently drop data.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "schema/schema.h"

namespace kairos {

inline constexpr size_t kMaxEventIdBytes = 128;
inline constexpr size_t kMaxSubscriberIdBytes = 64;
inline constexpr size_t kMaxEventBytes = 64 * 1024;

struct Event {
  std::string event_id;
  std::string subscriber_id;
  int type = -1;
  TimestampMs ts = 0;
  std::vector<Value> fields;  // indexed like the event type's fields; null when absent
};

// True when every filter holds for the event (numbers compare by value, int or not).
bool MatchesFilters(const std::vector<FieldFilter>& filters, const Event& e);

// Parses events against a schema. Not thread-safe: use one parser per thread. Reuses its
// buffers, so parsing a stream allocates only for the strings it keeps.
class EventParser {
 public:
  explicit EventParser(std::shared_ptr<const Schema> schema);

  // Parses one JSON object. `json` need not be padded. On error the Status message starts
  // with the JSON pointer of the offending member ("/amount: expected a number, got string")
  // and field() holds that pointer.
  Status Parse(std::string_view json, Event* out);

  const Schema& schema() const { return *schema_; }

 private:
  Status ParseMember(const EventTypeDef& et, int field, simdjson::dom::element v, Value* out);

  std::shared_ptr<const Schema> schema_;
  simdjson::dom::parser parser_;
  simdjson::padded_string buffer_;
};

// Writes one value as JSON; enums print as their name from `enum_values`.
void WriteJsonValue(rapidjson::Writer<rapidjson::StringBuffer>& w,
                    const std::vector<std::string>& enum_values, const Value& v);

// Writes an event back as canonical JSON (what the WAL and exports carry).
std::string EventToJson(const Schema& schema, const Event& e);

}  // namespace kairos
