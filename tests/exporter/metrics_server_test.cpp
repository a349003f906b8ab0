// The exporter over real HTTP on a loopback TCP port (no root): status codes, content type,
// a scrape that moves with its source, and `promtool check metrics` on what was served.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "exporter/exporter.h"
#include "tests/exporter/exposition.h"
#include "tests/exporter/fake_sources.h"
#include "agent/core/fd.h"
#include "exporter/metrics_server.h"

namespace sixguard::exporter {
namespace {

struct Reply {
  int status = 0;
  std::string headers;
  std::string body;
};

// One HTTP/1.1 request with Connection: close; the whole reply.
Reply http(uint16_t port, const std::string &method, const std::string &target) {
  Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
    return {};
  }
  const std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
  if (::send(sock.get(), request.data(), request.size(), MSG_NOSIGNAL) < 0) return {};
  std::string raw;
  char buffer[65536];
  for (ssize_t got; (got = ::recv(sock.get(), buffer, sizeof buffer, 0)) > 0;) {
    raw.append(buffer, static_cast<std::size_t>(got));
  }
  Reply reply;
  const auto end_of_headers = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end_of_headers == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(0, end_of_headers);
  reply.body = raw.substr(end_of_headers + 4);
  return reply;
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exporter_.set_counter_source(counters_);
    exporter_.set_map_stats_source(std::make_shared<test::FakeMapStatsSource>());
    exporter_.set_attachment_source(std::make_shared<test::FakeAttachmentSource>());
    auto server = MetricsServer::start(exporter_, "127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    ASSERT_NE(server_->port(), 0);
  }

