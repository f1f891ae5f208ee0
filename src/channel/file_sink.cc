#include "channel/file_sink.h"

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kairos::channel {

Result<std::unique_ptr<FileSink>> FileSink::Open(const std::string& path) {
  std::unique_ptr<FileSink> sink(new FileSink(path));  // private constructor
  std::lock_guard lock(sink->mu_);
  KAIROS_RETURN_IF_ERROR(sink->OpenLocked());
  return sink;
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSink::OpenLocked() {
  // The workspace's outbound/ folder need not exist before the first delivery.
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return IoError("cannot open " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

void FileSink::AppendLine(const SinkItem& item, std::string* out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("id");
  w.String(item.id.data(), static_cast<rapidjson::SizeType>(item.id.size()));
  w.Key("channel");
  w.String(item.channel.data(), static_cast<rapidjson::SizeType>(item.channel.size()));
  w.Key("subscriber_id");
  w.String(item.subscriber_id.data(), static_cast<rapidjson::SizeType>(item.subscriber_id.size()));
  w.Key("ts");
  w.Int64(item.created_ms);
  w.Key("payload");
  // The payload was checked to be one JSON object at Enqueue, so it is embedded as it is.
  w.RawValue(item.payload.data(), item.payload.size(), rapidjson::kObjectType);
  w.EndObject();
  out->append(buffer.GetString(), buffer.GetSize());
  out->push_back('\n');
}

void FileSink::Deliver(std::span<const SinkItem> items, std::span<Outcome> out) {
  std::string lines;
  for (const SinkItem& item : items) AppendLine(item, &lines);

  std::string error;
  {
    std::lock_guard lock(mu_);
    if (fd_ < 0) {
      const Status st = OpenLocked();
      if (!st.ok()) error = st.message();
    }
    size_t done = 0;
    while (error.empty() && done < lines.size()) {
      const ssize_t w = ::write(fd_, lines.data() + done, lines.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        error = "cannot write " + path_ + ": " + std::strerror(errno);
        break;
      }
      done += static_cast<size_t>(w);
    }
    if (error.empty() && ::fdatasync(fd_) != 0) {
      error = "cannot sync " + path_ + ": " + std::strerror(errno);
    }
    if (!error.empty() && fd_ >= 0) {
      // Start over with a fresh descriptor: after a failed fsync the kernel may have dropped
      // the dirty pages, and the old descriptor would report success for them next time.
      ::close(fd_);
      fd_ = -1;
    }
  }
  for (Outcome& o : out) {
    o = Outcome{};
    if (error.empty()) {
      o.kind = Outcome::Kind::kDelivered;
    } else {
      o.kind = Outcome::Kind::kRetry;
      o.error = error;
    }
  }
}

}  // namespace kairos::channel
