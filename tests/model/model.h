// The reference model of the datapath's verdict: DESIGN §2 plus the datapath decisions shared
// with the BPF work (tests/model/README.md lists what the model chose where they leave room),
// written from the contract alone. It shares only the address model (agent/core/address.h) and
// the ids of the shared header with the product; never the BPF code's parsing or rules. The
// differential fuzzer compares it with the real programs frame by frame.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/core/address.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::model {

// Where a packet is judged. kEgressXdp and kEgressTc are the same hook (machine_egress) on its two
// program types; kUplinkL3 is the uplink on a device without Ethernet (WireGuard, tun).
enum class Hook { kEgressXdp, kEgressTc, kIngress, kUplink, kUplinkL3 };

uint8_t hook_id(Hook hook);  // enum sg_hook
bool has_ethernet(Hook hook);
bool is_machine_hook(Hook hook);
const char *hook_name(Hook hook);

struct Machine {
  Ipv6 prefix;  // the /112, free bits zero
  uint32_t app_id = 0;
  uint32_t network_id = 0;
};

struct FlycastTarget {
  uint32_t app_id = 0;
  uint32_t network_id = 0;  // the target app's network
};

// What the host knows, as the agent would have written it into the maps.
struct Policy {
  std::map<Ipv6, FlycastTarget> flycast;
  std::vector<Ipv6Prefix> infra;
  bool global_audit = false;
  std::set<uint32_t> audit_networks;
  std::vector<uint16_t> encap_udp_ports;  // beyond 4789 (VXLAN) and 6081 (Geneve)
};

// The environment of one judgement: the policy and the interface's machine (machine hooks only;
// nullopt on an interface the agent does not know).
struct Env {
  const Policy *policy = nullptr;
  std::optional<Machine> machine;
};

struct Answer {
  uint8_t verdict = SG_VERDICT_PASS;
  uint8_t reason = SG_REASON_NOT_6PN;
  uint8_t hook = 0;        // enum sg_hook
  uint32_t slot = 0;       // SG_COUNTER_INDEX(hook, verdict, reason)
  uint64_t bytes = 0;      // what the counter adds: the whole packet
  int deciding_level = 0;  // 1-based index into the walk's results; 0: no level decided
  Ipv6 src, dst;           // the deciding level's addresses (zero when none was read)
};

// A planted bug, so that the fuzzer's own test can show it catches a wrong answer.
enum class PlantedBug { kNone, kEgressSameNetworkIsCross };

// Judges one packet. `packet` is an Ethernet frame, or for kUplinkL3 an L3 packet whose kind the
// device names with l3_protocol (skb->protocol: 0x86dd, 0x0800, anything else).
Answer decide(const std::vector<uint8_t> &packet, Hook hook, const Env &env,
              uint16_t l3_protocol = 0x86dd, PlantedBug bug = PlantedBug::kNone);

std::string verdict_name(uint8_t verdict);
std::string reason_name(uint8_t reason);
std::string slot_name(uint32_t slot);  // "machine_egress/drop/malformed"
std::string describe(const Answer &answer);

}  // namespace sixguard::model
