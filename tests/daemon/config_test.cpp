// Test that the agent's configuration has a working default for every key, accepts every key
// of DESIGN §4, and refuses unknown keys and bad values with an error naming key and file.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <cstdlib>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "agent/daemon/config.h"

namespace sixguard::daemon {
namespace {

Result<AgentConfig> parse(std::string_view text) {
  return parse_config(text, "test.yaml");
}

void expect_error(std::string_view text, std::string_view key) {
  auto config = parse(text);
  ASSERT_FALSE(config.ok()) << text;
  EXPECT_NE(config.error().message.find("test.yaml"), std::string::npos) << config.error().message;
  EXPECT_NE(config.error().message.find(key), std::string::npos) << config.error().message;
}

TEST(DaemonConfig, EmptyFileIsEveryDefault) {
  auto config = parse("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->state_dir, kDefaultStateDir);
  EXPECT_EQ(config->api_socket, kDefaultApiSocket);
  EXPECT_EQ(config->metrics_address, kDefaultMetricsAddress);
  EXPECT_EQ(config->metrics_listen.host, "");
  EXPECT_EQ(config->metrics_listen.port, 9530);
  EXPECT_EQ(config->health_address, kDefaultHealthAddress);
  EXPECT_EQ(config->health_listen.host, "127.0.0.1");
  EXPECT_EQ(config->health_listen.port, 9531);
  EXPECT_EQ(config->bpffs, kDefaultBpffs);
  EXPECT_EQ(config->pin_dir(), std::string(kDefaultBpffs) + "/sixguard");
  EXPECT_EQ(config->mode, EnforcementMode::kEnforce);
  EXPECT_EQ(config->machine_egress_hook, EgressHookChoice::kAuto);
  EXPECT_TRUE(config->uplinks.empty());
  ASSERT_EQ(config->infra_prefixes.size(), 1u);
  EXPECT_EQ(config->infra_prefixes[0].str(), kDefaultInfraPrefix);
  EXPECT_EQ(config->map_sizes.machines, kDefaultMachinesSize);
  EXPECT_EQ(config->map_sizes.flycast, kDefaultFlycastSize);
  EXPECT_EQ(config->map_sizes.infra, kDefaultInfraSize);
  EXPECT_EQ(config->map_sizes.net_flags, kDefaultNetFlagsSize);
  EXPECT_EQ(config->map_sizes.events_bytes, kDefaultEventsBytes);
  EXPECT_EQ(config->events_per_second, kDefaultEventsPerSecond);
  EXPECT_EQ(config->drift_check_interval, std::chrono::seconds(30));
  EXPECT_EQ(config->events_burst, kDefaultEventsBurst);
  EXPECT_TRUE(config->encap_udp_ports.empty());
}

TEST(DaemonConfig, MissingDefaultFileIsDefaultsButMissingExplicitFileIsAnError) {
  // load_config("") reads the default path; that file is not expected on a build machine, and
  // when it is absent the result is the defaults.
  if (!std::ifstream(std::string(kDefaultConfigPath))) {
    auto config = load_config("");
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->source, "(defaults)");
  }
  auto missing = load_config("/nonexistent/sixguard-config-test.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/sixguard-config-test.yaml"),
            std::string::npos);
}

TEST(DaemonConfig, EveryKeyIsRead) {
  auto config = parse(R"(
state_dir: /tmp/s
api_socket: /tmp/s/api.sock
metrics_address: "[::1]:9999"
health_address: "[::1]:9998"
bpffs: /tmp/bpf
mode: audit
machine_egress_hook: tc
uplinks: [eth0, wg0]
infra_prefixes: ["fdaa::3/128", "fdaa:0:1::/48"]
map_sizes: {machines: 10, flycast: 20, infra: 30, net_flags: 40, events: 8192}
events_per_second: 7
events_burst: 9
encap_udp_ports: [8472, 4790]
drift_check_interval: 200ms
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->state_dir, "/tmp/s");
  EXPECT_EQ(config->state_db_path(), "/tmp/s/state.db");
  EXPECT_EQ(config->api_socket, "/tmp/s/api.sock");
  EXPECT_EQ(config->metrics_listen.host, "::1");
  EXPECT_EQ(config->metrics_listen.port, 9999);
  EXPECT_EQ(config->health_listen.host, "::1");
  EXPECT_EQ(config->health_listen.port, 9998);
  EXPECT_EQ(config->pin_dir(), "/tmp/bpf/sixguard");
  EXPECT_EQ(config->mode, EnforcementMode::kAudit);
  EXPECT_EQ(config->machine_egress_hook, EgressHookChoice::kTc);
  EXPECT_EQ(config->uplinks, (std::vector<std::string>{"eth0", "wg0"}));
  ASSERT_EQ(config->infra_prefixes.size(), 2u);
  EXPECT_EQ(config->infra_prefixes[1].str(), "fdaa:0:1::/48");
  EXPECT_EQ(config->map_sizes.machines, 10u);
  EXPECT_EQ(config->map_sizes.flycast, 20u);
  EXPECT_EQ(config->map_sizes.infra, 30u);
  EXPECT_EQ(config->map_sizes.net_flags, 40u);
  EXPECT_EQ(config->map_sizes.events_bytes, 8192u);
  EXPECT_EQ(config->events_per_second, 7u);
  EXPECT_EQ(config->events_burst, 9u);
  EXPECT_EQ(config->drift_check_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(config->encap_udp_ports, (std::vector<uint16_t>{8472, 4790}));
}

TEST(DaemonConfig, RenderedConfigReadsBackTheSame) {
  auto config = parse(
      "mode: audit\nuplinks: [eth1]\nmetrics_address: \"127.0.0.1:1234\"\n"
      "encap_udp_ports: [1, 65535]\n");
  ASSERT_TRUE(config.ok());
  auto again = parse(render_config(*config));
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << render_config(*config);
  EXPECT_EQ(render_config(*again), render_config(*config));
}

TEST(DaemonConfig, DriftCheckIntervalTakesMillisecondsSecondsAndMinutes) {
  const std::pair<const char *, long> good[] = {
      {"200ms", 200}, {"100ms", 100}, {"30s", 30'000}, {"5m", 300'000}, {"1440m", 86'400'000}};
  for (const auto &[text, ms] : good) {
    auto config = parse(std::string("drift_check_interval: ") + text + "\n");
    ASSERT_TRUE(config.ok()) << text << ": " << config.error().message;
    EXPECT_EQ(config->drift_check_interval.count(), ms) << text;
    auto again = parse(render_config(*config));
    ASSERT_TRUE(again.ok()) << render_config(*config);
    EXPECT_EQ(again->drift_check_interval.count(), ms) << render_config(*config);
  }
}

TEST(DaemonConfig, DriftCheckIntervalRefusesZeroNegativeGarbageAndAbsurdValues) {
  for (const char *bad :
       {"0s", "0ms", "0m", "-5s", "-1", "30", "s", "ms", "1h", "1.5s", "10 s", "abc", "99ms",
        "1441m", "86400001ms", "99999999999999999999s", "[1s]", "{a: b}", "\"\""}) {
    SCOPED_TRACE(bad);
    expect_error(std::string("drift_check_interval: ") + bad + "\n", "drift_check_interval");
  }
}

TEST(DaemonConfig, UnknownKeysAndBadValuesNameTheKey) {
  expect_error("colour: blue\n", "colour");
  expect_error("mode: strict\n", "mode");
  expect_error("machine_egress_hook: ebpf\n", "machine_egress_hook");
  expect_error("state_dir: relative/path\n", "state_dir");
  expect_error("state_dir: [a]\n", "state_dir");
  expect_error("metrics_address: \"9530\"\n", "metrics_address");
  expect_error("metrics_address: \":0\"\n", "metrics_address");
  expect_error("metrics_address: \":70000\"\n", "metrics_address");
  expect_error("metrics_address: \"::1:9530\"\n", "metrics_address");
  // The health listener must stay out of tenants' reach: loopback only.
  expect_error("health_address: \":9531\"\n", "health_address");
  expect_error("health_address: \"0.0.0.0:9531\"\n", "health_address");
  expect_error("health_address: \"[::]:9531\"\n", "health_address");
  expect_error("health_address: \"[fe80::1]:9531\"\n", "health_address");
  expect_error("health_address: \"10.0.0.1:9531\"\n", "health_address");
  expect_error("health_address: \"9531\"\n", "health_address");
  expect_error("uplinks: eth0\n", "uplinks");
  expect_error("uplinks: [\"a-name-far-too-long-for-linux\"]\n", "uplinks");
  expect_error("infra_prefixes: [\"not-an-address\"]\n", "infra_prefixes");
  expect_error("infra_prefixes: [\"fdaa::3/64\"]\n", "infra_prefixes");  // host bits set
  expect_error("infra_prefixes: [\"10.0.0.0/8\"]\n", "infra_prefixes");
  expect_error("map_sizes: {machines: 0}\n", "map_sizes.machines");
  expect_error("map_sizes: {machines: -1}\n", "map_sizes.machines");
  expect_error("map_sizes: {machines: lots}\n", "map_sizes.machines");
  expect_error("map_sizes: {routes: 5}\n", "map_sizes.routes");
  expect_error("map_sizes: {events: 6000}\n", "map_sizes.events");
  expect_error("map_sizes: {events: 2048}\n", "map_sizes.events");
  expect_error("events_per_second: 0\n", "events_per_second");
  expect_error("events_burst: x\n", "events_burst");
  expect_error("mode: enforce\nmode: audit\n", "mode");
}

// DESIGN §4: shorter than /48 would span several networks; outside fdaa::/16 it would never
// be consulted (the rules look infrastructure up for 6PN addresses only).
TEST(DaemonConfig, InfraPrefixShorterThanSlash48OrOutside6pnIsRefused) {
  struct Case {
    const char *prefix;
    const char *why;  // a word the message must hold
  };
  for (const Case &c :
       {Case{"::/0", "shorter than /48"}, Case{"fdaa::/16", "shorter than /48"},
        Case{"fdaa::/32", "shorter than /48"}, Case{"fdaa:0:2::/47", "shorter than /48"},
        Case{"fc00::/7", "shorter than /48"}, Case{"fd00::/8", "shorter than /48"},
        Case{"fdab::/48", "outside fdaa::/16"}, Case{"fdab::3/128", "outside fdaa::/16"},
        Case{"2001:db8::/48", "outside fdaa::/16"},
        Case{"::ffff:10.0.0.1/128", "outside fdaa::/16"}, Case{"fe80::/64", "outside fdaa::/16"},
        Case{"::/128", "outside fdaa::/16"}, Case{"::1", "outside fdaa::/16"}}) {
    const std::string text =
        std::string("infra_prefixes: [\"fdaa::3/128\", \"") + c.prefix + "\"]\n";
    auto config = parse(text);
    ASSERT_FALSE(config.ok()) << c.prefix;
    const std::string &message = config.error().message;
    EXPECT_NE(message.find("test.yaml"), std::string::npos) << message;
    EXPECT_NE(message.find("infra_prefixes"), std::string::npos) << message;
    EXPECT_NE(message.find(std::string("\"") + c.prefix + "\""), std::string::npos) << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << message;
  }
}

TEST(DaemonConfig, InfraPrefixesFromSlash48To128Inside6pnAreAccepted) {
  auto config = parse(
      "infra_prefixes: [\"fdaa::3/128\", \"fdaa:0:1::/48\", \"fdaa:ffff:ffff::/48\", "
      "\"fdaa:0:2:3::/64\", \"fdaa:0:0:0:0:0:0:1\", \"fdaa:0:2::/048\"]\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->infra_prefixes.size(), 6u);
  EXPECT_EQ(config->infra_prefixes[1].length, 48);
  EXPECT_EQ(config->infra_prefixes[4].str(), "fdaa::1/128");  // a bare address is a /128
  EXPECT_EQ(config->infra_prefixes[5].str(), "fdaa:0:2::/48");
  // An empty list is valid: nothing is infrastructure.
  auto none = parse("infra_prefixes: []\n");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->infra_prefixes.empty());
}

// Test that encap_udp_ports refuses what the datapath could not honour or would read
// ambiguously: out-of-range or non-numeric ports, duplicates, the built-in ports, more than
// SG_CFG_ENCAP_PORTS entries, and a scalar instead of a list.
TEST(DaemonConfig, EncapUdpPortsAreValidated) {
  expect_error("encap_udp_ports: 8472\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [0]\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [65536]\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [-1]\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [vxlan]\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [\"\"]\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [[8472]]\n", "encap_udp_ports");
  expect_error("encap_udp_ports: [8472, 8472]\n", "listed twice");
  expect_error("encap_udp_ports: [4789]\n", "built in");
  expect_error("encap_udp_ports: [6081]\n", "built in");
  expect_error("encap_udp_ports: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n", "at most 8");
  auto eight = parse("encap_udp_ports: [1, 2, 3, 4, 5, 6, 7, 8]\n");
  ASSERT_TRUE(eight.ok()) << eight.error().message;
  EXPECT_EQ(eight->encap_udp_ports.size(), 8u);
  auto empty = parse("encap_udp_ports: []\n");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->encap_udp_ports.empty());
}

TEST(DaemonConfig, NotYamlIsAnErrorNamingTheFile) {
  auto config = parse("mode: [unclosed\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("test.yaml"), std::string::npos);
  auto list = parse("- a\n- b\n");
  ASSERT_FALSE(list.ok());
}

}  // namespace
}  // namespace sixguard::daemon

