// The datapath's verdict table (DESIGN §2): each row is one packet on one hook of the scenario
// host (scenario.h) with its map set-up and the expected return code, verdict and reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/bpf/datapath_harness.h"
#include "tests/bpf/scenario.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::bpftest {

enum class Hook { kEgress, kIngress, kUplink, kUplinkL3 };
enum class Iface { kDefault, kM1, kM2, kM3, kUnknown, kUplink, kTun };

// Map set-up on top of the scenario's base policy.
struct Tweak {
  uint32_t config_flags = 0;                             // SG_CFG_*
  std::vector<uint32_t> audit_networks = {};             // sg_net_flags SG_NET_AUDIT
  std::optional<std::vector<uint32_t>> infra_nets = {};  // replaces sg_config.infra_nets
  // audit_networks normally come with SG_CFG_NET_AUDIT_ANY, as the agent writes them; a row
  // can leave the flag out to show the entries are then not consulted.
  bool without_audit_any = false;
  std::vector<uint16_t> encap_udp_ports = {};  // sg_config.encap_udp_ports (config encap_udp_ports)
};

struct Row {
  std::string description;
  Hook hook;
  std::vector<uint8_t> packet;  // Ethernet frame, or an L3 packet for kUplinkL3
  sg_verdict verdict;
  sg_reason reason;
  Iface iface = Iface::kDefault;
  Tweak tweak = {};
  uint16_t l3_protocol = 0x86dd;  // skb->protocol on the L3 device
  // Longer than the skb test run takes (a page): an XDP multi-buffer frame, run on the XDP
  // program only.
  bool xdp_multi_buffer = false;
};

// Every row of the table.
const std::vector<Row> &verdict_rows();
// The rows of issue 13 (verdict_table_encap.cpp): encapsulation, consistency, audit with
// several levels, byte counts.
void append_encapsulation_rows(std::vector<Row> &rows);

// What the hook returns for a verdict: drop is XDP_DROP / TC_ACT_SHOT; pass and audit are
// XDP_PASS / TC_ACT_UNSPEC (a TC pass lets the rest of the chain run).
uint32_t expected_action(Hook hook, sg_verdict verdict);  // on program_of(hook)
uint32_t expected_action(Program program, sg_verdict verdict);

sg_hook hook_id(Hook hook);     // (the L3 uplink counts as the uplink)
Program program_of(Hook hook);  // machine_egress: the XDP program
// The program the agent runs for hook on this kernel (machine_egress on TC where XDP cannot load).
Program program_on_this_kernel(Hook hook, const Datapath &datapath);
uint32_t ifindex_of(const Host &host, const Row &row);
// The bytes the hook counts (XDP: the frame; TC: skb->len, the frame or the L3 packet).
uint64_t counted_bytes(const Row &row);
// The kernel's skb test run refuses a frame whose outer ethertype is IPv6 (IPv4) with fewer
// than 40 (20) bytes after the Ethernet header: such rows can only run through XDP.
bool skb_test_run_refuses(const std::vector<uint8_t> &frame);
sg_config config_of(const Row &row);

}  // namespace sixguard::bpftest
