// Checks that the deploy/ files agree with the code: the dashboard and the alerts use only
// metric names and label values the exporter defines; the Kubernetes manifests, the systemd
// unit, the Containerfile and the example configuration agree with the agent's defaults
// (agent/daemon/config.h, the one place they are written) and parse with its own parser.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "agent/daemon/config.h"
#include "exporter/exporter.h"
#include "exporter/labels.h"
#include "exporter/source_collector.h"

namespace sixguard::exporter {
namespace {

namespace fs = std::filesystem;
using daemon::kDefaultApiSocket;
using daemon::kDefaultBpffs;
using daemon::kDefaultConfigPath;
using daemon::kDefaultHealthAddress;
using daemon::kDefaultMetricsAddress;
using daemon::kDefaultStateDir;

const fs::path kDeploy = fs::path(SIXGUARD_SOURCE_DIR) / "deploy";

std::string read_file(const fs::path &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The metric families the exporter defines, with their types, from a scrape of an exporter
// (no sources: the datapath families come from the HELP/TYPE of a fed one below).
std::map<std::string, std::string> exporter_families() {
  struct Counters : CounterSource {
    Result<VerdictCounters> verdict_counters() override { return VerdictCounters{}; }
    Result<MonitorEventStats> monitor_event_stats() override { return MonitorEventStats{}; }
  };
  struct Maps : MapStatsSource {
    Result<std::vector<MapUsage>> map_usage() override { return std::vector<MapUsage>{}; }
  };
  struct Attachments : AttachmentSource {
    AttachedInterfaces attached_interfaces() override { return {}; }
  };
  Exporter exporter(BuildInfo{"t", "k"});
  exporter.set_counter_source(std::make_shared<Counters>());
  exporter.set_map_stats_source(std::make_shared<Maps>());
  exporter.set_attachment_source(std::make_shared<Attachments>());
  // Present in etcd mode only (DESIGN §6).
  exporter.add_collectable(std::make_shared<SourceCollector>([] { return SourceStats{}; }));
  std::map<std::string, std::string> families;
  std::istringstream lines(exporter.scrape());
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string hash, keyword, name, type;
    words >> hash >> keyword >> name >> type;
    if (hash == "#" && keyword == "TYPE") families[name] = type;
  }
  return families;
}

// Every sixguard_* name in a PromQL expression must be an exporter family, or a histogram
// family's _bucket/_sum/_count.
std::vector<std::string> unknown_metric_names(const std::string &expr,
                                              const std::map<std::string, std::string> &families) {
  static const std::regex name_re("sixguard_[a-z0-9_]+");
  std::vector<std::string> unknown;
  for (std::sregex_iterator it(expr.begin(), expr.end(), name_re), end; it != end; ++it) {
    const std::string name = it->str();
    if (families.count(name)) continue;
    bool histogram_part = false;
    for (const char *suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        auto base = families.find(name.substr(0, name.size() - s.size()));
        histogram_part |= base != families.end() && base->second == "histogram";
      }
    }
    if (!histogram_part) unknown.push_back(name);
  }
  return unknown;
}

// Label matchers on the bounded labels must use values the exporter emits.
std::vector<std::string> unknown_label_values(const std::string &expr) {
  std::map<std::string, std::set<std::string>> known;
  for (auto v : kHookNames) known["hook"].insert(std::string(v));
  for (auto v : kVerdictNames) known["verdict"].insert(std::string(v));
  for (auto v : kReasonNames) known["reason"].insert(std::string(v));
  for (auto v : kMonitorResultNames) known["result"].insert(std::string(v));
  for (auto v : kEventResults) known["result"].insert(std::string(v));
  known["result"].insert(std::string(kOtherEventResult));
  for (auto v : kEventTypes) known["type"].insert(std::string(v));
  known["type"].insert(std::string(kUnknownEventType));
  for (const auto &map : kMapLabels) known["map"].insert(std::string(map.label));

  static const std::regex matcher_re(
      R"re(\b(hook|verdict|reason|result|type|map)\s*(=~|!~|!=|=)\s*"([^"]*)")re");
  std::vector<std::string> unknown;
  for (std::sregex_iterator it(expr.begin(), expr.end(), matcher_re), end; it != end; ++it) {
    const std::string label = (*it)[1];
    const std::string op = (*it)[2];
    const std::string value = (*it)[3];
    std::vector<std::string> alternatives;
    if (op == "=~" || op == "!~") {
      std::stringstream parts(value);
      for (std::string part; std::getline(parts, part, '|');) alternatives.push_back(part);
    } else {
      alternatives.push_back(value);
    }
    for (const auto &alternative : alternatives) {
      if (!known[label].count(alternative)) unknown.push_back(label + "=\"" + alternative + "\"");
    }
  }
  return unknown;
}

std::vector<std::string> dashboard_exprs() {
  const auto dashboard =
      nlohmann::json::parse(read_file(kDeploy / "grafana/sixguard-dashboard.json"));
  std::vector<std::string> exprs;
  for (const auto &panel : dashboard.at("panels")) {
    if (!panel.contains("targets")) continue;
    for (const auto &target : panel.at("targets")) exprs.push_back(target.at("expr"));
  }
  return exprs;
}

TEST(DeployDashboard, ParsesAndUsesOnlyExporterMetrics) {
  const auto families = exporter_families();
  ASSERT_TRUE(families.count("sixguard_packets_total"));
  ASSERT_EQ(families.at("sixguard_event_apply_duration_seconds"), "histogram");
  const auto exprs = dashboard_exprs();
  ASSERT_FALSE(exprs.empty());
  for (const auto &expr : exprs) {
    EXPECT_EQ(unknown_metric_names(expr, families), std::vector<std::string>{}) << expr;
    EXPECT_EQ(unknown_label_values(expr), std::vector<std::string>{}) << expr;
  }
}

TEST(DeployDashboard, ShowsWhatOperatorsNeed) {
  std::string all;
  for (const auto &expr : dashboard_exprs()) all += expr + "\n";
  for (const char *needed :
       {"verdict=\"drop\"", "verdict=\"audit\"", "sum by (hook, reason)", "sixguard_events_total",
        "histogram_quantile", "sixguard_event_apply_duration_seconds_bucket",
        "sixguard_map_entries", "sixguard_map_capacity", "sixguard_attached_interfaces",
        "sixguard_monitor_events_total", "sixguard_ready"}) {
    EXPECT_NE(all.find(needed), std::string::npos) << "dashboard lacks " << needed;
  }
}

TEST(DeployAlerts, UseOnlyExporterMetricsAndUp) {
  const auto families = exporter_families();
  const YAML::Node rules = YAML::LoadFile((kDeploy / "prometheus/sixguard-alerts.yaml").string());
  std::set<std::string> alerts;
  for (const auto &group : rules["groups"]) {
    for (const auto &rule : group["rules"]) {
      const std::string expr = rule["expr"].as<std::string>();
      alerts.insert(rule["alert"].as<std::string>());
      EXPECT_EQ(unknown_metric_names(expr, families), std::vector<std::string>{}) << expr;
      EXPECT_EQ(unknown_label_values(expr), std::vector<std::string>{}) << expr;
    }
  }
  for (const char *needed :
       {"SixguardMapPressure", "SixguardReconcileErrors", "SixguardNotReady", "SixguardDown",
        "SixguardDropRateSpike", "SixguardMonitorEventsLost", "SixguardDriftRepaired"}) {
    EXPECT_TRUE(alerts.count(needed)) << needed;
  }
}

// The configuration shipped in the ConfigMap and in config.example.yaml: accepted by the
// agent's parser, and equal to the defaults.
void expect_default_config(const std::string &yaml, const std::string &source) {
  auto parsed = daemon::parse_config(yaml, source);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  auto defaults = daemon::parse_config("", "(defaults)");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(daemon::render_config(*parsed), daemon::render_config(*defaults)) << source;
  EXPECT_EQ(parsed->state_dir, kDefaultStateDir);
  EXPECT_EQ(parsed->api_socket, kDefaultApiSocket);
  EXPECT_EQ(parsed->metrics_address, kDefaultMetricsAddress);
  EXPECT_EQ(parsed->health_address, kDefaultHealthAddress);
  EXPECT_EQ(parsed->bpffs, kDefaultBpffs);
}

uint16_t default_metrics_port() {
  auto listen = daemon::parse_listen_address(kDefaultMetricsAddress);
  if (!listen) throw std::runtime_error(listen.error().describe());
  return listen->port;
}

std::string parent_dir(std::string_view path) {
  return fs::path(std::string(path)).parent_path().string();
}

// sixguard_map_entries{map} names the config key an operator raises when a map fills.
TEST(DeployConfig, MapLabelsAreMapSizesKeys) {
  for (const MapLabel &map : kMapLabels) {
    const std::string yaml = "map_sizes:\n  " + std::string(map.label) + ": 4096\n";
    auto parsed = daemon::parse_config(yaml, "map label " + std::string(map.label));
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe());
  }
}

TEST(DeployConfig, ExampleConfigIsTheDefaults) {
  expect_default_config(read_file(kDeploy / "config.example.yaml"), "config.example.yaml");
}

class DeployKubernetes : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto &doc :
         YAML::LoadAllFromFile((kDeploy / "kubernetes/daemonset.yaml").string())) {
      docs_[doc["kind"].as<std::string>()] = doc;
    }
    ASSERT_TRUE(docs_.count("DaemonSet"));
    ASSERT_TRUE(docs_.count("ConfigMap"));
    pod_ = docs_["DaemonSet"]["spec"]["template"];
    container_ = pod_["spec"]["containers"][0];
    ASSERT_TRUE(container_.IsMap());
  }

  // The hostPath behind a container mount path.
  std::string host_path_at(const std::string &mount_path) {
    for (const auto &mount : container_["volumeMounts"]) {
      if (mount["mountPath"].as<std::string>() != mount_path) continue;
      for (const auto &volume : pod_["spec"]["volumes"]) {
        if (volume["name"].as<std::string>() == mount["name"].as<std::string>() &&
            volume["hostPath"]) {
          return volume["hostPath"]["path"].as<std::string>();
        }
      }
    }
    return "";
  }
  YAML::Node mount_at(const std::string &mount_path) {
    for (const auto &mount : container_["volumeMounts"]) {
      if (mount["mountPath"].as<std::string>() == mount_path) return mount;
    }
    return YAML::Node();
  }

  std::map<std::string, YAML::Node> docs_;
  YAML::Node pod_;
  YAML::Node container_;
};

