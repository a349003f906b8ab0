#include "agent/daemon/config.h"

#include <arpa/inet.h>
#include <sys/utsname.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <cstdlib>
#include <sstream>

#include "agent/source/etcd_keys.h"
#include "agent/control/input_limits.h"
#include "agent/daemon/log_names.h"

namespace sixguard::daemon {
namespace {

Error key_error(std::string_view source, std::string_view key, std::string_view what) {
  return make_error(std::string(source) + ": " + std::string(key) + ": " + std::string(what));
}

// A scalar string; anything else (a list, a map, null) is an error naming the key.
Result<std::string> scalar_string(const YAML::Node &node, std::string_view source,
                                  std::string_view key) {
  if (!node.IsScalar()) return key_error(source, key, "expected a string");
  const std::string text = node.as<std::string>();
  if (text.empty()) return key_error(source, key, "must not be empty");
  return text;
}

// "a, b or c": the names of a table, as an error message lists what a key accepts.
template <typename Enum, std::size_t N>
std::string spelled_names(const EnumName<Enum> (&table)[N]) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += table[i].name;
  }
  return out;
}

// A scalar that must be one of table's names. Target is the enum, or a std::string for keys
// the configuration keeps by name (log_format, log_level).
template <typename Enum, std::size_t N, typename Target>
Status parse_choice(const YAML::Node &node, std::string_view source, std::string_view key,
                    const EnumName<Enum> (&table)[N], Target &target) {
  auto text = scalar_string(node, source, key);
  if (!text) return text.error();
  const std::optional<Enum> named = value_named(table, *text);
  if (!named) {
    return key_error(source, key, "must be " + spelled_names(table) + ", got \"" + *text + "\"");
  }
  if constexpr (std::is_same_v<Target, Enum>) {
    target = *named;
  } else {
    target = *text;
  }
  return {};
}

Result<uint32_t> positive_integer(const YAML::Node &node, std::string_view source,
                                  std::string_view key) {
  if (!node.IsScalar()) return key_error(source, key, "expected a positive integer");
  const std::string text = node.as<std::string>();
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > UINT32_MAX) {
    return key_error(source, key, "expected a positive integer, got \"" + text + "\"");
  }
  return static_cast<uint32_t>(value);
}

Status parse_map_sizes(const YAML::Node &node, std::string_view source, MapSizes &sizes) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) return key_error(source, "map_sizes", "expected a mapping");
  for (const auto &entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string key = "map_sizes." + name;
    uint32_t *slot = nullptr;
    if (name == "machines") slot = &sizes.machines;
    if (name == "flycast") slot = &sizes.flycast;
    if (name == "infra") slot = &sizes.infra;
    if (name == "net_flags") slot = &sizes.net_flags;
    if (name == "events") slot = &sizes.events_bytes;
    if (slot == nullptr) {
      return key_error(source, key,
                       "unknown map (known: machines, flycast, infra, net_flags, events)");
    }
    auto value = positive_integer(entry.second, source, key);
    if (!value) return value.error();
    *slot = *value;
  }
  const uint32_t events = sizes.events_bytes;
  if (events < kMinEventsBytes || (events & (events - 1)) != 0) {
    return key_error(
        source, "map_sizes.events",
        "must be a power of two of at least 4096 bytes, got " + std::to_string(events));
  }
  return {};
}

Status parse_uplinks(const YAML::Node &node, std::string_view source,
                     std::vector<std::string> &uplinks) {
  if (node.IsNull()) return {};
  if (!node.IsSequence()) return key_error(source, "uplinks", "expected a list of names");
  uplinks.clear();
  for (const auto &item : node) {
    auto name = scalar_string(item, source, "uplinks");
    if (!name) return name.error();
    // IFNAMSIZ is 16 with the terminating NUL; '/' and whitespace are refused by the kernel.
    if (name->size() > 15 || name->find_first_of("/ \t\n:") != std::string::npos) {
      return key_error(source, "uplinks", "\"" + *name + "\" is not an interface name");
    }
    uplinks.push_back(*name);
  }
  return {};
}