namespace sixguard::daemon {
namespace {

Result<AgentConfig> parse_etcd_yaml(const std::string &text) {
  return parse_config(text, "t.yaml");
}

TEST(DaemonConfigEtcd, DefaultIsTheLocalApi) {
  auto config = parse_etcd_yaml("");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->etcd);
  auto api = parse_etcd_yaml("source: {api: {}}\n");
  ASSERT_TRUE(api.ok()) << api.error().message;
  EXPECT_FALSE(api->etcd);
}

TEST(DaemonConfigEtcd, EveryKeyIsReadAndRendersBack) {
  auto config = parse_etcd_yaml(
      "source:\n  etcd:\n    endpoints: [\"https://10.0.0.1:2379\", \"https://[fd00::1]:2379\"]\n"
      "    prefix: /fleet/sixguard\n    host: node-7.example\n"
      "    tls: {ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/k.pem}\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->etcd);
  EXPECT_EQ(config->etcd->endpoints.size(), 2u);
  EXPECT_EQ(config->etcd->prefix, "/fleet/sixguard");
  EXPECT_EQ(config->etcd->host, "node-7.example");
  EXPECT_EQ(config->etcd->tls->key, "/etc/k.pem");
  auto again = parse_etcd_yaml(render_config(*config));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(render_config(*again), render_config(*config));
}

TEST(DaemonConfigEtcd, HostDefaultsToTheNodeNameEnvThenUname) {
  ::setenv("SIXGUARD_NODE_NAME", "k8s-node-3", 1);
  auto from_env = parse_etcd_yaml("source: {etcd: {endpoints: [\"http://127.0.0.1:2379\"]}}\n");
  ::unsetenv("SIXGUARD_NODE_NAME");
  ASSERT_TRUE(from_env.ok()) << from_env.error().message;
  EXPECT_EQ(from_env->etcd->host, "k8s-node-3");
  EXPECT_EQ(from_env->etcd->prefix, "/sixguard/v1");
  auto from_uname = parse_etcd_yaml("source: {etcd: {endpoints: [\"http://127.0.0.1:2379\"]}}\n");
  ASSERT_TRUE(from_uname.ok()) << from_uname.error().message;
  utsname names{};
  ASSERT_EQ(::uname(&names), 0);
  EXPECT_EQ(from_uname->etcd->host, names.nodename);
  ::setenv("SIXGUARD_NODE_NAME", "ignored", 1);
  auto explicit_host =
      parse_etcd_yaml("source: {etcd: {endpoints: [\"http://127.0.0.1:2379\"], host: h1}}\n");
  ::unsetenv("SIXGUARD_NODE_NAME");
  EXPECT_EQ(explicit_host->etcd->host, "h1");
}

TEST(DaemonConfigEtcd, BadValuesNameTheKey) {
  const std::pair<const char *, const char *> cases[] = {
      {"source: {etcd: {}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: []}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: [\"127.0.0.1:2379\"]}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: [\"http://127.0.0.1:2379/v3\"]}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: [\"http://127.0.0.1\"]}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: [\"http://u@h:1\"]}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: [\"https://h:1\"]}}", "source.etcd.tls"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], tls: {ca: /ca}}}", "source.etcd.endpoints"},
      {"source: {etcd: {endpoints: [\"https://h:1\"], tls: {cert: /c, key: /k}}}",
       "source.etcd.tls.ca"},
      {"source: {etcd: {endpoints: [\"https://h:1\"], tls: {ca: /ca, cert: /c}}}",
       "source.etcd.tls"},
      {"source: {etcd: {endpoints: [\"https://h:1\"], tls: {ca: ca.pem}}}", "source.etcd.tls.ca"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], prefix: sixguard}}", "source.etcd.prefix"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], prefix: /a/../b}}", "source.etcd.prefix"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], prefix: /a/}}", "source.etcd.prefix"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], host: \"a/b\"}}", "source.etcd.host"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], host: \"..\"}}", "source.etcd.host"},
      {"source: {etcd: {endpoints: [\"http://h:1\"], hosts: h}}", "source.etcd.hosts"},
      {"source: {consul: {}}", "source.consul"},
      {"source: {etcd: {endpoints: [\"http://h:1\"]}, api: {}}", "source"},
      {"source: etcd", "source"},
  };
  for (const auto &[yaml, key] : cases) {
    auto config = parse_etcd_yaml(yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_NE(config.error().message.find(std::string("t.yaml: ") + key + ":"), std::string::npos)
        << yaml << " -> " << config.error().message;
  }
}