TEST_F(DeployKubernetes, ConfigMapIsTheDefaultsAndMountedAtTheDefaultPath) {
  expect_default_config(docs_["ConfigMap"]["data"]["config.yaml"].as<std::string>(),
                        "daemonset.yaml ConfigMap");
  const std::string config_dir = parent_dir(kDefaultConfigPath);
  const YAML::Node mount = mount_at(config_dir);
  ASSERT_TRUE(mount.IsMap()) << "no mount at " << config_dir;
  const std::string file = fs::path(std::string(kDefaultConfigPath)).filename().string();
  EXPECT_TRUE(docs_["ConfigMap"]["data"][file]) << "ConfigMap lacks " << file;
  const auto command = container_["command"].as<std::vector<std::string>>();
  ASSERT_GE(command.size(), 4u);
  EXPECT_EQ(command[1], "agent");
  EXPECT_EQ(command[2], "--config");
  EXPECT_EQ(command[3], kDefaultConfigPath);
}

TEST_F(DeployKubernetes, MetricsPortProbesAndScrapeAnnotations) {
  const uint16_t port = default_metrics_port();
  EXPECT_EQ(port, 9530);
  bool named_port = false;
  for (const auto &p : container_["ports"]) {
    if (p["name"].as<std::string>() == "metrics") {
      named_port = true;
      EXPECT_EQ(p["containerPort"].as<int>(), port);
    }
  }
  EXPECT_TRUE(named_port);
  // The probes use the loopback health listener, never the metrics port a tenant can reach
  // (DESIGN §4): a flood there must not get the agent restarted.
  auto health = daemon::parse_listen_address(kDefaultHealthAddress);
  ASSERT_TRUE(health) << health.error().describe();
  EXPECT_EQ(health->host, "127.0.0.1");
  for (const char *probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    const YAML::Node get = container_[probe]["httpGet"];
    ASSERT_TRUE(get.IsMap()) << probe;
    EXPECT_EQ(get["host"].as<std::string>(), health->host) << probe;
    EXPECT_EQ(get["port"].as<int>(), health->port) << probe;
    EXPECT_EQ(get["path"].as<std::string>(),
              std::string(probe) == "readinessProbe" ? "/readyz" : "/healthz")
        << probe;
  }
  const YAML::Node annotations = pod_["metadata"]["annotations"];
  EXPECT_EQ(annotations["prometheus.io/scrape"].as<std::string>(), "true");
  EXPECT_EQ(annotations["prometheus.io/port"].as<std::string>(), std::to_string(port));
  EXPECT_EQ(annotations["prometheus.io/path"].as<std::string>(), "/metrics");
  // The exporter answers exactly these paths.
  Exporter exporter(BuildInfo{"t", "k"});
  EXPECT_EQ(exporter.handle("GET", "/healthz").status, 200);
  EXPECT_NE(exporter.handle("GET", "/readyz").status, 404);
  EXPECT_EQ(exporter.handle("GET", "/metrics").status, 200);
}

