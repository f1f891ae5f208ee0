#include "channel/sink.h"

#include "channel/file_sink.h"
#include "channel/nats_sink.h"
#include "channel/webhook.h"

namespace kairos::channel {

std::string_view AdapterKindName(AdapterKind kind) {
  switch (kind) {
    case AdapterKind::kWebhook:
      return "webhook";
    case AdapterKind::kFile:
      return "file";
    case AdapterKind::kNats:
      return "nats";
  }
  return "unknown";
}

Status ValidateCommon(std::string_view channel, const AdapterConfig& config) {
  const std::string prefix = "channels." + std::string(channel) + ".";
  if (channel.empty()) return InvalidArgument("a channel needs a name", "channels");
  if (config.timeout_ms < 1 || config.timeout_ms > 10 * 60 * kMsPerSecond) {
    return InvalidArgument("timeout_ms must be in [1, 600000]", prefix + "timeout_ms");
  }
  if (config.max_attempts < 1 || config.max_attempts > 1000) {
    return InvalidArgument("max_attempts must be in [1, 1000]", prefix + "max_attempts");
  }
  if (config.backoff_initial_ms < 1 || config.backoff_initial_ms > kMsPerDay) {
    return InvalidArgument("backoff_initial_ms must be in [1, 86400000]",
                           prefix + "backoff_initial_ms");
  }
  if (config.backoff_max_ms < config.backoff_initial_ms || config.backoff_max_ms > 30 * kMsPerDay) {
    return InvalidArgument("backoff_max_ms must be at least backoff_initial_ms and at most 30 days",
                           prefix + "backoff_max_ms");
  }
  return Status::Ok();
}

Result<std::shared_ptr<Sink>> MakeSink(std::string_view channel, const AdapterConfig& config,
                                       const Clock* clock) {
  KAIROS_RETURN_IF_ERROR(ValidateCommon(channel, config));
  switch (config.kind) {
    case AdapterKind::kWebhook: {
      KAIROS_ASSIGN_OR_RETURN(std::unique_ptr<WebhookSink> sink,
                              WebhookSink::Make(channel, config, clock));
      return std::shared_ptr<Sink>(std::move(sink));
    }
    case AdapterKind::kFile: {
      if (config.path.empty()) {
        return InvalidArgument("a file adapter needs a path",
                               "channels." + std::string(channel) + ".path");
      }
      KAIROS_ASSIGN_OR_RETURN(std::unique_ptr<FileSink> sink, FileSink::Open(config.path));
      return std::shared_ptr<Sink>(std::move(sink));
    }
    case AdapterKind::kNats: {
      KAIROS_ASSIGN_OR_RETURN(std::unique_ptr<NatsSink> sink, NatsSink::Make(channel, config));
      return std::shared_ptr<Sink>(std::move(sink));
    }
  }
  return InvalidArgument("unknown adapter kind", "channels." + std::string(channel) + ".kind");
}

}  // namespace kairos::channel
