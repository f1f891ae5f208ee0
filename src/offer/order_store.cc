#include "offer/order_store.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "common/encoding.h"
#include "common/hash.h"

namespace kairos::offer {

namespace {

constexpr uint8_t kOrderVersion = 1;
// Bounds a stored order never exceeds; a record beyond them is corrupt, not an attack on memory.
constexpr uint64_t kMaxHistory = 64;

Status LmdbError(const std::string& what, int rc) {
  if (rc == MDB_MAP_FULL) return Status(ErrorCode::kTooLarge, what + ": the order store is full");
  if (rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return Corruption(what + ": " + mdb_strerror(rc));
  }
  return IoError(what + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

std::string TimeKey(TimestampMs ms, std::string_view id) {
  std::string key(8, '\0');
  const uint64_t u = static_cast<uint64_t>(ms < 0 ? 0 : ms);
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(u >> (56 - 8 * i));
  key.append(id);
  return key;
}
std::string SubKey(std::string_view subscriber_id, std::string_view id) {
  std::string key(subscriber_id);
  key.push_back('\0');
  key.append(id);
  return key;
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

struct Txn {
  MDB_txn* txn = nullptr;
  ~Txn() {
    if (txn) mdb_txn_abort(txn);
  }
  Status Commit() {
    const int rc = mdb_txn_commit(std::exchange(txn, nullptr));
    return rc ? LmdbError("order store commit", rc) : Status::Ok();
  }
};
struct Cursor {
  MDB_cursor* cursor = nullptr;
  ~Cursor() {
    if (cursor) mdb_cursor_close(cursor);
  }
};

Status Begin(MDB_env* env, bool read_only, Txn* t) {
  const int rc = mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &t->txn);
  return rc ? LmdbError("order store begin", rc) : Status::Ok();
}

Result<std::optional<Order>> GetIn(MDB_txn* txn, MDB_dbi orders, std::string_view id) {
  MDB_val k = Val(id), v;
  const int rc = mdb_get(txn, orders, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<Order>();
  if (rc) return LmdbError("order store get", rc);
  Order o;
  KAIROS_RETURN_IF_ERROR(DecodeOrder(View(v), &o).WithContext("order " + std::string(id) + ": "));
  return std::optional<Order>(std::move(o));
}

Status PutIn(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::string_view value,
             const char* what) {
  MDB_val k = Val(key), v = Val(value);
  const int rc = mdb_put(txn, dbi, &k, &v, 0);
  return rc ? LmdbError(std::string("order store put ") + what, rc) : Status::Ok();
}
Status DelIn(MDB_txn* txn, MDB_dbi dbi, std::string_view key, const char* what) {
  MDB_val k = Val(key);
  const int rc = mdb_del(txn, dbi, &k, nullptr);
  return rc && rc != MDB_NOTFOUND ? LmdbError(std::string("order store delete ") + what, rc)
                                  : Status::Ok();
}

std::string ErasedId(std::string_view subscriber_id) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(StableHash64(subscriber_id)));
  return "erased:" + std::string(hex);
}

}  // namespace

std::string EncodeOrder(const Order& o) {
  std::string out;
  out.reserve(96 + o.id.size() + o.nonce.size() + o.subscriber_id.size() + o.action_id.size() +
              o.treatment.size() + o.payment_id.size() + o.failure_reason.size());
  out.push_back(static_cast<char>(kOrderVersion));
  out.push_back(static_cast<char>(o.state));
  out.push_back(static_cast<char>(o.erased ? 1 : 0));
  PutString(&out, o.id);
  PutString(&out, o.nonce);
  PutString(&out, o.subscriber_id);
  PutString(&out, o.action_id);
  PutString(&out, o.treatment);
  PutSignedVarint(&out, o.amount_minor);
  PutString(&out, o.currency);
  PutSignedVarint(&out, o.created_at);
  PutSignedVarint(&out, o.updated_at);
  PutString(&out, o.payment_id);
  PutString(&out, o.failure_reason);
  PutVarint(&out, o.history.size());
  for (const OrderStateChange& c : o.history) {
    out.push_back(static_cast<char>(c.state));
    PutSignedVarint(&out, c.at);
    PutString(&out, c.note);
  }
  return out;
}

Status DecodeOrder(std::string_view bytes, Order* o) {
  Reader in(bytes);
  uint8_t version = 0, state = 0, erased = 0;
  if (!in.Fixed(&version) || version != kOrderVersion) return Corruption("unknown order version");
  if (!in.Fixed(&state) || state > static_cast<uint8_t>(OrderState::kExpired)) {
    return Corruption("bad order state");
  }
  if (!in.Fixed(&erased) || erased > 1) return Corruption("bad erased flag");
  o->state = static_cast<OrderState>(state);
  o->erased = erased == 1;
  uint64_t n = 0;
  if (!GetString(in, &o->id) || !GetString(in, &o->nonce) || !GetString(in, &o->subscriber_id) ||
      !GetString(in, &o->action_id) || !GetString(in, &o->treatment) ||
      !in.SignedVarint(&o->amount_minor) || !GetString(in, &o->currency) ||
      !in.SignedVarint(&o->created_at) || !in.SignedVarint(&o->updated_at) ||
      !GetString(in, &o->payment_id) || !GetString(in, &o->failure_reason) || !in.Varint(&n) ||
      n > kMaxHistory) {
    return Corruption("truncated or malformed order");
  }
  o->history.clear();
  for (uint64_t i = 0; i < n; ++i) {
    OrderStateChange c;
    uint8_t s = 0;
    if (!in.Fixed(&s) || s > static_cast<uint8_t>(OrderState::kExpired) ||
        !in.SignedVarint(&c.at) || !GetString(in, &c.note)) {
      return Corruption("truncated or malformed order history");
    }
    c.state = static_cast<OrderState>(s);
    o->history.push_back(std::move(c));
  }
  if (!in.done()) return Corruption("trailing bytes after the order");
  return Status::Ok();
}

std::string OrderStore::DirFor(const std::string& store_dir) {
  return (std::filesystem::path(store_dir) / "orders").string();
}

Result<std::unique_ptr<OrderStore>> OrderStore::Open(const std::string& dir, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<OrderStore> s(new OrderStore());  // private constructor
  int rc = mdb_env_create(&s->env_);
  if (rc) return LmdbError("mdb_env_create", rc);
  mdb_env_set_maxdbs(s->env_, 5);
  mdb_env_set_mapsize(s->env_, static_cast<size_t>(options.map_size_bytes));
  mdb_env_set_maxreaders(s->env_, 256);
  // NOTLS: read transactions may be used from any thread (HTTP workers).
  const unsigned flags = MDB_NOTLS | (options.sync ? 0u : unsigned{MDB_NOSYNC});
  rc = mdb_env_open(s->env_, dir.c_str(), flags, 0644);
  if (rc) return LmdbError("open order store " + dir, rc);
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(s->env_, false, &t));
  rc = mdb_dbi_open(t.txn, "orders", MDB_CREATE, &s->orders_);
  if (!rc) rc = mdb_dbi_open(t.txn, "nonces", MDB_CREATE, &s->nonces_);
  if (!rc) rc = mdb_dbi_open(t.txn, "subs", MDB_CREATE, &s->subs_);
  if (!rc) rc = mdb_dbi_open(t.txn, "open", MDB_CREATE, &s->open_);
  if (!rc) rc = mdb_dbi_open(t.txn, "events", MDB_CREATE, &s->events_);
  if (rc) return LmdbError("open order store databases", rc);
  KAIROS_RETURN_IF_ERROR(t.Commit());
  return s;
}

OrderStore::~OrderStore() {
  if (env_) mdb_env_close(env_);
}

Result<CreateResult> OrderStore::Create(const Order& draft) {
  if (draft.id.empty()) return InvalidArgument("order without an id", "order_id");
  if (draft.nonce.empty()) return InvalidArgument("order without a token nonce", "nonce");
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, false, &t));
  MDB_val k = Val(draft.nonce), v;
  int rc = mdb_get(t.txn, nonces_, &k, &v);
  if (rc == 0) {
    const std::string id(View(v));
    KAIROS_ASSIGN_OR_RETURN(std::optional<Order> existing, GetIn(t.txn, orders_, id));
    if (!existing) return Corruption("nonce index names a missing order " + id);
    return CreateResult{std::move(*existing), false};
  }
  if (rc != MDB_NOTFOUND) return LmdbError("order store nonce lookup", rc);
  KAIROS_ASSIGN_OR_RETURN(std::optional<Order> clash, GetIn(t.txn, orders_, draft.id));
  if (clash) return Status(ErrorCode::kAlreadyExists, "order id " + draft.id + " is taken");
  KAIROS_RETURN_IF_ERROR(PutIn(t.txn, orders_, draft.id, EncodeOrder(draft), "order"));
  KAIROS_RETURN_IF_ERROR(PutIn(t.txn, nonces_, draft.nonce, draft.id, "nonce"));
  KAIROS_RETURN_IF_ERROR(PutIn(t.txn, subs_, SubKey(draft.subscriber_id, draft.id), {}, "subs"));
  if (draft.state == OrderState::kCreated) {
    KAIROS_RETURN_IF_ERROR(PutIn(t.txn, open_, TimeKey(draft.created_at, draft.id), {}, "open"));
  }
  KAIROS_RETURN_IF_ERROR(t.Commit());
  return CreateResult{draft, true};
}

