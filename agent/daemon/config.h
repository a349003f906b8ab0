// The agent's configuration (DESIGN §4): a YAML file, every key optional. The defaults live
// here and nowhere else: deploy manifests and their tests compare against these constants
// (or against `sixguard agent --print-config`, which prints the effective configuration).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/address.h"
#include "agent/core/egress_hook_choice.h"
#include "agent/core/enum_names.h"
#include "agent/core/result.h"
#include "agent/datapath/map_sizes.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::daemon {

// ---- The defaults: the one place they are written down. ----
inline constexpr std::string_view kDefaultConfigPath = "/etc/sixguard/config.yaml";
inline constexpr std::string_view kDefaultStateDir = "/var/lib/sixguard";
inline constexpr std::string_view kDefaultApiSocket = "/run/sixguard/api.sock";
inline constexpr std::string_view kDefaultMetricsAddress = ":9530";
// /healthz and /readyz for the probes, out of tenants' reach (DESIGN §4): loopback only.
inline constexpr std::string_view kDefaultHealthAddress = "127.0.0.1:9531";
inline constexpr std::string_view kDefaultBpffs = "/sys/fs/bpf";
inline constexpr std::string_view kDefaultMode = "enforce";
inline constexpr std::string_view kDefaultLogFormat = "text";  // text | json (log.h)
inline constexpr std::string_view kDefaultLogLevel = "info";   // debug | info | warn | error
inline constexpr std::string_view kDefaultInfraPrefix = "fdaa::3/128";
// DESIGN §4: a shorter infrastructure prefix would span several network ids, i.e. let one
// configuration line open every tenant network to whatever sits behind it.
inline constexpr uint8_t kMinInfraPrefixLength = 48;
inline constexpr uint32_t kDefaultMachinesSize = SG_DEFAULT_MACHINES;
inline constexpr uint32_t kDefaultFlycastSize = SG_DEFAULT_FLYCAST;
inline constexpr uint32_t kDefaultInfraSize = SG_DEFAULT_INFRA;
inline constexpr uint32_t kDefaultNetFlagsSize = SG_DEFAULT_NET_FLAGS;
inline constexpr uint32_t kDefaultEventsBytes = SG_DEFAULT_EVENTS_BYTES;
// Drop events sent to the monitor ring buffer, per second and per CPU, and the burst the
// token bucket allows. These two keys extend DESIGN §4 (which names no rate): sg_config
// carries them to the datapath.
inline constexpr uint32_t kDefaultEventsPerSecond = 100;
inline constexpr uint32_t kDefaultEventsBurst = 200;
// DESIGN §5: how often the drift checker compares the maps, attachments and pins with what
// they should be. Bounds: below 100 ms a check of a large map would keep a core busy; above
// a day drift would go unnoticed for longer than anyone would want.
inline constexpr std::chrono::milliseconds kDefaultDriftCheckInterval{30'000};
inline constexpr std::chrono::milliseconds kMinDriftCheckInterval{100};
inline constexpr std::chrono::milliseconds kMaxDriftCheckInterval{24 * 3600 * 1000};
// The ring buffer must be a power of two and at least a page; 4096 is the floor we accept.
inline constexpr uint32_t kMinEventsBytes = 4096;

enum class EnforcementMode { kEnforce, kAudit };
inline constexpr EnumName<EnforcementMode> kEnforcementModeNames[] = {
    {EnforcementMode::kEnforce, "enforce"},
    {EnforcementMode::kAudit, "audit"},
};

// metrics_address split: host empty means every address (IPv4 and IPv6).
struct ListenAddress {
  std::string host;  // "", "127.0.0.1", "::1", "localhost" (brackets removed)
  uint16_t port = 0;
};

// Where the agent's desired state comes from (DESIGN §6): the local API (no etcd section), or
// etcd, which the agent lists and watches; then POST /v1/events answers 409.
inline constexpr std::string_view kNodeNameEnv = "SIXGUARD_NODE_NAME";
struct EtcdTlsConfig {
  std::string ca;    // PEM CA bundle the servers' certificates must chain to
  std::string cert;  // client certificate (with key), or both empty
  std::string key;
};
struct EtcdSourceConfig {
  std::vector<std::string> endpoints;  // http://host:port or https://host:port, at least one
  std::string prefix;                  // default kDefaultEtcdPrefix
  // The host whose hosts/<host>/machines/ keys this agent enforces. Default: the environment's
  // SIXGUARD_NODE_NAME (the DaemonSet sets it from spec.nodeName), else uname's nodename.
  std::string host;
  std::optional<EtcdTlsConfig> tls;
};

struct AgentConfig {
  std::string source = "(defaults)";  // the file the values came from, for messages
  std::string state_dir{kDefaultStateDir};
  std::string api_socket{kDefaultApiSocket};
  std::string metrics_address{kDefaultMetricsAddress};
  ListenAddress metrics_listen{"", 9530};
  std::string health_address{kDefaultHealthAddress};  // a loopback address, checked
  ListenAddress health_listen{"127.0.0.1", 9531};
  std::string bpffs{kDefaultBpffs};
  EnforcementMode mode = EnforcementMode::kEnforce;
  // Extends DESIGN §4: where machine_egress runs (xdp fails to start on a kernel older than
  // 5.18 rather than fall back).
  EgressHookChoice machine_egress_hook = EgressHookChoice::kAuto;
  std::vector<std::string> uplinks;
  std::vector<Ipv6Prefix> infra_prefixes = default_infra_prefixes();
  MapSizes map_sizes;  // the datapath's own (map_sizes.h); key "events" is events_bytes
  // UDP destination ports read as VXLAN framing besides 4789 and 6081 (DESIGN §2, §4); at
  // most SG_CFG_ENCAP_PORTS. Default: none.
  std::vector<uint16_t> encap_udp_ports;
  uint32_t events_per_second = kDefaultEventsPerSecond;
  uint32_t events_burst = kDefaultEventsBurst;
  std::chrono::milliseconds drift_check_interval = kDefaultDriftCheckInterval;
  std::optional<EtcdSourceConfig> etcd;  // nullopt: source is the local API (the default)
  // Validated names; main.cpp hands them to log.h (SIXGUARD_LOG_LEVEL wins over log_level).
  std::string log_format{kDefaultLogFormat};
  std::string log_level{kDefaultLogLevel};

  // <bpffs>/sixguard: where every pin of ours lives.
  std::string pin_dir() const { return bpffs + "/sixguard"; }
  // <state_dir>/state.db
  std::string state_db_path() const { return state_dir + "/state.db"; }

  static std::vector<Ipv6Prefix> default_infra_prefixes();
};

// Parses "host:port", ":port", "[v6]:port". The error names what is wrong, not the key.
Result<ListenAddress> parse_listen_address(std::string_view text);

// Parses a duration "<N>ms", "<N>s" or "<N>m" (N a decimal integer) into milliseconds. The
// error names what is wrong, not the key.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// The shortest of those spellings that reads back the same ("30s", "200ms", "5m").
std::string format_duration(std::chrono::milliseconds duration);

// Reads the configuration. `path` empty: the default path, whose absence means defaults.
// A path given explicitly must exist. Any unknown key or bad value is an error naming the key
// and the file.
Result<AgentConfig> load_config(const std::string &path);

// The default etcd host: $SIXGUARD_NODE_NAME when set and not empty, else uname's nodename.
std::string default_node_name();
// The configuration with a node-local overlay (`sixguard agent --node-config FILE`): every
// top-level key the overlay sets replaces the base's (a whole key: `map_sizes` in the overlay
// replaces every map size). It exists because the DaemonSet's ConfigMap is cluster-wide while
// some keys (uplinks) name a host's own interfaces. The overlay is checked on its own first,
// so an error names the file that holds the bad key. A missing overlay file is no overlay
// (nodes without one use the base alone); `overlay_found` says which happened.
Result<AgentConfig> load_config_with_overlay(const std::string &base_path,
                                             const std::string &overlay_path, bool &overlay_found);

// Parses YAML text (source names it in errors); exposed for tests.
Result<AgentConfig> parse_config(std::string_view yaml_text, std::string_view source);

// The effective configuration as YAML, every key present.
std::string render_config(const AgentConfig &config);

}  // namespace sixguard::daemon
