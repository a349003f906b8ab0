// Structured random frames for the differential fuzzer: random stacks of Ethernet (0-3 tags of
// 802.1Q, 802.1ad, 0x9100, VLAN id 0; MPLS, PPPoE, ARP), IPv4 and IPv6, every IPv6 extension
// header (hop-by-hop with a jumbo option, routing with segment routing, fragments first,
// non-first, nested and empty, destination options, AH, mobility, ESP, 59), tunnels (41 over
// IPv4 and IPv6, GRE with checksum/key/sequence and TEB, IPIP, VXLAN, Geneve with options, a
// configured UDP port, 137, 115), ICMPv6 (ND, errors embedding headers), lengths consistent or
// not, and addresses drawn from a pool that makes the rules collide. A share of the frames is
// then mutated (bit flips, truncation, length-field edits, insertions, deletions).
//
// Every frame is a function of (seed, index), so any one of them can be rebuilt on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/address.h"
#include "tests/model/model.h"

namespace sixguard::model {

struct Frame {
  std::vector<uint8_t> bytes;  // the Ethernet frame
  size_t l3_offset = 14;       // where the L3 uplink's packet starts (after Ethernet and tags)
  uint16_t l3_protocol = 0;    // skb->protocol the L3 device gives it
  std::string shape;           // the stack built, e.g. "eth/q/ipv6/frag/gre/ipv6/udp +trunc"

  std::vector<uint8_t> l3_packet() const;
};

struct GeneratorInput {
  std::vector<Ipv6> pool;           // addresses that make the rules collide
  std::optional<Machine> machine;   // the interface's machine: its /112 is favoured
  std::vector<uint16_t> udp_ports;  // encap ports to use (configured and not)
};

Frame generate_frame(const GeneratorInput &input, uint64_t seed, uint64_t index);

std::string hex(const std::vector<uint8_t> &bytes);
std::vector<uint8_t> from_hex(const std::string &text);  // ignores whitespace

}  // namespace sixguard::model