Result<Order> OrderStore::Get(std::string_view order_id) const {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  KAIROS_ASSIGN_OR_RETURN(std::optional<Order> o, GetIn(t.txn, orders_, order_id));
  if (!o) return NotFound("unknown order " + std::string(order_id.substr(0, 64)));
  return std::move(*o);
}

Result<std::optional<Order>> OrderStore::FindByNonce(std::string_view nonce) const {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  MDB_val k = Val(nonce), v;
  const int rc = mdb_get(t.txn, nonces_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<Order>();
  if (rc) return LmdbError("order store nonce lookup", rc);
  return GetIn(t.txn, orders_, View(v));
}

Result<OrderPage> OrderStore::List(std::string_view cursor, size_t limit) const {
  if (limit < 1 || limit > kMaxPageSize) {
    return InvalidArgument("limit must be between 1 and " + std::to_string(kMaxPageSize) +
                               ", got " + std::to_string(limit),
                           "limit");
  }
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  Cursor c;
  int rc = mdb_cursor_open(t.txn, orders_, &c.cursor);
  if (rc) return LmdbError("order store cursor", rc);
  MDB_val k = Val(cursor), v;
  rc = cursor.empty() ? mdb_cursor_get(c.cursor, &k, &v, MDB_FIRST)
                      : mdb_cursor_get(c.cursor, &k, &v, MDB_SET_RANGE);
  if (rc == 0 && !cursor.empty() && View(k) == cursor) rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT);
  OrderPage page;
  while (rc == 0) {
    if (page.orders.size() == limit) {
      page.next_cursor = page.orders.back().id;
      break;
    }
    Order o;
    KAIROS_RETURN_IF_ERROR(
        DecodeOrder(View(v), &o).WithContext("order " + std::string(View(k)) + ": "));
    page.orders.push_back(std::move(o));
    rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT);
  }
  if (rc && rc != MDB_NOTFOUND) return LmdbError("order store list", rc);
  return page;
}

