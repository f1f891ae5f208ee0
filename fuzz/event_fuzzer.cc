// Fuzzes the event parser of POST /v1/events (one JSON object, or NDJSON lines split the way
// the engine splits them) against the default schema.
//
// Invariants beyond "no crash": an accepted event has a known type, ids within their limits and
// one value per declared field, each null or of the field's type; written back as canonical
// JSON (EventToJson, what the WAL stores) it parses again to an equal event, and writing that
// gives the same bytes. A refused event names the member at fault with a JSON pointer when it
// names one at all. The HTTP edge's JSON limit check (common/json_limits.h) runs over the same
// bytes, as one document and as NDJSON, and reports a breach with its kind and a pointer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_limits.h"
#include "fuzz/fuzz_common.h"
#include "schema/event.h"

namespace kairos::fuzz {
namespace {

void CheckEvent(const Schema& schema, const Event& e) {
  KAIROS_FUZZ_CHECK(e.type >= 0 && e.type < static_cast<int>(schema.event_types().size()), "");
  const EventTypeDef& et = schema.event_types()[e.type];
  KAIROS_FUZZ_CHECK(!e.event_id.empty() && e.event_id.size() <= kMaxEventIdBytes, e.event_id);
  KAIROS_FUZZ_CHECK(!e.subscriber_id.empty() && e.subscriber_id.size() <= kMaxSubscriberIdBytes,
                    e.subscriber_id);
  KAIROS_FUZZ_CHECK(e.fields.size() == et.fields.size(), et.name);
  for (size_t i = 0; i < et.fields.size(); ++i) {
    const Value& v = e.fields[i];
    if (v.is_null) continue;
    KAIROS_FUZZ_CHECK(v.type == et.fields[i].type, et.fields[i].name);
    if (v.type == FieldType::kEnum) {
      KAIROS_FUZZ_CHECK(v.i >= 0 && v.i < static_cast<int64_t>(et.fields[i].values.size()),
                        et.fields[i].name);
    }
  }
}

void ParseOne(EventParser& parser, EventParser& reparser, std::string_view json) {
  Event e;
  const Status s = parser.Parse(json, &e);
  if (!s.ok()) {
    KAIROS_FUZZ_CHECK(!s.message().empty(), "");
    KAIROS_FUZZ_CHECK(s.field().empty() || s.field().front() == '/', s.field());
    return;
  }
  const Schema& schema = parser.schema();
  CheckEvent(schema, e);
  const std::string canonical = EventToJson(schema, e);
  Event again;
  const Status s2 = reparser.Parse(canonical, &again);
  KAIROS_FUZZ_CHECK(s2.ok(), s2.message() + " in " + canonical);
  KAIROS_FUZZ_CHECK(again.event_id == e.event_id, canonical);
  KAIROS_FUZZ_CHECK(again.subscriber_id == e.subscriber_id, canonical);
  KAIROS_FUZZ_CHECK(again.type == e.type, canonical);
  KAIROS_FUZZ_CHECK(again.ts == e.ts, canonical);
  KAIROS_FUZZ_CHECK(again.fields == e.fields, canonical);
  KAIROS_FUZZ_CHECK(EventToJson(schema, again) == canonical, canonical);
}

}  // namespace
}  // namespace kairos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kairos;
  static EventParser parser(fuzz::DefaultSchema());
  static EventParser reparser(fuzz::DefaultSchema());
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (bool lines : {false, true}) {
    JsonLimit which;
    const Status s = CheckJsonLimits(body, JsonLimits{.max_depth = 3, .max_string_bytes = 16},
                                     lines, &which);
    KAIROS_FUZZ_CHECK(s.ok() == (which == JsonLimit::kNone), s.message());
    KAIROS_FUZZ_CHECK(s.field().empty() || s.field().front() == '/', s.field());
  }
  fuzz::ParseOne(parser, reparser, body);  // application/json: the whole body is one event
  if (body.find('\n') == std::string_view::npos) return 0;
  // application/x-ndjson: one event per line, '\r' before '\n' dropped, blank lines skipped.
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      fuzz::ParseOne(parser, reparser, line);
    }
    pos = end + 1;
  }
  return 0;
}
