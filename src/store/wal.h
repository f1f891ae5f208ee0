// Wal: the write-ahead log of accepted events, the durability point of ingestion.
//
// Files: <dir>/wal-<first seq, 16 hex digits>.log. Record: u32 payload length (bit 31 set on the
// last record of an Append) | u32 CRC-32C of (seq, payload, that bit) | u64 seq | payload; all
// little-endian. The records of one Append form a group that is recovered whole or not at all. Sequence numbers start at 1 and grow
// by one per record. A torn group at the end of the last segment (a write cut short by a
// crash, never acknowledged) is truncated at open; any other damage is corruption and Open fails.
//
// Not thread-safe: one owner (the engine's writer thread) appends, syncs and trims.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kairos {

class Wal {
 public:
  struct OpenInfo {
    uint64_t last_seq = 0;         // highest valid sequence number found
    int64_t truncated_bytes = 0;   // torn tail removed
    int segments = 0;
  };

  // Opens or creates the log in `dir` (created if missing) and validates every segment.
  static Result<std::unique_ptr<Wal>> Open(const std::string& dir, int64_t segment_bytes,
                                           OpenInfo* info);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Calls fn(seq, payload) for every record with seq > after_seq, in order. Stops at the first
  // error fn returns.
  Status Replay(uint64_t after_seq,
                const std::function<Status(uint64_t, std::string_view)>& fn) const;

  // Appends one record per payload (written to the OS, not yet synced). Returns the sequence
  // number of the last record appended. Rotates to a new segment when the current one is full.
  Result<uint64_t> Append(const std::vector<std::string_view>& payloads);
  // Makes everything appended so far durable (fdatasync).
  Status Sync();
  // Deletes whole segments whose records all have seq <= upto (never the current segment).
  Status Trim(uint64_t upto);

  // Continues numbering after `seq` when the log holds nothing newer (e.g. every segment was
  // trimmed after a checkpoint). kCorruption if the log ends before `seq` but is not empty.
  Status ContinueAfter(uint64_t seq);

  uint64_t last_seq() const { return last_seq_; }
  int64_t bytes_appended() const { return bytes_appended_; }

 private:
  Wal(std::string dir, int64_t segment_bytes) : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
  Status OpenSegmentForAppend(uint64_t first_seq, bool create);
  std::string SegmentPath(uint64_t first_seq) const;

  std::string dir_;
  int64_t segment_bytes_;
  std::vector<uint64_t> segments_;  // first seq of each segment, ascending
  int fd_ = -1;                     // current (last) segment
  int64_t current_size_ = 0;
  uint64_t last_seq_ = 0;
  int64_t bytes_appended_ = 0;
  std::string buffer_;
};

}  // namespace kairos