// encap_udp_ports: UDP destination ports whose payload the datapath reads as VXLAN framing, on
// top of the built-in 4789 (VXLAN) and 6081 (Geneve). At most SG_CFG_ENCAP_PORTS, each 1-65535,
// no duplicates, not a built-in port (6081 would change its framing; 4789 says nothing new).
Status parse_encap_udp_ports(const YAML::Node &node, std::string_view source,
                             std::vector<uint16_t> &ports) {
  constexpr std::string_view key = "encap_udp_ports";
  ports.clear();
  if (node.IsNull()) return {};
  if (!node.IsSequence()) return key_error(source, key, "expected a list of UDP ports");
  for (const auto &item : node) {
    const std::string text =
        item.IsScalar() ? item.as<std::string>() : std::string("(not a number)");
    uint32_t port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (!item.IsScalar() || ec != std::errc{} || end != text.data() + text.size() || port == 0 ||
        port > 65535) {
      return key_error(source, key, "expected a UDP port 1-65535, got \"" + text + "\"");
    }
    if (port == SG_UDP_PORT_VXLAN || port == SG_UDP_PORT_GENEVE) {
      return key_error(source, key,
                       std::to_string(port) + " is built in (" +
                           (port == SG_UDP_PORT_VXLAN ? "VXLAN" : "Geneve") +
                           "): list only other ports");
    }
    for (const uint16_t seen : ports) {
      if (seen == port) return key_error(source, key, std::to_string(port) + " is listed twice");
    }
    if (ports.size() == SG_CFG_ENCAP_PORTS) {
      return key_error(source, key,
                       "at most " + std::to_string(SG_CFG_ENCAP_PORTS) + " ports may be listed");
    }
    ports.push_back(static_cast<uint16_t>(port));
  }
  return {};
}

Status parse_infra(const YAML::Node &node, std::string_view source,
                   std::vector<Ipv6Prefix> &prefixes) {
  if (node.IsNull()) {
    prefixes.clear();
    return {};
  }
  if (!node.IsSequence()) return key_error(source, "infra_prefixes", "expected a list");
  prefixes.clear();
  for (const auto &item : node) {
    auto text = scalar_string(item, source, "infra_prefixes");
    if (!text) return text.error();
    auto prefix = parse_ipv6_prefix(*text);
    if (!prefix) {
      return key_error(
          source, "infra_prefixes",
          "\"" + *text + "\" is not an IPv6 prefix (" + prefix.error().describe() + ")");
    }
    // The rules consult infrastructure prefixes only for 6PN addresses, so a prefix outside
    // fdaa::/16 would never match: refused rather than left to mislead the operator. At /48
    // or longer a prefix is wholly inside or wholly outside fdaa::/16.
    if (prefix->length < kMinInfraPrefixLength) {
      return key_error(source, "infra_prefixes",
                       "\"" + *text + "\" is shorter than /" +
                           std::to_string(kMinInfraPrefixLength) +
                           " (it would span more than one network: every tenant network "
                           "would be open to it)");
    }
    if (!is_6pn(prefix->address)) {
      return key_error(source, "infra_prefixes",
                       "\"" + *text +
                           "\" is outside fdaa::/16 (infrastructure prefixes are only "
                           "consulted for 6PN addresses; it would never match)");
    }
    prefixes.push_back(*prefix);
  }
  return {};
}

Result<std::string> absolute_file(const YAML::Node &node, std::string_view source,
                                  std::string_view key) {
  auto text = scalar_string(node, source, key);
  if (!text) return text.error();
  if (text->front() != '/') return key_error(source, key, "must be an absolute path");
  return *text;
}