TEST_F(DeployKubernetes, HostPathsAreTheAgentDefaults) {
  EXPECT_EQ(host_path_at(std::string(kDefaultBpffs)), kDefaultBpffs);
  EXPECT_EQ(host_path_at(std::string(kDefaultStateDir)), kDefaultStateDir);
  const std::string run_dir = parent_dir(kDefaultApiSocket);
  EXPECT_EQ(run_dir, "/run/sixguard");
  EXPECT_EQ(host_path_at(run_dir), run_dir);
  // Bidirectional propagation is refused for unprivileged containers.
  const YAML::Node bpffs = mount_at(std::string(kDefaultBpffs));
  ASSERT_TRUE(bpffs.IsMap());
  EXPECT_EQ(bpffs["mountPropagation"].as<std::string>(), "HostToContainer");
}

TEST_F(DeployKubernetes, LeastPrivilegeAndEveryNode) {
  const YAML::Node spec = pod_["spec"];
  EXPECT_TRUE(spec["hostNetwork"].as<bool>());
  EXPECT_EQ(spec["priorityClassName"].as<std::string>(), "system-node-critical");
  bool tolerates_everything = false;
  for (const auto &toleration : spec["tolerations"]) {
    tolerates_everything |= toleration["operator"].as<std::string>() == "Exists" &&
                            !toleration["key"] && !toleration["effect"];
  }
  EXPECT_TRUE(tolerates_everything);
  const YAML::Node security = container_["securityContext"];
  EXPECT_FALSE(security["privileged"].as<bool>());
  EXPECT_FALSE(security["allowPrivilegeEscalation"].as<bool>());
  EXPECT_EQ(security["capabilities"]["drop"].as<std::vector<std::string>>(),
            std::vector<std::string>{"ALL"});
  const std::set<std::string> allowed = {"BPF", "NET_ADMIN", "PERFMON", "SYS_ADMIN"};
  std::set<std::string> added;
  for (const auto &cap : security["capabilities"]["add"]) added.insert(cap.as<std::string>());
  for (const auto &cap : added) EXPECT_TRUE(allowed.count(cap)) << cap;
  EXPECT_TRUE(added.count("BPF") && added.count("NET_ADMIN") && added.count("PERFMON"));
  EXPECT_TRUE(container_["resources"]["requests"]);
  EXPECT_TRUE(container_["resources"]["limits"]);
  const YAML::Node strategy = docs_["DaemonSet"]["spec"]["updateStrategy"];
  EXPECT_EQ(strategy["type"].as<std::string>(), "RollingUpdate");
  EXPECT_EQ(strategy["rollingUpdate"]["maxUnavailable"].as<int>(), 1);
}

