#include "store/lmdb_store.h"

#include <filesystem>

namespace kairos {

namespace {
Status LmdbError(const std::string& what, int rc) {
  if (rc == MDB_MAP_FULL) {
    return Status(ErrorCode::kTooLarge, what + ": the store is full (raise store.map_size in kairos.yaml)");
  }
  if (rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return Corruption(what + ": " + mdb_strerror(rc));
  }
  return IoError(what + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

// Aborts a read-only transaction when it goes out of scope.
struct ReadTxn {
  MDB_txn* txn = nullptr;
  ~ReadTxn() {
    if (txn) mdb_txn_abort(txn);
  }
};
}  // namespace

Result<std::unique_ptr<LmdbStore>> LmdbStore::Open(const std::string& dir, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<LmdbStore> store(new LmdbStore());  // private constructor
  int rc = mdb_env_create(&store->env_);
  if (rc) return LmdbError("mdb_env_create", rc);
  mdb_env_set_maxdbs(store->env_, 4);
  mdb_env_set_mapsize(store->env_, static_cast<size_t>(options.map_size_bytes));
  mdb_env_set_maxreaders(store->env_, 256);
  // NOTLS: read transactions are not bound to threads (requests hop between worker threads).
  // NOMETASYNC (strict): data pages synced per commit, meta with the next one — a power loss
  // may undo the last commit, which the WAL replays. NOSYNC (group): the OS decides, and
  // checkpoints sync; a killed process loses nothing either way.
  // No MDB_WRITEMAP: with it a full disk surfaces as SIGBUS on a sparse mapping instead of an
  // error, and it measured no faster here.
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (options.sync_each_commit ? MDB_NOMETASYNC : MDB_NOSYNC);
  rc = mdb_env_open(store->env_, dir.c_str(), flags, 0644);
  if (rc) return LmdbError("open store " + dir, rc);
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(store->env_, nullptr, 0, &txn);
  if (rc) return LmdbError("begin", rc);
  rc = mdb_dbi_open(txn, "profiles", MDB_CREATE, &store->profiles_);
  if (!rc) rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &store->meta_);
  if (!rc) rc = mdb_dbi_open(txn, "decisions", MDB_CREATE, &store->decisions_);
  if (rc) {
    mdb_txn_abort(txn);
    return LmdbError("open databases", rc);
  }
  rc = mdb_txn_commit(txn);
  if (rc) return LmdbError("commit", rc);
  return store;
}

LmdbStore::~LmdbStore() {
  if (env_) mdb_env_close(env_);
}

LmdbStore::WriteTxn::~WriteTxn() {
  if (txn_) mdb_txn_abort(txn_);
}

Status LmdbStore::WriteTxn::GetProfile(std::string_view key, std::string_view* value) {
  MDB_val k = Val(key), v;
  const int rc = mdb_get(txn_, store_->profiles_, &k, &v);
  if (rc == MDB_NOTFOUND) return NotFound("no profile");
  if (rc) return LmdbError("get profile", rc);
  *value = std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
  return Status::Ok();
}

Status LmdbStore::WriteTxn::PutProfile(std::string_view key, std::string_view value) {
  MDB_val k = Val(key), v = Val(value);
  const int rc = mdb_put(txn_, store_->profiles_, &k, &v, 0);
  if (rc) return LmdbError("put profile", rc);
  return Status::Ok();
}

Status LmdbStore::WriteTxn::DeleteProfile(std::string_view key) {
  MDB_val k = Val(key);
  const int rc = mdb_del(txn_, store_->profiles_, &k, nullptr);
  if (rc && rc != MDB_NOTFOUND) return LmdbError("delete profile", rc);
  return Status::Ok();
}

Status LmdbStore::WriteTxn::PutMeta(std::string_view key, std::string_view value) {
  MDB_val k = Val(key), v = Val(value);
  const int rc = mdb_put(txn_, store_->meta_, &k, &v, 0);
  if (rc) return LmdbError("put meta", rc);
  return Status::Ok();
}

Status LmdbStore::WriteTxn::PutDecision(std::string_view key, std::string_view value) {
  MDB_val k = Val(key), v = Val(value);
  const int rc = mdb_put(txn_, store_->decisions_, &k, &v, 0);
  if (rc) return LmdbError("put decision", rc);
  return Status::Ok();
}

Result<int64_t> LmdbStore::WriteTxn::DeleteDecisionsBefore(std::string_view before, int64_t max_count) {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, store_->decisions_, &cursor);
  if (rc) return LmdbError("cursor", rc);
  int64_t n = 0;
  MDB_val k, v;
  for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0 && n < max_count;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    if (std::string_view(static_cast<const char*>(k.mv_data), k.mv_size) >= before) break;
    rc = mdb_cursor_del(cursor, 0);
    if (rc) break;
    ++n;
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("delete decisions", rc);
  return n;
}

Status LmdbStore::WriteTxn::Commit() {
  const int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;  // committed or failed, the handle is gone either way
  if (rc) return LmdbError("commit", rc);
  return Status::Ok();
}

Result<LmdbStore::WriteTxn> LmdbStore::BeginWrite() {
  MDB_txn* txn = nullptr;
  const int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc) return LmdbError("begin write", rc);
  return WriteTxn(txn, this);
}

