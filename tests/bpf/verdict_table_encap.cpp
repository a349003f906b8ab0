// Rows of the verdict table for DESIGN §2 "Encapsulation", "Consistency", audit with
// encapsulation and byte counters (issue 13), with the choices of DATAPATH-DECISIONS.md: IPv6
// header consistency, UDP encapsulations, IPv4 outers, what is not a tunnel, address edges,
// multi-level audit and the level limit. Families that apply to every hook are added for each
// (egress, whose rows also run on the TC fallback, ingress, uplink and L3 uplink).
#include <functional>
#include <string>

#include "agent/core/packet_builder.h"
#include "tests/bpf/row_names.h"
#include "tests/bpf/verdict_table.h"

namespace sixguard::bpftest {

namespace {

using namespace row_names;

constexpr uint16_t kVxlan = SG_UDP_PORT_VXLAN;
constexpr uint16_t kGeneve = SG_UDP_PORT_GENEVE;
constexpr uint16_t kConfiguredPort = 8472;  // Linux's historical VXLAN port
constexpr uint32_t kHostV4a = 0x0a000001, kHostV4b = 0x0a000002;

// Who is where on one hook: a legitimate outer header, and inner headers that stay on the
// machine's network or cross to network B.
struct Roles {
  Hook hook;
  const char *name;
  Ipv6 outer_src, outer_dst;
  Ipv6 same_src, same_dst;
  Ipv6 cross_src, cross_dst;
};

std::vector<Roles> every_hook() {
  const auto &a = addrs();
  return {
      {Hook::kEgress, "egress", a.m1, a.a_peer, a.m1, a.a_peer, a.m1, a.b},
      {Hook::kIngress, "ingress", a.a_peer, a.m1, a.a_peer, a.m1, a.b, a.m1},
      {Hook::kUplink, "uplink", a.a_peer, a.m1, a.a_peer, a.m1, a.b, a.m1},
      {Hook::kUplinkL3, "L3 uplink", a.a_peer, a.m1, a.a_peer, a.m1, a.b, a.m1},
  };
}

// The start of a packet on the hook: an Ethernet header except on the L3 uplink.
PacketBuilder start(const Roles &r) {
  PacketBuilder builder;
  if (r.hook != Hook::kUplinkL3) builder.ethernet();
  return builder;
}
PacketBuilder start6(const Roles &r) {
  return std::move(start(r).ipv6(r.outer_src, r.outer_dst));
}
PacketBuilder start4(const Roles &r) {
  return std::move(start(r).ipv4(kHostV4a, kHostV4b));
}
std::size_t l2(const Roles &r) {
  return r.hook == Hook::kUplinkL3 ? 0 : 14;
}

// An 8-octet VXLAN header (I flag, VNI 42).
std::vector<uint8_t> vxlan_header() {
  return {0x08, 0, 0, 0, 0, 0, 42, 0};
}
// A Geneve header that claims opt_words 4-octet words of options but carries none of them.
std::vector<uint8_t> geneve_header_claiming_options(uint16_t protocol, uint8_t opt_words) {
  return {static_cast<uint8_t>(opt_words & 0x3f),
          0,
          static_cast<uint8_t>(protocol >> 8),
          static_cast<uint8_t>(protocol),
          0,
          0,
          42,
          0};
}

// A Geneve header for `protocol` with opt_words 4-octet words of options.
std::vector<uint8_t> geneve_header(uint16_t protocol, uint8_t opt_words = 0) {
  std::vector<uint8_t> bytes = {static_cast<uint8_t>(opt_words & 0x3f),
                                0,
                                static_cast<uint8_t>(protocol >> 8),
                                static_cast<uint8_t>(protocol),
                                0,
                                0,
                                42,
                                0};
  bytes.resize(8 + std::size_t{opt_words} * 4, 0);
  return bytes;
}

std::vector<uint8_t> with16(std::vector<uint8_t> packet, std::size_t at, uint16_t value) {
  packet.at(at) = static_cast<uint8_t>(value >> 8);
  packet.at(at + 1) = static_cast<uint8_t>(value);
  return packet;
}
std::vector<uint8_t> with8(std::vector<uint8_t> packet, std::size_t at, uint8_t value) {
  packet.at(at) = value;
  return packet;
}

Tweak audit_of(uint32_t network) {
  Tweak tweak;
  tweak.audit_networks = {network};
  return tweak;
}
Tweak global_audit() {
  Tweak tweak;
  tweak.config_flags = SG_CFG_AUDIT;
  return tweak;
}
Tweak configured_port() {
  Tweak tweak;
  tweak.encap_udp_ports = {4790, kConfiguredPort};
  return tweak;
}

class Rows {
 public:
  explicit Rows(std::vector<Row> &rows) : rows_(rows) {}

