#include "decide/decide_request.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_limits.h"
#include "common/time_format.h"

namespace kairos {

namespace {
constexpr size_t kMaxIdBytes = 128;

Status Bad(std::string message, std::string field) {
  return InvalidArgument(field + ": " + message, field);
}

// RapidJSON's reader and DOM recurse once per nesting level: a bound on the depth, checked
// before parsing, keeps a hostile body from overflowing the stack. Requests nest 2 levels.
constexpr int kMaxRequestDepth = 64;

Result<rapidjson::Document> ParseObject(std::string_view json) {
  KAIROS_RETURN_IF_ERROR(CheckJsonLimits(
      json, JsonLimits{.max_depth = kMaxRequestDepth, .max_string_bytes = int64_t{1} << 40},
      false, nullptr, "the most a request may have"));
  rapidjson::Document doc;
  // Validated UTF-8 in, so every string echoed into answers and the log is valid as it is.
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return InvalidArgument("malformed JSON at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return InvalidArgument("the body must be a JSON object");
  return doc;
}

Result<std::string> RequiredString(const rapidjson::Value& obj, const char* key) {
  const std::string field = std::string("/") + key;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return Bad("required", field);
  if (!it->value.IsString()) return Bad("expected a string", field);
  std::string s(it->value.GetString(), it->value.GetStringLength());
  if (s.empty()) return Bad("must not be empty", field);
  if (s.size() > kMaxIdBytes) return Bad("longer than " + std::to_string(kMaxIdBytes) + " bytes", field);
  return s;
}

const char* JsonTypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "bool";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

Status ContextValueFrom(const rapidjson::Value& v, const ContextField& f, const std::string& field,
                        ContextValue* out) {
  out->type = f.type;
  if (v.IsNull()) return Status::Ok();
  switch (f.type) {
    case expr::Type::kString:
      if (!v.IsString()) return Bad(std::string("expected a string, got ") + JsonTypeName(v), field);
      if (v.GetStringLength() > 1024) return Bad("longer than 1024 bytes", field);
      out->str.assign(v.GetString(), v.GetStringLength());
      break;
    case expr::Type::kNumber:
      if (!v.IsNumber()) return Bad(std::string("expected a number, got ") + JsonTypeName(v), field);
      out->num = v.GetDouble();
      break;
    case expr::Type::kBool:
      if (!v.IsBool()) return Bad(std::string("expected a bool, got ") + JsonTypeName(v), field);
      out->b = v.GetBool();
      break;
    case expr::Type::kTime:
      if (v.IsInt64()) {
        out->num = static_cast<double>(v.GetInt64());
      } else if (v.IsString()) {
        auto t = ParseRfc3339(std::string_view(v.GetString(), v.GetStringLength()));
        if (!t.ok()) return Bad("expected an RFC 3339 time or epoch milliseconds", field);
        out->num = static_cast<double>(*t);
      } else {
        return Bad(std::string("expected a time, got ") + JsonTypeName(v), field);
      }
      break;
    default:
      return Bad("context field of an unsupported type", field);
  }
  out->is_null = false;
  return Status::Ok();
}
}  // namespace

Result<DecideRequest> ParseDecideRequest(std::string_view json, const Decisioning& d) {
  KAIROS_ASSIGN_OR_RETURN(rapidjson::Document parsed, ParseObject(json));
  // Read through a const view: C++20 finds RapidJSON's mixed const/non-const iterator
  // comparisons ambiguous (clang warns), const-to-const ones are not.
  const rapidjson::Value& doc = parsed;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view k(it->name.GetString(), it->name.GetStringLength());
    if (k != "subscriber_id" && k != "channel" && k != "context" && k != "limit" && k != "explain" &&
        k != "dry_run") {
      return Bad("unknown member; expected subscriber_id, channel, context, limit, explain, dry_run",
                 "/" + std::string(k.substr(0, 64)));
    }
  }
  DecideRequest req;
  KAIROS_ASSIGN_OR_RETURN(req.subscriber_id, RequiredString(doc, "subscriber_id"));
  KAIROS_ASSIGN_OR_RETURN(req.channel, RequiredString(doc, "channel"));
  if (d.policies.ChannelIndex(req.channel) < 0) {
    return Bad("unknown channel \"" + req.channel.substr(0, 64) + "\"; channels: " + d.policies.ChannelNames(),
               "/channel");
  }
  const auto& fields = d.features->context();
  req.context.resize(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) req.context[i].type = fields[i].type;
  if (auto it = doc.FindMember("context"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsObject()) return Bad("expected an object", "/context");
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      const std::string field = "/context/" + name.substr(0, 64);
      if (name == "channel") return Bad("the channel is given at the top level, not in context", field);
      const int idx = d.features->ContextIndex(name);
      if (idx < 0) {
        std::string known;
        for (const ContextField& f : fields) known += (known.empty() ? "" : ", ") + f.name;
        return Bad("unknown context field; catalog.yaml declares: " + (known.empty() ? "(none)" : known), field);
      }
      KAIROS_RETURN_IF_ERROR(ContextValueFrom(m->value, fields[idx], field, &req.context[idx]));
    }
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    it->value.Accept(w);
    req.context_json.assign(sb.GetString(), sb.GetSize());
  }
  if (auto it = doc.FindMember("limit"); it != doc.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 1 || it->value.GetInt() > 100) {
      return Bad("expected an integer 1..100", "/limit");
    }
    req.limit = it->value.GetInt();
  }
  for (const char* key : {"explain", "dry_run"}) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd()) continue;
    if (!it->value.IsBool()) return Bad("expected true or false", std::string("/") + key);
    (std::string_view(key) == "explain" ? req.explain : req.dry_run) = it->value.GetBool();
  }
  return req;
}

Result<ResponseRequest> ParseResponseRequest(std::string_view json) {
  KAIROS_ASSIGN_OR_RETURN(rapidjson::Document parsed, ParseObject(json));
  const rapidjson::Value& doc = parsed;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view k(it->name.GetString(), it->name.GetStringLength());
    if (k != "decision_id" && k != "action_id" && k != "outcome" && k != "subscriber_id") {
      return Bad("unknown member; expected decision_id, action_id, outcome, subscriber_id",
                 "/" + std::string(k.substr(0, 64)));
    }
  }
  ResponseRequest r;
  KAIROS_ASSIGN_OR_RETURN(r.decision_id, RequiredString(doc, "decision_id"));
  KAIROS_ASSIGN_OR_RETURN(r.action_id, RequiredString(doc, "action_id"));
  KAIROS_ASSIGN_OR_RETURN(r.outcome, RequiredString(doc, "outcome"));
  if (OutcomeIndex(r.outcome) < 0) {
    return Bad("unknown outcome \"" + r.outcome.substr(0, 32) +
                   "\"; outcomes: accepted, rejected, clicked, converted, ignored",
               "/outcome");
  }
  if (doc.HasMember("subscriber_id")) {
    KAIROS_ASSIGN_OR_RETURN(r.subscriber_id, RequiredString(doc, "subscriber_id"));
  }
  return r;
}

}  // namespace kairos