Status LmdbStore::GetProfile(std::string_view key, std::string* out) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("begin read", rc);
  MDB_val k = Val(key), v;
  rc = mdb_get(r.txn, profiles_, &k, &v);
  if (rc == MDB_NOTFOUND) return NotFound("no profile");
  if (rc) return LmdbError("get profile", rc);
  out->assign(static_cast<const char*>(v.mv_data), v.mv_size);
  return Status::Ok();
}

Status LmdbStore::GetDecision(std::string_view key, std::string* out) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("begin read", rc);
  MDB_val k = Val(key), v;
  rc = mdb_get(r.txn, decisions_, &k, &v);
  if (rc == MDB_NOTFOUND) return NotFound("no decision");
  if (rc) return LmdbError("get decision", rc);
  out->assign(static_cast<const char*>(v.mv_data), v.mv_size);
  return Status::Ok();
}

Status LmdbStore::ForEachDecision(std::string_view from,
                                  const std::function<bool(std::string_view, std::string_view)>& fn) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("begin read", rc);
  MDB_cursor* cursor = nullptr;
  rc = mdb_cursor_open(r.txn, decisions_, &cursor);
  if (rc) return LmdbError("cursor", rc);
  MDB_val k = Val(from), v;
  for (rc = mdb_cursor_get(cursor, &k, &v, from.empty() ? MDB_FIRST : MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    if (!fn(std::string_view(static_cast<const char*>(k.mv_data), k.mv_size),
            std::string_view(static_cast<const char*>(v.mv_data), v.mv_size))) {
      break;
    }
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("scan decisions", rc);
  return Status::Ok();
}

Result<std::optional<std::string>> LmdbStore::GetMeta(std::string_view key) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("begin read", rc);
  MDB_val k = Val(key), v;
  rc = mdb_get(r.txn, meta_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc) return LmdbError("get meta", rc);
  return std::optional<std::string>(std::string(static_cast<const char*>(v.mv_data), v.mv_size));
}

Status LmdbStore::ForEachProfile(const std::function<bool(std::string_view, std::string_view)>& fn,
                                 std::string_view from) const {
  ReadTxn r;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn);
  if (rc) return LmdbError("begin read", rc);
  MDB_cursor* cursor = nullptr;
  rc = mdb_cursor_open(r.txn, profiles_, &cursor);
  if (rc) return LmdbError("cursor", rc);
  MDB_val k{from.size(), const_cast<char*>(from.data())}, v;
  for (rc = mdb_cursor_get(cursor, &k, &v, from.empty() ? MDB_FIRST : MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    if (!fn(std::string_view(static_cast<const char*>(k.mv_data), k.mv_size),
            std::string_view(static_cast<const char*>(v.mv_data), v.mv_size))) {
      break;
    }
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("scan", rc);
  return Status::Ok();
}

int64_t LmdbStore::ProfileCount() const {
  ReadTxn r;
  if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r.txn)) return -1;
  MDB_stat st;
  if (mdb_stat(r.txn, profiles_, &st)) return -1;
  return static_cast<int64_t>(st.ms_entries);
}

Status LmdbStore::Sync() {
  const int rc = mdb_env_sync(env_, 1);
  if (rc) return LmdbError("sync store", rc);
  return Status::Ok();
}

int64_t LmdbStore::UsedBytes() const {
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(env_, &info) || mdb_env_stat(env_, &st)) return -1;
  return static_cast<int64_t>(info.me_last_pgno + 1) * st.ms_psize;
}

}  // namespace kairos
