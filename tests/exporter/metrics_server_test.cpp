// The exporter over real HTTP on a loopback TCP port (no root): status codes, content type,
// a scrape that moves with its source, and `promtool check metrics` on what was served.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "exporter.h"
#include "exposition.h"
#include "fake_sources.h"
#include "fd.h"
#include "metrics_server.h"

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

TEST(MetricsServerStart, ABadAddressIsAnErrorNamingIt) {
  Exporter exporter(BuildInfo{"t", "k"});
  auto server = MetricsServer::start(exporter, "not-an-address");
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().describe().find("not-an-address"), std::string::npos)
      << server.error().describe();
}

}  // namespace
}  // namespace sixguard::exporter
