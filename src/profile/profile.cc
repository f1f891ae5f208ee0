#include "profile/profile.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/encoding.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "schema/score_fields.h"

namespace kairos {

float EmptyBucket(AggregateOp op) {
  return op == AggregateOp::kMax ? -std::numeric_limits<float>::infinity() : 0.0f;
}

namespace {
// Version 3 added the interaction history; version 2 records (none) still decode.
constexpr uint8_t kFormatVersion = 4;
constexpr uint8_t kFormatVersionNoHistory = 2;

void ClearBuckets(const AggregateDef& def, std::span<float> b) {
  std::fill(b.begin(), b.end(), EmptyBucket(def.op));
}

// Bytes of the bitmap that marks the non-empty buckets of a dense series.
uint64_t BitmapBytes(const AggregateDef& def) { return (static_cast<uint64_t>(def.retention_days) + 7) / 8; }

// Bucket values are stored in hundredths, as zigzag varints: 2-3 bytes for typical daily
// amounts instead of 4 for a float, exact for amounts with at most two decimals.
constexpr double kBucketScale = 100.0;
void PutBucket(std::string* out, float v) {
  double scaled = static_cast<double>(v) * kBucketScale;
  if (!(std::fabs(scaled) < 9.0e15)) scaled = scaled > 0 ? 9.0e15 : -9.0e15;  // also NaN → -9e15
  const int64_t n = scaled >= 0 ? static_cast<int64_t>(scaled + 0.5) : -static_cast<int64_t>(0.5 - scaled);
  PutSignedVarint(out, n);
}
bool GetBucket(Reader& r, float* v) {
  int64_t n;
  if (!r.SignedVarint(&n)) return false;
  *v = static_cast<float>(static_cast<double>(n) / kBucketScale);
  return true;
}

void AddToSeries(const AggregateDef& def, int64_t day, double amount, AggregateState* s,
                 std::span<float> buckets) {
  const int64_t r = def.retention_days;
  if (s->newest_day == kNoDay) s->newest_day = day;
  if (day > s->newest_day) {
    const int64_t shift = day - s->newest_day;
    if (shift >= r) {
      ClearBuckets(def, buckets);
    } else {
      std::memmove(buckets.data() + shift, buckets.data(), (r - shift) * sizeof(float));
      std::fill(buckets.begin(), buckets.begin() + shift, EmptyBucket(def.op));
    }
    s->newest_day = day;
  }
  const int64_t age = s->newest_day - day;
  if (age >= r) return;  // older than anything a window can see
  float& b = buckets[age];
  switch (def.op) {
    case AggregateOp::kSum: b += static_cast<float>(amount); break;
    case AggregateOp::kCount: b += 1.0f; break;
    case AggregateOp::kMax: b = std::max(b, static_cast<float>(amount)); break;
    case AggregateOp::kLastTime: break;
  }
}
void CountImpression(Profile* p, uint32_t action) {
  for (ActionTotal& t : p->action_totals) {
    if (t.action == action) {
      ++t.impressions;
      return;
    }
  }
  p->action_totals.push_back({action, 1});
}

// Inserts in time order (entries almost always arrive in order: a scan from the back).
void AddInteraction(Profile* p, const Interaction& x) {
  auto it = p->interactions.end();
  while (it != p->interactions.begin() && (it - 1)->ts > x.ts) --it;
  p->interactions.insert(it, x);
}

void PruneHistory(const HistoryDef& h, Profile* p) {
  const TimestampMs cutoff = p->last_seen - h.retention_ms;
  auto& xs = p->interactions;
  size_t drop = 0;
  while (drop < xs.size() && xs[drop].ts < cutoff) ++drop;
  if (xs.size() - drop > static_cast<size_t>(h.max_interactions)) {
    drop = xs.size() - static_cast<size_t>(h.max_interactions);
  }
  if (drop > 0) xs.erase(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(drop));
}

// A decision event: one impression per shown action ("ACTION:GROUP:ISSUE,...").
void ApplyDecision(const BuiltinEvents& b, const Event& e, Profile* p) {
  const Value& actions = e.fields[b.d_actions];
  if (actions.is_null) return;
  Interaction x;
  x.ts = e.ts;
  x.decision = HistoryKey(e.fields[b.d_decision_id].s);
  x.channel = HistoryKey(e.fields[b.d_channel].s);
  ForEachShownAction(actions.s, [&](const ShownAction& shown) {
    x.action = HistoryKey(shown.action);
    x.group = HistoryKey(shown.group);
    x.issue = HistoryKey(shown.issue);
    AddInteraction(p, x);
    CountImpression(p, x.action);
  });
}

// A response event. The same outcome for the same decision and action counts once, however
// often it is replayed (beyond the event-id dedupe window too, while the history keeps it).
bool ApplyResponse(const BuiltinEvents& b, const Event& e, Profile* p) {
  Interaction x;
  x.ts = e.ts;
  x.decision = HistoryKey(e.fields[b.r_decision_id].s);
  x.action = HistoryKey(e.fields[b.r_action_id].s);
  x.kind = static_cast<InteractionKind>(e.fields[b.r_outcome].i + 1);
  const Interaction* shown = nullptr;
  for (const Interaction& h : p->interactions) {
    if (h.decision != x.decision || h.action != x.action) continue;
    if (h.kind == x.kind) return false;
    if (h.kind == InteractionKind::kImpression) shown = &h;
  }
  auto key_or = [&](int field, uint32_t fallback) {
    const Value& v = e.fields[field];
    return v.is_null ? fallback : HistoryKey(v.s);
  };
  x.channel = key_or(b.r_channel, shown ? shown->channel : 0);
  x.group = key_or(b.r_group, shown ? shown->group : 0);
  x.issue = key_or(b.r_issue, shown ? shown->issue : 0);
  AddInteraction(p, x);
  return true;
}
}  // namespace

uint32_t LifetimeImpressions(const Profile& p, uint32_t action) {
  for (const ActionTotal& t : p.action_totals) {
    if (t.action == action) return t.impressions;
  }
  return 0;
}

Profile Profile::Empty(const Schema& schema) {
  Profile p;
  p.Reset(schema);
  return p;
}

void Profile::Reset(const Schema& schema) {
  events_applied = 0;
  first_seen = last_seen = 0;
  attributes.resize(schema.attributes().size());
  for (AttributeState& a : attributes) {
    a.value.is_null = true;
    a.value.flags.clear();
    a.set_ms = 0;
  }
  recent_ids.clear();
  interactions.clear();
  action_totals.clear();
  scores.clear();
  scored_ms = 0;
  score_run.clear();
  // Buckets of an aggregate that was never written are already empty (invariant: a series gets
  // its newest_day before its first bucket), so only used series need clearing.
  if (buckets.size() != static_cast<size_t>(schema.total_buckets()) ||
      aggregates.size() != schema.aggregates().size()) {
    buckets.resize(static_cast<size_t>(schema.total_buckets()));
    for (const AggregateDef& def : schema.aggregates()) ClearBuckets(def, Buckets(def));
  } else {
    for (size_t i = 0; i < aggregates.size(); ++i) {
      if (aggregates[i].newest_day != kNoDay) ClearBuckets(schema.aggregates()[i], Buckets(schema.aggregates()[i]));
    }
  }
  aggregates.assign(schema.aggregates().size(), AggregateState{});
}

ApplyOutcome ApplyEvent(const Schema& schema, const Event& e, uint64_t id_hash,
                        int64_t dedupe_window_ms, Profile* p) {
  const BuiltinEvents& builtin = schema.builtin();
  // Scores are not activity: no dedupe window (a run at any time is idempotent by its time).
  if (e.type == builtin.scores) {
    if (e.ts < p->scored_ms) return ApplyOutcome::kDuplicate;  // an older run: keep the newer
    p->scores.assign(e.fields.begin() + builtin.s_first_score, e.fields.end());
    p->scored_ms = e.ts;
    p->score_run = e.fields[builtin.s_run].s;
    return ApplyOutcome::kApplied;
  }
  const bool first = p->events_applied == 0;
  if (!first) {
    if (e.ts < p->last_seen - dedupe_window_ms) return ApplyOutcome::kTooLate;
    for (const RecentId& r : p->recent_ids) {
      if (r.hash == id_hash) return ApplyOutcome::kDuplicate;
    }
  }
  if (e.type == builtin.response && !ApplyResponse(builtin, e, p)) return ApplyOutcome::kDuplicate;
  if (e.type == builtin.decision) ApplyDecision(builtin, e, p);
  // Remember the id; forget ids that fell out of the window.
  const TimestampMs newest = first ? e.ts : std::max(p->last_seen, e.ts);
  std::erase_if(p->recent_ids, [&](const RecentId& r) { return r.ts < newest - dedupe_window_ms; });
  p->recent_ids.push_back({id_hash, e.ts});

  const EventTypeDef& et = schema.event_types()[e.type];
  for (const AttributeSet& set : et.sets) {
    const Value& v = e.fields[set.field];
    if (v.is_null) continue;
    AttributeState& a = p->attributes[set.attribute];
    if (!a.value.is_null && e.ts < a.set_ms) continue;  // newer master data wins
    a.value = v;
    a.set_ms = e.ts;
  }
  const int64_t day = DayOf(e.ts);
  for (int idx : schema.AggregatesOf(e.type)) {
    const AggregateDef& def = schema.aggregates()[idx];
    if (!MatchesFilters(def.where, e)) continue;
    AggregateState& s = p->aggregates[idx];
    if (def.op == AggregateOp::kLastTime) {
      s.last_ms = std::max(s.last_ms, e.ts);
      continue;
    }
    double amount = 0;
    if (def.field >= 0) {
      const Value& v = e.fields[def.field];
      if (v.is_null) continue;  // sum/max over an absent field: nothing to add
      amount = v.AsDouble();
    }
    AddToSeries(def, day, amount, &s, p->Buckets(def));
  }
  p->first_seen = first ? e.ts : std::min(p->first_seen, e.ts);
  p->last_seen = newest;
  ++p->events_applied;
  if (!p->interactions.empty()) PruneHistory(schema.history(), p);
  return ApplyOutcome::kApplied;
}

double DayValue(const Schema& schema, const Profile& p, int index, int64_t day) {
  const AggregateDef& def = schema.aggregates()[index];
  const AggregateState& s = p.aggregates[index];
  const int64_t age = s.newest_day == kNoDay ? -1 : s.newest_day - day;
  if (age < 0 || age >= def.retention_days) return EmptyBucket(def.op);
  return p.Buckets(def)[age];
}

double WindowValue(const Schema& schema, const Profile& p, int index, int window_days, TimestampMs now) {
  const AggregateDef& def = schema.aggregates()[index];
  const AggregateState& s = p.aggregates[index];
  const std::span<const float> buckets = p.Buckets(def);
  const bool is_max = def.op == AggregateOp::kMax;
  double total = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
  if (s.newest_day != kNoDay) {
    const int64_t today = DayOf(now);
    const int64_t first_day = today - window_days + 1;
    for (size_t age = 0; age < buckets.size(); ++age) {
      const int64_t day = s.newest_day - static_cast<int64_t>(age);
      if (day > today) continue;
      if (day < first_day) break;
      if (is_max) total = std::max(total, static_cast<double>(buckets[age]));
      else total += buckets[age];
    }
  }
  if (is_max && std::isinf(total)) return std::nan("");
  return total;
}

// Layout (all integers LEB128 varints, zigzag where signed; times relative to last_seen):
//   u8 version | events_applied | first_seen_ms | last_seen_ms - first_seen_ms
//   | n_attributes_set { index | age in seconds | payload by type }
//   | n_aggregates_set { index | last_time: last_seen - ms
//                               | windowed: newest_day - last_day | n | dense: bitmap, n values
//                                                                     | sparse: n { age | value } }
//   | n_ids { u64 hash | last_seen - ts (ms) }
//   | n_keys { u32 key }   (v3: the distinct names of the history, each stored once)
//   | n_interactions { u8 kind | last_seen - ts | u32 decision | action, group, issue, channel
//                      as indices into the keys }
//   | n_totals { action key index | impressions }
//   | v4: scored_ms (0: never scored, then nothing follows) | run id (len + bytes)
//         | n_scores { u8 score id | payload by the score's type (null scores are left out) }
// Bucket values in hundredths (see PutBucket).
// Payloads: string/flags-name = len + bytes; number = f64; int/timestamp = zigzag; bool = u8;
// enum = index; flags = n { name | u8 }.
void EncodeProfile(const Schema& schema, const Profile& p, std::string* out) {
  out->clear();
  out->reserve(1024);
  const int64_t last_day = DayOf(p.last_seen);
  out->push_back(static_cast<char>(kFormatVersion));
  PutVarint(out, static_cast<uint64_t>(p.events_applied));
  PutVarint(out, static_cast<uint64_t>(p.first_seen));
  PutVarint(out, static_cast<uint64_t>(p.last_seen - p.first_seen));
  size_t n = 0;
  for (const auto& a : p.attributes) n += !a.value.is_null;
  PutVarint(out, n);
  for (size_t i = 0; i < p.attributes.size(); ++i) {
    const AttributeState& a = p.attributes[i];
    if (a.value.is_null) continue;
    PutVarint(out, i);
    PutSignedVarint(out, p.last_seen / 1000 - a.set_ms / 1000);
    const Value& v = a.value;
    switch (schema.attributes()[i].type) {
      case FieldType::kString:
        PutVarint(out, v.s.size());
        out->append(v.s);
        break;
      case FieldType::kNumber: PutFixed(out, v.number); break;
      case FieldType::kInt:
      case FieldType::kTimestamp: PutSignedVarint(out, v.i); break;
      case FieldType::kBool: out->push_back(v.b ? 1 : 0); break;
      case FieldType::kEnum: PutVarint(out, static_cast<uint64_t>(v.i)); break;
      case FieldType::kFlags:
        PutVarint(out, v.flags.size());
        for (const auto& [name, b] : v.flags) {
          PutVarint(out, name.size());
          out->append(name);
          out->push_back(b ? 1 : 0);
        }
        break;
    }
  }
  n = 0;
  for (const auto& s : p.aggregates) n += s.newest_day != kNoDay || s.last_ms >= 0;
  PutVarint(out, n);
  for (size_t i = 0; i < p.aggregates.size(); ++i) {
    const AggregateState& s = p.aggregates[i];
    if (s.newest_day == kNoDay && s.last_ms < 0) continue;
    PutVarint(out, i);
    const AggregateDef& def = schema.aggregates()[i];
    if (def.op == AggregateOp::kLastTime) {
      PutSignedVarint(out, p.last_seen - s.last_ms);
      continue;
    }
    PutSignedVarint(out, s.newest_day - last_day);
    const float empty = EmptyBucket(def.op);
    const std::span<const float> buckets = p.Buckets(def);
    uint64_t nonempty = 0;
    for (float b : buckets) nonempty += b != empty;
    PutVarint(out, nonempty);
    if (nonempty > BitmapBytes(def)) {
      // Dense: a bitmap of the non-empty ages, then their values.
      const size_t bitmap_at = out->size();
      out->append(BitmapBytes(def), '\0');
      for (size_t age = 0; age < buckets.size(); ++age) {
        if (buckets[age] == empty) continue;
        (*out)[bitmap_at + age / 8] = static_cast<char>((*out)[bitmap_at + age / 8] | (1 << (age % 8)));
        PutBucket(out, buckets[age]);
      }
    } else {
      // Sparse: (age, value) pairs.
      for (size_t age = 0; age < buckets.size(); ++age) {
        if (buckets[age] == empty) continue;
        PutVarint(out, age);
        PutBucket(out, buckets[age]);
      }
    }
  }
  PutVarint(out, p.recent_ids.size());
  for (const RecentId& r : p.recent_ids) {
    PutFixed(out, r.hash);
    PutVarint(out, static_cast<uint64_t>(p.last_seen - r.ts));
  }
  // History names repeat (a few actions, channels, groups): a small key table, 1-byte indices.
  std::vector<uint32_t> keys;
  auto index_of = [&keys](uint32_t k) -> uint64_t {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == k) return i;
    }
    keys.push_back(k);
    return keys.size() - 1;
  };
  for (const Interaction& x : p.interactions) {
    index_of(x.action), index_of(x.group), index_of(x.issue), index_of(x.channel);
  }
  for (const ActionTotal& t : p.action_totals) index_of(t.action);
  PutVarint(out, keys.size());
  for (uint32_t k : keys) PutFixed(out, k);
  PutVarint(out, p.interactions.size());
  for (const Interaction& x : p.interactions) {
    out->push_back(static_cast<char>(x.kind));
    PutSignedVarint(out, p.last_seen - x.ts);
    PutFixed(out, x.decision);
    PutVarint(out, index_of(x.action));
    PutVarint(out, index_of(x.group));
    PutVarint(out, index_of(x.issue));
    PutVarint(out, index_of(x.channel));
  }
  PutVarint(out, p.action_totals.size());
  for (const ActionTotal& t : p.action_totals) {
    PutVarint(out, index_of(t.action));
    PutVarint(out, t.impressions);
  }
  PutVarint(out, static_cast<uint64_t>(p.scored_ms));
  if (p.scored_ms == 0) return;
  PutVarint(out, p.score_run.size());
  out->append(p.score_run);
  n = 0;
  for (const Value& v : p.scores) n += !v.is_null;
  PutVarint(out, n);
  for (size_t i = 0; i < p.scores.size(); ++i) {
    const Value& v = p.scores[i];
    if (v.is_null) continue;
    out->push_back(static_cast<char>(i));
    if (ScoreFields()[i].type == FieldType::kNumber) {
      PutFixed(out, v.number);
    } else {
      PutVarint(out, v.s.size());
      out->append(v.s);
    }
  }
}

