#include "trigger/journey_store.h"

#include <cstdio>
#include <filesystem>

#include "common/encoding.h"

namespace kairos {

namespace {

constexpr uint8_t kFormat = 1;
constexpr size_t kTimerPrefix = 8;

Status LmdbError(const std::string& what, int rc) {
  if (rc == MDB_MAP_FULL) return Status(ErrorCode::kTooLarge, what + ": the journey store is full");
  if (rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return Corruption(what + ": " + mdb_strerror(rc));
  }
  return IoError(what + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// Transactions that abort when they go out of scope unless committed.
struct Txn {
  MDB_txn* txn = nullptr;
  ~Txn() {
    if (txn) mdb_txn_abort(txn);
  }
  int Commit() {
    const int rc = mdb_txn_commit(txn);
    txn = nullptr;
    return rc;
  }
};
struct Cursor {
  MDB_cursor* cursor = nullptr;
  ~Cursor() {
    if (cursor) mdb_cursor_close(cursor);
  }
};

// Big-endian due time (sign bit flipped, so that key order is time order), then the instance key.
std::string TimerKey(TimestampMs due, std::string_view instance_key) {
  std::string k(kTimerPrefix, '\0');
  const uint64_t u = static_cast<uint64_t>(due) ^ (uint64_t{1} << 63);
  for (size_t i = 0; i < kTimerPrefix; ++i) k[i] = static_cast<char>(u >> (56 - 8 * i));
  k.append(instance_key);
  return k;
}

TimestampMs TimerDue(std::string_view timer_key) {
  uint64_t u = 0;
  for (size_t i = 0; i < kTimerPrefix; ++i) u = u << 8 | static_cast<uint8_t>(timer_key[i]);
  return static_cast<TimestampMs>(u ^ (uint64_t{1} << 63));
}

bool ValidPart(std::string_view s) { return !s.empty() && s.find('\0') == std::string_view::npos; }

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool GetString(Reader& r, std::string* out) {
  uint64_t n = 0;
  std::string_view v;
  if (!r.Varint(&n) || !r.Bytes(n, &v)) return false;
  out->assign(v);
  return true;
}

// Lower-case hex digits → value; false on anything else.
bool Hex(std::string_view s, uint64_t* out) {
  uint64_t v = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') v = v << 4 | static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v = v << 4 | static_cast<uint64_t>(c - 'a' + 10);
    else return false;
  }
  *out = v;
  return true;
}

// A journey step's decision id ("d", 11 hex digits of its time, "-j", 8 hex digits) is kept as
// its time relative to the instance's start and the 4-byte hash (about 9 bytes instead of 23);
// any other id as it is.
constexpr char kIdRaw = 0, kIdStep = 1;
void PutDecisionId(std::string* out, std::string_view id, TimestampMs started) {
  uint64_t t = 0, h = 0;
  if (id.size() == 22 && id[0] == 'd' && id[12] == '-' && id[13] == 'j' && Hex(id.substr(1, 11), &t) &&
      Hex(id.substr(14), &h)) {
    out->push_back(kIdStep);
    PutSignedVarint(out, static_cast<int64_t>(t) - started);
    PutFixed<uint32_t>(out, static_cast<uint32_t>(h));
    return;
  }
  out->push_back(kIdRaw);
  PutString(out, id);
}

bool GetDecisionId(Reader& r, TimestampMs started, std::string* out) {
  uint8_t tag = 0;
  if (!r.Fixed(&tag)) return false;
  if (tag == kIdRaw) return GetString(r, out);
  int64_t delta = 0;
  uint32_t h = 0;
  if (tag != kIdStep || !r.SignedVarint(&delta) || !r.Fixed(&h)) return false;
  char buf[32];
  std::snprintf(buf, sizeof buf, "d%011llx-j%08x", static_cast<unsigned long long>(started + delta), h);
  out->assign(buf);
  return true;
}

}  // namespace

std::string JourneyInstance::Key(std::string_view subscriber_id, std::string_view journey) {
  std::string k;
  k.reserve(subscriber_id.size() + 1 + journey.size());
  k.append(subscriber_id).push_back('\0');
  k.append(journey);
  return k;
}

std::string JourneyInstance::Key() const { return Key(subscriber_id, journey); }

std::string JourneyStore::Encode(const JourneyInstance& x) {
  std::string out;
  out.reserve(32 + x.origin.size() + x.decisions.size() * 12);
  out.push_back(static_cast<char>(kFormat));
  PutVarint(&out, static_cast<uint64_t>(x.step));
  PutSignedVarint(&out, x.due_ms);
  PutSignedVarint(&out, x.step_ms - x.due_ms);  // usually 0: one byte
  PutSignedVarint(&out, x.started_ms);
  PutVarint(&out, static_cast<uint64_t>(x.attempts));
  PutString(&out, x.origin);
  PutVarint(&out, x.decisions.size());
  for (const std::string& d : x.decisions) PutDecisionId(&out, d, x.started_ms);
  return out;
}

Status JourneyStore::Decode(std::string_view key, std::string_view value, JourneyInstance* out) {
  const size_t sep = key.find('\0');
  if (sep == std::string_view::npos) return Corruption("journey instance key without a separator");
  out->subscriber_id.assign(key.substr(0, sep));
  out->journey.assign(key.substr(sep + 1));
  Reader r(value);
  uint8_t format = 0;
  uint64_t step = 0, attempts = 0, n = 0;
  int64_t step_delta = 0;
  bool ok = r.Fixed(&format) && format == kFormat && r.Varint(&step) && r.SignedVarint(&out->due_ms) &&
            r.SignedVarint(&step_delta) && r.SignedVarint(&out->started_ms) && r.Varint(&attempts) &&
            GetString(r, &out->origin) && r.Varint(&n) && n <= 1000;
  out->decisions.resize(ok ? n : 0);
  for (size_t i = 0; ok && i < n; ++i) ok = GetDecisionId(r, out->started_ms, &out->decisions[i]);
  if (!ok || !r.done()) return Corruption("journey instance of " + out->subscriber_id + " is damaged");
  out->step = static_cast<int>(step);
  out->step_ms = out->due_ms + step_delta;
  out->attempts = static_cast<int>(attempts);
  return Status::Ok();
}

Result<std::unique_ptr<JourneyStore>> JourneyStore::Open(const std::string& dir, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<JourneyStore> store(new JourneyStore());  // private constructor
  int rc = mdb_env_create(&store->env_);
  if (rc) return LmdbError("mdb_env_create", rc);
  mdb_env_set_maxdbs(store->env_, 2);
  mdb_env_set_mapsize(store->env_, static_cast<size_t>(options.map_size_bytes));
  mdb_env_set_maxreaders(store->env_, 256);
  // NOTLS: read transactions are not bound to threads. Full sync by default: a change is
  // durable when Apply returns (the runner relies on it for exactly-once steps).
  const unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (options.sync ? 0u : MDB_NOSYNC);
  rc = mdb_env_open(store->env_, dir.c_str(), flags, 0644);
  if (rc) return LmdbError("open journey store " + dir, rc);
  Txn t;
  rc = mdb_txn_begin(store->env_, nullptr, 0, &t.txn);
  if (rc) return LmdbError("begin", rc);
  rc = mdb_dbi_open(t.txn, "instances", MDB_CREATE, &store->instances_);
  if (!rc) rc = mdb_dbi_open(t.txn, "timers", MDB_CREATE, &store->timers_);
  if (rc) return LmdbError("open journey databases", rc);
  rc = t.Commit();
  if (rc) return LmdbError("commit", rc);
  return store;
}

JourneyStore::~JourneyStore() {
  if (env_) mdb_env_close(env_);
}

Result<bool> JourneyStore::Enter(const JourneyInstance& instance) {
  KAIROS_ASSIGN_OR_RETURN(int64_t added, EnterMany(std::span<const JourneyInstance>(&instance, 1)));
  return added == 1;
}

Result<int64_t> JourneyStore::EnterMany(std::span<const JourneyInstance> instances) {
  for (const JourneyInstance& x : instances) {
    if (!ValidPart(x.subscriber_id) || !ValidPart(x.journey)) {
      return InvalidArgument("a journey instance needs a subscriber id and a journey name without NUL");
    }
  }
  Txn t;
  int rc = mdb_txn_begin(env_, nullptr, 0, &t.txn);
  if (rc) return LmdbError("begin write", rc);
  int64_t added = 0;
  for (const JourneyInstance& x : instances) {
    const std::string key = x.Key();
    const std::string value = Encode(x);
    MDB_val k = Val(key), v = Val(value);
    rc = mdb_put(t.txn, instances_, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) continue;
    if (rc) return LmdbError("put journey instance", rc);
    const std::string timer = TimerKey(x.due_ms, key);
    MDB_val tk = Val(timer), tv = Val({});
    rc = mdb_put(t.txn, timers_, &tk, &tv, 0);
    if (rc) return LmdbError("put journey timer", rc);
    ++added;
  }
  rc = t.Commit();
  if (rc) return LmdbError("commit journey entry", rc);
  return added;
}

Status JourneyStore::Due(TimestampMs now, size_t limit, std::vector<JourneyInstance>* out) const {
  if (limit == 0) return Status::Ok();
  Txn t;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn);
  if (rc) return LmdbError("begin read", rc);
  Cursor c;
  rc = mdb_cursor_open(t.txn, timers_, &c.cursor);
  if (rc) return LmdbError("cursor", rc);
  MDB_val k, v;
  size_t n = 0;
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_FIRST); rc == 0 && n < limit;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
    const std::string_view timer = View(k);
    if (timer.size() <= kTimerPrefix) return Corruption("journey timer key too short");
    if (TimerDue(timer) > now) break;
    MDB_val ik = Val(timer.substr(kTimerPrefix)), iv;
    const int got = mdb_get(t.txn, instances_, &ik, &iv);
    if (got == MDB_NOTFOUND) continue;  // cannot happen: both move in one transaction
    if (got) return LmdbError("get journey instance", got);
    JourneyInstance x;
    KAIROS_RETURN_IF_ERROR(Decode(View(ik), View(iv), &x));
    out->push_back(std::move(x));
    ++n;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("scan journey timers", rc);
  return Status::Ok();
}