// Issue 16: Linux nodes only, AppArmor and SELinux as Cilium's chart sets them, the node-local
// overlay mounted from the host and passed to the agent, a config checksum on the template.
TEST_F(DeployKubernetes, FitsTheNode) {
  EXPECT_EQ(pod_["spec"]["nodeSelector"]["kubernetes.io/os"].as<std::string>(), "linux");
  const YAML::Node security = container_["securityContext"];
  EXPECT_EQ(security["appArmorProfile"]["type"].as<std::string>(), "Unconfined");
  const std::string container = container_["name"].as<std::string>();
  EXPECT_EQ(
      pod_["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/" + container]
          .as<std::string>(),
      "unconfined");
  EXPECT_EQ(security["seLinuxOptions"]["type"].as<std::string>(), "spc_t");
  EXPECT_EQ(security["seLinuxOptions"]["level"].as<std::string>(), "s0");
  const auto command = container_["command"].as<std::vector<std::string>>();
  const auto node_flag = std::find(command.begin(), command.end(), "--node-config");
  ASSERT_NE(node_flag, command.end());
  ASSERT_NE(node_flag + 1, command.end());
  const fs::path node_file(*(node_flag + 1));
  const YAML::Node mount = mount_at(node_file.parent_path().string());
  ASSERT_TRUE(mount.IsMap()) << "nothing mounted at " << node_file.parent_path();
  EXPECT_TRUE(mount["readOnly"].as<bool>());
  EXPECT_EQ(host_path_at(node_file.parent_path().string()), "/etc/sixguard");
  EXPECT_EQ(pod_["metadata"]["annotations"]["sixguard.io/config-checksum"].as<std::string>().size(),
            64u);
}