Result<std::vector<Order>> OrderStore::BySubscriber(std::string_view subscriber_id) const {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  Cursor c;
  int rc = mdb_cursor_open(t.txn, subs_, &c.cursor);
  if (rc) return LmdbError("order store cursor", rc);
  const std::string prefix = SubKey(subscriber_id, {});
  MDB_val k = Val(prefix), v;
  std::vector<Order> out;
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
    const std::string_view key = View(k);
    if (!key.starts_with(prefix)) break;
    KAIROS_ASSIGN_OR_RETURN(std::optional<Order> o,
                            GetIn(t.txn, orders_, key.substr(prefix.size())));
    if (o) out.push_back(std::move(*o));
  }
  if (rc && rc != MDB_NOTFOUND) return LmdbError("order store by subscriber", rc);
  return out;
}

Result<std::vector<Order>> OrderStore::OpenBefore(TimestampMs before, size_t limit) const {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  Cursor c;
  int rc = mdb_cursor_open(t.txn, open_, &c.cursor);
  if (rc) return LmdbError("order store cursor", rc);
  MDB_val k, v;
  std::vector<Order> out;
  const std::string end = TimeKey(before, {});
  for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_FIRST); rc == 0 && out.size() < limit;
       rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
    const std::string_view key = View(k);
    if (key.size() < 8 || key.substr(0, 8) >= std::string_view(end)) break;
    KAIROS_ASSIGN_OR_RETURN(std::optional<Order> o, GetIn(t.txn, orders_, key.substr(8)));
    if (o) out.push_back(std::move(*o));
  }
  if (rc && rc != MDB_NOTFOUND) return LmdbError("order store open orders", rc);
  return out;
}

Result<bool> OrderStore::EventSeen(std::string_view event_id) const {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  MDB_val k = Val(event_id), v;
  const int rc = mdb_get(t.txn, events_, &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  if (rc) return LmdbError("order store event lookup", rc);
  return true;
}

Status OrderStore::SetPaymentId(std::string_view order_id, std::string_view payment_id) {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, false, &t));
  KAIROS_ASSIGN_OR_RETURN(std::optional<Order> o, GetIn(t.txn, orders_, order_id));
  if (!o) return NotFound("unknown order " + std::string(order_id.substr(0, 64)));
  if (!o->payment_id.empty()) return Status::Ok();
  o->payment_id = std::string(payment_id);
  KAIROS_RETURN_IF_ERROR(PutIn(t.txn, orders_, o->id, EncodeOrder(*o), "order"));
  return t.Commit();
}