Result<TimestampMs> JourneyStore::NextDue() const {
  Txn t;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn);
  if (rc) return LmdbError("begin read", rc);
  Cursor c;
  rc = mdb_cursor_open(t.txn, timers_, &c.cursor);
  if (rc) return LmdbError("cursor", rc);
  MDB_val k, v;
  rc = mdb_cursor_get(c.cursor, &k, &v, MDB_FIRST);
  if (rc == MDB_NOTFOUND) return std::numeric_limits<TimestampMs>::max();
  if (rc) return LmdbError("first journey timer", rc);
  if (k.mv_size <= kTimerPrefix) return Corruption("journey timer key too short");
  return TimerDue(View(k));
}

Result<int64_t> JourneyStore::Apply(std::span<const JourneyUpdate> updates) {
  if (updates.empty()) return int64_t{0};
  Txn t;
  int rc = mdb_txn_begin(env_, nullptr, 0, &t.txn);
  if (rc) return LmdbError("begin write", rc);
  int64_t stale = 0;
  JourneyInstance x;
  for (const JourneyUpdate& u : updates) {
    MDB_val k = Val(u.key), v;
    rc = mdb_get(t.txn, instances_, &k, &v);
    if (rc == MDB_NOTFOUND) {
      ++stale;
      continue;
    }
    if (rc) return LmdbError("get journey instance", rc);
    KAIROS_RETURN_IF_ERROR(Decode(u.key, View(v), &x));
    if (x.step != u.expect_step || x.started_ms != u.expect_started_ms) {
      ++stale;
      continue;
    }
    const std::string old_timer = TimerKey(x.due_ms, u.key);
    MDB_val tk = Val(old_timer);
    rc = mdb_del(t.txn, timers_, &tk, nullptr);
    if (rc && rc != MDB_NOTFOUND) return LmdbError("delete journey timer", rc);
    if (u.kind == JourneyUpdate::Kind::kFinish) {
      rc = mdb_del(t.txn, instances_, &k, nullptr);
      if (rc) return LmdbError("delete journey instance", rc);
      continue;
    }
    if (u.kind == JourneyUpdate::Kind::kAdvance) {
      ++x.step;
      x.step_ms = u.due_ms;
      x.attempts = 0;
      x.decisions.push_back(u.decision_id);
    } else {
      ++x.attempts;
    }
    x.due_ms = u.due_ms;
    const std::string value = Encode(x);
    MDB_val nv = Val(value);
    rc = mdb_put(t.txn, instances_, &k, &nv, 0);
    if (rc) return LmdbError("put journey instance", rc);
    const std::string timer = TimerKey(x.due_ms, u.key);
    MDB_val ntk = Val(timer), empty = Val({});
    rc = mdb_put(t.txn, timers_, &ntk, &empty, 0);
    if (rc) return LmdbError("put journey timer", rc);
  }
  rc = t.Commit();
  if (rc) return LmdbError("commit journey changes", rc);
  return stale;
}

