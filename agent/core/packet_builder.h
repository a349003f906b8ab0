// A fluent builder of test and explain packets: Ethernet (with VLAN tags), IPv6 with every
// extension-header kind, IPv4, GRE (plain and transparent Ethernet bridging), ICMPv6 echo, UDP,
// TCP and ARP, stacked in the order they are added. build() fills what a real stack would:
// next-header / ethertype / GRE protocol fields from the layer that follows, payload and total
// lengths, IPv4 header checksums, UDP/TCP/ICMPv6 checksums over the pseudo-header of the
// nearest enclosing IP header, GRE checksums. Any field can be forced wrong on purpose
// (next_header, ipv6_version, truncate) to build malformed packets.
//
//   auto frame = PacketBuilder().ethernet().ipv6(src, dst).udp(5353, 53).build();
//   auto l3 = PacketBuilder().ipv6(src, dst).icmpv6_echo().build();  // no Ethernet header
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "agent/core/address.h"

namespace sixguard {

// GRE header options (RFC 2784/2890).
struct GreOptions {
  bool checksum = false;
  bool key = false;
  bool sequence = false;
  bool routing = false;              // not parseable: a datapath must treat it as malformed
  uint8_t version = 0;               // 0 is GRE; 1 is PPTP's enhanced GRE
  std::optional<uint16_t> protocol;  // default: from the next layer
};

class PacketBuilder {
 public:
  // 802.1Q and 802.1ad tag protocol identifiers.
  static constexpr uint16_t kTpid8021Q = 0x8100;
  static constexpr uint16_t kTpid8021AD = 0x88a8;

  // Ethernet header (fixed MACs). Must come first to build a frame; without it the packet
  // starts at the first layer added (an L3 packet, as WireGuard or tun deliver it).
  PacketBuilder &ethernet();
  // Adds a VLAN tag to the most recent Ethernet header (outer tag first).
  PacketBuilder &vlan(uint16_t vid, uint16_t tpid = kTpid8021Q);

  PacketBuilder &ipv6(const Ipv6 &src, const Ipv6 &dst, uint8_t hop_limit = 64);
  PacketBuilder &ipv4(uint32_t src, uint32_t dst);  // addresses in host order

  // IPv6 extension headers. `length` is the header's own length field: (length + 1) * 8
  // octets for hop-by-hop, routing and destination options; (length + 2) * 4 octets for AH.
  PacketBuilder &hop_by_hop(uint8_t length = 0);
  PacketBuilder &routing(uint8_t length = 0);
  PacketBuilder &destination_options(uint8_t length = 0);
  PacketBuilder &authentication(uint8_t length = 4);
  // offset in 8-octet units; `more` is the M flag. Offset 0 without M is an atomic fragment.
  PacketBuilder &fragment(uint16_t offset, bool more, uint32_t identification = 0x5347);
  PacketBuilder &esp(uint32_t spi = 0x100);

  PacketBuilder &gre(const GreOptions &options = {});

  PacketBuilder &icmpv6_echo(uint16_t identifier = 1, uint16_t sequence = 1);
  PacketBuilder &udp(uint16_t src_port, uint16_t dst_port);
  PacketBuilder &tcp(uint16_t src_port, uint16_t dst_port, uint8_t flags = 0x02 /* SYN */);
  PacketBuilder &arp();
  PacketBuilder &payload(std::vector<uint8_t> bytes);
  PacketBuilder &payload(std::size_t size, uint8_t fill = 0xab);

  // Overrides the most recent layer's next-protocol field (next header, IPv4 protocol,
  // ethertype or GRE protocol) instead of deriving it from the layer that follows.
  PacketBuilder &next_header(uint16_t value);
  // Overrides the version nibble of the most recent IPv6 header.
  PacketBuilder &ipv6_version(uint8_t version);
  // Cuts the built packet to its first `size` bytes (after lengths and checksums are filled).
  PacketBuilder &truncate(std::size_t size);

  std::vector<uint8_t> build() const;

 private:
  struct Ethernet {
    std::vector<std::pair<uint16_t, uint16_t>> tags;  // (tpid, vid), outer first
    std::optional<uint16_t> ethertype;
  };
  struct Ip6 {
    Ipv6 src, dst;
    uint8_t hop_limit = 64;
    uint8_t version = 6;
    std::optional<uint16_t> next;
  };
  struct Ip4 {
    uint32_t src = 0, dst = 0;
    std::optional<uint16_t> next;
  };
  struct Extension {
    uint8_t type = 0;
    uint8_t length = 0;
    std::optional<uint16_t> next;
  };
  struct Fragment {
    uint16_t offset = 0;
    bool more = false;
    uint32_t identification = 0;
    std::optional<uint16_t> next;
  };
  struct Esp {
    uint32_t spi = 0;
  };
  struct Gre {
    GreOptions options;
  };
  struct Icmp6Echo {
    uint16_t identifier = 0, sequence = 0;
  };
  struct Udp {
    uint16_t src = 0, dst = 0;
  };
  struct Tcp {
    uint16_t src = 0, dst = 0;
    uint8_t flags = 0;
  };
  struct Arp {};
  struct Payload {
    std::vector<uint8_t> bytes;
  };
  using Layer = std::variant<Ethernet, Ip6, Ip4, Extension, Fragment, Esp, Gre, Icmp6Echo, Udp, Tcp,
                             Arp, Payload>;

  PacketBuilder &add(Layer layer);
  std::vector<uint8_t> serialize(std::size_t index, const std::vector<uint8_t> &rest) const;
  std::optional<uint16_t> protocol_after(std::size_t index, bool as_ethertype) const;
  std::size_t enclosing_ip(std::size_t index) const;  // layers_.size() when none

  std::vector<Layer> layers_;
  std::optional<std::size_t> truncate_;
};

}  // namespace sixguard