// The uninstall DaemonSet runs `sixguard agent --uninstall` on the agent's host paths.
TEST(DeployKubernetesUninstall, RunsUninstallOnTheAgentHostPaths) {
  const YAML::Node ds = YAML::LoadFile((kDeploy / "kubernetes/uninstall.yaml").string());
  const YAML::Node spec = ds["spec"]["template"]["spec"];
  const YAML::Node init = spec["initContainers"][0];
  const auto command = init["command"].as<std::vector<std::string>>();
  EXPECT_EQ(command, (std::vector<std::string>{"/usr/local/bin/sixguard", "agent", "--uninstall"}));
  std::map<std::string, std::string> host_paths;
  for (const auto &volume : spec["volumes"]) {
    host_paths[volume["name"].as<std::string>()] = volume["hostPath"]["path"].as<std::string>();
  }
  std::set<std::string> mounted;
  for (const auto &mount : init["volumeMounts"]) {
    const std::string path = mount["mountPath"].as<std::string>();
    EXPECT_EQ(host_paths[mount["name"].as<std::string>()], path);
    mounted.insert(path);
  }
  EXPECT_TRUE(mounted.count(std::string(kDefaultBpffs)));
  EXPECT_TRUE(mounted.count(std::string(kDefaultStateDir)));
  EXPECT_TRUE(mounted.count(parent_dir(kDefaultApiSocket)));
  EXPECT_FALSE(init["securityContext"]["privileged"].as<bool>());
}

// systemd units are key=value lines in [sections]; repeated keys are kept in order.
std::multimap<std::string, std::string> read_unit(const fs::path &path) {
  std::multimap<std::string, std::string> keys;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto equals = line.find('=');
    if (equals != std::string::npos) keys.emplace(line.substr(0, equals), line.substr(equals + 1));
  }
  return keys;
}