Status JourneyStore::Advance(const JourneyInstance& instance, TimestampMs next_due,
                             std::string_view decision_id) {
  JourneyUpdate u;
  u.kind = JourneyUpdate::Kind::kAdvance;
  u.key = instance.Key();
  u.expect_step = instance.step;
  u.expect_started_ms = instance.started_ms;
  u.due_ms = next_due;
  u.decision_id.assign(decision_id);
  KAIROS_ASSIGN_OR_RETURN(int64_t stale, Apply(std::span<const JourneyUpdate>(&u, 1)));
  if (stale) return Status(ErrorCode::kFailedPrecondition, "journey instance moved on or ended");
  return Status::Ok();
}

Status JourneyStore::Finish(const JourneyInstance& instance) {
  JourneyUpdate u;
  u.kind = JourneyUpdate::Kind::kFinish;
  u.key = instance.Key();
  u.expect_step = instance.step;
  u.expect_started_ms = instance.started_ms;
  KAIROS_ASSIGN_OR_RETURN(int64_t stale, Apply(std::span<const JourneyUpdate>(&u, 1)));
  if (stale) return Status(ErrorCode::kFailedPrecondition, "journey instance moved on or ended");
  return Status::Ok();
}

Result<std::optional<JourneyInstance>> JourneyStore::Get(std::string_view subscriber_id,
                                                         std::string_view journey) const {
  const std::string key = JourneyInstance::Key(subscriber_id, journey);
  Txn t;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn);
  if (rc) return LmdbError("begin read", rc);
  MDB_val k = Val(key), v;
  rc = mdb_get(t.txn, instances_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<JourneyInstance>();
  if (rc) return LmdbError("get journey instance", rc);
  JourneyInstance x;
  KAIROS_RETURN_IF_ERROR(Decode(key, View(v), &x));
  return std::optional<JourneyInstance>(std::move(x));
}