  void add(Row row) {
    if (row.hook == Hook::kUplinkL3 && !row.packet.empty() && (row.packet[0] >> 4) == 4) {
      row.l3_protocol = 0x0800;
    }
    rows_.push_back(std::move(row));
  }

  // One row per hook: build(roles) is the packet, the verdict and reason the same on every hook.
  void each(const std::string &what,
            const std::function<std::vector<uint8_t>(const Roles &)> &build, sg_verdict verdict,
            sg_reason reason, const Tweak &tweak = {}) {
    for (const Roles &r : every_hook()) {
      add({.description = std::string(r.name) + " " + what,
           .hook = r.hook,
           .packet = build(r),
           .verdict = verdict,
           .reason = reason,
           .tweak = tweak});
    }
  }

 private:
  std::vector<Row> &rows_;
};

void ipv6_header_rows(Rows &rows) {
  const auto &a = addrs();
  // --- Consistency at every IPv6 level. ---
  rows.each(
      "payload length 400 in a 70-byte frame is malformed",
      [](const Roles &r) {
        auto packet = start6(r).udp(1, 2).payload(8).build();
        return with16(packet, l2(r) + 4, 400);
      },
      kDrop, kMalformed);
  rows.each(
      "jumbo payload length (0) with a hop-by-hop header is malformed",
      [](const Roles &r) {
        return with16(start6(r).hop_by_hop(0).udp(1, 2).build(), l2(r) + 4, 0);
      },
      kDrop, kMalformed);
  rows.each(
      "payload length one beyond the frame is malformed",
      [](const Roles &r) {
        auto packet = start6(r).udp(1, 2).build();
        return with16(packet, l2(r) + 4, static_cast<uint16_t>(packet.size() - l2(r) - 40 + 1));
      },
      kDrop, kMalformed);
  rows.each(
      "frame longer than its payload length (padding) is checked as usual",
      [](const Roles &r) {
        auto packet = start6(r).udp(1, 2).build();
        packet.resize(packet.size() + 10, 0);
        return packet;
      },
      kPass, kSame);
  rows.each(
      "inner IPv6 with payload length 400 is malformed",
      [](const Roles &r) {
        auto packet = start6(r).ipv6(r.same_src, r.same_dst).udp(1, 2).build();
        return with16(packet, l2(r) + 40 + 4, 400);
      },
      kDrop, kMalformed);
  rows.each(
      "inner IPv6 with a jumbo payload length is malformed",
      [](const Roles &r) {
        auto packet = start6(r).ipv6(r.same_src, r.same_dst).udp(1, 2).build();
        return with16(packet, l2(r) + 40 + 4, 0);
      },
      kDrop, kMalformed);
  rows.each(
      "inner IPv6 with version 5 is malformed",
      [](const Roles &r) {
        return start6(r).ipv6(r.same_src, r.same_dst).ipv6_version(5).udp(1, 2).build();
      },
      kDrop, kMalformed);

  // --- Extension headers. ---
  rows.each(
      "segment routing header (type 4) is stepped over: the destination decides",
      [](const Roles &r) {
        auto packet = start(r).ipv6(r.cross_src, r.cross_dst).routing(2).udp(1, 2).build();
        packet = with8(packet, l2(r) + 40 + 2, 4);  // routing type 4: SRH
        return with8(packet, l2(r) + 40 + 3, 1);    // segments left
      },
      kDrop, kCross);
  rows.each(
      "segment routing header to the same network passes",
      [](const Roles &r) {
        auto packet = start6(r).routing(2).udp(1, 2).build();
        return with8(packet, l2(r) + 40 + 2, 4);
      },
      kPass, kSame);
  // Mobility header: payload proto 59, length 1 (16 octets), binding update.
  const std::vector<uint8_t> mobility = {59, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  rows.each(
      "mobility header (135) is stepped over and ends the chain",
      [&](const Roles &r) { return start6(r).next_header(135).payload(mobility).build(); }, kPass,
      kSame);
  rows.each(
      "mobility header across networks is cross_network",
      [&](const Roles &r) {
        return start(r).ipv6(r.cross_src, r.cross_dst).next_header(135).payload(mobility).build();
      },
      kDrop, kCross);
  rows.each(
      "mobility header longer than the frame is malformed",
      [&](const Roles &r) {
        auto header = mobility;
        header[1] = 4;  // 40 octets claimed, 16 present
        return start6(r).next_header(135).payload(header).build();
      },
      kDrop, kMalformed);
  rows.each(
      "mobility header whose payload proto is 41 leads to the inner header",
      [&](const Roles &r) {
        auto header = mobility;
        header[0] = 41;
        return start6(r)
            .next_header(135)
            .payload(header)
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);

  // --- Fragments. ---
  rows.each(
      "two fragment headers in one chain are malformed",
      [](const Roles &r) {
        return start6(r).fragment(0, true).fragment(0, true).udp(1, 2).build();
      },
      kDrop, kMalformed);
  rows.each(
      "first fragment with nothing after its fragment header is malformed",
      [](const Roles &r) { return start6(r).fragment(0, true).build(); }, kDrop, kMalformed);
  rows.each(
      "atomic fragment with nothing after its fragment header passes",
      [](const Roles &r) { return start6(r).fragment(0, false).build(); }, kPass, kSame);
  rows.each(
      "first fragment inside a tunnel hiding cross-network is cross_network",
      [](const Roles &r) {
        return start6(r)
            .ipv6(r.cross_src, r.cross_dst)
            .fragment(0, true)
            .udp(1, 2)
            .payload(32)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "non-first fragment inside a tunnel still has its addresses checked",
      [](const Roles &r) {
        return start6(r).ipv6(r.cross_src, r.cross_dst).fragment(64, true).payload(32).build();
      },
      kDrop, kCross);
  rows.each(
      "first fragment of a tunnel cut inside the inner header is malformed",
      [](const Roles &r) {
        return start6(r)
            .fragment(0, true)
            .ipv6(r.same_src, r.same_dst)
            .udp(1, 2)
            .truncate(l2(r) + 40 + 8 + 30)
            .build();
      },
      kDrop, kMalformed);

  // --- The level limit: at most 3 IP headers. ---
  rows.each(
      "three IPv6 levels on the same network pass",
      [](const Roles &r) {
        return start6(r)
            .ipv6(r.same_src, r.same_dst)
            .ipv6(r.same_src, r.same_dst)
            .udp(1, 2)
            .build();
      },
      kPass, kSame);
  rows.each(
      "a 4-level stack (IPv6 in GRE in IPv6 in IPv6) is malformed",
      [](const Roles &r) {
        return start6(r)
            .ipv6(r.same_src, r.same_dst)
            .gre()
            .ipv6(r.same_src, r.same_dst)
            .ipv6(r.same_src, r.same_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kMalformed);
  rows.each(
      "a 4-level stack over IPv4 (IPv4, 41, VXLAN, IPv6) is malformed",
      [](const Roles &r) {
        return start4(r)
            .ipv6(r.same_src, r.same_dst)
            .udp(1, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.same_src, r.same_dst)
            .ipv6(r.same_src, r.same_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kMalformed);
  (void)a;
}

void udp_encapsulation_rows(Rows &rows) {
  rows.each(
      "VXLAN over IPv6 hiding a cross-network packet is cross_network",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "VXLAN over IPv4 hiding a cross-network packet is cross_network",
      [](const Roles &r) {
        return start4(r)
            .udp(40000, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "VXLAN over IPv4 with a VLAN-tagged same-network inner frame passes as same_network",
      [](const Roles &r) {
        return start4(r)
            .udp(40000, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .vlan(0)
            .ipv6(r.same_src, r.same_dst)
            .udp(1, 2)
            .build();
      },
      kPass, kSame);
  rows.each(
      "VXLAN over IPv6 carrying ARP keeps the outer reason",
      [](const Roles &r) {
        return start6(r).udp(40000, kVxlan).payload(vxlan_header()).ethernet().arp().build();
      },
      kPass, kSame);
  rows.each(
      "VXLAN over IPv4 carrying inner IPv4 that carries 41 to another network is cross",
      [](const Roles &r) {
        return start4(r)
            .udp(40000, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .ipv4(1, 2)
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "VXLAN with its inner Ethernet header cut is malformed",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.same_src, r.same_dst)
            .truncate(l2(r) + 40 + 8 + 8 + 10)
            .build();
      },
      kDrop, kMalformed);
  rows.each(
      "UDP from port 4789 to another port is plain UDP",
      [](const Roles &r) {
        return start6(r)
            .udp(kVxlan, 53)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kPass, kSame);
  rows.each(
      "Geneve (TEB) over IPv6 hiding a cross-network packet is cross_network",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kGeneve)
            .payload(geneve_header(0x6558))
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "Geneve with options carrying IPv6 over IPv4 hiding cross-network is cross_network",
      [](const Roles &r) {
        return start4(r)
            .udp(40000, kGeneve)
            .payload(geneve_header(0x86dd, 3))
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "Geneve carrying IPv4 that carries 41 across networks is cross_network",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kGeneve)
            .payload(geneve_header(0x0800))
            .ipv4(1, 2)
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross);
  rows.each(
      "Geneve with an unknown protocol is malformed",
      [](const Roles &r) {
        return start6(r).udp(40000, kGeneve).payload(geneve_header(0x88b5)).payload(40).build();
      },
      kDrop, kMalformed);
  rows.each(
      "Geneve whose options run past the frame is malformed",
      [](const Roles &r) {
        return start4(r).udp(40000, kGeneve).payload(geneve_header(0x6558, 63)).build();
      },
      kDrop, kMalformed);
  // Found by the differential fuzzer: the options belong to the level that carries them, so
  // their cut decides (malformed) before that level's own cross-network drop would.
  rows.each(
      "Geneve (IPv6) whose options run past the frame, under a cross-network outer, is malformed",
      [](const Roles &r) {
        return start(r)
            .ipv6(r.cross_src, r.cross_dst)
            .udp(40000, kGeneve)
            .payload(geneve_header_claiming_options(0x86dd, 63))
            .payload(8)
            .build();
      },
      kDrop, kMalformed);
  rows.each(
      "configured encap port over IPv6 hiding cross-network is cross_network",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kConfiguredPort)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross, configured_port());
  rows.each(
      "configured encap port over IPv4 hiding cross-network is cross_network",
      [](const Roles &r) {
        return start4(r)
            .udp(40000, kConfiguredPort)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kDrop, kCross, configured_port());
  rows.each(
      "the same port when not configured is plain UDP",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kConfiguredPort)
            .payload(vxlan_header())
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kPass, kSame);
  rows.each(
      "plain IPv4 UDP to a configured port that is not VXLAN-framed is malformed",
      [](const Roles &r) { return start4(r).udp(40000, kConfiguredPort).payload(4).build(); },
      kDrop, kMalformed, configured_port());

  // The case of issue 13: machine M1 (org acme) hands a VXLAN packet to the host's VXLAN
  // endpoint; the inner packet claims the DNS server or the victim's network as its source.
  const auto &a = addrs();
  const auto to_vtep = [&](const Ipv6 &inner_src, const Ipv6 &inner_dst) {
    return PacketBuilder()
        .ethernet()
        .ipv6(a.m1, a.public_v6)
        .udp(40000, kVxlan)
        .payload(vxlan_header())
        .ethernet()
        .ipv6(inner_src, inner_dst)
        .udp(1, 2)
        .build();
  };
  rows.add({.description = "egress VXLAN to the host's VTEP with inner fdaa::3 -> globex is "
                           "spoofed_source (issue 13)",
            .hook = Hook::kEgress,
            .packet = to_vtep(a.dns, a.m3),
            .verdict = kDrop,
            .reason = kSpoofed});
  rows.add({.description = "egress VXLAN to the host's VTEP with an inner source in the victim's "
                           "network is spoofed_source",
            .hook = Hook::kEgress,
            .packet = to_vtep(a.m2, a.m3),
            .verdict = kDrop,
            .reason = kSpoofed});
  rows.add({.description = "egress VXLAN to the host's VTEP from M1's own address to globex is "
                           "cross_network",
            .hook = Hook::kEgress,
            .packet = to_vtep(a.m1, a.m3),
            .verdict = kDrop,
            .reason = kCross});
  rows.add({.description = "egress VXLAN over IPv4 to the host's VTEP with inner fdaa::3 -> "
                           "globex is spoofed_source",
            .hook = Hook::kEgress,
            .packet = PacketBuilder()
                          .ethernet()
                          .ipv4(kHostV4a, kHostV4b)
                          .udp(40000, kVxlan)
                          .payload(vxlan_header())
                          .ethernet()
                          .ipv6(a.dns, a.m3)
                          .udp(1, 2)
                          .build(),
            .verdict = kDrop,
            .reason = kSpoofed});
  rows.add({.description = "egress VXLAN to the host's VTEP with a same-network inner packet "
                           "passes with the outer reason (not_6pn)",
            .hook = Hook::kEgress,
            .packet = to_vtep(a.m1, a.a_peer),
            .verdict = kPass,
            .reason = kNot6pn});
}

void ipv4_outer_rows(Rows &rows) {
  rows.each(
      "IPv4 carrying 41 hiding a cross-network packet is cross_network",
      [](const Roles &r) { return start4(r).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build(); },
      kDrop, kCross);
  rows.each(
      "IPv4 carrying 41 with a same-network packet passes as same_network",
      [](const Roles &r) { return start4(r).ipv6(r.same_src, r.same_dst).udp(1, 2).build(); },
      kPass, kSame);
  rows.each(
      "IPv4 GRE carrying IPv6 across networks is cross_network",
      [](const Roles &r) {
        return start4(r).gre().ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
      },
      kDrop, kCross);
  rows.each(
      "IPv4 GRE TEB with a VLAN-tagged inner frame across networks is cross_network",
      [](const Roles &r) {
        return start4(r).gre().ethernet().vlan(7).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
      },
      kDrop, kCross);
  rows.each(
      "IPv4 GRE version 1 is malformed",
      [](const Roles &r) {
        GreOptions options;
        options.version = 1;
        return start4(r).gre(options).ipv6(r.same_src, r.same_dst).udp(1, 2).build();
      },
      kDrop, kMalformed);
  rows.each(
      "IPv4 GRE carrying IPv4 carrying 41 across networks is cross_network",
      [](const Roles &r) {
        return start4(r).gre().ipv4(1, 2).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
      },
      kDrop, kCross);
  rows.each(
      "IPv4 protocol 137 (MPLS-in-IP) is not parsed: not_6pn",
      [](const Roles &r) {
        return start4(r)
            .next_header(137)
            .payload({0x00, 0x01, 0x01, 0x40})
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kPass, kNot6pn);
  rows.each(
      "IPv4 protocol 115 (L2TPv3) is not parsed: not_6pn",
      [](const Roles &r) {
        return start4(r)
            .next_header(115)
            .payload({0, 0, 0, 1})
            .ethernet()
            .ipv6(r.cross_src, r.cross_dst)
            .udp(1, 2)
            .build();
      },
      kPass, kNot6pn);
  rows.each(
      "IPIP (IPv4 in IPv4) carrying 41 stops at the inner IPv4: not_6pn",
      [](const Roles &r) {
        return start4(r).ipv4(1, 2).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
      },
      kPass, kNot6pn);
  rows.each(
      "IPv4 non-first fragment claiming 41 is opaque: not_6pn",
      [](const Roles &r) {
        auto packet = start4(r).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
        packet = with16(packet, l2(r) + 6, 0x2010);  // MF, offset 16 (128 octets)
        return packet;  // the header checksum is not checked by the datapath
      },
      kPass, kNot6pn);
  // IPv6 next header 4 (IPv4 in IPv6) is a level (stricter than the IPIP stop): the inner IPv4
  // may carry a tunnel.
  rows.each(
      "IPv6 carrying IPv4 carrying 41 across networks is cross_network",
      [](const Roles &r) {
        return start6(r).ipv4(1, 2).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
      },
      kDrop, kCross);
  rows.each(
      "IPv6 carrying an IPv4 header with a bad total length is malformed",
      [](const Roles &r) {
        return with16(start6(r).ipv4(1, 2).udp(1, 2).build(), l2(r) + 40 + 2, 400);
      },
      kDrop, kMalformed);
  rows.each(
      "IPv6 carrying VXLAN with an inner IPv4 packet keeps the outer reason",
      [](const Roles &r) {
        return start6(r)
            .udp(40000, kVxlan)
            .payload(vxlan_header())
            .ethernet()
            .ipv4(1, 2)
            .udp(1, 2)
            .build();
      },
      kPass, kSame);
  rows.each(
      "IPv4 total length beyond the frame is malformed",
      [](const Roles &r) { return with16(start4(r).udp(1, 2).build(), l2(r) + 2, 400); }, kDrop,
      kMalformed);
  rows.each(
      "IPv4 header length below 5 words is malformed",
      [](const Roles &r) { return with8(start4(r).udp(1, 2).build(), l2(r), 0x44); }, kDrop,
      kMalformed);
  rows.each(
      "IPv4 with options carrying 41 across networks is cross_network",
      [](const Roles &r) {
        // IHL 6: four option octets (NOPs) inserted after the 20-octet header.
        auto packet = start4(r).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
        const std::size_t at = l2(r) + 20;
        packet.insert(packet.begin() + static_cast<std::ptrdiff_t>(at), {1, 1, 1, 1});
        packet = with8(packet, l2(r), 0x46);
        const uint16_t total = static_cast<uint16_t>(packet.size() - l2(r));
        return with16(packet, l2(r) + 2, total);
      },
      kDrop, kCross);
  rows.each(
      "IPv4 UDP with its header cut is malformed",
      [](const Roles &r) { return start4(r).udp(1, 2).truncate(l2(r) + 20 + 4).build(); }, kDrop,
      kMalformed);
}

void link_layer_rows(Rows &rows) {
  const auto &a = addrs();
  for (const Roles &r : every_hook()) {
    if (r.hook == Hook::kUplinkL3) continue;
    const std::string name = r.name;
    rows.add({.description = name + " MPLS ethertype (0x8847) is not parsed: not_6pn",
              .hook = r.hook,
              .packet = PacketBuilder()
                            .ethernet()
                            .next_header(0x8847)
                            .payload({0x00, 0x01, 0x01, 0x40})
                            .ipv6(r.cross_src, r.cross_dst)
                            .udp(1, 2)
                            .build(),
              .verdict = kPass,
              .reason = kNot6pn});
    rows.add({.description = name + " PPPoE session ethertype (0x8864) is not parsed: not_6pn",
              .hook = r.hook,
              .packet = PacketBuilder()
                            .ethernet()
                            .next_header(0x8864)
                            .payload({0x11, 0x00, 0x00, 0x01, 0x00, 0x3e, 0x00, 0x57})
                            .ipv6(r.cross_src, r.cross_dst)
                            .udp(1, 2)
                            .build(),
              .verdict = kPass,
              .reason = kNot6pn});
    rows.add(
        {.description = name + " VLAN ID 0 (priority tag) is parsed like any tag",
         .hook = r.hook,
         .packet =
             PacketBuilder().ethernet().vlan(0).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build(),
         .verdict = kDrop,
         .reason = kCross});
    auto tagged =
        PacketBuilder().ethernet().vlan(5).ipv6(r.cross_src, r.cross_dst).udp(1, 2).build();
    rows.add({.description = name + " ethertype 0x9100 is not a VLAN tag here: not_6pn",
              .hook = r.hook,
              .packet = with16(tagged, 12, 0x9100),
              .verdict = kPass,
              .reason = kNot6pn});
  }
  (void)a;
}

void address_rows(Rows &rows) {
  const auto &a = addrs();
  const auto udp6 = [](const Ipv6 &s, const Ipv6 &d) {
    return PacketBuilder().ethernet().ipv6(s, d).udp(40000, 53).payload(8).build();
  };
  struct Case {
    Hook hook;
    const char *what;
    Ipv6 src, dst;
    sg_verdict verdict;
    sg_reason reason;
    Iface iface = Iface::kDefault;
  };
  const Case cases[] = {
      {Hook::kEgress, "to NAT64 64:ff9b::/96 passes as not_6pn", a.m1, addr("64:ff9b::a00:1"),
       kPass, kNot6pn},
      {Hook::kIngress, "from NAT64 64:ff9b::/96 passes as not_6pn", addr("64:ff9b::a00:1"), a.m1,
       kPass, kNot6pn},
      {Hook::kUplink, "NAT64 64:ff9b::/96 to a tenant passes as not_6pn", addr("64:ff9b::a00:1"),
       a.m1, kPass, kNot6pn},
      {Hook::kEgress, "to global multicast ff0e::1 passes as not_6pn", a.m1, addr("ff0e::1"), kPass,
       kNot6pn},
      {Hook::kEgress, "to embedded-RP multicast naming network B passes as not_6pn", a.m1,
       addr("ff7e:240:fdaa:3:1::1"), kPass, kNot6pn},
      {Hook::kIngress, "to ff0e::1 from network B is cross_network", a.b, addr("ff0e::1"), kDrop,
       kCross},
      {Hook::kIngress, "to embedded-RP multicast from the same network passes", a.a_peer,
       addr("ff7e:240:fdaa:2:45b::1"), kPass, kSame},
      {Hook::kUplink, "embedded-RP multicast from network B passes as not_6pn (not 6PN)", a.b,
       addr("ff7e:240:fdaa:2:45b::1"), kPass, kNot6pn},
      {Hook::kEgress, "to M2's subnet-router anycast (its /112, ::0) is cross_network", a.m1,
       addr("fdaa:3:1:b1:1:2:3:0"), kDrop, kCross},
      {Hook::kIngress, "to its own subnet-router anycast from the same network passes", a.a_peer,
       addr("fdaa:2:45b:a7b:174:db43:d3c6:0"), kPass, kSame},
      {Hook::kEgress, "from its own subnet-router anycast is legitimate",
       addr("fdaa:2:45b:a7b:174:db43:d3c6:0"), a.a_peer, kPass, kSame},
      {Hook::kEgress, "to fdaa::2 (one below the DNS /128) is cross_network", a.m1, addr("fdaa::2"),
       kDrop, kCross},
      {Hook::kEgress, "to fdaa::4 (one above the DNS /128) is cross_network", a.m1, addr("fdaa::4"),
       kDrop, kCross},
      {Hook::kEgress, "to the last address of the admin /48 passes as infra", a.m1,
       addr("fdaa:7:7:ffff:ffff:ffff:ffff:ffff"), kPass, kInfra},
      {Hook::kEgress, "to one below the admin /48 is cross_network", a.m1,
       addr("fdaa:7:6:ffff:ffff:ffff:ffff:ffff"), kDrop, kCross},
      {Hook::kEgress, "to one above the admin /48 is cross_network", a.m1, addr("fdaa:7:8::"),
       kDrop, kCross},
      {Hook::kIngress, "from one above the admin /48 is cross_network", addr("fdaa:7:8::"), a.m1,
       kDrop, kCross},
      {Hook::kUplink, "from one below the DNS /128 to a tenant is cross_network", addr("fdaa::2"),
       a.m1, kDrop, kCross},
      {Hook::kEgress, "to one below the Flycast address of its app is cross_network", a.m1,
       addr("fdaa:3:1:f1c::1"), kDrop, kCross},
      {Hook::kEgress, "to one above the Flycast address of its app is cross_network", a.m1,
       addr("fdaa:3:1:f1c::3"), kDrop, kCross},
      {Hook::kEgress, "of the target app to one above its Flycast address is cross_network", a.m2,
       addr("fdaa:2:45b:f1c::2"), kDrop, kCross, Iface::kM2},
      {Hook::kIngress, "from one above the Flycast address targeting its app is cross_network",
       addr("fdaa:3:1:f1c::3"), a.m1, kDrop, kCross},
      {Hook::kUplink, "from one above a Flycast address to its target's network is cross_network",
       addr("fdaa:3:1:f1c::3"), a.m1, kDrop, kCross},
  };
  for (const Case &c : cases) {
    const std::string hook = c.hook == Hook::kEgress    ? "egress "
                             : c.hook == Hook::kIngress ? "ingress "
                                                        : "uplink ";
    rows.add({.description = hook + c.what,
              .hook = c.hook,
              .packet = udp6(c.src, c.dst),
              .verdict = c.verdict,
              .reason = c.reason,
              .iface = c.iface});
  }
}

// ICMPv6: a neighbour solicitation (type 135) with its target, and an error (type 1) that
// embeds another packet's header. Checksums are not checked by the datapath.
std::vector<uint8_t> neighbour_solicitation(const Ipv6 &target) {
  std::vector<uint8_t> bytes = {135, 0, 0, 0, 0, 0, 0, 0};
  bytes.insert(bytes.end(), target.octets.begin(), target.octets.end());
  return bytes;
}

void icmpv6_rows(Rows &rows) {
  const auto &a = addrs();
  rows.add({.description = "egress neighbour solicitation for a target in another network is "
                           "judged on the IPv6 header: not_6pn",
            .hook = Hook::kEgress,
            .packet = PacketBuilder()
                          .ethernet()
                          .ipv6(a.link_local, a.solicited, 255)
                          .next_header(58)
                          .payload(neighbour_solicitation(a.b))
                          .build(),
            .verdict = kPass,
            .reason = kNot6pn});
  rows.add({.description = "ingress neighbour solicitation for a target in another network "
                           "passes as not_6pn",
            .hook = Hook::kIngress,
            .packet = PacketBuilder()
                          .ethernet()
                          .ipv6(a.link_local_peer, a.solicited, 255)
                          .next_header(58)
                          .payload(neighbour_solicitation(a.b))
                          .build(),
            .verdict = kPass,
            .reason = kNot6pn});
  rows.add({.description = "egress neighbour solicitation from a 6PN source of another network "
                           "is spoofed",
            .hook = Hook::kEgress,
            .packet = PacketBuilder()
                          .ethernet()
                          .ipv6(a.b, a.solicited, 255)
                          .next_header(58)
                          .payload(neighbour_solicitation(a.m1))
                          .build(),
            .verdict = kDrop,
            .reason = kSpoofed});
  const std::vector<uint8_t> unreachable = {1, 3, 0, 0, 0, 0, 0, 0};
  for (const Roles &r : every_hook()) {
    rows.add(
        {.description = std::string(r.name) +
                        " ICMPv6 error embedding another network's header is not a level",
         .hook = r.hook,
         .packet = start6(r).next_header(58).payload(unreachable).ipv6(a.b, a.c).udp(1, 2).build(),
         .verdict = kPass,
         .reason = kSame});
  }
}

void audit_rows(Rows &rows) {
  const auto &a = addrs();
  const auto uplink = [&](const std::string &what, std::vector<uint8_t> packet, sg_verdict verdict,
                          sg_reason reason, const Tweak &tweak) {
    rows.add({.description = "uplink " + what,
              .hook = Hook::kUplink,
              .packet = std::move(packet),
              .verdict = verdict,
              .reason = reason,
              .tweak = tweak});
  };
  const auto two = [&](const Ipv6 &os, const Ipv6 &od, const Ipv6 &is, const Ipv6 &id) {
    return PacketBuilder().ethernet().ipv6(os, od).ipv6(is, id).udp(1, 2).build();
  };
  uplink("inner drop to an enforcing network after a passing outer in an audited network drops",
         two(a.a_peer, a.m1, a.b, a.c), kDrop, kCross, audit_of(kNetA));
  uplink("inner drop whose destination's network is audited is audit",
         two(a.a_peer, a.m1, a.b, a.c), kAudit, kCross, audit_of(kNetC));
  uplink("outer drop audited and inner drop enforcing: the inner drop decides",
         two(a.b, a.m1, a.a_peer, a.c), kDrop, kCross, audit_of(kNetA));
  {
    auto packet = two(a.b, a.m1, a.a_peer, a.c);
    packet = with16(packet, 14 + 40 + 4, 0);  // inner jumbo: malformed, concerning network C
    uplink("outer cross audited and inner malformed enforcing: drop as malformed", packet, kDrop,
           kMalformed, audit_of(kNetA));
    uplink("outer cross and inner malformed both audited: audit as the outer's cross_network",
           packet, kAudit, kCross, [] {
             Tweak tweak;
             tweak.audit_networks = {kNetA, kNetC};
             return tweak;
           }());
  }
  uplink("outer drop enforcing and inner drop audited: the outer decides", two(a.b, a.c, a.b, a.m1),
         kDrop, kCross, audit_of(kNetA));
  uplink("version-5 inner header under the outer destination's audit is audit",
         PacketBuilder()
             .ethernet()
             .ipv6(a.a_peer, a.m1)
             .ipv6(a.b, a.c)
             .ipv6_version(5)
             .udp(1, 2)
             .build(),
         kAudit, kMalformed, audit_of(kNetA));
  uplink("version-5 inner header: its own bytes never pick the audited network",
         PacketBuilder()
             .ethernet()
             .ipv6(a.a_peer, a.m1)
             .ipv6(a.b, a.c)
             .ipv6_version(5)
             .udp(1, 2)
             .build(),
         kDrop, kMalformed, audit_of(kNetC));
  rows.add({.description = "egress spoofed outer and cross inner under the machine's audit: audit "
                           "as the first drop (spoofed)",
            .hook = Hook::kEgress,
            .packet = two(a.b, a.a_peer, a.m1, a.c),
            .verdict = kAudit,
            .reason = kSpoofed,
            .tweak = audit_of(kNetA)});
  rows.add({.description = "egress audited outer drop then a malformed inner under global audit "
                           "stays audit of the first drop",
            .hook = Hook::kEgress,
            .packet = PacketBuilder()
                          .ethernet()
                          .ipv6(a.m1, a.b)
                          .ipv6(a.m1, a.a_peer)
                          .ipv6_version(5)
                          .udp(1, 2)
                          .build(),
            .verdict = kAudit,
            .reason = kCross,
            .tweak = global_audit()});
  rows.add({.description = "ingress VXLAN hiding cross-network under the machine's audit is audit",
            .hook = Hook::kIngress,
            .packet = PacketBuilder()
                          .ethernet()
                          .ipv4(kHostV4a, kHostV4b)
                          .udp(40000, kVxlan)
                          .payload(vxlan_header())
                          .ethernet()
                          .ipv6(a.b, a.m1)
                          .udp(1, 2)
                          .build(),
            .verdict = kAudit,
            .reason = kCross,
            .tweak = audit_of(kNetA)});
  rows.add({.description = "egress IPv4 malformed on an unknown interface is malformed",
            .hook = Hook::kEgress,
            .packet = with16(PacketBuilder().ethernet().ipv4(1, 2).udp(1, 2).build(), 16, 400),
            .verdict = kDrop,
            .reason = kMalformed,
            .iface = Iface::kUnknown});
  (void)kNotForMachine;
  (void)kFlycast;
}

void byte_count_rows(Rows &rows) {
  const auto &a = addrs();
  // 9000 octets: more than a page, so the XDP test run builds a multi-buffer frame.
  rows.add(
      {.description = "egress 9000-byte multi-buffer frame is counted whole: same_network",
       .hook = Hook::kEgress,
       .packet = PacketBuilder().ethernet().ipv6(a.m1, a.a_peer).udp(1, 2).payload(8938).build(),
       .verdict = kPass,
       .reason = kSame,
       .xdp_multi_buffer = true});
  rows.add({.description = "egress 9000-byte multi-buffer frame across networks is cross_network",
            .hook = Hook::kEgress,
            .packet = PacketBuilder().ethernet().ipv6(a.m1, a.b).udp(1, 2).payload(8938).build(),
            .verdict = kDrop,
            .reason = kCross,
            .xdp_multi_buffer = true});
  {
    auto packet = PacketBuilder().ethernet().ipv6(a.m1, a.a_peer).udp(1, 2).payload(8938).build();
    packet = with16(packet, 18, static_cast<uint16_t>(packet.size() - 54 + 1));
    rows.add({.description = "egress multi-buffer frame one byte short of its payload length is "
                             "malformed",
              .hook = Hook::kEgress,
              .packet = packet,
              .verdict = kDrop,
              .reason = kMalformed,
              .xdp_multi_buffer = true});
  }
}

}  // namespace

void append_encapsulation_rows(std::vector<Row> &rows) {
  Rows table(rows);
  ipv6_header_rows(table);
  udp_encapsulation_rows(table);
  ipv4_outer_rows(table);
  link_layer_rows(table);
  address_rows(table);
  icmpv6_rows(table);
  audit_rows(table);
  byte_count_rows(table);
}

}  // namespace sixguard::bpftest
