#include "store/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "common/crc32c.h"
#include "common/encoding.h"

namespace kairos {

namespace fs = std::filesystem;

namespace {
constexpr size_t kHeaderBytes = 16;
constexpr uint32_t kMaxRecordBytes = 16 << 20;

// Bit 31 of the length word marks the last record of an Append: a group is whole or absent.
constexpr uint32_t kGroupEnd = 0x80000000u;

uint32_t RecordCrc(uint64_t seq, std::string_view payload, uint32_t flags) {
  return Crc32c(Crc32c(Crc32c(0, &seq, sizeof seq), payload.data(), payload.size()), &flags, sizeof flags);
}

Status Errno(const std::string& what) { return IoError(what + ": " + std::strerror(errno)); }

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync " + dir);
  return Status::Ok();
}

Result<std::string> ReadWhole(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Errno("open " + path);
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Errno("read " + path);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

// Walks the records of one segment and returns the byte offset where its last whole group
// ends; *last_seq is the last record of that group. Records after it (a group cut short by a
// crash, or damage) are not passed to fn.
template <typename Fn>
size_t ScanSegment(std::string_view data, uint64_t expected_first, uint64_t* last_seq, Fn&& fn) {
  size_t pos = 0, group_start = 0;
  uint64_t expect = expected_first;
  std::vector<std::pair<uint64_t, std::string_view>> group;
  while (data.size() - pos >= kHeaderBytes) {
    uint32_t word, crc;
    uint64_t seq;
    std::memcpy(&word, data.data() + pos, 4);
    std::memcpy(&crc, data.data() + pos + 4, 4);
    std::memcpy(&seq, data.data() + pos + 8, 8);
    const uint32_t flags = word & kGroupEnd, len = word & ~kGroupEnd;
    if (len > kMaxRecordBytes || data.size() - pos - kHeaderBytes < len || seq != expect) break;
    const std::string_view payload = data.substr(pos + kHeaderBytes, len);
    if (RecordCrc(seq, payload, flags) != crc) break;
    group.emplace_back(seq, payload);
    ++expect;
    pos += kHeaderBytes + len;
    if (flags) {
      for (const auto& [s, p] : group) fn(s, p);
      group.clear();
      *last_seq = seq;
      group_start = pos;
    }
  }
  return group_start;
}
}  // namespace

std::string Wal::SegmentPath(uint64_t first_seq) const {
  char name[64];
  std::snprintf(name, sizeof name, "wal-%016" PRIx64 ".log", first_seq);
  return (fs::path(dir_) / name).string();
}

Result<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, int64_t segment_bytes, OpenInfo* info) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<Wal> wal(new Wal(dir, segment_bytes));  // private constructor
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    uint64_t first = 0;
    if (name.size() == 24 && name.rfind("wal-", 0) == 0 && name.substr(20) == ".log" &&
        std::sscanf(name.c_str() + 4, "%16" SCNx64, &first) == 1) {
      wal->segments_.push_back(first);
    }
  }
  if (ec) return IoError("cannot list " + dir + ": " + ec.message());
  std::sort(wal->segments_.begin(), wal->segments_.end());

  *info = OpenInfo{};
  for (size_t i = 0; i < wal->segments_.size(); ++i) {
    const std::string path = wal->SegmentPath(wal->segments_[i]);
    KAIROS_ASSIGN_OR_RETURN(std::string data, ReadWhole(path));
    if (i > 0 && wal->segments_[i] != wal->last_seq_ + 1) {
      return Corruption(path + ": starts at record " + std::to_string(wal->segments_[i]) +
                        " but the previous segment ends at " + std::to_string(wal->last_seq_));
    }
    uint64_t last = wal->segments_[i] - 1;
    const size_t valid = ScanSegment(data, wal->segments_[i], &last, [](uint64_t, std::string_view) {});
    const bool is_last = i + 1 == wal->segments_.size();
    if (valid != data.size()) {
      if (!is_last) {
        return Corruption(path + ": damaged record at byte " + std::to_string(valid) +
                          " in a segment that is not the last; refusing to guess");
      }
      // A torn tail: the write of the last group was cut short and never acknowledged.
      if (::truncate(path.c_str(), static_cast<off_t>(valid)) != 0) return Errno("truncate " + path);
      info->truncated_bytes = static_cast<int64_t>(data.size() - valid);
    }
    wal->last_seq_ = last;
    if (is_last) wal->current_size_ = static_cast<int64_t>(valid);
  }
  info->last_seq = wal->last_seq_;
  info->segments = static_cast<int>(wal->segments_.size());
  if (wal->segments_.empty()) {
    KAIROS_RETURN_IF_ERROR(wal->OpenSegmentForAppend(1, true));
  } else {
    KAIROS_RETURN_IF_ERROR(wal->OpenSegmentForAppend(wal->segments_.back(), false));
  }
  return wal;
}

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Wal::OpenSegmentForAppend(uint64_t first_seq, bool create) {
  if (fd_ >= 0) ::close(fd_);
  const std::string path = SegmentPath(first_seq);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("open " + path);
  if (create) {
    segments_.push_back(first_seq);
    current_size_ = 0;
    KAIROS_RETURN_IF_ERROR(SyncDir(dir_));
  }
  return Status::Ok();
}

