#include "tests/bpf/verdict_table.h"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "agent/core/packet_builder.h"
#include "tests/bpf/row_names.h"

namespace sixguard::bpftest {

namespace {

using namespace row_names;

constexpr Hook E = Hook::kEgress;
constexpr Hook I = Hook::kIngress;
constexpr Hook U = Hook::kUplink;
constexpr Hook L = Hook::kUplinkL3;

// Ethernet + IPv6 from s to d: the start of most packets.
PacketBuilder eth6(const Ipv6 &s, const Ipv6 &d) {
  return std::move(PacketBuilder().ethernet().ipv6(s, d));
}
// A complete UDP datagram from s to d.
std::vector<uint8_t> udp6(const Ipv6 &s, const Ipv6 &d) {
  return eth6(s, d).udp(40000, 53).payload(8).build();
}
std::vector<uint8_t> l3_udp6(const Ipv6 &s, const Ipv6 &d) {
  return PacketBuilder().ipv6(s, d).udp(40000, 53).payload(8).build();
}
// Outer s->d carrying an inner IPv6 packet is->id (next header 41).
std::vector<uint8_t> ip6in6(const Ipv6 &s, const Ipv6 &d, const Ipv6 &is, const Ipv6 &id) {
  return eth6(s, d).ipv6(is, id).udp(1, 2).build();
}
std::vector<uint8_t> gre6(const Ipv6 &s, const Ipv6 &d, const Ipv6 &is, const Ipv6 &id,
                          GreOptions options = {}) {
  return eth6(s, d).gre(options).ipv6(is, id).udp(1, 2).build();
}
std::vector<uint8_t> ipv4_frame() {
  return PacketBuilder().ethernet().ipv4(0x0a000001, 0x0a000002).udp(1, 2).build();
}

GreOptions gre_with(void (*set)(GreOptions &)) {
  GreOptions options;
  set(options);
  return options;
}

Tweak global_audit() {
  return Tweak{.config_flags = SG_CFG_AUDIT};
}
Tweak audit_network(uint32_t network) {
  return Tweak{.audit_networks = {network}};
}

std::vector<Row> build_rows() {
  const auto &a = addrs();
  std::vector<Row> rows;
  const auto add = [&rows](Row row) { rows.push_back(std::move(row)); };

  // --- Rule 1: not IPv6 passes at every hook, even on an unknown interface. ---
  add({"egress IPv4 passes as not_6pn", E, ipv4_frame(), kPass, kNot6pn});
  add({"egress ARP passes as not_6pn", E, PacketBuilder().ethernet().arp().build(), kPass,
       kNot6pn});
  add({.description = "egress IPv4 on an unknown interface still passes (rule 1 first)",
       .hook = E,
       .packet = ipv4_frame(),
       .verdict = kPass,
       .reason = kNot6pn,
       .iface = Iface::kUnknown});
  add({"egress IPv4 inside a VLAN tag passes as not_6pn", E,
       PacketBuilder().ethernet().vlan(10).ipv4(1, 2).udp(1, 2).build(), kPass, kNot6pn});
  add({"ingress IPv4 passes as not_6pn", I, ipv4_frame(), kPass, kNot6pn});
  add({.description = "ingress ARP on an unknown interface passes",
       .hook = I,
       .packet = PacketBuilder().ethernet().arp().build(),
       .verdict = kPass,
       .reason = kNot6pn,
       .iface = Iface::kUnknown});
  add({"uplink IPv4 passes as not_6pn", U, ipv4_frame(), kPass, kNot6pn});
  add({"uplink ARP passes as not_6pn", U, PacketBuilder().ethernet().arp().build(), kPass,
       kNot6pn});
  add({.description = "L3 uplink IPv4 passes as not_6pn",
       .hook = L,
       .packet = PacketBuilder().ipv4(0x0a000001, 0x0a000002).udp(1, 2).build(),
       .verdict = kPass,
       .reason = kNot6pn,
       .l3_protocol = 0x0800});

  // --- Rule 2: truncated or unparseable headers are dropped as malformed. ---
  add({"egress Ethernet header alone with the IPv6 ethertype is malformed", E,
       eth6(a.m1, a.a_peer).truncate(14).build(), kDrop, kMalformed});
  add({"egress IPv6 header cut at 30 bytes is malformed", E,
       eth6(a.m1, a.a_peer).udp(1, 2).truncate(14 + 30).build(), kDrop, kMalformed});
  add({"egress VLAN tag cut in half is malformed", E,
       PacketBuilder().ethernet().vlan(10).ipv6(a.m1, a.a_peer).truncate(16).build(), kDrop,
       kMalformed});
  add({"egress three VLAN tags are malformed", E,
       PacketBuilder()
           .ethernet()
           .vlan(1, PacketBuilder::kTpid8021AD)
           .vlan(2)
           .vlan(3)
           .ipv6(a.m1, a.a_peer)
           .udp(1, 2)
           .build(),
       kDrop, kMalformed});
  add({"egress IPv6 ethertype with version 4 in the header is malformed", E,
       eth6(a.m1, a.a_peer).ipv6_version(4).udp(1, 2).build(), kDrop, kMalformed});
  add({"egress hop-by-hop header longer than the packet is malformed", E,
       eth6(a.m1, a.a_peer).hop_by_hop(2).udp(1, 2).truncate(14 + 40 + 12).build(), kDrop,
       kMalformed});
  add({"egress AH header cut short is malformed", E,
       eth6(a.m1, a.a_peer).authentication(4).udp(1, 2).truncate(14 + 40 + 10).build(), kDrop,
       kMalformed});
  add({"egress fragment header cut short is malformed", E,
       eth6(a.m1, a.a_peer).fragment(0, true).udp(1, 2).truncate(14 + 40 + 5).build(), kDrop,
       kMalformed});
  add({"egress GRE version 1 is malformed", E,
       gre6(a.m1, a.a_peer, a.m1, a.a_peer, gre_with([](GreOptions &o) { o.version = 1; })), kDrop,
       kMalformed});
  add({"egress GRE with the routing bit is malformed", E,
       gre6(a.m1, a.a_peer, a.m1, a.a_peer, gre_with([](GreOptions &o) { o.routing = true; })),
       kDrop, kMalformed});
  add({"egress GRE with an unknown protocol (ERSPAN) is malformed", E,
       eth6(a.m1, a.a_peer)
           .gre(gre_with([](GreOptions &o) { o.protocol = 0x88be; }))
           .payload(32)
           .build(),
       kDrop, kMalformed});
  add({"egress GRE carrying IPv4 cut inside its key field is malformed", E,
       eth6(a.m1, a.a_peer)
           .gre(gre_with([](GreOptions &o) { o.key = true; }))
           .ipv4(1, 2)
           .udp(1, 2)
           .truncate(14 + 40 + 4 + 2)
           .build(),
       kDrop, kMalformed});
  add({"egress IPv6-in-IPv6 nested three deep is malformed", E,
       eth6(a.m1, a.a_peer)
           .ipv6(a.m1, a.a_peer)
           .ipv6(a.m1, a.a_peer)
           .ipv6(a.m1, a.a_peer)
           .udp(1, 2)
           .build(),
       kDrop, kMalformed});
  add({.description = "egress on an unknown interface, malformed first (rule 2 before fail-closed)",
       .hook = E,
       .packet = eth6(a.m1, a.a_peer).udp(1, 2).truncate(14 + 20).build(),
       .verdict = kDrop,
       .reason = kMalformed,
       .iface = Iface::kUnknown});
  add({"ingress VLAN-tagged IPv6 header cut at 39 bytes is malformed", I,
       PacketBuilder().ethernet().vlan(3).ipv6(a.a_peer, a.m1).udp(1, 2).truncate(18 + 39).build(),
       kDrop, kMalformed});
  add({"ingress destination-options header longer than the packet is malformed", I,
       eth6(a.a_peer, a.m1).destination_options(1).udp(1, 2).truncate(14 + 40 + 9).build(), kDrop,
       kMalformed});
  add({"ingress inner IPv6 header cut short is malformed", I,
       eth6(a.a_peer, a.m1).ipv6(a.a_peer, a.m1).udp(1, 2).truncate(14 + 40 + 20).build(), kDrop,
       kMalformed});
  add({"uplink routing header cut short is malformed", U,
       eth6(a.a_peer, a.m1).routing(3).udp(1, 2).truncate(14 + 40 + 16).build(), kDrop,
       kMalformed});
  {
    PacketBuilder nine = eth6(a.a_peer, a.m1);
    for (int i = 0; i < 9; ++i) nine.destination_options();
    add({"uplink chain of 9 extension headers exceeds the walk limit: malformed", U,
         nine.udp(1, 2).build(), kDrop, kMalformed});
    PacketBuilder eight = eth6(a.a_peer, a.m1);
    for (int i = 0; i < 4; ++i) eight.hop_by_hop().destination_options();
    add({"uplink chain of exactly 8 extension headers is walked: same_network", U,
         eight.udp(1, 2).build(), kPass, kSame});
  }
  add({"uplink GRE header cut short is malformed", U,
       eth6(a.a_peer, a.m1)
           .gre(gre_with([](GreOptions &o) { o.key = true; }))
           .ipv6(a.a_peer, a.m1)
           .truncate(14 + 40 + 6)
           .build(),
       kDrop, kMalformed});
  add({"uplink first fragment whose inner IPv6 header is cut is malformed", U,
       eth6(a.a_peer, a.m1).fragment(0, true).ipv6(a.b, a.m1).truncate(14 + 40 + 8 + 24).build(),
       kDrop, kMalformed});
  add({"uplink GRE TEB with a truncated inner Ethernet header is malformed", U,
       eth6(a.a_peer, a.m1).gre().ethernet().ipv6(a.b, a.m1).truncate(14 + 40 + 4 + 10).build(),
       kDrop, kMalformed});
  add({"L3 uplink IPv6 header cut short is malformed", L,
       PacketBuilder().ipv6(a.a_peer, a.m1).udp(1, 2).truncate(30).build(), kDrop, kMalformed});

  // --- machine_egress rule 3: the source must be the machine's /112, link-local or ::. ---
  add({"egress source on another network is spoofed", E, udp6(a.b, a.a_peer), kDrop, kSpoofed});
  add({"egress source on the same network outside the /112 is spoofed", E,
       udp6(a.a_outside_112, a.a_peer), kDrop, kSpoofed});
  add({"egress public source is spoofed", E, udp6(a.public_v6, a.public_v6), kDrop, kSpoofed});
  add({"egress source elsewhere in the machine's /112 is legitimate", E,
       udp6(a.m1_other_free, a.a_peer), kPass, kSame});
  add({"egress link-local neighbour solicitation to multicast passes as not_6pn", E,
       eth6(a.link_local, a.solicited).icmpv6_echo().build(), kPass, kNot6pn});
  add({"egress DAD probe from :: passes as not_6pn", E,
       eth6(a.unspecified, a.solicited).icmpv6_echo().build(), kPass, kNot6pn});
  add({"egress link-local source towards another network is cross_network", E,
       udp6(a.link_local, a.b), kDrop, kCross});
  add({.description = "egress on an unknown interface fails closed as spoofed_source",
       .hook = E,
       .packet = udp6(a.m1, a.a_peer),
       .verdict = kDrop,
       .reason = kSpoofed,
       .iface = Iface::kUnknown});
  add({.description = "egress on an unknown interface drops even link-local ND",
       .hook = E,
       .packet = eth6(a.link_local, a.all_nodes).icmpv6_echo().build(),
       .verdict = kDrop,
       .reason = kSpoofed,
       .iface = Iface::kUnknown});

  // --- machine_egress rules 4-8. ---
  add({"egress to a public address passes as not_6pn", E, udp6(a.m1, a.public_v6), kPass, kNot6pn});
  add({"egress to ::ffff:-mapped IPv4 passes as not_6pn", E, udp6(a.m1, a.mapped_v4), kPass,
       kNot6pn});
  add({"egress to fdab:: (one bit off fdaa) passes as not_6pn", E, udp6(a.m1, a.near_6pn), kPass,
       kNot6pn});
  add({"egress to another ULA (fd00::) passes as not_6pn", E, udp6(a.m1, a.ula_other), kPass,
       kNot6pn});
  add({"egress to fdaa::3 (DNS, network 0) passes as infra", E, udp6(a.m1, a.dns), kPass, kInfra});
  add({"egress to network 0 outside the infra prefixes is cross_network", E, udp6(a.m1, a.net0),
       kDrop, kCross});
  add({"egress to the admin tunnel prefix on a listed network passes as infra", E,
       udp6(a.m1, a.admin), kPass, kInfra});
  add({.description =
           "egress to the admin prefix when its network is not in infra_nets skips the lookup",
       .hook = E,
       .packet = udp6(a.m1, a.admin),
       .verdict = kDrop,
       .reason = kCross,
       .tweak = Tweak{.infra_nets = std::vector<uint32_t>{0}}});
  add({.description = "egress to the admin prefix with SG_CFG_INFRA_ANY_NET and no listed network",
       .hook = E,
       .packet = udp6(a.m1, a.admin),
       .verdict = kPass,
       .reason = kInfra,
       .tweak =
           Tweak{.config_flags = SG_CFG_INFRA_ANY_NET, .infra_nets = std::vector<uint32_t>{}}});
  add({.description = "egress to fdaa::3 with an empty infra_nets list is cross_network",
       .hook = E,
       .packet = udp6(a.m1, a.dns),
       .verdict = kDrop,
       .reason = kCross,
       .tweak = Tweak{.infra_nets = std::vector<uint32_t>{}}});
  add({"egress to an address differing only in host and machine bits is same_network", E,
       udp6(a.m1, a.a_peer), kPass, kSame});
  add({"egress TCP to the same network passes", E, eth6(a.m1, a.a_peer).tcp(1234, 80).build(),
       kPass, kSame});
  add({"egress to network B is cross_network", E, udp6(a.m1, a.b), kDrop, kCross});
  add({"egress to network C is cross_network", E, udp6(a.m1, a.c), kDrop, kCross});
  add({"egress to a Flycast address allocated into its own network is same_network", E,
       udp6(a.m1, a.fc_into_a), kPass, kSame});
  add({"egress to a Flycast address whose target is its app passes as flycast", E,
       udp6(a.m1, a.fc_to_m1), kPass, kFlycast});
  add({"egress to a Flycast address of another network is cross_network", E, udp6(a.m1, a.fc_b),
       kDrop, kCross});
  add({.description = "egress of the target app to its Flycast address passes as flycast",
       .hook = E,
       .packet = udp6(a.m2, a.fc_into_a),
       .verdict = kPass,
       .reason = kFlycast,
       .iface = Iface::kM2});
  add({.description =
           "egress of another app of the target's network to the Flycast address is cross",
       .hook = E,
       .packet = udp6(a.m3, a.fc_into_a),
       .verdict = kDrop,
       .reason = kCross,
       .iface = Iface::kM3});
  add({.description = "egress of machine M2 to its own network passes",
       .hook = E,
       .packet = udp6(a.m2, a.m3),
       .verdict = kPass,
       .reason = kSame,
       .iface = Iface::kM2});

  // --- Audit mode at machine_egress. ---
  add({.description = "egress cross_network under global audit passes as audit",
       .hook = E,
       .packet = udp6(a.m1, a.b),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = global_audit()});
  add({.description = "egress cross_network with its network in audit passes as audit",
       .hook = E,
       .packet = udp6(a.m1, a.b),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = audit_network(kNetA)});
  add({.description = "egress audit of the destination's network does not apply to the sender",
       .hook = E,
       .packet = udp6(a.m1, a.b),
       .verdict = kDrop,
       .reason = kCross,
       .tweak = audit_network(kNetB)});
  add({.description = "egress network audit entry is not consulted without SG_CFG_NET_AUDIT_ANY",
       .hook = E,
       .packet = udp6(a.m1, a.b),
       .verdict = kDrop,
       .reason = kCross,
       .tweak = Tweak{.audit_networks = {kNetA}, .without_audit_any = true}});
  add({.description = "egress spoofed source under global audit passes as audit",
       .hook = E,
       .packet = udp6(a.b, a.a_peer),
       .verdict = kAudit,
       .reason = kSpoofed,
       .tweak = global_audit()});
  add({.description = "egress malformed under network audit passes as audit",
       .hook = E,
       .packet = eth6(a.m1, a.a_peer).udp(1, 2).truncate(14 + 30).build(),
       .verdict = kAudit,
       .reason = kMalformed,
       .tweak = audit_network(kNetA)});
  add({.description = "egress same_network under audit is still a plain pass",
       .hook = E,
       .packet = udp6(a.m1, a.a_peer),
       .verdict = kPass,
       .reason = kSame,
       .tweak = global_audit()});

  // --- VLAN, extension headers and fragments at machine_egress. ---
  add({"egress 802.1Q tagged cross_network is dropped", E,
       PacketBuilder().ethernet().vlan(100).ipv6(a.m1, a.b).udp(1, 2).build(), kDrop, kCross});
  add({"egress QinQ (802.1ad + 802.1Q) same_network passes", E,
       PacketBuilder()
           .ethernet()
           .vlan(100, PacketBuilder::kTpid8021AD)
           .vlan(200)
           .ipv6(a.m1, a.a_peer)
           .udp(1, 2)
           .build(),
       kPass, kSame});
  add({"egress QinQ cross_network is dropped", E,
       PacketBuilder()
           .ethernet()
           .vlan(100, PacketBuilder::kTpid8021AD)
           .vlan(200)
           .ipv6(a.m1, a.c)
           .udp(1, 2)
           .build(),
       kDrop, kCross});
  add({"egress hop-by-hop header is walked", E,
       eth6(a.m1, a.a_peer).hop_by_hop(1).udp(1, 2).build(), kPass, kSame});
  add({"egress routing header is walked", E, eth6(a.m1, a.b).routing(2).udp(1, 2).build(), kDrop,
       kCross});
  add({"egress destination-options header is walked", E,
       eth6(a.m1, a.a_peer).destination_options().udp(1, 2).build(), kPass, kSame});
  add({"egress AH header (4-octet units) is walked", E,
       eth6(a.m1, a.a_peer).authentication(4).udp(1, 2).build(), kPass, kSame});
  add({"egress ESP ends the walk: outer check only", E,
       eth6(a.m1, a.a_peer).esp().payload(40).build(), kPass, kSame});
  add({"egress no-next-header ends the walk", E, eth6(a.m1, a.a_peer).payload(8).build(), kPass,
       kSame});
  add({"egress first fragment to another network is cross_network", E,
       eth6(a.m1, a.b).fragment(0, true).udp(1, 2).payload(64).build(), kDrop, kCross});
  add({"egress non-first fragment to another network is cross_network (outer check)", E,
       eth6(a.m1, a.b).fragment(100, true).payload(64).build(), kDrop, kCross});
  add({"egress atomic fragment to the same network passes", E,
       eth6(a.m1, a.a_peer).fragment(0, false).udp(1, 2).build(), kPass, kSame});
  add({"egress non-first fragment to the same network passes", E,
       eth6(a.m1, a.a_peer).fragment(185, false).payload(64).build(), kPass, kSame});
  add({"egress non-first fragment claiming an inner IPv6 header gets the outer check only", E,
       eth6(a.m1, a.a_peer).fragment(8, false).next_header(41).payload(64).build(), kPass, kSame});
  add({"egress first fragment carrying IPv6-in-IPv6 to another network is cross", E,
       eth6(a.m1, a.a_peer).fragment(0, true).ipv6(a.m1, a.b).udp(1, 2).build(), kDrop, kCross});

  // --- Tunnels at machine_egress: same-network outer headers, cross-network inner. ---
  add({"egress IPv6-in-IPv6 hiding a cross-network packet is cross_network", E,
       ip6in6(a.m1, a.a_peer, a.m1, a.b), kDrop, kCross});
  add({"egress IPv6-in-IPv6 with a spoofed inner source is spoofed", E,
       ip6in6(a.m1, a.a_peer, a.b, a.a_peer), kDrop, kSpoofed});
  add({"egress IPv6-in-IPv6 nested two deep, all same network, passes", E,
       eth6(a.m1, a.a_peer).ipv6(a.m1, a.a_peer).ipv6(a.m1, a.a_peer).udp(1, 2).build(), kPass,
       kSame});
  add({"egress IPv6-in-IPv6 two deep hiding cross-network at the bottom is cross", E,
       eth6(a.m1, a.a_peer).ipv6(a.m1, a.a_peer).ipv6(a.m1, a.c).udp(1, 2).build(), kDrop, kCross});
  add({"egress inner to a public address keeps the outer reason", E,
       ip6in6(a.m1, a.a_peer, a.m1, a.public_v6), kPass, kSame});
  add({"egress GRE hiding a cross-network packet is cross_network", E,
       gre6(a.m1, a.a_peer, a.m1, a.b), kDrop, kCross});
  add({"egress GRE with checksum, key and sequence hiding cross-network is cross", E,
       gre6(a.m1, a.a_peer, a.m1, a.c, gre_with([](GreOptions &o) {
              o.checksum = true;
              o.key = true;
              o.sequence = true;
            })),
       kDrop, kCross});
  add({"egress GRE TEB with a VLAN-tagged inner frame hiding cross-network is cross", E,
       eth6(a.m1, a.a_peer).gre().ethernet().vlan(5).ipv6(a.m1, a.b).udp(1, 2).build(), kDrop,
       kCross});
  add({"egress GRE TEB with QinQ inner frame hiding cross-network is cross", E,
       eth6(a.m1, a.a_peer)
           .gre()
           .ethernet()
           .vlan(5, PacketBuilder::kTpid8021AD)
           .vlan(6)
           .ipv6(a.m1, a.b)
           .udp(1, 2)
           .build(),
       kDrop, kCross});
  add({"egress GRE TEB carrying ARP gets the outer check only", E,
       eth6(a.m1, a.a_peer).gre().ethernet().arp().build(), kPass, kSame});
  add({"egress GRE carrying IPv4 gets the outer check only", E,
       eth6(a.m1, a.a_peer).gre().ipv4(1, 2).udp(1, 2).build(), kPass, kSame});
  add({"egress IPv4-in-IPv6 gets the outer check only", E,
       eth6(a.m1, a.a_peer).ipv4(1, 2).udp(1, 2).build(), kPass, kSame});
  add({"egress IPv4-in-IPv6 across networks is cross_network on the outer", E,
       eth6(a.m1, a.b).ipv4(1, 2).udp(1, 2).build(), kDrop, kCross});
  add({.description = "egress tunnel cross-network inner under global audit passes as audit",
       .hook = E,
       .packet = ip6in6(a.m1, a.a_peer, a.m1, a.b),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = global_audit()});

  // --- machine_ingress. ---
  add({"ingress from the same network passes", I, udp6(a.a_peer, a.m1), kPass, kSame});
  add({"ingress to another address of the machine's /112 passes", I,
       udp6(a.a_peer, a.m1_other_free), kPass, kSame});
  add({"ingress from another network is cross_network", I, udp6(a.b, a.m1), kDrop, kCross});
  add({"ingress from network 0 outside the infra prefixes is cross_network", I, udp6(a.net0, a.m1),
       kDrop, kCross});
  add({"ingress for another machine is not_for_machine", I, udp6(a.m1, a.a_peer), kDrop,
       kNotForMachine});
  add({"ingress for the same network outside the /112 is not_for_machine", I,
       udp6(a.a_peer, a.a_outside_112), kDrop, kNotForMachine});
  add({"ingress to multicast from link-local passes as not_6pn", I,
       eth6(a.link_local_peer, a.all_nodes).icmpv6_echo().build(), kPass, kNot6pn});
  add({"ingress to link-local from link-local passes as not_6pn", I,
       eth6(a.link_local_peer, a.link_local).icmpv6_echo().build(), kPass, kNot6pn});
  add({"ingress to multicast from another network is cross_network", I, udp6(a.b, a.all_nodes),
       kDrop, kCross});
  add({"ingress from a public address passes as not_6pn", I, udp6(a.public_v6, a.m1), kPass,
       kNot6pn});
  add({"ingress from ::ffff:-mapped IPv4 passes as not_6pn", I, udp6(a.mapped_v4, a.m1), kPass,
       kNot6pn});
  add({"ingress from fdaa::3 passes as infra", I, udp6(a.dns, a.m1), kPass, kInfra});
  add({"ingress from the admin tunnel prefix passes as infra", I, udp6(a.admin, a.m1), kPass,
       kInfra});
  add({"ingress from a Flycast address targeting its app passes as flycast", I,
       udp6(a.fc_to_m1, a.m1), kPass, kFlycast});
  add({"ingress from a Flycast address targeting another app is cross_network", I,
       udp6(a.fc_b, a.m1), kDrop, kCross});
  add({.description = "ingress to the target app from its Flycast address passes as flycast",
       .hook = I,
       .packet = udp6(a.fc_into_a, a.m2),
       .verdict = kPass,
       .reason = kFlycast,
       .iface = Iface::kM2});
  add({.description = "ingress on an unknown interface fails closed as not_for_machine",
       .hook = I,
       .packet = udp6(a.a_peer, a.m1),
       .verdict = kDrop,
       .reason = kNotForMachine,
       .iface = Iface::kUnknown});
  add({.description = "ingress cross_network under global audit passes as audit",
       .hook = I,
       .packet = udp6(a.b, a.m1),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = global_audit()});
  add({.description = "ingress cross_network with its network in audit passes as audit",
       .hook = I,
       .packet = udp6(a.b, a.m1),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = audit_network(kNetA)});
  add({.description = "ingress not_for_machine under network audit passes as audit",
       .hook = I,
       .packet = udp6(a.m1, a.a_peer),
       .verdict = kAudit,
       .reason = kNotForMachine,
       .tweak = audit_network(kNetA)});
  add({"ingress VLAN-tagged cross_network is dropped", I,
       PacketBuilder().ethernet().vlan(7).ipv6(a.c, a.m1).udp(1, 2).build(), kDrop, kCross});
  add({"ingress IPv6-in-IPv6 hiding a cross-network source is cross_network", I,
       ip6in6(a.a_peer, a.m1, a.b, a.m1), kDrop, kCross});
  add({"ingress GRE hiding an inner packet for another machine is not_for_machine", I,
       gre6(a.a_peer, a.m1, a.a_peer, a.a_outside_112), kDrop, kNotForMachine});
  add({"ingress non-first fragment from another network is cross_network", I,
       eth6(a.b, a.m1).fragment(64, false).payload(32).build(), kDrop, kCross});

  // --- uplink. ---
  add({"uplink between addresses of the same network passes", U, udp6(a.a_peer, a.m1), kPass,
       kSame});
  add({"uplink across networks is cross_network", U, udp6(a.b, a.m1), kDrop, kCross});
  add({"uplink from a public address passes as not_6pn", U, udp6(a.public_v6, a.m1), kPass,
       kNot6pn});
  add({"uplink to a public address passes as not_6pn", U, udp6(a.m1, a.public_v6), kPass, kNot6pn});
  add({"uplink to ::ffff:-mapped passes as not_6pn", U, udp6(a.m1, a.mapped_v4), kPass, kNot6pn});
  add({"uplink from fdaa::3 to any network passes as infra", U, udp6(a.dns, a.b), kPass, kInfra});
  add({"uplink to fdaa::3 from any network passes as infra", U, udp6(a.c, a.dns), kPass, kInfra});
  add({"uplink from network 0 outside infra to a tenant is cross_network", U, udp6(a.net0, a.m1),
       kDrop, kCross});
  add({"uplink to a Flycast address targeting an app on the sender's network is flycast", U,
       udp6(a.m1, a.fc_to_m1), kPass, kFlycast});
  add({"uplink from a Flycast address to its target app's network is flycast", U,
       udp6(a.fc_to_m1, a.m1), kPass, kFlycast});
  add({"uplink from the target app's network to its Flycast address is flycast", U,
       udp6(a.m2, a.fc_into_a), kPass, kFlycast});
  add({"uplink from a third network to a Flycast address is cross_network", U,
       udp6(a.c, a.fc_to_m1), kDrop, kCross});
  add({.description = "uplink cross_network under global audit passes as audit",
       .hook = U,
       .packet = udp6(a.b, a.m1),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = global_audit()});
  add({.description = "uplink audit follows the destination's network",
       .hook = U,
       .packet = udp6(a.b, a.m1),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = audit_network(kNetA)});
  add({.description = "uplink audit of the source's network alone does not apply",
       .hook = U,
       .packet = udp6(a.b, a.m1),
       .verdict = kDrop,
       .reason = kCross,
       .tweak = audit_network(kNetB)});
  add({.description = "uplink truncated IPv6 under network audit is dropped (no destination known)",
       .hook = U,
       .packet =
           PacketBuilder().ethernet().vlan(9).ipv6(a.b, a.m1).udp(1, 2).truncate(18 + 20).build(),
       .verdict = kDrop,
       .reason = kMalformed,
       .tweak = audit_network(kNetA)});
  add({.description = "uplink truncated IPv6 under global audit passes as audit",
       .hook = U,
       .packet =
           PacketBuilder().ethernet().vlan(9).ipv6(a.b, a.m1).udp(1, 2).truncate(18 + 20).build(),
       .verdict = kAudit,
       .reason = kMalformed,
       .tweak = global_audit()});
  add({.description =
           "uplink malformed inner header under the destination's network audit is audit",
       .hook = U,
       .packet = eth6(a.a_peer, a.m1).ipv6(a.b, a.m1).ipv6_version(5).udp(1, 2).build(),
       .verdict = kAudit,
       .reason = kMalformed,
       .tweak = audit_network(kNetA)});
  add({"uplink QinQ cross_network is dropped", U,
       PacketBuilder()
           .ethernet()
           .vlan(1, PacketBuilder::kTpid8021AD)
           .vlan(2)
           .ipv6(a.b, a.m1)
           .udp(1, 2)
           .build(),
       kDrop, kCross});
  add({"uplink GRE hiding a cross-network packet is cross_network", U,
       gre6(a.a_peer, a.m1, a.b, a.m1), kDrop, kCross});
  add({"uplink GRE TEB hiding a cross-network packet is cross_network", U,
       eth6(a.a_peer, a.m1).gre().ethernet().ipv6(a.b, a.m1).udp(1, 2).build(), kDrop, kCross});
  add({"uplink IPv6-in-IPv6 hiding a cross-network packet is cross_network", U,
       ip6in6(a.a_peer, a.m1, a.c, a.m1), kDrop, kCross});
  add({"uplink tunnel inner infra keeps the outer reason", U, ip6in6(a.a_peer, a.m1, a.dns, a.b),
       kPass, kSame});
  add({"uplink first fragment across networks is cross_network", U,
       eth6(a.b, a.m1).fragment(0, true).udp(1, 2).payload(64).build(), kDrop, kCross});
  add({"uplink non-first fragment across networks is cross_network", U,
       eth6(a.b, a.m1).fragment(77, true).payload(64).build(), kDrop, kCross});
  add({"uplink non-first fragment on the same network passes", U,
       eth6(a.a_peer, a.m1).fragment(77, false).payload(64).build(), kPass, kSame});
  add({"uplink link-local traffic passes as not_6pn", U,
       eth6(a.link_local, a.all_nodes).icmpv6_echo().build(), kPass, kNot6pn});

  // --- L3 uplink (tun/WireGuard): the packet starts at the IPv6 header. ---
  add({"L3 uplink same network passes", L, l3_udp6(a.a_peer, a.m1), kPass, kSame});
  add({"L3 uplink across networks is cross_network", L, l3_udp6(a.b, a.m1), kDrop, kCross});
  add({"L3 uplink from fdaa::3 passes as infra", L, l3_udp6(a.dns, a.c), kPass, kInfra});
  add({"L3 uplink from a Flycast address to its target app's network is flycast", L,
       l3_udp6(a.fc_to_m1, a.m1), kPass, kFlycast});
  add({"L3 uplink from a public address passes as not_6pn", L, l3_udp6(a.public_v6, a.m1), kPass,
       kNot6pn});
  add({"L3 uplink IPv6-in-IPv6 hiding cross-network is cross_network", L,
       PacketBuilder().ipv6(a.a_peer, a.m1).ipv6(a.b, a.m1).udp(1, 2).build(), kDrop, kCross});
  add({.description = "L3 uplink cross_network with the destination's network in audit is audit",
       .hook = L,
       .packet = l3_udp6(a.b, a.m1),
       .verdict = kAudit,
       .reason = kCross,
       .tweak = audit_network(kNetA)});
  add({"L3 uplink IPv6 protocol with a version-4 header is malformed", L,
       PacketBuilder().ipv6(a.a_peer, a.m1).ipv6_version(4).udp(1, 2).build(), kDrop, kMalformed});
  append_encapsulation_rows(rows);
  return rows;
}

}  // namespace

const std::vector<Row> &verdict_rows() {
  static const std::vector<Row> rows = build_rows();
  return rows;
}

uint32_t expected_action(Program program, sg_verdict verdict) {
  const bool drop = verdict == SG_VERDICT_DROP;
  if (program == Program::kMachineEgress) return drop ? XDP_DROP : XDP_PASS;
  return static_cast<uint32_t>(drop ? TC_ACT_SHOT : TC_ACT_UNSPEC);
}

uint32_t expected_action(Hook hook, sg_verdict verdict) {
  return expected_action(program_of(hook), verdict);
}

Program program_on_this_kernel(Hook hook, const Datapath &datapath) {
  return hook == Hook::kEgress ? datapath.machine_egress() : program_of(hook);
}

sg_hook hook_id(Hook hook) {
  switch (hook) {
    case Hook::kEgress:
      return SG_HOOK_MACHINE_EGRESS;
    case Hook::kIngress:
      return SG_HOOK_MACHINE_INGRESS;
    case Hook::kUplink:
    case Hook::kUplinkL3:
      return SG_HOOK_UPLINK;
  }
  return SG_HOOK_COUNT;
}

Program program_of(Hook hook) {
  switch (hook) {
    case Hook::kEgress:
      return Program::kMachineEgress;
    case Hook::kIngress:
      return Program::kMachineIngress;
    case Hook::kUplink:
      return Program::kUplink;
    case Hook::kUplinkL3:
      return Program::kUplinkL3;
  }
  return Program::kUplink;
}

uint32_t ifindex_of(const Host &host, const Row &row) {
  Iface iface = row.iface;
  if (iface == Iface::kDefault) {
    iface = row.hook == Hook::kUplink     ? Iface::kUplink
            : row.hook == Hook::kUplinkL3 ? Iface::kTun
                                          : Iface::kM1;
  }
  switch (iface) {
    case Iface::kM1:
      return host.if_m1;
    case Iface::kM2:
      return host.if_m2;
    case Iface::kM3:
      return host.if_m3;
    case Iface::kUnknown:
      return host.if_unknown;
    case Iface::kUplink:
      return host.if_uplink;
    case Iface::kTun:
      return host.if_tun;
    case Iface::kDefault:
      break;
  }
  return 0;
}

bool skb_test_run_refuses(const std::vector<uint8_t> &frame) {
  if (frame.size() < 14) return true;
  const uint16_t ethertype = static_cast<uint16_t>((frame[12] << 8) | frame[13]);
  if (ethertype == 0x86dd) return frame.size() < 14 + 40;
  if (ethertype == 0x0800) return frame.size() < 14 + 20;
  return false;
}

uint64_t counted_bytes(const Row &row) {
  return row.packet.size();
}

sg_config config_of(const Row &row) {
  sg_config config = base_config();
  config.flags |= row.tweak.config_flags;
  // As the agent does: the per-network audit entries are consulted only under this flag.
  if (!row.tweak.audit_networks.empty() && !row.tweak.without_audit_any) {
    config.flags |= SG_CFG_NET_AUDIT_ANY;
  }
  config.encap_udp_port_count = static_cast<uint32_t>(row.tweak.encap_udp_ports.size());
  for (std::size_t i = 0; i < row.tweak.encap_udp_ports.size() && i < SG_CFG_ENCAP_PORTS; ++i) {
    config.encap_udp_ports[i] = row.tweak.encap_udp_ports[i];
  }
  if (row.tweak.infra_nets) {
    config.infra_net_count = static_cast<uint32_t>(row.tweak.infra_nets->size());
    for (std::size_t i = 0; i < SG_CFG_INFRA_NETS; ++i) {
      config.infra_nets[i] = i < row.tweak.infra_nets->size() ? (*row.tweak.infra_nets)[i] : 0;
    }
  }
  return config;
}

}  // namespace sixguard::bpftest
