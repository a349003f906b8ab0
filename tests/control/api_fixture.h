// The API server on a Unix socket in a temporary directory, over a control plane with a fake
// map backend and fake daemon providers.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "agent/cli/api_client.h"
#include "agent/api/api_routes.h"
#include "tests/control/control_fixture.h"
#include "agent/api/http_server.h"

namespace sixguard::testing {

class FakeStatus : public StatusProvider {
 public:
  nlohmann::json status() override {
    return {{"ready", true},
            {"attached", {{"uplink", 2}}},
            {"interfaces", nlohmann::json::array({{{"interface", "tap-web"}}})}};
  }
};

class FakeExplainer : public Explainer {
 public:
  std::optional<std::string> last_interface;
  Result<Explanation> explain(const Ipv6 &, const Ipv6 &dst,
                              const std::optional<std::string> &interface_name) override {
    last_interface = interface_name;
    if (interface_name && *interface_name != "tap-web") {
      return make_error("no machine interface " + *interface_name, ENODEV);
    }
    if (!interface_name)
      return Explanation{SG_HOOK_UPLINK, SG_VERDICT_PASS, SG_REASON_SAME_NETWORK};
    return Explanation{
        SG_HOOK_MACHINE_EGRESS, network_id(dst) == kDefaultNet ? SG_VERDICT_PASS : SG_VERDICT_DROP,
        network_id(dst) == kDefaultNet ? SG_REASON_SAME_NETWORK : SG_REASON_CROSS_NETWORK};
  }
};

// Every subscription replays `events`, then stays quiet. Counts live subscriptions, so a test
// can see the server drop one when its client leaves.
class FakeMonitor : public MonitorSource {
 public:
  std::vector<sg_drop_event> events;
  std::atomic<int> live{0};
  std::atomic<int> next_calls{0};  // > events.size(): every event was written out

  class Subscription : public MonitorSubscription {
   public:
    Subscription(FakeMonitor &owner)
        : owner_(owner), pending_(owner.events.begin(), owner.events.end()) {
      ++owner_.live;
    }
    ~Subscription() override { --owner_.live; }
    std::optional<sg_drop_event> next(std::chrono::milliseconds timeout) override {
      ++owner_.next_calls;
      if (pending_.empty()) {
        std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(20)));
        return std::nullopt;
      }
      auto event = pending_.front();
      pending_.pop_front();
      return event;
    }

   private:
    FakeMonitor &owner_;
    std::deque<sg_drop_event> pending_;
  };

  std::unique_ptr<MonitorSubscription> subscribe() override {
    return std::make_unique<Subscription>(*this);
  }
};

inline sg_drop_event drop_event(const char *src, const char *dst, sg_reason reason) {
  sg_drop_event event{};
  event.timestamp_ns = 123;
  event.src = parse_ipv6(src)->raw();
  event.dst = parse_ipv6(dst)->raw();
  event.ifindex = 0;
  event.packet_len = 100;
  event.hook = SG_HOOK_MACHINE_EGRESS;
  event.verdict = SG_VERDICT_DROP;
  event.reason = static_cast<__u8>(reason);
  return event;
}

class ApiFixture : public ControlFixture {
 protected:
  void SetUp() override {
    ControlFixture::SetUp();
    monitor.events = {drop_event(kWebAddress, kTenantAddress, SG_REASON_CROSS_NETWORK),
                      drop_event("fdaa:2:45b::9", kTenantAddress, SG_REASON_SPOOFED_SOURCE)};
    register_api_routes(router, *control,
                        ApiProviders{.status = &status,
                                     .explainer = &explainer,
                                     .monitor = &monitor,
                                     .events_owned_by = {},
                                     .source_status = {}});
    socket_path = dir / "run/sixguard/api.sock";
    start_server();
  }
  void TearDown() override { server.reset(); }

  // (Re)starts the server on socket_path with the current options (the old one stopped first).
  void start_server() {
    server.reset();
    server = std::make_unique<HttpServer>(router, options);
    auto listening = server->listen_unix(socket_path);
    ASSERT_TRUE(listening) << listening.error().describe();
    auto started = server->start();
    ASSERT_TRUE(started) << started.error().describe();
  }

  // A client holding /v1/monitor open until the server ends the stream; returns once the
  // server counts it (ASSERTs it did within `timeout`). Join the thread after stopping.
  std::thread open_monitor_stream(std::chrono::seconds timeout) {
    std::thread client([this] {
      (void)ApiClient(socket_path).stream_lines("/v1/monitor", [](std::string_view) {
        return true;
      });
    });
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (monitor.live == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(monitor.live, 1);
    return client;
  }

  // Waits until the monitor handed out every event and the server wrote them (it asked for
  // the next one after the last).
  void wait_for_monitor_written() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (monitor.next_calls <= static_cast<int>(monitor.events.size()) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GT(monitor.next_calls, static_cast<int>(monitor.events.size()));
  }

  ApiReply request(std::string_view method, std::string_view target, std::string_view body = {}) {
    auto reply = ApiClient(socket_path).request(method, target, body);
    EXPECT_TRUE(reply) << reply.error().describe();
    return reply ? *reply : ApiReply{};
  }

  static nlohmann::json json_of(const ApiReply &reply) {
    return nlohmann::json::parse(reply.body, nullptr, false);
  }

  Router router;
  HttpServerOptions options;
  FakeStatus status;
  FakeExplainer explainer;
  FakeMonitor monitor;
  std::string socket_path;
  std::unique_ptr<HttpServer> server;
};

}  // namespace sixguard::testing