// An endpoint is a base URL: http or https, a host (name, IPv4 or [IPv6]) and a port, no path.
Status check_endpoint(const std::string &url, std::string_view source) {
  constexpr std::string_view key = "source.etcd.endpoints";
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return key_error(source, key, "\"" + url + "\" must start with http:// or https://");
  }
  if (rest.find_first_of("/?#@ \t") != std::string_view::npos) {
    return key_error(source, key, "\"" + url + "\" must be scheme://host:port, nothing more");
  }
  auto listen = parse_listen_address(rest);
  if (!listen || listen->host.empty()) {
    return key_error(source, key, "\"" + url + "\" must be scheme://host:port");
  }
  return {};
}

Status parse_etcd_tls(const YAML::Node &node, std::string_view source, EtcdTlsConfig &tls) {
  if (!node.IsMap()) return key_error(source, "source.etcd.tls", "expected a mapping");
  for (const auto &entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string key = "source.etcd.tls." + name;
    auto path = absolute_file(entry.second, source, key);
    if (!path) return path.error();
    if (name == "ca") {
      tls.ca = *path;
    } else if (name == "cert") {
      tls.cert = *path;
    } else if (name == "key") {
      tls.key = *path;
    } else {
      return key_error(source, key, "unknown key (known: ca, cert, key)");
    }
  }
  if (tls.ca.empty()) {
    return key_error(source, "source.etcd.tls.ca",
                     "is required with tls (the CA the etcd servers' certificates chain to)");
  }
  if (tls.cert.empty() != tls.key.empty()) {
    return key_error(source, "source.etcd.tls", "cert and key go together: give both or neither");
  }
  return {};
}

Status parse_etcd(const YAML::Node &node, std::string_view source, EtcdSourceConfig &etcd) {
  if (!node.IsMap()) return key_error(source, "source.etcd", "expected a mapping");
  std::set<std::string> seen;
  for (const auto &entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string key = "source.etcd." + name;
    const YAML::Node &value = entry.second;
    if (!seen.insert(name).second) return key_error(source, key, "given twice");
    if (name == "endpoints") {
      if (!value.IsSequence() || value.size() == 0) {
        return key_error(source, key, "expected a list of URLs (http://host:port)");
      }
      for (const auto &item : value) {
        auto url = scalar_string(item, source, key);
        if (!url) return url.error();
        if (auto ok = check_endpoint(*url, source); !ok) return ok.error();
        etcd.endpoints.push_back(*url);
      }
    } else if (name == "prefix") {
      auto text = scalar_string(value, source, key);
      if (!text) return text.error();
      if (auto ok = check_etcd_prefix(*text); !ok)
        return key_error(source, key, ok.error().message);
      etcd.prefix = *text;
    } else if (name == "host") {
      auto text = scalar_string(value, source, key);
      if (!text) return text.error();
      etcd.host = *text;
    } else if (name == "tls") {
      EtcdTlsConfig tls;
      if (auto ok = parse_etcd_tls(value, source, tls); !ok) return ok.error();
      etcd.tls = tls;
    } else {
      return key_error(source, key, "unknown key (known: endpoints, prefix, host, tls)");
    }
  }
  if (etcd.endpoints.empty()) {
    return key_error(source, "source.etcd.endpoints", "is required (at least one URL)");
  }
  bool https = false;
  for (const auto &url : etcd.endpoints) https = https || url.starts_with("https://");
  if (https && !etcd.tls) {
    return key_error(source, "source.etcd.tls",
                     "is required for https endpoints (at least tls.ca)");
  }
  if (etcd.tls && !https) {
    return key_error(source, "source.etcd.endpoints",
                     "tls is configured but no endpoint is https://: refusing to send in clear");
  }
  if (etcd.host.empty()) etcd.host = default_node_name();
  if (!valid_host_name(etcd.host)) {
    return key_error(source, "source.etcd.host",
                     "\"" + sixguard::shown(etcd.host) +
                         "\" is not a valid host (1-253 bytes of letters, digits, '-', '_', '.'; "
                         "set source.etcd.host or SIXGUARD_NODE_NAME)");
  }
  return {};
}