  std::shared_ptr<test::FakeCounterSource> counters_ = std::make_shared<test::FakeCounterSource>();
  Exporter exporter_{BuildInfo{"1.2.3", "6.1.0-test"}};
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, ServesMetricsHealthAndReadiness) {
  const uint16_t port = server_->port();
  Reply metrics = http(port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.find("text/plain; version=0.0.4"), std::string::npos)
      << metrics.headers;
  EXPECT_EQ(test::count_samples(test::parse_exposition(metrics.body), "sixguard_packets_total"),
            72u);

  Reply health = http(port, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");

  Reply ready = http(port, "GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("starting"), std::string::npos);
  exporter_.readiness().set_ready();
  EXPECT_EQ(http(port, "GET", "/readyz").status, 200);

  EXPECT_EQ(http(port, "GET", "/nothing").status, 404);
  EXPECT_EQ(http(port, "POST", "/metrics").status, 405);
}

TEST_F(MetricsServerTest, EachScrapeReadsTheSource) {
  const std::map<std::string, std::string> labels = {
      {"hook", "machine_egress"}, {"verdict", "drop"}, {"reason", "cross_network"}};
  const uint32_t slot = SG_COUNTER_INDEX(static_cast<unsigned>(SG_HOOK_MACHINE_EGRESS),
                                         static_cast<unsigned>(SG_VERDICT_DROP),
                                         static_cast<unsigned>(SG_REASON_CROSS_NETWORK));
  counters_->counters[slot] = sg_counter{4, 400};
  auto first = test::parse_exposition(http(server_->port(), "GET", "/metrics").body);
  EXPECT_EQ(test::find_sample(first, "sixguard_packets_total", labels), 4.0);
  counters_->counters[slot] = sg_counter{9, 900};
  auto second = test::parse_exposition(http(server_->port(), "GET", "/metrics").body);
  EXPECT_EQ(test::find_sample(second, "sixguard_packets_total", labels), 9.0);
}

TEST_F(MetricsServerTest, PromtoolAcceptsTheServedScrape) {
  exporter_.observer().event_result("app.created", "applied");
  exporter_.observer().apply_duration(0.01);
  Reply metrics = http(server_->port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string file = ::testing::TempDir() + "sg-h5-scrape-" + std::to_string(::getpid());
  {
    std::ofstream out(file);
    out << metrics.body;
  }
  FILE *pipe = ::popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    output.append(buffer, got);
  }
  const int status = ::pclose(pipe);
  ::unlink(file.c_str());
  EXPECT_EQ(status, 0) << "promtool (Debian package prometheus) failed: " << output;
  EXPECT_EQ(output, "") << "promtool check metrics complained";
}

// Connects to 127.0.0.1:port from source (each loopback address is another peer).
Fd connect_from(uint16_t port, const std::string &source) {
  Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(sock.get(), reinterpret_cast<sockaddr *>(&local), sizeof local) != 0 ||
      ::connect(sock.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
    return Fd();
  }
  return sock;
}

template <typename Done>
HttpServerCounters wait_for(const MetricsServer &server, Done done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  HttpServerCounters now = server.counters();
  while (!done(now) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    now = server.counters();
  }
  return now;
}

// Issue 11: a flood on the metrics port (tenants reach it over their gateway) made /healthz
// answer 503 and the kubelet restart the agent. The health listener is another server: with
// the metrics port full of requests that never end, it answers every probe within 1 s.
TEST_F(MetricsServerTest, AFloodOnTheMetricsPortLeavesTheHealthListenerAnswering) {
  auto health = MetricsServer::start(exporter_, "127.0.0.1:0", Endpoints::kHealth);
  ASSERT_TRUE(health.ok()) << health.error().describe();
  exporter_.readiness().set_ready();
  const HttpServerOptions limits = listener_options(Endpoints::kMetrics);
  std::vector<Fd> flood;
  const std::string unfinished = "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: ";
  const std::size_t peers = limits.max_connections / limits.max_connections_per_peer + 10;
  for (std::size_t peer = 0; peer < peers; ++peer) {
    const std::string source = "127.0.1." + std::to_string(peer + 1);
    for (std::size_t i = 0; i < limits.max_connections_per_peer; ++i) {
      flood.push_back(connect_from(server_->port(), source));
      ASSERT_TRUE(flood.back().valid()) << source;
      ASSERT_GT(::send(flood.back().get(), unfinished.data(), unfinished.size(), MSG_NOSIGNAL), 0);
    }
  }
  const auto counters = wait_for(*server_, [&](const HttpServerCounters &c) {
    return c.connections == limits.max_connections && c.idle == 0 &&
           c.refused + c.evicted >= flood.size() - limits.max_connections;
  });
  ASSERT_EQ(counters.connections, limits.max_connections);  // the metrics port is full
  ASSERT_EQ(counters.idle, 0u);
  // Turned away: refused at the cap, or closed while it had sent nothing yet.
  ASSERT_GE(counters.refused + counters.evicted, flood.size() - limits.max_connections);
  EXPECT_EQ(http(server_->port(), "GET", "/healthz").status, 503);  // what the probes saw

  for (int i = 0; i < 10; ++i) {
    for (const char *path : {"/healthz", "/readyz"}) {
      const auto start = std::chrono::steady_clock::now();
      const Reply reply = http((*health)->port(), "GET", path);
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << path;
      EXPECT_EQ(reply.status, 200) << path;
    }
  }
  EXPECT_EQ(http((*health)->port(), "GET", "/metrics").status, 404);
}

// Issue 11: 70 silent connections to the metrics port made it answer 503 for 45 s. Silent
// connections make room for a scrape.
TEST_F(MetricsServerTest, SilentConnectionsDoNotStopAScrape) {
  const HttpServerOptions limits = listener_options(Endpoints::kMetrics);
  std::vector<Fd> silent;
  for (std::size_t i = 0; i < limits.max_connections + 70; ++i) {
    silent.push_back(connect_from(server_->port(), "127.0.2." + std::to_string(i % 200 + 1)));
    ASSERT_TRUE(silent.back().valid());
  }
  wait_for(*server_, [&](const HttpServerCounters &c) {
    return c.connections == limits.max_connections && c.idle == limits.max_connections;
  });
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(http(server_->port(), "GET", "/metrics").status, 200);
    EXPECT_EQ(http(server_->port(), "GET", "/healthz").status, 200);
  }
  EXPECT_GT(server_->counters().evicted, 0u);
}

TEST(MetricsServerStart, TheHealthListenerIsLoopbackOnly) {
  Exporter exporter(BuildInfo{"t", "k"});
  for (const char *address : {":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0"}) {
    auto server = MetricsServer::start(exporter, address, Endpoints::kHealth);
    ASSERT_FALSE(server.ok()) << address;
    EXPECT_NE(server.error().describe().find("health_address"), std::string::npos)
        << server.error().describe();
  }
  auto v6 = MetricsServer::start(exporter, "[::1]:0", Endpoints::kHealth);
  if (!v6.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << v6.error().describe();
}

TEST(MetricsServerStart, ABadAddressIsAnErrorNamingIt) {
  Exporter exporter(BuildInfo{"t", "k"});
  auto server = MetricsServer::start(exporter, "not-an-address");
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().describe().find("not-an-address"), std::string::npos)
      << server.error().describe();
}

}  // namespace
}  // namespace sixguard::exporter
