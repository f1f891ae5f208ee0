// Value: one typed field of an event or one profile attribute.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kairos {

// The types a schema may declare for event fields and profile attributes.
enum class FieldType : uint8_t {
  kString = 1,
  kNumber = 2,     // double
  kInt = 3,        // int64
  kBool = 4,
  kTimestamp = 5,  // RFC 3339 or epoch milliseconds in JSON; ms since epoch inside
  kEnum = 6,       // one of a declared list of strings; stored as its index
  kFlags = 7,      // object of name → bool, e.g. consents per channel
};

const char* FieldTypeName(FieldType t);

using Flags = std::vector<std::pair<std::string, bool>>;

// A value or null. Which member is meaningful depends on `type`; enum values keep both the
// index (`i`) and, for printing, rely on the schema's list of names.
struct Value {
  bool is_null = true;
  FieldType type = FieldType::kString;
  double number = 0;  // kNumber
  int64_t i = 0;      // kInt, kTimestamp, kEnum index
  bool b = false;     // kBool
  std::string s;      // kString
  Flags flags;        // kFlags

  static Value Null() { return Value(); }
  static Value Number(double v) { Value x; x.is_null = false; x.type = FieldType::kNumber; x.number = v; return x; }
  static Value Int(int64_t v) { Value x; x.is_null = false; x.type = FieldType::kInt; x.i = v; return x; }
  static Value Bool(bool v) { Value x; x.is_null = false; x.type = FieldType::kBool; x.b = v; return x; }
  static Value Timestamp(int64_t v) { Value x; x.is_null = false; x.type = FieldType::kTimestamp; x.i = v; return x; }
  static Value Enum(int64_t idx) { Value x; x.is_null = false; x.type = FieldType::kEnum; x.i = idx; return x; }
  static Value String(std::string v) { Value x; x.is_null = false; x.type = FieldType::kString; x.s = std::move(v); return x; }

  // Numeric view for aggregates: number, int, bool (0/1), timestamp; 0 otherwise.
  double AsDouble() const {
    switch (type) {
      case FieldType::kNumber: return number;
      case FieldType::kInt:
      case FieldType::kTimestamp: return static_cast<double>(i);
      case FieldType::kBool: return b ? 1.0 : 0.0;
      default: return 0.0;
    }
  }
  bool operator==(const Value& o) const = default;
};

}  // namespace kairos