// source: absent or {api: {}} is the local API; {etcd: {...}} the fleet.
Status parse_source(const YAML::Node &node, std::string_view source, AgentConfig &config) {
  if (node.IsNull()) return {};
  if (!node.IsMap() || node.size() != 1) {
    return key_error(source, "source", "expected exactly one of: etcd: {...}, api: {}");
  }
  const auto entry = *node.begin();
  const std::string kind = entry.first.as<std::string>();
  if (kind == "api") {
    if (!entry.second.IsNull() && !(entry.second.IsMap() && entry.second.size() == 0)) {
      return key_error(source, "source.api", "takes no settings");
    }
    return {};
  }
  if (kind != "etcd")
    return key_error(source, "source." + kind, "unknown source (known: etcd, api)");
  EtcdSourceConfig etcd;
  etcd.prefix = std::string(kDefaultEtcdPrefix);
  if (auto ok = parse_etcd(entry.second, source, etcd); !ok) return ok.error();
  config.etcd = std::move(etcd);
  return {};
}

}  // namespace

std::string default_node_name() {
  if (const char *name = std::getenv(std::string(kNodeNameEnv).c_str()); name && *name) {
    return name;
  }
  utsname names{};
  if (::uname(&names) != 0) return {};
  return names.nodename;
}

std::vector<Ipv6Prefix> AgentConfig::default_infra_prefixes() {
  auto prefix = parse_ipv6_prefix(kDefaultInfraPrefix);
  return {prefix.value()};
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress address;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("expected [ipv6]:port");
    }
    address.host = std::string(text.substr(1, close - 1));
    if (!parse_ipv6(address.host)) return make_error("\"" + address.host + "\" is not IPv6");
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return make_error("expected host:port or :port");
    address.host = std::string(text.substr(0, colon));
    if (address.host.find(':') != std::string::npos) {
      return make_error("an IPv6 host must be written [addr]:port");
    }
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return make_error("port must be 1-65535, got \"" + std::string(port_text) + "\"");
  }
  address.port = static_cast<uint16_t>(port);
  return address;
}

