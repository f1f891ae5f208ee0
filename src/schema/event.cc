#include "schema/event.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstring>

#include "common/time_format.h"

namespace kairos {

namespace {

const char* JsonTypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY: return "array";
    case T::OBJECT: return "object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE: return "number";
    case T::STRING: return "string";
    case T::BOOL: return "bool";
    case T::NULL_VALUE: return "null";
  }
  return "?";
}

Status FieldError(std::string_view name, std::string message) {
  std::string pointer = "/";
  pointer += name;
  return InvalidArgument(pointer + ": " + message, pointer);
}

Status Expected(std::string_view name, const char* want, simdjson::dom::element v) {
  return FieldError(name, std::string("expected ") + want + ", got " + JsonTypeName(v.type()));
}

bool PrintableId(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

EventParser::EventParser(std::shared_ptr<const Schema> schema) : schema_(std::move(schema)) {}

Status EventParser::Parse(std::string_view json, Event* out) {
  if (json.size() > kMaxEventBytes) {
    return Status(ErrorCode::kTooLarge,
                  "event is " + std::to_string(json.size()) + " bytes; the limit is " +
                      std::to_string(kMaxEventBytes));
  }
  // Allocated even for an empty input: memcpy and the parser need a real buffer.
  if (buffer_.size() < json.size() || buffer_.data() == nullptr) {
    buffer_ = simdjson::padded_string(json.size() * 2 + 64);
  }
  std::memcpy(buffer_.data(), json.data(), json.size());
  simdjson::dom::element doc;
  auto error = parser_.parse(buffer_.data(), json.size(), false).get(doc);
  if (error) {
    return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    return InvalidArgument(std::string("an event must be a JSON object, got ") + JsonTypeName(doc.type()));
  }

  // Envelope first: the type decides how the other members are read.
  std::string_view type_name;
  simdjson::dom::element type_el;
  if (obj["type"].get(type_el)) return FieldError("type", "missing (the event type, e.g. \"usage\")");
  if (type_el.get_string().get(type_name)) return Expected("type", "a string", type_el);
  const int type = schema_->EventTypeIndex(type_name);
  if (type < 0) {
    return FieldError("type", "unknown event type \"" + std::string(type_name.substr(0, 64)) +
                                  "\" (known: " + schema_->EventTypeNames() + ")");
  }
  const EventTypeDef& et = schema_->event_types()[type];
  out->type = type;
  out->fields.assign(et.fields.size(), Value::Null());
  bool have_id = false, have_sub = false, have_ts = false;

  for (auto member : obj) {
    const std::string_view key = member.key;
    simdjson::dom::element v = member.value;
    if (key == "type") continue;
    if (key == "event_id" || key == "subscriber_id") {
      std::string_view s;
      if (v.get_string().get(s)) return Expected(key, "a string", v);
      const size_t limit = key == "event_id" ? kMaxEventIdBytes : kMaxSubscriberIdBytes;
      if (s.empty() || s.size() > limit) {
        return FieldError(key, "must be 1 to " + std::to_string(limit) + " bytes, got " + std::to_string(s.size()));
      }
      if (!PrintableId(s)) return FieldError(key, "must not contain control characters");
      if (key == "event_id") {
        out->event_id.assign(s);
        have_id = true;
      } else {
        out->subscriber_id.assign(s);
        have_sub = true;
      }
      continue;
    }
    if (key == "ts") {
      if (v.is_string()) {
        auto t = ParseRfc3339(v.get_string().value_unsafe());
        if (!t.ok()) return FieldError("ts", t.status().message());
        out->ts = *t;
      } else if (v.is_int64()) {
        out->ts = v.get_int64().value_unsafe();
      } else if (v.is_uint64()) {
        return FieldError("ts", "epoch milliseconds out of range");
      } else {
        return Expected("ts", "an RFC 3339 string or integer epoch milliseconds", v);
      }
      if (out->ts < 0 || out->ts > int64_t{253402300799999}) {
        return FieldError("ts", "must be between 1970 and 9999");
      }
      have_ts = true;
      continue;
    }
    const int field = et.FieldIndex(key);
    if (field < 0) {
      std::string known;
      for (const auto& f : et.fields) known += (known.empty() ? "" : ", ") + f.name;
      return FieldError(key, "unknown field for event type " + et.name +
                                 (known.empty() ? " (it declares no fields)" : " (declared: " + known + ")"));
    }
    KAIROS_RETURN_IF_ERROR(ParseMember(et, field, v, &out->fields[field]));
  }
  if (!have_id) return FieldError("event_id", "missing (a unique string per event)");
  if (!have_sub) return FieldError("subscriber_id", "missing");
  if (!have_ts) return FieldError("ts", "missing (RFC 3339 or epoch milliseconds)");
  for (size_t i = 0; i < et.fields.size(); ++i) {
    if (et.fields[i].required && out->fields[i].is_null) {
      return FieldError(et.fields[i].name, "missing (required for event type " + et.name + ")");
    }
  }
  return Status::Ok();
}

Status EventParser::ParseMember(const EventTypeDef& et, int field, simdjson::dom::element v, Value* out) {
  const FieldDef& f = et.fields[field];
  const std::string_view name = f.name;
  if (v.is_null()) {
    *out = Value::Null();  // explicit null: same as absent
    return Status::Ok();
  }
  switch (f.type) {
    case FieldType::kString: {
      std::string_view s;
      if (v.get_string().get(s)) return Expected(name, "a string", v);
      if (s.size() > f.max_length) {
        return FieldError(name, "longer than " + std::to_string(f.max_length) + " bytes");
      }
      *out = Value::String(std::string(s));
      return Status::Ok();
    }
    case FieldType::kNumber:
    case FieldType::kInt: {
      double d;
      if (f.type == FieldType::kInt) {
        int64_t i;
        if (v.get_int64().get(i)) {
          double as_double;
          if (!v.get_double().get(as_double)) return FieldError(name, "expected an integer, got a fraction");
          return Expected(name, "an integer", v);
        }
        *out = Value::Int(i);
        d = static_cast<double>(i);
      } else {
        if (v.get_double().get(d)) return Expected(name, "a number", v);
        if (!std::isfinite(d)) return FieldError(name, "must be finite");
        *out = Value::Number(d);
      }
      if (f.min && d < *f.min) return FieldError(name, "must be at least " + std::to_string(*f.min));
      if (f.max && d > *f.max) return FieldError(name, "must be at most " + std::to_string(*f.max));
      return Status::Ok();
    }
    case FieldType::kBool: {
      bool b;
      if (v.get_bool().get(b)) return Expected(name, "true or false", v);
      *out = Value::Bool(b);
      return Status::Ok();
    }
    case FieldType::kTimestamp: {
      if (v.is_string()) {
        auto t = ParseRfc3339(v.get_string().value_unsafe());
        if (!t.ok()) return FieldError(name, t.status().message());
        *out = Value::Timestamp(*t);
      } else if (v.is_int64()) {
        *out = Value::Timestamp(v.get_int64().value_unsafe());
      } else {
        return Expected(name, "an RFC 3339 string or epoch milliseconds", v);
      }
      return Status::Ok();
    }
    case FieldType::kEnum: {
      std::string_view s;
      if (v.get_string().get(s)) return Expected(name, "a string", v);
      const int idx = f.EnumIndex(s);
      if (idx < 0) {
        std::string known;
        for (const auto& x : f.values) known += (known.empty() ? "" : ", ") + x;
        return FieldError(name, "\"" + std::string(s.substr(0, 64)) + "\" is not one of " + known);
      }
      *out = Value::Enum(idx);
      return Status::Ok();
    }
    case FieldType::kFlags: {
      simdjson::dom::object o;
      if (v.get_object().get(o)) return Expected(name, "an object of name: true|false", v);
      Value x;
      x.is_null = false;
      x.type = FieldType::kFlags;
      for (auto m : o) {
        bool b;
        if (m.value.get_bool().get(b)) {
          return FieldError(std::string(name) + "/" + std::string(m.key), "expected true or false");
        }
        if (m.key.empty() || m.key.size() > 32) {
          return FieldError(name, "flag names must be 1 to 32 bytes");
        }
        if (x.flags.size() >= 32) return FieldError(name, "at most 32 flags");
        x.flags.emplace_back(std::string(m.key), b);
      }
      *out = std::move(x);
      return Status::Ok();
    }
  }
  return Internal("unhandled field type");
}

namespace {
template <typename W>
void WriteValue(W& w, const std::vector<std::string>* enum_values, const Value& v) {
  if (v.is_null) {
    w.Null();
    return;
  }
  switch (v.type) {
    case FieldType::kString: w.String(v.s.data(), static_cast<rapidjson::SizeType>(v.s.size())); break;
    case FieldType::kNumber: w.Double(v.number); break;
    case FieldType::kInt: w.Int64(v.i); break;
    case FieldType::kBool: w.Bool(v.b); break;
    case FieldType::kTimestamp: {
      const std::string s = FormatRfc3339(v.i);
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      break;
    }
    case FieldType::kEnum: {
      const std::string& s = (*enum_values)[v.i];
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      break;
    }
    case FieldType::kFlags:
      w.StartObject();
      for (const auto& [k, b] : v.flags) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        w.Bool(b);
      }
      w.EndObject();
      break;
  }
}
}  // namespace

