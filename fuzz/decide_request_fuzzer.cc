// Fuzzes the request parsers of POST /v1/decide and POST /v1/responses against the demo
// operator's catalog (channels, context fields page/intent/roaming).
//
// Invariants beyond "no crash": an accepted decide request has an id within its limit, a known
// channel, a limit in 0..100 and one context value per declared field, each null or of the
// declared type; written back as JSON it parses again to an equal request. Errors name the
// member at fault as a JSON pointer.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "decide/decide_request.h"
#include "fuzz/fuzz_common.h"

namespace kairos::fuzz {
namespace {

std::string ToJson(const DecideRequest& r) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("subscriber_id");
  w.String(r.subscriber_id.data(), static_cast<rapidjson::SizeType>(r.subscriber_id.size()));
  w.Key("channel");
  w.String(r.channel.data(), static_cast<rapidjson::SizeType>(r.channel.size()));
  w.Key("context");
  w.RawValue(r.context_json.data(), r.context_json.size(), rapidjson::kObjectType);
  if (r.limit != 0) {
    w.Key("limit");
    w.Int(r.limit);
  }
  w.Key("explain");
  w.Bool(r.explain);
  w.Key("dry_run");
  w.Bool(r.dry_run);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

bool SameContext(const ContextValue& a, const ContextValue& b) {
  return a.type == b.type && a.is_null == b.is_null && a.b == b.b && a.num == b.num &&
         a.str == b.str;
}

void CheckError(const Status& s) {
  KAIROS_FUZZ_CHECK(!s.ok() && !s.message().empty(), "");
  KAIROS_FUZZ_CHECK(s.field().empty() || s.field().front() == '/', s.field());
}

void Check(std::string_view json, const Decisioning& d) {
  Result<DecideRequest> r = ParseDecideRequest(json, d);
  if (!r.ok()) {
    CheckError(r.status());
  } else {
    const auto& fields = d.features->context();
    KAIROS_FUZZ_CHECK(!r->subscriber_id.empty() && r->subscriber_id.size() <= 128, "");
    KAIROS_FUZZ_CHECK(d.policies.ChannelIndex(r->channel) >= 0, r->channel);
    KAIROS_FUZZ_CHECK(r->limit >= 0 && r->limit <= 100, "");
    KAIROS_FUZZ_CHECK(r->context.size() == fields.size(), "");
    for (size_t i = 0; i < fields.size(); ++i) {
      KAIROS_FUZZ_CHECK(r->context[i].type == fields[i].type, fields[i].name);
    }
    const std::string written = ToJson(*r);
    Result<DecideRequest> again = ParseDecideRequest(written, d);
    KAIROS_FUZZ_CHECK(again.ok(), again.status().message() + " in " + written);
    KAIROS_FUZZ_CHECK(again->subscriber_id == r->subscriber_id, written);
    KAIROS_FUZZ_CHECK(again->channel == r->channel, written);
    KAIROS_FUZZ_CHECK(again->limit == r->limit, written);
    KAIROS_FUZZ_CHECK(again->explain == r->explain && again->dry_run == r->dry_run, written);
    KAIROS_FUZZ_CHECK(again->context_json == r->context_json, written);
    for (size_t i = 0; i < fields.size(); ++i) {
      KAIROS_FUZZ_CHECK(SameContext(again->context[i], r->context[i]), written);
    }
  }
  Result<ResponseRequest> resp = ParseResponseRequest(json);
  if (!resp.ok()) {
    CheckError(resp.status());
    return;
  }
  KAIROS_FUZZ_CHECK(!resp->decision_id.empty() && !resp->action_id.empty(), "");
  KAIROS_FUZZ_CHECK(OutcomeIndex(resp->outcome) >= 0, resp->outcome);
}

}  // namespace
}  // namespace kairos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const kairos::Decisioning> d = kairos::fuzz::DemoDecisioning();
  kairos::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size), *d);
  return 0;
}
