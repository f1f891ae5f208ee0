#include "channel/outbox.h"

#include <filesystem>

#include "common/encoding.h"

namespace kairos::channel {

namespace {

constexpr uint8_t kRecordVersion = 1;

Status LmdbError(const std::string& what, int rc) {
  if (rc == MDB_MAP_FULL) return Status(ErrorCode::kTooLarge, what + ": the outbox is full");
  if (rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return Corruption(what + ": " + mdb_strerror(rc));
  }
  return IoError(what + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// Big-endian time first, so key order is time order; the id makes the key unique.
std::string TimeKey(TimestampMs ms, std::string_view id) {
  std::string key(8, '\0');
  const uint64_t u = static_cast<uint64_t>(ms < 0 ? 0 : ms);
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(u >> (56 - 8 * i));
  key.append(id);
  return key;
}
TimestampMs TimeOfKey(std::string_view key) {
  uint64_t u = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) u = (u << 8) | static_cast<uint8_t>(key[i]);
  return static_cast<TimestampMs>(u);
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}
bool GetString(Reader& r, std::string* s) {
  uint64_t n;
  std::string_view v;
  if (!r.Varint(&n) || !r.Bytes(n, &v)) return false;
  s->assign(v);
  return true;
}

// Aborts a read-only transaction when it goes out of scope.
struct ReadTxn {
  MDB_txn* txn = nullptr;
  ~ReadTxn() {
    if (txn) mdb_txn_abort(txn);
  }
};
struct Cursor {
  MDB_cursor* cursor = nullptr;
  ~Cursor() {
    if (cursor) mdb_cursor_close(cursor);
  }
};

Result<std::optional<OutboxRecord>> GetIn(MDB_txn* txn, MDB_dbi items, std::string_view id) {
  MDB_val k = Val(id), v;
  const int rc = mdb_get(txn, items, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<OutboxRecord>();
  if (rc) return LmdbError("outbox get", rc);
  OutboxRecord r;
  KAIROS_RETURN_IF_ERROR(DecodeRecord(View(v), &r).WithContext("outbox record " + std::string(id)));
  return std::optional<OutboxRecord>(std::move(r));
}

}  // namespace

std::string EncodeRecord(const OutboxRecord& r) {
  std::string out;
  out.reserve(32 + r.channel.size() + r.subscriber_id.size() + r.payload.size() +
              r.last_error.size());
  out.push_back(static_cast<char>(kRecordVersion));
  out.push_back(static_cast<char>(r.state));
  PutVarint(&out, static_cast<uint64_t>(r.attempts < 0 ? 0 : r.attempts));
  PutSignedVarint(&out, r.created_ms);
  PutSignedVarint(&out, r.enqueued_ms);
  PutSignedVarint(&out, r.next_attempt_ms);
  PutSignedVarint(&out, r.finished_ms);
  PutString(&out, r.channel);
  PutString(&out, r.subscriber_id);
  PutString(&out, r.payload);
  PutString(&out, r.last_error);
  return out;
}

Status DecodeRecord(std::string_view bytes, OutboxRecord* r) {
  Reader in(bytes);
  uint8_t version = 0, state = 0;
  uint64_t attempts = 0;
  if (!in.Fixed(&version) || version != kRecordVersion) return Corruption("unknown record version");
  if (!in.Fixed(&state) || state > static_cast<uint8_t>(RecordState::kDead)) {
    return Corruption("bad record state");
  }
  r->state = static_cast<RecordState>(state);
  if (!in.Varint(&attempts) || attempts > INT32_MAX || !in.SignedVarint(&r->created_ms) ||
      !in.SignedVarint(&r->enqueued_ms) || !in.SignedVarint(&r->next_attempt_ms) ||
      !in.SignedVarint(&r->finished_ms) || !GetString(in, &r->channel) ||
      !GetString(in, &r->subscriber_id) || !GetString(in, &r->payload) ||
      !GetString(in, &r->last_error) || !in.done()) {
    return Corruption("truncated or malformed record");
  }
  r->attempts = static_cast<int32_t>(attempts);
  return Status::Ok();
}

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& dir, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<Outbox> box(new Outbox());  // private constructor
  int rc = mdb_env_create(&box->env_);
  if (rc) return LmdbError("mdb_env_create", rc);
  mdb_env_set_maxdbs(box->env_, 4);
  mdb_env_set_mapsize(box->env_, static_cast<size_t>(options.map_size_bytes));
  mdb_env_set_maxreaders(box->env_, 256);
  // NOTLS: read transactions hop threads. Default sync: a commit is durable when it returns,
  // which is the promise Enqueue makes (the dispatcher groups commits to pay it rarely).
  // NOSYNC: the OS has the commit (a killed process loses nothing); Sync() makes it durable.
  const unsigned flags =
      MDB_NOTLS | MDB_NORDAHEAD | (options.sync_each_commit ? 0u : unsigned{MDB_NOSYNC});
  rc = mdb_env_open(box->env_, dir.c_str(), flags, 0644);
  if (rc) return LmdbError("open outbox " + dir, rc);
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(box->env_, nullptr, 0, &txn);
  if (rc) return LmdbError("begin", rc);
  rc = mdb_dbi_open(txn, "items", MDB_CREATE, &box->items_);
  if (!rc) rc = mdb_dbi_open(txn, "pending", MDB_CREATE, &box->pending_);
  if (!rc) rc = mdb_dbi_open(txn, "done", MDB_CREATE, &box->done_);
  if (!rc) rc = mdb_dbi_open(txn, "dead", MDB_CREATE, &box->dead_);
  if (rc) {
    mdb_txn_abort(txn);
    return LmdbError("open outbox databases", rc);
  }
  rc = mdb_txn_commit(txn);
  if (rc) return LmdbError("commit", rc);
  return box;
}

Outbox::~Outbox() {
  if (env_) mdb_env_close(env_);
}

Outbox::WriteTxn::~WriteTxn() {
  if (txn_) mdb_txn_abort(txn_);
}

Result<std::optional<OutboxRecord>> Outbox::WriteTxn::Get(std::string_view id) {
  return GetIn(txn_, box_->items_, id);
}

Status Outbox::WriteTxn::Put(std::string_view id, const OutboxRecord& record) {
  KAIROS_ASSIGN_OR_RETURN(std::optional<OutboxRecord> old, Get(id));
  // Take the id out of the index of its old state, then file it under the new one.
  int rc = 0;
  if (old) {
    MDB_val k;
    std::string time_key;
    switch (old->state) {
      case RecordState::kPending:
        k = Val(id);
        rc = mdb_del(txn_, box_->pending_, &k, nullptr);
        break;
      case RecordState::kDelivered:
        time_key = TimeKey(old->finished_ms, id);
        k = Val(time_key);
        rc = mdb_del(txn_, box_->done_, &k, nullptr);
        break;
      case RecordState::kDead:
        time_key = TimeKey(old->finished_ms, id);
        k = Val(time_key);
        rc = mdb_del(txn_, box_->dead_, &k, nullptr);
        break;
    }
    if (rc && rc != MDB_NOTFOUND) return LmdbError("outbox unindex", rc);
  }
  MDB_val empty{0, nullptr};
  std::string time_key;
  MDB_val k;
  MDB_dbi index = box_->pending_;
  switch (record.state) {
    case RecordState::kPending:
      k = Val(id);
      break;
    case RecordState::kDelivered:
      time_key = TimeKey(record.finished_ms, id);
      k = Val(time_key);
      index = box_->done_;
      break;
    case RecordState::kDead:
      time_key = TimeKey(record.finished_ms, id);
      k = Val(time_key);
      index = box_->dead_;
      break;
  }
  rc = mdb_put(txn_, index, &k, &empty, 0);
  if (rc) return LmdbError("outbox index", rc);
  const std::string bytes = EncodeRecord(record);
  MDB_val key = Val(id), value = Val(bytes);
  rc = mdb_put(txn_, box_->items_, &key, &value, 0);
  if (rc) return LmdbError("outbox put", rc);
  return Status::Ok();
}

Result<int64_t> Outbox::WriteTxn::PurgeIndex(MDB_dbi index, TimestampMs before_ms,
                                             int64_t max_count) {
  Cursor c;
  int rc = mdb_cursor_open(txn_, index, &c.cursor);
  if (rc) return LmdbError("outbox cursor", rc);
  int64_t n = 0;
  MDB_val k, v;
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_FIRST); rc == 0 && n < max_count;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
    const std::string_view key = View(k);
    if (key.size() < 8 || TimeOfKey(key) >= before_ms) break;
    MDB_val id = Val(key.substr(8));
    rc = mdb_del(txn_, box_->items_, &id, nullptr);
    if (rc && rc != MDB_NOTFOUND) break;
    rc = mdb_cursor_del(c.cursor, 0);
    if (rc) break;
    ++n;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("outbox purge", rc);
  return n;
}

Result<int64_t> Outbox::WriteTxn::PurgeDelivered(TimestampMs before_ms, int64_t max_count) {
  return PurgeIndex(box_->done_, before_ms, max_count);
}

Result<int64_t> Outbox::WriteTxn::PurgeDead(TimestampMs before_ms, int64_t max_count) {
  return PurgeIndex(box_->dead_, before_ms, max_count);
}

Status Outbox::WriteTxn::Commit() {
  const int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  if (rc) return LmdbError("outbox commit", rc);
  return Status::Ok();
}

Result<Outbox::WriteTxn> Outbox::BeginWrite() {
  MDB_txn* txn = nullptr;
  const int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc) return LmdbError("outbox begin write", rc);
  return WriteTxn(txn, this);
}