TEST(DaemonConfig, LogFormatAndLevel) {
  auto defaults = parse("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->log_format, kDefaultLogFormat);
  EXPECT_EQ(defaults->log_level, kDefaultLogLevel);
  auto set = parse("log_format: json\nlog_level: warn\n");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->log_format, "json");
  EXPECT_EQ(set->log_level, "warn");
  expect_error("log_format: xml\n", "log_format");
  expect_error("log_format: [json]\n", "log_format");
  expect_error("log_level: verbose\n", "log_level");
  expect_error("log_level: \"\"\n", "log_level");
}

// A scratch directory for the overlay's files, removed at the end of each test.
class NodeConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sixguard-nodecfg-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string &name, const std::string &text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(NodeConfig, OverlayKeysReplaceTheBase) {
  const auto base =
      write("config.yaml", "uplinks: [eth0]\nmode: audit\nmap_sizes: {machines: 100}\n");
  const auto node = write("node.yaml", "uplinks: [wg0, tun1]\nmap_sizes: {flycast: 64}\n");
  bool found = false;
  auto config = load_config_with_overlay(base, node, found);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(found);
  EXPECT_EQ(config->uplinks, (std::vector<std::string>{"wg0", "tun1"}));
  EXPECT_EQ(config->mode, EnforcementMode::kAudit);  // kept from the base
  // A whole key is replaced: map_sizes from the node file alone.
  EXPECT_EQ(config->map_sizes.flycast, 64u);
  EXPECT_EQ(config->map_sizes.machines, kDefaultMachinesSize);
  EXPECT_NE(config->source.find("node.yaml"), std::string::npos);
}

