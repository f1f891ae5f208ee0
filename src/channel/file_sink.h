// FileSink: appends one NDJSON line per delivery and fsyncs before reporting it delivered.
//
// Line: {"id":..,"channel":..,"subscriber_id":..,"ts":<created_ms>,"payload":{...}}. A batch is
// written with one write and made durable with one fdatasync. A failed write or sync fails the
// whole batch (retryable); lines that did reach the file before the failure appear again on the
// retry, with the same id, which is what readers dedupe on.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "channel/sink.h"

namespace kairos::channel {

class FileSink final : public Sink {
 public:
  // Opens (creates) `path` for append. kIoError naming the path when it cannot.
  static Result<std::unique_ptr<FileSink>> Open(const std::string& path);
  ~FileSink() override;

  size_t max_batch() const override { return 512; }
  void Deliver(std::span<const SinkItem> items, std::span<Outcome> out) override;

  // The line written for `item`, with its trailing newline.
  static void AppendLine(const SinkItem& item, std::string* out);

 private:
  explicit FileSink(std::string path) : path_(std::move(path)) {}
  Status OpenLocked();

  const std::string path_;
  std::mutex mu_;  // one writer at a time, so that lines never interleave
  int fd_ = -1;    // -1 after a failure: reopened at the next attempt
};

}  // namespace kairos::channel