Status Outbox::Sync() {
  const int rc = mdb_env_sync(env_, 1);
  if (rc) return LmdbError("outbox sync", rc);
  return Status::Ok();
}

Result<std::optional<OutboxRecord>> Outbox::Get(std::string_view id) const {
  ReadTxn r;
  const int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("outbox begin read", rc);
  return GetIn(r.txn, items_, id);
}

Result<bool> Outbox::Contains(std::string_view id) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("outbox begin read", rc);
  MDB_val k = Val(id), v;
  rc = mdb_get(r.txn, items_, &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  if (rc) return LmdbError("outbox get", rc);
  return true;
}

Status Outbox::ForEachPending(
    const std::function<Status(std::string_view, const OutboxRecord&)>& fn) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("outbox begin read", rc);
  Cursor c;
  rc = mdb_cursor_open(r.txn, pending_, &c.cursor);
  if (rc) return LmdbError("outbox cursor", rc);
  MDB_val k, v;
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
    const std::string_view id = View(k);
    KAIROS_ASSIGN_OR_RETURN(std::optional<OutboxRecord> record, GetIn(r.txn, items_, id));
    if (!record || record->state != RecordState::kPending) {
      return Corruption("outbox: pending index names " + std::string(id) +
                        " without a pending record");
    }
    KAIROS_RETURN_IF_ERROR(fn(id, *record));
  }
  if (rc != MDB_NOTFOUND) return LmdbError("outbox scan", rc);
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, OutboxRecord>>> Outbox::NewestDead(size_t limit) const {
  std::vector<std::pair<std::string, OutboxRecord>> out;
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("outbox begin read", rc);
  Cursor c;
  rc = mdb_cursor_open(r.txn, dead_, &c.cursor);
  if (rc) return LmdbError("outbox cursor", rc);
  MDB_val k, v;
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_LAST); rc == 0 && out.size() < limit;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_PREV)) {
    const std::string_view key = View(k);
    if (key.size() < 8) return Corruption("outbox: short dead-letter key");
    const std::string_view id = key.substr(8);
    KAIROS_ASSIGN_OR_RETURN(std::optional<OutboxRecord> record, GetIn(r.txn, items_, id));
    if (!record) return Corruption("outbox: dead letter " + std::string(id) + " has no record");
    out.emplace_back(std::string(id), std::move(*record));
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("outbox scan", rc);
  return out;
}

}  // namespace kairos::channel