Status DecodeProfile(const Schema& schema, std::string_view bytes, Profile* p) {
  p->Reset(schema);
  Reader r(bytes);
  uint8_t version = 0;
  auto bad = [](const char* what) { return Corruption(std::string("profile record: ") + what); };
  if (!r.Fixed(&version) || version < kFormatVersionNoHistory || version > kFormatVersion) {
    return bad("unknown format version");
  }
  uint64_t u, first, span;
  if (!r.Varint(&u) || !r.Varint(&first) || !r.Varint(&span)) return bad("truncated header");
  p->events_applied = static_cast<int64_t>(u);
  p->first_seen = static_cast<int64_t>(first);
  p->last_seen = static_cast<int64_t>(first + span);
  uint64_t n;
  if (!r.Varint(&n) || n > p->attributes.size()) return bad("attribute count");
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t idx;
    int64_t age_s;
    if (!r.Varint(&idx) || idx >= p->attributes.size() || !r.SignedVarint(&age_s)) return bad("attribute header");
    AttributeState& a = p->attributes[idx];
    a.set_ms = (p->last_seen / 1000 - age_s) * 1000;
    Value& v = a.value;
    if (!v.is_null) return bad("attribute repeated");
    v.is_null = false;
    v.type = schema.attributes()[idx].type;
    switch (v.type) {
      case FieldType::kString: {
        std::string_view s;
        if (!r.Varint(&u) || !r.Bytes(u, &s)) return bad("string attribute");
        v.s.assign(s);
        break;
      }
      case FieldType::kNumber:
        if (!r.Fixed(&v.number)) return bad("number attribute");
        break;
      case FieldType::kInt:
      case FieldType::kTimestamp:
        if (!r.SignedVarint(&v.i)) return bad("int attribute");
        break;
      case FieldType::kBool: {
        uint8_t b;
        if (!r.Fixed(&b) || b > 1) return bad("bool attribute");
        v.b = b;
        break;
      }
      case FieldType::kEnum:
        if (!r.Varint(&u) || u >= schema.attributes()[idx].values.size()) return bad("enum attribute");
        v.i = static_cast<int64_t>(u);
        break;
      case FieldType::kFlags: {
        uint64_t count;
        if (!r.Varint(&count) || count > 64) return bad("flags attribute");
        for (uint64_t j = 0; j < count; ++j) {
          std::string_view name;
          uint8_t b;
          if (!r.Varint(&u) || !r.Bytes(u, &name) || !r.Fixed(&b)) return bad("flag");
          v.flags.emplace_back(std::string(name), b != 0);
        }
        break;
      }
    }
  }
  if (!r.Varint(&n) || n > p->aggregates.size()) return bad("aggregate count");
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t idx;
    if (!r.Varint(&idx) || idx >= p->aggregates.size()) return bad("aggregate index");
    const AggregateDef& def = schema.aggregates()[idx];
    AggregateState& s = p->aggregates[idx];
    int64_t delta;
    if (def.op == AggregateOp::kLastTime) {
      if (!r.SignedVarint(&delta)) return bad("last_time");
      s.last_ms = p->last_seen - delta;
      continue;
    }
    uint64_t count;
    if (!r.SignedVarint(&delta) || !r.Varint(&count) || count > static_cast<uint64_t>(def.retention_days)) {
      return bad("series header");
    }
    s.newest_day = DayOf(p->last_seen) + delta;
    const std::span<float> buckets = p->Buckets(def);
    if (count > BitmapBytes(def)) {
      std::string_view bitmap;
      if (!r.Bytes(BitmapBytes(def), &bitmap)) return bad("series bitmap");
      uint64_t seen = 0;
      for (size_t age = 0; age < buckets.size(); ++age) {
        if (!(static_cast<uint8_t>(bitmap[age / 8]) & (1 << (age % 8)))) continue;
        if (!GetBucket(r, &buckets[age])) return bad("series bucket");
        ++seen;
      }
      if (seen != count) return bad("series bitmap count");
    } else {
      for (uint64_t j = 0; j < count; ++j) {
        uint64_t age;
        if (!r.Varint(&age) || age >= buckets.size() || !GetBucket(r, &buckets[age])) return bad("series bucket");
      }
    }
  }
  if (!r.Varint(&n) || n > 1000000) return bad("id count");
  p->recent_ids.resize(n);
  for (RecentId& id : p->recent_ids) {
    if (!r.Fixed(&id.hash) || !r.Varint(&u)) return bad("recent id");
    id.ts = p->last_seen - static_cast<int64_t>(u);
  }
  if (version >= 3) {
    uint64_t n_keys;
    if (!r.Varint(&n_keys) || n_keys > 4 * 10000 + 10000) return bad("history key count");
    std::vector<uint32_t> keys(n_keys);
    for (uint32_t& k : keys) {
      if (!r.Fixed(&k)) return bad("history key");
    }
    auto key = [&](uint32_t* out) {
      uint64_t i;
      if (!r.Varint(&i) || i >= keys.size()) return false;
      *out = keys[i];
      return true;
    };
    if (!r.Varint(&n) || n > 10000) return bad("interaction count");
    p->interactions.resize(n);
    for (Interaction& x : p->interactions) {
      uint8_t kind;
      int64_t age;
      if (!r.Fixed(&kind) || kind >= kInteractionKinds || !r.SignedVarint(&age) ||
          !r.Fixed(&x.decision) || !key(&x.action) || !key(&x.group) || !key(&x.issue) ||
          !key(&x.channel)) {
        return bad("interaction");
      }
      x.kind = static_cast<InteractionKind>(kind);
      x.ts = p->last_seen - age;
    }
    if (!r.Varint(&n) || n > keys.size()) return bad("action total count");
    p->action_totals.resize(n);
    for (ActionTotal& t : p->action_totals) {
      if (!key(&t.action) || !r.Varint(&u) || u > UINT32_MAX) return bad("action total");
      t.impressions = static_cast<uint32_t>(u);
    }
  }
  if (version >= 4) {
    uint64_t scored;
    if (!r.Varint(&scored)) return bad("scores header");
    p->scored_ms = static_cast<TimestampMs>(scored);
    if (scored != 0) {
      std::string_view run;
      if (!r.Varint(&u) || u > 64 || !r.Bytes(u, &run)) return bad("score run");
      p->score_run.assign(run);
      p->scores.assign(kScoreCount, Value::Null());
      if (!r.Varint(&n) || n > static_cast<uint64_t>(kScoreCount)) return bad("score count");
      for (uint64_t k = 0; k < n; ++k) {
        uint8_t id;
        if (!r.Fixed(&id) || id >= kScoreCount || !p->scores[id].is_null) return bad("score id");
        Value& v = p->scores[id];
        if (ScoreFields()[id].type == FieldType::kNumber) {
          double x;
          if (!r.Fixed(&x)) return bad("number score");
          v = Value::Number(x);
        } else {
          std::string_view text;
          if (!r.Varint(&u) || !r.Bytes(u, &text)) return bad("text score");
          v = Value::String(std::string(text));
        }
      }
    }
  }
  if (!r.done()) return bad("trailing bytes");
  return Status::Ok();
}

}  // namespace kairos
