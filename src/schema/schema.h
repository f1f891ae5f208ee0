// Schema: what events look like and what a profile is made of, loaded from schema.yaml.
//
// The schema is built once at load (setup) and is immutable afterwards; every index it hands
// out (attribute, event type, field, aggregate, forecast) stays valid for its lifetime, so the
// hot path works with integers, never with name look-ups. Thread-safe for reads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/value.h"

namespace YAML {
class Node;
}

namespace kairos {

struct FieldDef {
  std::string name;
  FieldType type = FieldType::kString;
  bool required = false;
  std::vector<std::string> values;  // kEnum: allowed values, index = stored value
  std::optional<double> min, max;   // kNumber / kInt bounds (inclusive)
  size_t max_length = 256;          // kString: longest accepted value in bytes

  // Index of `v` in `values`, or -1.
  int EnumIndex(std::string_view v) const;
};

// Copies an event field into a profile attribute when the event is applied.
struct AttributeSet {
  int attribute = -1;
  int field = -1;
};

struct EventTypeDef {
  std::string name;
  std::vector<FieldDef> fields;
  std::vector<AttributeSet> sets;
  int FieldIndex(std::string_view name) const;
};

struct AttributeDef {
  std::string name;
  FieldType type = FieldType::kString;
  std::vector<std::string> values;  // kEnum
  std::string description;
};

enum class AggregateOp : uint8_t {
  kSum,       // sum of a numeric field per window
  kCount,     // number of matching events per window
  kMax,       // largest value of a numeric field per window
  kLastTime,  // time of the latest matching event (reported with days_since)
};
const char* AggregateOpName(AggregateOp op);

// Equality filter on an event field: `where: {kind: data}`.
struct FieldFilter {
  int field = -1;
  Value value;
};

// `where: {field: value, ...}` of an event type (aggregates, triggers): every field must exist
// and the value must fit its type. Errors are file:line:column, prefixed with `what`.
Result<std::vector<FieldFilter>> ParseFieldFilters(std::string_view file, const EventTypeDef& et,
                                                   const YAML::Node& where, const std::string& what);

// A windowed aggregate over one event type. Windowed ops keep one bucket per UTC day for
// `retention_days`; a window of N days covers today and the N-1 days before it.
struct AggregateDef {
  std::string name;
  int event_type = -1;
  int field = -1;  // -1 for kCount and kLastTime
  AggregateOp op = AggregateOp::kSum;
  std::vector<FieldFilter> where;
  std::vector<int> windows_days;  // sorted, unique; empty for kLastTime
  int retention_days = 0;         // max(windows, forecast look-back + 1)
  int bucket_offset = 0;          // where its buckets start in Profile::buckets
};

// A billing-cycle forecast for one allowance (data, voice) or for prepaid credit.
struct ForecastDef {
  std::string name;
  int series = -1;            // a kSum aggregate with daily buckets: usage per day
  int allowance = -1;         // attribute: allowance per cycle (optional)
  int remaining = -1;         // attribute: last reported remaining balance (optional)
  int cycle_anchor = -1;      // attribute (timestamp): any cycle start; default first event
  int cycle_days = -1;        // attribute (int): cycle length in days (optional)
  int default_cycle_days = 30;
  int lookback_days = 28;     // completed days used to estimate the daily rate
};

// How much interaction history (decisions shown, responses) a profile keeps: interactions older
// than `retention_ms` behind the subscriber's newest event are dropped, and at most
// `max_interactions` (the newest) are kept. Contact caps and suppression see only what is kept.
struct HistoryDef {
  int64_t retention_ms = 90LL * 86400000;
  int max_interactions = 200;
};

// Field indices of the two built-in event types through which decisions and responses reach a
// profile (the decision pipeline writes them; see docs/architecture.md).
//  decision: decision_id, channel, actions ("ACTION:GROUP:ISSUE,..."), control, record (JSON)
//  response: decision_id, action_id, outcome (accepted|rejected|clicked|converted|ignored),
//            channel, group, issue
//  scores:   run, then one field per score of ScoreFields() (schema/score_fields.h), named as
//            rules read it ("segment.value_tier"); written by `kairos segment`
struct BuiltinEvents {
  int decision = -1, response = -1, scores = -1;  // event type indices
  // The erasure of a subscriber (privacy): written by DELETE /v1/subscribers/{id} only, in the
  // WAL like any event so that a replay after a crash erases again, in order.
  int erasure = -1;
  int s_run = 0, s_first_score = 1;  // scores: score i is field s_first_score + i
  int d_decision_id = -1, d_channel = -1, d_actions = -1, d_control = -1, d_record = -1;
  int r_decision_id = -1, r_action_id = -1, r_outcome = -1, r_channel = -1, r_group = -1,
      r_issue = -1;
};

// One item of a decision event's `actions` field.
struct ShownAction {
  std::string_view action, group, issue;
};

// Calls fn(ShownAction) for each item of a decision event's `actions` field
// ("ACTION:GROUP:ISSUE,..."), in order. Items without two colons are skipped (the decision
// pipeline never writes them; an event from elsewhere might).
template <typename Fn>
void ForEachShownAction(std::string_view actions, Fn&& fn) {
  while (!actions.empty()) {
    const size_t comma = actions.find(',');
    const std::string_view item = actions.substr(0, comma);
    actions = comma == std::string_view::npos ? std::string_view() : actions.substr(comma + 1);
    const size_t c1 = item.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : item.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    fn(ShownAction{item.substr(0, c1), item.substr(c1 + 1, c2 - c1 - 1), item.substr(c2 + 1)});
  }
}

class Schema {
 public:
  // Parses schema YAML text. `file_name` prefixes error messages ("schema.yaml:12:5: ...").
  static Result<std::shared_ptr<const Schema>> Parse(std::string_view yaml_text,
                                                     std::string_view file_name);
  static Result<std::shared_ptr<const Schema>> Load(const std::string& path);

  const std::vector<AttributeDef>& attributes() const { return attributes_; }
  const std::vector<EventTypeDef>& event_types() const { return event_types_; }
  const std::vector<AggregateDef>& aggregates() const { return aggregates_; }
  const std::vector<ForecastDef>& forecasts() const { return forecasts_; }
  const HistoryDef& history() const { return history_; }
  const BuiltinEvents& builtin() const { return builtin_; }
  // Daily buckets of all windowed aggregates together (the size of Profile::buckets).
  int total_buckets() const { return total_buckets_; }

  // -1 when unknown.
  int EventTypeIndex(std::string_view name) const;
  int AttributeIndex(std::string_view name) const;
  int AggregateIndex(std::string_view name) const;
  // Names of all event types, comma-separated (for error messages).
  std::string EventTypeNames() const;
  // Aggregates that listen to an event type, in declaration order.
  const std::vector<int>& AggregatesOf(int event_type) const { return aggregates_by_event_[event_type]; }

 private:
  std::vector<AttributeDef> attributes_;
  std::vector<EventTypeDef> event_types_;
  std::vector<AggregateDef> aggregates_;
  std::vector<ForecastDef> forecasts_;
  std::vector<std::vector<int>> aggregates_by_event_;
  int total_buckets_ = 0;
  HistoryDef history_;
  BuiltinEvents builtin_;
  std::map<std::string, int, std::less<>> event_index_, attribute_index_, aggregate_index_;

  friend class SchemaBuilder;
};

}  // namespace kairos