TEST(DeploySystemd, UnitRunsTheAgentWithTheDefaultPaths) {
  const auto unit = read_unit(kDeploy / "systemd/sixguard.service");
  auto one = [&](const std::string &key) {
    EXPECT_EQ(unit.count(key), 1u) << key;
    auto it = unit.find(key);
    return it == unit.end() ? std::string() : it->second;
  };
  // Readiness through sd_notify (integration_systemd_notify shows READY=1 arrives).
  EXPECT_EQ(one("Type"), "notify");
  EXPECT_EQ(one("NotifyAccess"), "main");
  EXPECT_EQ(one("ExecStart"),
            "/usr/local/bin/sixguard agent --config " + std::string(kDefaultConfigPath));
  EXPECT_EQ(one("Restart"), "always");
  // A refusal (exit 2: lock held, empty state with populated pins) is not restarted in a loop,
  // and reload is SIGHUP, which checks and never stops the agent.
  EXPECT_EQ(one("RestartPreventExitStatus"), "2");
  EXPECT_EQ(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  EXPECT_EQ(one("KillMode"), "process");
  EXPECT_EQ("/var/lib/" + one("StateDirectory"), kDefaultStateDir);
  EXPECT_EQ("/run/" + one("RuntimeDirectory"), parent_dir(kDefaultApiSocket));
  std::istringstream caps(one("CapabilityBoundingSet"));
  const std::set<std::string> allowed = {"CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON",
                                         "CAP_SYS_ADMIN"};
  int count = 0;
  for (std::string cap; caps >> cap; ++count) EXPECT_TRUE(allowed.count(cap)) << cap;
  EXPECT_GE(count, 3);
}

TEST(DeployContainerfile, ExposesTheMetricsPortAndRunsTheAgent) {
  const std::string text = read_file(kDeploy / "Containerfile");
  EXPECT_NE(text.find("EXPOSE " + std::to_string(default_metrics_port())), std::string::npos);
  EXPECT_NE(text.find("CMD [\"agent\", \"--config\", \"" + std::string(kDefaultConfigPath) + "\"]"),
            std::string::npos);
  EXPECT_NE(text.find("ENTRYPOINT [\"/usr/local/bin/sixguard\"]"), std::string::npos);
  // Bases are arguments (pinned by digest by scripts/image.sh or a release build); the
  // defaults are Debian bookworm.
  EXPECT_NE(text.find("ARG BUILD_IMAGE=docker.io/library/debian:bookworm\n"), std::string::npos);
  EXPECT_NE(text.find("ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim\n"),
            std::string::npos);
  EXPECT_NE(text.find("FROM ${BUILD_IMAGE} AS build"), std::string::npos);
  EXPECT_NE(text.find("FROM ${RUNTIME_IMAGE} AS runtime"), std::string::npos);
  // The image says what it is (OCI annotations) and carries bpftool.
  for (const char *label : {"version", "revision", "source", "licenses"}) {
    EXPECT_NE(text.find(std::string("org.opencontainers.image.") + label + "="), std::string::npos)
        << label;
  }
  EXPECT_NE(text.find("      bpftool \\\n"), std::string::npos);
}

// The build stage copies the sources selectively: every directory the top CMakeLists.txt adds.
TEST(DeployContainerfile, CopiesEverySourceDirectoryTheBuildNeeds) {
  const std::string containerfile = read_file(kDeploy / "Containerfile");
  const std::string top = read_file(fs::path(SIXGUARD_SOURCE_DIR) / "CMakeLists.txt");
  static const std::regex subdirectory_re(R"re(add_subdirectory\(([A-Za-z0-9_./-]+)\))re");
  // The image builds the product alone (BUILD_TESTING=OFF): tests/, added only when testing,
  // is not needed there.
  const bool without_tests = containerfile.find("-DBUILD_TESTING=OFF") != std::string::npos;
  if (without_tests) {
    EXPECT_NE(top.find("if(BUILD_TESTING)\n  add_subdirectory(tests)\nendif()"), std::string::npos);
  }
  int directories = 0;
  for (std::sregex_iterator it(top.begin(), top.end(), subdirectory_re), end; it != end; ++it) {
    const std::string dir = (*it)[1];
    if (dir == "tests" && without_tests) continue;
    ++directories;
    EXPECT_NE(containerfile.find("COPY " + dir + "/ " + dir + "/"), std::string::npos)
        << "Containerfile does not copy " << dir;
  }
  EXPECT_GT(directories, 0);
  EXPECT_NE(containerfile.find("COPY cmake/ cmake/"), std::string::npos);
}

}  // namespace
}  // namespace sixguard::exporter
