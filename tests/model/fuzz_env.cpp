#include "tests/model/fuzz_env.h"

#include "agent/control/control_config.h"
#include "agent/control/desired_maps.h"
#include "tests/common/address_literal.h"

#include <cstdio>
#include <cstdlib>

namespace sixguard::model {

namespace {

constexpr uint32_t kNetA = 0x0002045b;
constexpr uint32_t kNetB = 0x00030001;
constexpr uint32_t kNetC = 0x00040000;
constexpr uint32_t kNetInfra = 0x00070007;

using test::addr;
using test::prefix;

Policy base_policy() {
  Policy p;
  p.flycast[addr("fdaa:2:45b:f1c::1")] = {300, kNetB};  // into A, target M2's app
  p.flycast[addr("fdaa:3:1:f1c::2")] = {100, kNetA};    // into B, target M1's app
  p.flycast[addr("fdaa:3:1:f1c::9")] = {300, kNetB};    // into B, target on B
  p.flycast[addr("fdaa:4:0:f1c::7")] = {301, kNetB};    // into C, target M3's app
  p.infra = {prefix("fdaa::3/128"), prefix("fdaa:7:7::/48")};
  return p;
}

}  // namespace

const char *iface_name(Iface iface) {
  switch (iface) {
    case Iface::kM1:
      return "m1";
    case Iface::kM2:
      return "m2";
    case Iface::kM3:
      return "m3";
    case Iface::kUnknown:
      return "unknown";
  }
  return "?";
}

std::optional<Machine> machine_of(Iface iface) {
  switch (iface) {
    case Iface::kM1:
      return Machine{machine_prefix(addr("fdaa:2:45b:a7b:174:db43:d3c6:2")), 100, kNetA};
    case Iface::kM2:
      return Machine{machine_prefix(addr("fdaa:3:1:b1:1:2:3:5")), 300, kNetB};
    case Iface::kM3:
      return Machine{machine_prefix(addr("fdaa:3:1:b1:1:2:4:7")), 301, kNetB};
    case Iface::kUnknown:
      return std::nullopt;
  }
  return std::nullopt;
}

const std::vector<FuzzPolicy> &fuzz_policies() {
  static const std::vector<FuzzPolicy> policies = [] {
    std::vector<FuzzPolicy> out;
    out.push_back({"enforce", base_policy()});
    Policy audit = base_policy();
    audit.global_audit = true;
    out.push_back({"global-audit", audit});
    Policy some = base_policy();
    some.audit_networks = {kNetA, kNetC};
    out.push_back({"audit-A-C", some});
    Policy wide = base_policy();
    wide.audit_networks = {kNetB, kNetInfra};
    wide.infra.push_back(prefix("fdaa:9::/32"));  // spans networks: SG_CFG_INFRA_ANY_NET
    wide.infra.push_back(prefix("2001:db8:1::/48"));
    wide.encap_udp_ports = {8472};
    out.push_back({"audit-B-wide-infra-port8472", wide});
    return out;
  }();
  return policies;
}

const std::vector<Ipv6> &address_pool() {
  static const std::vector<Ipv6> pool = [] {
    std::vector<Ipv6> out;
    for (const char *text :
         {// M1's /112, its edges and neighbours; network A elsewhere
          "fdaa:2:45b:a7b:174:db43:d3c6:2", "fdaa:2:45b:a7b:174:db43:d3c6:0",
          "fdaa:2:45b:a7b:174:db43:d3c6:ffff", "fdaa:2:45b:a7b:174:db43:d3c5:ffff",
          "fdaa:2:45b:a7b:174:db43:d3c7:0", "fdaa:2:45b:ff:1:2:3:4",
          // M2, M3 (network B) and neighbours
          "fdaa:3:1:b1:1:2:3:5", "fdaa:3:1:b1:1:2:4:7", "fdaa:3:1:b1:1:2:2:ffff",
          "fdaa:3:1:b1:1:2:5:0", "fdaa:3:1:a7b:174:db43:d3c6:2",
          // network C, networks next to A and B
          "fdaa:4:0:1:2:3:4:5", "fdaa:2:45a:a7b:174:db43:d3c6:2", "fdaa:3:2:b1:1:2:3:5",
          // infrastructure and its edges, network 0
          "fdaa::3", "fdaa::2", "fdaa::4", "fdaa::5", "fdaa:7:7::1",
          "fdaa:7:7:ffff:ffff:ffff:ffff:ffff", "fdaa:7:6:ffff:ffff:ffff:ffff:ffff",
          "fdaa:7:8::", "fdaa:9:1::1", "fdaa:9:ffff:ffff::1", "fdaa:a::1",
          // Flycast addresses and their neighbours
          "fdaa:2:45b:f1c::1", "fdaa:2:45b:f1c::0", "fdaa:2:45b:f1c::2", "fdaa:3:1:f1c::2",
          "fdaa:3:1:f1c::1", "fdaa:3:1:f1c::3", "fdaa:3:1:f1c::9", "fdaa:3:1:f1c::8",
          "fdaa:4:0:f1c::7", "fdaa:4:0:f1c::6", "fdaa:4:0:f1c::8",
          // not 6PN: public, NAT64, mapped, next to fdaa::/16, link-local, multicast
          "2001:db8::1", "2001:db8:1::5", "64:ff9b::a00:1", "::ffff:10.0.0.1", "fdab:2:45b::1",
          "fda9:ffff::1", "fd00:2:45b::1", "fe80::1", "fe80::2", "febf:ffff::1", "fec0::1",
          "ff02::1", "ff02::1:ff00:2", "ff05::2", "::", "::1"}) {
      out.push_back(addr(text));
    }
    return out;
  }();
  return pool;
}

const std::vector<uint16_t> &extra_udp_ports() {
  static const std::vector<uint16_t> ports = {8472, 4790};
  return ports;
}

sg_config config_for(const Policy &policy) {
  // The agent's own translation (agent/control/desired_maps.h), so that a config the agent
  // would write wrongly (infra_nets, the flags, encap ports) shows up as a disagreement too.
  ControlConfig control;
  control.infra_prefixes = policy.infra;
  control.global_audit = policy.global_audit;
  control.encap_udp_ports = policy.encap_udp_ports;
  control.events_per_sec = 0;
  control.events_burst = 0;
  return desired_config(control, !policy.audit_networks.empty());
}

std::string describe(const Policy &policy) {
  std::string out = policy.global_audit ? "global audit" : "enforce";
  if (!policy.audit_networks.empty()) {
    out += ", audit networks";
    for (uint32_t id : policy.audit_networks) out += " " + format_network_id(id);
  }
  out += ", infra";
  for (const auto &p : policy.infra) out += " " + p.str();
  out += ", flycast";
  for (const auto &[address, target] : policy.flycast) {
    out += " " + address.str() + "->app " + std::to_string(target.app_id) + "/net " +
           format_network_id(target.network_id);
  }
  if (!policy.encap_udp_ports.empty()) {
    out += ", encap ports";
    for (uint16_t port : policy.encap_udp_ports) out += " " + std::to_string(port);
  }
  out +=
      "; machines m1 fdaa:2:45b:a7b:174:db43:d3c6::/112 app 100 net 2:45b, m2 "
      "fdaa:3:1:b1:1:2:3::/112 app 300 net 3:1, m3 fdaa:3:1:b1:1:2:4::/112 app 301 net 3:1";
  return out;
}

}  // namespace sixguard::model
