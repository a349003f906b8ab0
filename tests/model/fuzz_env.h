// The environments the differential fuzzer judges frames in: the scenario host's machines
// (tests/bpf/scenario.h: M1 on network A, M2 and M3 on network B, an unknown interface) under a
// few policies that differ in audit mode, infrastructure prefixes and encap ports, and the
// address pool frames draw from (every kind of address the rules tell apart, and the
// neighbours of each edge).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/address.h"
#include "tests/model/model.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::model {

// The interfaces a machine-hook frame can arrive on.
enum class Iface { kM1, kM2, kM3, kUnknown };
inline constexpr int kIfaceCount = 4;
const char *iface_name(Iface iface);
std::optional<Machine> machine_of(Iface iface);

struct FuzzPolicy {
  std::string name;
  Policy policy;
};

// The policies, in the order the fuzzer cycles through them.
const std::vector<FuzzPolicy> &fuzz_policies();
// Frames i with (i / kPolicyBlock) % count use policy number (i / kPolicyBlock) % count.
inline constexpr uint64_t kPolicyBlock = 4096;

const std::vector<Ipv6> &address_pool();
// UDP destination ports frames use for tunnels beyond 4789/6081 (configured in some policies).
const std::vector<uint16_t> &extra_udp_ports();

// What the agent writes into sg_config for a policy (its desired_config: infra_nets or
// SG_CFG_INFRA_ANY_NET, SG_CFG_AUDIT, SG_CFG_NET_AUDIT_ANY, encap ports), events off.
sg_config config_for(const Policy &policy);
std::string describe(const Policy &policy);

}  // namespace sixguard::model
