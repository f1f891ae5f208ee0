#include "channel/nats_sink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel/channel_test_util.h"
#include "channel/dispatcher.h"

namespace kairos::channel {
namespace {

using testing::ScratchDir;
using testing::WaitFor;

constexpr const char* kNatsServer = "/usr/sbin/nats-server";

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// nats-server as a child process on 127.0.0.1:port.
class NatsServer {
 public:
  explicit NatsServer(int port) : port_(port) {}
  ~NatsServer() { Kill(); }
  bool Start() {
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const std::string port = std::to_string(port_);
      ::execl(kNatsServer, kNatsServer, "-a", "127.0.0.1", "-p", port.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return WaitFor([&] { return Accepts(port_); }, 5000);
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

// A core-NATS subscriber that reconnects on its own.
class Subscriber {
 public:
  ~Subscriber() {
    if (sub_) natsSubscription_Destroy(sub_);
    if (conn_) natsConnection_Destroy(conn_);
    if (opts_) natsOptions_Destroy(opts_);
  }
  bool Connect(const std::string& url, const std::string& subject) {
    if (natsOptions_Create(&opts_) != NATS_OK) return false;
    natsOptions_SetURL(opts_, url.c_str());
    natsOptions_SetAllowReconnect(opts_, true);
    natsOptions_SetMaxReconnect(opts_, -1);
    natsOptions_SetReconnectWait(opts_, 50);
    return natsConnection_Connect(&conn_, opts_) == NATS_OK &&
           natsConnection_SubscribeSync(&sub_, conn_, subject.c_str()) == NATS_OK &&
           natsConnection_Flush(conn_) == NATS_OK;
  }
  bool Ready() {
    return natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED &&
           natsConnection_FlushTimeout(conn_, 500) == NATS_OK;
  }
  // The next message's (Nats-Msg-Id, payload), or ("", "") on timeout.
  std::pair<std::string, std::string> Next(int64_t timeout_ms) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub_, timeout_ms) != NATS_OK) return {};
    const char* id = nullptr;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    std::pair<std::string, std::string> out(
        id ? id : "",
        std::string(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
    natsMsg_Destroy(msg);
    return out;
  }

 private:
  natsOptions* opts_ = nullptr;
  natsConnection* conn_ = nullptr;
  natsSubscription* sub_ = nullptr;
};

Delivery Make(const std::string& id) {
  Delivery d;
  d.id = id;
  d.channel = "push";
  d.subscriber_id = "sub-9";
  d.payload = R"({"offer":")" + id + R"("})";
  return d;
}

TEST(NatsSinkTest, PublishesAndLosesNothingWhileTheServerIsDown) {
  if (::access(kNatsServer, X_OK) != 0) GTEST_SKIP() << kNatsServer << " not installed";
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  NatsServer server(port);
  ASSERT_TRUE(server.Start());
  Subscriber sub;
  ASSERT_TRUE(sub.Connect(url, "kairos.push"));

  ScratchDir dir;
  ManualClock clock(1700000000000);  // retries move only when the test says so
  auto d = Dispatcher::Open(dir / "outbox", &clock, 5);
  ASSERT_TRUE(d.ok());
  AdapterConfig config;
  config.kind = AdapterKind::kNats;
  config.nats_url = url;
  config.subject = "kairos.push";
  config.timeout_ms = 500;
  config.backoff_initial_ms = 100;
  config.backoff_max_ms = 1000;
  config.max_attempts = 1000;
  ASSERT_TRUE((*d)->Configure({{"push", config}}).ok());
  (*d)->Start();

  ASSERT_TRUE(*(*d)->Enqueue(Make("n1")));
  auto [id, data] = sub.Next(3000);
  EXPECT_EQ(id, "n1");
  EXPECT_EQ(data, R"({"offer":"n1"})");
  ASSERT_TRUE(WaitFor([&] { return (*d)->Stats().channels.at("push").delivered == 1; }));

  server.Kill();
  ASSERT_TRUE(*(*d)->Enqueue(Make("n2")));  // durable while the server is down
  ASSERT_TRUE(WaitFor([&] { return (*d)->Stats().channels.at("push").failures >= 1; }));
  EXPECT_EQ((*d)->Stats().channels.at("push").pending, 1);

  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(WaitFor([&] { return sub.Ready(); }, 5000));
  // Move the clock past each backoff until the sink has reconnected and the retry went out.
  ASSERT_TRUE(WaitFor(
      [&] {
        clock.Advance(1000);
        return (*d)->Stats().channels.at("push").delivered == 2;
      },
      5000));
  std::tie(id, data) = sub.Next(2000);
  EXPECT_EQ(id, "n2");
  EXPECT_EQ(data, R"({"offer":"n2"})");
  EXPECT_EQ((*d)->Stats().channels.at("push").pending, 0);
  EXPECT_TRUE((*d)->DeadLetters(5).empty());
}

}  // namespace
}  // namespace kairos::channel