Result<Order> OrderStore::Transition(const TransitionRequest& req) {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, false, &t));
  if (!req.event_id.empty()) {
    MDB_val k = Val(req.event_id), v;
    const int rc = mdb_get(t.txn, events_, &k, &v);
    if (rc == 0) {
      return Status(ErrorCode::kAlreadyExists,
                    "payment event " + req.event_id.substr(0, 64) + " was already applied");
    }
    if (rc != MDB_NOTFOUND) return LmdbError("order store event lookup", rc);
  }
  KAIROS_ASSIGN_OR_RETURN(std::optional<Order> o, GetIn(t.txn, orders_, req.order_id));
  if (!o) return NotFound("unknown order " + req.order_id.substr(0, 64));
  if (!IsLegalTransition(o->state, req.to)) {
    return Status(ErrorCode::kFailedPrecondition,
                  "order " + o->id + " is " + std::string(OrderStateName(o->state)) +
                      " and cannot become " + std::string(OrderStateName(req.to)));
  }
  if (!req.payment_id.empty() && !o->payment_id.empty() && req.payment_id != o->payment_id) {
    return Status(ErrorCode::kFailedPrecondition,
                  "payment " + req.payment_id.substr(0, 64) + " is not the payment of order " +
                      o->id + " (" + o->payment_id + ")");
  }
  const bool was_open = o->state == OrderState::kCreated;
  o->state = req.to;
  o->updated_at = req.at;
  if (o->payment_id.empty()) o->payment_id = req.payment_id;
  if (req.to != OrderState::kPaid) o->failure_reason = req.reason;
  if (o->history.size() < kMaxHistory) o->history.push_back({req.to, req.at, req.note});
  KAIROS_RETURN_IF_ERROR(PutIn(t.txn, orders_, o->id, EncodeOrder(*o), "order"));
  if (was_open) KAIROS_RETURN_IF_ERROR(DelIn(t.txn, open_, TimeKey(o->created_at, o->id), "open"));
  if (!req.event_id.empty()) {
    KAIROS_RETURN_IF_ERROR(PutIn(t.txn, events_, req.event_id, o->id, "event"));
  }
  KAIROS_RETURN_IF_ERROR(t.Commit());
  return std::move(*o);
}

Result<int64_t> OrderStore::ErasePersonalData(std::string_view subscriber_id, TimestampMs now) {
  if (subscriber_id.empty()) return InvalidArgument("empty subscriber id", "subscriber_id");
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, false, &t));
  const std::string prefix = SubKey(subscriber_id, {});
  std::vector<std::string> ids;
  {
    Cursor c;
    int rc = mdb_cursor_open(t.txn, subs_, &c.cursor);
    if (rc) return LmdbError("order store cursor", rc);
    MDB_val k = Val(prefix), v;
    for (rc = mdb_cursor_get(c.cursor, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c.cursor, &k, &v, MDB_NEXT)) {
      const std::string_view key = View(k);
      if (!key.starts_with(prefix)) break;
      ids.emplace_back(key.substr(prefix.size()));
    }
    if (rc && rc != MDB_NOTFOUND) return LmdbError("order store erase scan", rc);
  }
  const std::string erased_id = ErasedId(subscriber_id);
  for (const std::string& id : ids) {
    KAIROS_ASSIGN_OR_RETURN(std::optional<Order> o, GetIn(t.txn, orders_, id));
    KAIROS_RETURN_IF_ERROR(DelIn(t.txn, subs_, SubKey(subscriber_id, id), "subs"));
    if (!o) continue;
    o->subscriber_id = erased_id;
    o->erased = true;
    o->updated_at = now;
    KAIROS_RETURN_IF_ERROR(PutIn(t.txn, orders_, id, EncodeOrder(*o), "order"));
    // Still findable by the pseudonym (accounting), never by the erased id.
    KAIROS_RETURN_IF_ERROR(PutIn(t.txn, subs_, SubKey(erased_id, id), {}, "subs"));
  }
  KAIROS_RETURN_IF_ERROR(t.Commit());
  return static_cast<int64_t>(ids.size());
}

Result<int64_t> OrderStore::Count() const {
  Txn t;
  KAIROS_RETURN_IF_ERROR(Begin(env_, true, &t));
  MDB_stat st;
  const int rc = mdb_stat(t.txn, orders_, &st);
  if (rc) return LmdbError("order store stat", rc);
  return static_cast<int64_t>(st.ms_entries);
}

}  // namespace kairos::offer