Status Wal::Replay(uint64_t after_seq, const std::function<Status(uint64_t, std::string_view)>& fn) const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    const uint64_t next_first = i + 1 < segments_.size() ? segments_[i + 1] : UINT64_MAX;
    if (next_first != UINT64_MAX && next_first <= after_seq + 1) continue;  // wholly applied
    const std::string path = SegmentPath(segments_[i]);
    KAIROS_ASSIGN_OR_RETURN(std::string data, ReadWhole(path));
    uint64_t last = 0;
    Status status;
    ScanSegment(data, segments_[i], &last, [&](uint64_t seq, std::string_view payload) {
      if (status.ok() && seq > after_seq) status = fn(seq, payload);
    });
    KAIROS_RETURN_IF_ERROR(status);
  }
  return Status::Ok();
}

Result<uint64_t> Wal::Append(const std::vector<std::string_view>& payloads) {
  if (payloads.empty()) return last_seq_;
  if (current_size_ >= segment_bytes_) {
    KAIROS_RETURN_IF_ERROR(Sync());
    KAIROS_RETURN_IF_ERROR(OpenSegmentForAppend(last_seq_ + 1, true));
  }
  buffer_.clear();
  uint64_t seq = last_seq_;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const std::string_view p = payloads[i];
    if (p.size() > kMaxRecordBytes) return Status(ErrorCode::kTooLarge, "WAL record too large");
    ++seq;
    const uint32_t flags = i + 1 == payloads.size() ? kGroupEnd : 0;
    PutFixed(&buffer_, static_cast<uint32_t>(p.size()) | flags);
    PutFixed(&buffer_, RecordCrc(seq, p, flags));
    PutFixed(&buffer_, seq);
    buffer_.append(p);
  }
  size_t off = 0;
  while (off < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Status err = Errno("write WAL");
      // Cut back to the last whole group so the log stays a clean sequence.
      if (::ftruncate(fd_, static_cast<off_t>(current_size_)) != 0) {
        return Errno("write WAL failed and truncating it back failed too");
      }
      return err;
    }
    off += static_cast<size_t>(n);
  }
  current_size_ += static_cast<int64_t>(buffer_.size());
  bytes_appended_ += static_cast<int64_t>(buffer_.size());
  last_seq_ = seq;
  return seq;
}

Status Wal::ContinueAfter(uint64_t seq) {
  if (last_seq_ >= seq) return Status::Ok();
  if (current_size_ != 0) {
    return Corruption("the write-ahead log ends at record " + std::to_string(last_seq_) +
                      " but the store has applied up to " + std::to_string(seq));
  }
  const std::string old = SegmentPath(segments_.back());
  segments_.pop_back();
  KAIROS_RETURN_IF_ERROR(OpenSegmentForAppend(seq + 1, true));
  if (::unlink(old.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + old);
  last_seq_ = seq;
  return Status::Ok();
}

Status Wal::Sync() {
  if (::fdatasync(fd_) != 0) return Errno("fdatasync WAL");
  return Status::Ok();
}

Status Wal::Trim(uint64_t upto) {
  while (segments_.size() > 1 && segments_[1] <= upto + 1) {
    const std::string path = SegmentPath(segments_.front());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path);
    segments_.erase(segments_.begin());
  }
  return Status::Ok();
}

}  // namespace kairos
