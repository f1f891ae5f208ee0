// LmdbStore: the embedded key-value store behind profiles (LMDB, one environment per store).
//
// Three databases: "profiles" (subscriber id → encoded profile), "decisions" (decision id →
// the decision log record; ids begin with their time, so key order is time order) and "meta"
// (store facts such as the last WAL record applied and the schema fingerprint). One write transaction at a time
// (LMDB's rule); reads run concurrently from any thread and see the last committed state.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kairos {

class LmdbStore {
 public:
  struct Options {
    int64_t map_size_bytes = int64_t{16} << 30;
    // true: every commit syncs data pages (power-loss safe on its own); false: commits reach
    // the OS only and Sync() makes them durable (safe against a killed process).
    bool sync_each_commit = false;
  };

  // Opens or creates the store in `dir` (created if missing).
  static Result<std::unique_ptr<LmdbStore>> Open(const std::string& dir, Options options);
  ~LmdbStore();
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  // A write transaction; aborted on destruction unless committed. Not thread-safe; only one
  // may be open at a time (callers serialise writes).
  class WriteTxn {
   public:
    ~WriteTxn();
    WriteTxn(WriteTxn&& o) noexcept : txn_(o.txn_), store_(o.store_) { o.txn_ = nullptr; }
    WriteTxn& operator=(WriteTxn&&) = delete;
    // The value is valid until the next write in this transaction. kNotFound when absent.
    Status GetProfile(std::string_view key, std::string_view* value);
    Status PutProfile(std::string_view key, std::string_view value);
    // Removes a profile; absent is not an error (erasing twice is erasing once).
    Status DeleteProfile(std::string_view key);
    Status PutMeta(std::string_view key, std::string_view value);
    Status PutDecision(std::string_view key, std::string_view value);
    // Deletes decisions whose key sorts before `before`; returns how many.
    Result<int64_t> DeleteDecisionsBefore(std::string_view before, int64_t max_count);
    Status Commit();

   private:
    friend class LmdbStore;
    WriteTxn(MDB_txn* txn, LmdbStore* store) : txn_(txn), store_(store) {}
    MDB_txn* txn_;
    LmdbStore* store_;
  };

  Result<WriteTxn> BeginWrite();

  // Copies the profile of `key` into `out`. kNotFound when absent. Thread-safe.
  Status GetProfile(std::string_view key, std::string* out) const;
  // A meta value, or nullopt when unset. Thread-safe.
  Result<std::optional<std::string>> GetMeta(std::string_view key) const;
  // Visits every profile (a consistent snapshot) until fn returns false; with `from`, the
  // profiles whose key is ≥ `from`, in key order. Thread-safe.
  Status ForEachProfile(const std::function<bool(std::string_view key, std::string_view value)>& fn,
                        std::string_view from = {}) const;
  // Copies the decision record of `key` into `out`. kNotFound when absent. Thread-safe.
  Status GetDecision(std::string_view key, std::string* out) const;
  // Visits decisions with key ≥ `from` in key order until fn returns false. Thread-safe.
  Status ForEachDecision(std::string_view from,
                         const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  // Number of profiles. Thread-safe.
  int64_t ProfileCount() const;
  // Flushes committed transactions to disk.
  Status Sync();
  // Bytes of the data file in use (pages × page size).
  int64_t UsedBytes() const;

 private:
  LmdbStore() = default;
  MDB_env* env_ = nullptr;
  MDB_dbi profiles_ = 0;
  MDB_dbi meta_ = 0;
  MDB_dbi decisions_ = 0;
};

}  // namespace kairos