void WriteJsonValue(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::vector<std::string>& enum_values,
                    const Value& v) {
  WriteValue(w, &enum_values, v);
}

std::string EventToJson(const Schema& schema, const Event& e) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  const EventTypeDef& et = schema.event_types()[e.type];
  w.StartObject();
  w.Key("event_id");
  w.String(e.event_id.data(), static_cast<rapidjson::SizeType>(e.event_id.size()));
  w.Key("subscriber_id");
  w.String(e.subscriber_id.data(), static_cast<rapidjson::SizeType>(e.subscriber_id.size()));
  w.Key("type");
  w.String(et.name.data(), static_cast<rapidjson::SizeType>(et.name.size()));
  w.Key("ts");
  const std::string ts = FormatRfc3339(e.ts);
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  for (size_t i = 0; i < et.fields.size(); ++i) {
    if (e.fields[i].is_null) continue;
    w.Key(et.fields[i].name.data(), static_cast<rapidjson::SizeType>(et.fields[i].name.size()));
    WriteValue(w, &et.fields[i].values, e.fields[i]);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

bool MatchesFilters(const std::vector<FieldFilter>& filters, const Event& e) {
  for (const FieldFilter& f : filters) {
    const Value& v = e.fields[f.field];
    if (v.is_null) return false;
    if (f.value.type == FieldType::kNumber || f.value.type == FieldType::kInt) {
      if (v.AsDouble() != f.value.AsDouble()) return false;
    } else if (!(v == f.value)) {
      return false;
    }
  }
  return true;
}

}  // namespace kairos
