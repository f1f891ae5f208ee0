#include "channel/nats_sink.h"

#include <algorithm>

namespace kairos::channel {

namespace {

std::string NatsError(const std::string& what, natsStatus s) {
  std::string text = what + ": " + natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == s) {
    text += " (";
    text += detail;
    text += ")";
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<NatsSink>> NatsSink::Make(std::string_view channel,
                                                 const AdapterConfig& config) {
  const std::string prefix = "channels." + std::string(channel) + ".";
  if (config.nats_url.empty()) {
    return InvalidArgument("a nats adapter needs nats_url", prefix + "nats_url");
  }
  if (config.subject.empty() || config.subject.find_first_of(" \t\r\n") != std::string::npos) {
    return InvalidArgument("a nats adapter needs a subject without spaces", prefix + "subject");
  }
  std::unique_ptr<NatsSink> sink(new NatsSink(config));  // private constructor
  natsStatus s = natsOptions_Create(&sink->options_);
  if (s == NATS_OK) s = natsOptions_SetURL(sink->options_, config.nats_url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(sink->options_, "kairos-channel");
  if (s == NATS_OK) s = natsOptions_SetTimeout(sink->options_, config.timeout_ms);
  // libnats reconnects on its own in the background; attempts made meanwhile are retried by
  // the dispatcher, so the reconnect loop never has to give up.
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(sink->options_, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(sink->options_, -1);
  if (s == NATS_OK) {
    s = natsOptions_SetReconnectWait(sink->options_,
                                     std::clamp<int64_t>(config.backoff_initial_ms, 50, 2000));
  }
  if (s != NATS_OK) {
    return InvalidArgument(NatsError("nats options", s), prefix + "nats_url");
  }
  return sink;
}

NatsSink::~NatsSink() {
  if (connection_ != nullptr) {
    natsConnection_Close(connection_);
    natsConnection_Destroy(connection_);
  }
  if (options_ != nullptr) natsOptions_Destroy(options_);
}

std::string NatsSink::EnsureConnectedLocked() {
  if (connection_ != nullptr && natsConnection_IsClosed(connection_)) {
    natsConnection_Destroy(connection_);
    connection_ = nullptr;
  }
  if (connection_ == nullptr) {
    const natsStatus s = natsConnection_Connect(&connection_, options_);
    if (s != NATS_OK) {
      connection_ = nullptr;
      return NatsError("nats connect " + url_, s);
    }
  }
  if (natsConnection_Status(connection_) != NATS_CONN_STATUS_CONNECTED) {
    return "nats " + url_ + ": not connected (reconnecting)";
  }
  return {};
}

void NatsSink::Deliver(std::span<const SinkItem> items, std::span<Outcome> out) {
  std::lock_guard lock(mu_);
  std::string error = EnsureConnectedLocked();
  size_t published = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    out[i] = Outcome{};
    if (!error.empty()) continue;
    natsMsg* msg = nullptr;
    const std::string id(items[i].id);
    natsStatus s = natsMsg_Create(&msg, subject_.c_str(), nullptr, items[i].payload.data(),
                                  static_cast<int>(items[i].payload.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
    if (s == NATS_OK) s = natsConnection_PublishMsg(connection_, msg);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) {
      out[i].error = NatsError("nats publish on " + subject_, s);
      continue;
    }
    ++published;
  }
  if (error.empty() && published > 0) {
    // The flush's PING/PONG round trip is the server's acknowledgement of everything before it.
    const natsStatus s = natsConnection_FlushTimeout(connection_, timeout_ms_);
    if (s != NATS_OK) error = NatsError("nats flush to " + url_, s);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!error.empty()) {
      out[i].kind = Outcome::Kind::kRetry;
      out[i].error = error;
    } else if (out[i].error.empty()) {
      out[i].kind = Outcome::Kind::kDelivered;
    } else {
      out[i].kind = Outcome::Kind::kRetry;
    }
  }
}

}  // namespace kairos::channel