Result<std::vector<JourneyInstance>> JourneyStore::ForSubscriber(std::string_view subscriber_id) const {
  std::vector<JourneyInstance> out;
  if (!ValidPart(subscriber_id)) return out;
  std::string prefix(subscriber_id);
  prefix.push_back('\0');
  Txn t;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn);
  if (rc) return LmdbError("begin read", rc);
  Cursor c;
  rc = mdb_cursor_open(t.txn, instances_, &c.cursor);
  if (rc) return LmdbError("cursor", rc);
  MDB_val k = Val(prefix), v;
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
    const std::string_view key = View(k);
    if (key.substr(0, prefix.size()) != prefix) break;
    JourneyInstance x;
    KAIROS_RETURN_IF_ERROR(Decode(key, View(v), &x));
    out.push_back(std::move(x));
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("scan journey instances", rc);
  return out;
}

int64_t JourneyStore::Count() const {
  Txn t;
  if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn)) return 0;
  MDB_stat st;
  if (mdb_stat(t.txn, instances_, &st)) return 0;
  return static_cast<int64_t>(st.ms_entries);
}

int64_t JourneyStore::UsedBytes() const {
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(env_, &info) || mdb_env_stat(env_, &st)) return 0;
  return static_cast<int64_t>(info.me_last_pgno + 1) * static_cast<int64_t>(st.ms_psize);
}

JourneyStore::Space JourneyStore::SpaceUsed() const {
  Space out;
  Txn t;
  if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn)) return out;
  MDB_stat st;
  if (!mdb_stat(t.txn, instances_, &st)) {
    out.instance_pages = static_cast<int64_t>(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
    out.page_size = st.ms_psize;
  }
  if (!mdb_stat(t.txn, timers_, &st)) {
    out.timer_pages = static_cast<int64_t>(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
  }
  return out;
}

}  // namespace kairos