TEST_F(NodeConfig, MissingOverlayIsTheBaseAlone) {
  const auto base = write("config.yaml", "uplinks: [eth0]\n");
  bool found = true;
  auto config = load_config_with_overlay(base, dir_ + "/absent.yaml", found);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(found);
  EXPECT_EQ(config->uplinks, (std::vector<std::string>{"eth0"}));
}

TEST_F(NodeConfig, EmptyOverlayChangesNothing) {
  const auto base = write("config.yaml", "uplinks: [eth0]\n");
  const auto node = write("node.yaml", "");
  bool found = false;
  auto config = load_config_with_overlay(base, node, found);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(found);
  EXPECT_EQ(config->uplinks, (std::vector<std::string>{"eth0"}));
}

TEST_F(NodeConfig, BadOverlayKeyNamesTheNodeFile) {
  const auto base = write("config.yaml", "uplinks: [eth0]\n");
  for (const std::string text :
       {"uplinks: [\"bad name\"]\n", "colour: red\n", "[1, 2]\n", "uplinks: [a\n"}) {
    const auto node = write("node.yaml", text);
    bool found = false;
    auto config = load_config_with_overlay(base, node, found);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_NE(config.error().message.find(node), std::string::npos) << config.error().message;
  }
}

TEST_F(NodeConfig, BadBaseIsStillAnError) {
  const auto base = write("config.yaml", "mode: sometimes\n");
  const auto node = write("node.yaml", "mode: audit\n");
  bool found = false;
  EXPECT_FALSE(load_config_with_overlay(base, node, found).ok());
}

}  // namespace
}  // namespace sixguard::daemon