namespace {

bool is_loopback_host(const std::string &host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = text.substr(digits);
  uint64_t factor = 0;
  if (unit == "ms") factor = 1;
  if (unit == "s") factor = 1000;
  if (unit == "m") factor = 60'000;
  if (digits == 0 || factor == 0) {
    return make_error("expected a duration such as 30s, 500ms or 5m, got \"" + std::string(text) +
                      "\"");
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  // Anything over a day is refused by the caller; this only keeps the product in range.
  if (ec != std::errc{} || value > UINT32_MAX) {
    return make_error("\"" + std::string(text) + "\" is out of range");
  }
  return std::chrono::milliseconds(value * factor);
}

std::string format_duration(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {

// One top-level key of the file into config; "unknown key" for any other.
Status parse_key(const std::string &key, const YAML::Node &value, std::string_view source,
                 AgentConfig &config) {
  if (key == "state_dir" || key == "api_socket" || key == "bpffs") {
    auto text = scalar_string(value, source, key);
    if (!text) return text.error();
    if (text->front() != '/') return key_error(source, key, "must be an absolute path");
    (key == "state_dir"    ? config.state_dir
     : key == "api_socket" ? config.api_socket
                           : config.bpffs) = *text;
    return {};
  }
  if (key == "metrics_address" || key == "health_address") {
    auto text = scalar_string(value, source, key);
    if (!text) return text.error();
    auto listen = parse_listen_address(*text);
    if (!listen) return key_error(source, key, listen.error().message);
    if (key == "metrics_address") {
      config.metrics_address = *text;
      config.metrics_listen = *listen;
      return {};
    }
    // Refused rather than warned about: a health listener a tenant can reach is the
    // restart-the-agent attack the key exists to prevent.
    if (!is_loopback_host(listen->host)) {
      return key_error(
          source, key,
          "must be a loopback address (127.0.0.1:PORT or [::1]:PORT), got \"" + *text + "\"");
    }
    config.health_address = *text;
    config.health_listen = *listen;
    return {};
  }
  if (key == "mode") return parse_choice(value, source, key, kEnforcementModeNames, config.mode);
  if (key == "machine_egress_hook") {
    return parse_choice(value, source, key, kEgressHookChoiceNames, config.machine_egress_hook);
  }
  if (key == "log_format")
    return parse_choice(value, source, key, kLogFormatNames, config.log_format);
  if (key == "log_level") return parse_choice(value, source, key, kLogLevelNames, config.log_level);
  if (key == "uplinks") return parse_uplinks(value, source, config.uplinks);
  if (key == "infra_prefixes") return parse_infra(value, source, config.infra_prefixes);
  if (key == "map_sizes") return parse_map_sizes(value, source, config.map_sizes);
  if (key == "encap_udp_ports") return parse_encap_udp_ports(value, source, config.encap_udp_ports);
  if (key == "source") return parse_source(value, source, config);
  if (key == "events_per_second" || key == "events_burst") {
    auto number = positive_integer(value, source, key);
    if (!number) return number.error();
    (key == "events_per_second" ? config.events_per_second : config.events_burst) = *number;
    return {};
  }
  if (key == "drift_check_interval") {
    auto text = scalar_string(value, source, key);
    if (!text) return text.error();
    auto duration = parse_duration(*text);
    if (!duration) return key_error(source, key, duration.error().message);
    if (*duration < kMinDriftCheckInterval || *duration > kMaxDriftCheckInterval) {
      return key_error(source, key,
                       "must be between " + format_duration(kMinDriftCheckInterval) + " and " +
                           format_duration(kMaxDriftCheckInterval) + ", got \"" + *text + "\"");
    }
    config.drift_check_interval = *duration;
    return {};
  }
  return key_error(source, key, "unknown key");
}

}  // namespace

Result<AgentConfig> parse_config(std::string_view yaml_text, std::string_view source) {
  AgentConfig config;
  config.source = std::string(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception &e) {
    return make_error(std::string(source) + ": not valid YAML: " + e.what());
  }
  if (root.IsNull()) return config;  // an empty file: every default
  if (!root.IsMap()) return make_error(std::string(source) + ": expected a mapping of keys");

  std::set<std::string> seen;
  try {
    for (const auto &entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (!seen.insert(key).second) return key_error(source, key, "given twice");
      if (auto status = parse_key(key, entry.second, source, config); !status) {
        return status.error();
      }
    }
  } catch (const YAML::Exception &e) {
    return make_error(std::string(source) + ": " + e.what());
  }
  return config;
}

namespace {

Result<std::string> read_text(const std::string &file) {
  std::ifstream in(file);
  if (!in) return errno_error(file + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<AgentConfig> load_config(const std::string &path) {
  const bool explicit_path = !path.empty();
  const std::string file = explicit_path ? path : std::string(kDefaultConfigPath);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (!explicit_path) return AgentConfig{};  // DESIGN §4: no file at all is valid
    return make_error(file + ": configuration file not found", ENOENT);
  }
  auto text = read_text(file);
  if (!text) return text.error();
  return parse_config(*text, file);
}

Result<AgentConfig> load_config_with_overlay(const std::string &base_path,
                                             const std::string &overlay_path, bool &overlay_found) {
  overlay_found = false;
  auto base = load_config(base_path);
  if (!base) return base;
  std::error_code ec;
  if (overlay_path.empty() || !std::filesystem::exists(overlay_path, ec)) return base;
  overlay_found = true;
  auto overlay_text = read_text(overlay_path);
  if (!overlay_text) return overlay_text.error();
  // Alone first: a bad key is reported against the node file, not the merge.
  if (auto alone = parse_config(*overlay_text, overlay_path); !alone) return alone.error();

  const std::string base_file = base_path.empty() ? std::string(kDefaultConfigPath) : base_path;
  YAML::Node merged;
  try {
    if (std::filesystem::exists(base_file, ec)) {
      auto base_text = read_text(base_file);
      if (!base_text) return base_text.error();
      merged = YAML::Load(*base_text);
    }
    if (!merged.IsMap()) merged = YAML::Node(YAML::NodeType::Map);
    const YAML::Node overlay = YAML::Load(*overlay_text);
    if (overlay.IsMap()) {
      for (const auto &entry : overlay) merged[entry.first.as<std::string>()] = entry.second;
    }
  } catch (const YAML::Exception &e) {
    return make_error(base_file + " + " + overlay_path + ": " + e.what());
  }
  YAML::Emitter out;
  out << merged;
  return parse_config(out.c_str(), base_file + " + " + overlay_path);
}

std::string render_config(const AgentConfig &config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "state_dir" << YAML::Value << config.state_dir;
  out << YAML::Key << "api_socket" << YAML::Value << config.api_socket;
  out << YAML::Key << "metrics_address" << YAML::Value << YAML::DoubleQuoted
      << config.metrics_address;
  out << YAML::Key << "health_address" << YAML::Value << YAML::DoubleQuoted
      << config.health_address;
  out << YAML::Key << "bpffs" << YAML::Value << config.bpffs;
  out << YAML::Key << "mode" << YAML::Value
      << std::string(name_of(kEnforcementModeNames, config.mode));
  out << YAML::Key << "machine_egress_hook" << YAML::Value
      << std::string(name_of(kEgressHookChoiceNames, config.machine_egress_hook));
  out << YAML::Key << "uplinks" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto &uplink : config.uplinks) out << uplink;
  out << YAML::EndSeq;
  out << YAML::Key << "infra_prefixes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto &prefix : config.infra_prefixes) out << YAML::DoubleQuoted << prefix.str();
  out << YAML::EndSeq;
  out << YAML::Key << "map_sizes" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "machines" << YAML::Value << config.map_sizes.machines;
  out << YAML::Key << "flycast" << YAML::Value << config.map_sizes.flycast;
  out << YAML::Key << "infra" << YAML::Value << config.map_sizes.infra;
  out << YAML::Key << "net_flags" << YAML::Value << config.map_sizes.net_flags;
  out << YAML::Key << "events" << YAML::Value << config.map_sizes.events_bytes;
  out << YAML::EndMap;
  out << YAML::Key << "encap_udp_ports" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const uint16_t port : config.encap_udp_ports) out << port;
  out << YAML::EndSeq;
  out << YAML::Key << "events_per_second" << YAML::Value << config.events_per_second;
  out << YAML::Key << "events_burst" << YAML::Value << config.events_burst;
  out << YAML::Key << "drift_check_interval" << YAML::Value
      << format_duration(config.drift_check_interval);
  out << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
  if (!config.etcd) {
    out << YAML::Key << "api" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  } else {
    const auto &etcd = *config.etcd;
    out << YAML::Key << "etcd" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "endpoints" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto &url : etcd.endpoints) out << url;
    out << YAML::EndSeq;
    out << YAML::Key << "prefix" << YAML::Value << etcd.prefix;
    out << YAML::Key << "host" << YAML::Value << etcd.host;
    if (etcd.tls) {
      out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "ca" << YAML::Value << etcd.tls->ca;
      if (!etcd.tls->cert.empty()) {
        out << YAML::Key << "cert" << YAML::Value << etcd.tls->cert;
        out << YAML::Key << "key" << YAML::Value << etcd.tls->key;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "log_format" << YAML::Value << config.log_format;
  out << YAML::Key << "log_level" << YAML::Value << config.log_level;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace sixguard::daemon
