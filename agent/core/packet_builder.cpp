#include "agent/core/packet_builder.h"

#include <linux/if_ether.h>
#include <netinet/in.h>

#include <algorithm>
#include <type_traits>

namespace sixguard {

namespace {

void put16(std::vector<uint8_t> &out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
void put32(std::vector<uint8_t> &out, uint32_t value) {
  put16(out, static_cast<uint16_t>(value >> 16));
  put16(out, static_cast<uint16_t>(value));
}
void set16(std::vector<uint8_t> &out, std::size_t at, uint16_t value) {
  out[at] = static_cast<uint8_t>(value >> 8);
  out[at + 1] = static_cast<uint8_t>(value);
}
void append(std::vector<uint8_t> &out, const std::vector<uint8_t> &more) {
  out.insert(out.end(), more.begin(), more.end());
}

// One's-complement sum (RFC 1071), folded and complemented by finish().
struct Checksum {
  uint32_t sum = 0;
  void add(const uint8_t *data, std::size_t size) {
    for (std::size_t i = 0; i + 1 < size; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
    if (size % 2) sum += uint32_t{data[size - 1]} << 8;
  }
  void add(const std::vector<uint8_t> &bytes) { add(bytes.data(), bytes.size()); }
  void add16(uint16_t value) { sum += value; }
  void add32(uint32_t value) { sum += (value >> 16) + (value & 0xffff); }
  uint16_t finish() const {
    uint32_t folded = sum;
    while (folded >> 16) folded = (folded & 0xffff) + (folded >> 16);
    return static_cast<uint16_t>(~folded);
  }
};

}  // namespace

PacketBuilder &PacketBuilder::add(Layer layer) {
  layers_.push_back(std::move(layer));
  return *this;
}

PacketBuilder &PacketBuilder::ethernet() {
  return add(Ethernet{});
}

PacketBuilder &PacketBuilder::vlan(uint16_t vid, uint16_t tpid) {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (auto *eth = std::get_if<Ethernet>(&*it)) {
      eth->tags.emplace_back(tpid, vid);
      return *this;
    }
  }
  // No Ethernet header yet: the tag belongs to a new one.
  Ethernet eth;
  eth.tags.emplace_back(tpid, vid);
  return add(eth);
}

PacketBuilder &PacketBuilder::ipv6(const Ipv6 &src, const Ipv6 &dst, uint8_t hop_limit) {
  return add(Ip6{src, dst, hop_limit, 6, std::nullopt});
}

PacketBuilder &PacketBuilder::ipv4(uint32_t src, uint32_t dst) {
  return add(Ip4{src, dst, std::nullopt});
}

PacketBuilder &PacketBuilder::hop_by_hop(uint8_t length) {
  return add(Extension{IPPROTO_HOPOPTS, length, std::nullopt});
}
PacketBuilder &PacketBuilder::routing(uint8_t length) {
  return add(Extension{IPPROTO_ROUTING, length, std::nullopt});
}
PacketBuilder &PacketBuilder::destination_options(uint8_t length) {
  return add(Extension{IPPROTO_DSTOPTS, length, std::nullopt});
}
PacketBuilder &PacketBuilder::authentication(uint8_t length) {
  return add(Extension{IPPROTO_AH, length, std::nullopt});
}
PacketBuilder &PacketBuilder::fragment(uint16_t offset, bool more, uint32_t identification) {
  return add(Fragment{offset, more, identification, std::nullopt});
}
PacketBuilder &PacketBuilder::esp(uint32_t spi) {
  return add(Esp{spi});
}
PacketBuilder &PacketBuilder::gre(const GreOptions &options) {
  return add(Gre{options});
}
PacketBuilder &PacketBuilder::icmpv6_echo(uint16_t identifier, uint16_t sequence) {
  return add(Icmp6Echo{identifier, sequence});
}
PacketBuilder &PacketBuilder::udp(uint16_t src_port, uint16_t dst_port) {
  return add(Udp{src_port, dst_port});
}
PacketBuilder &PacketBuilder::tcp(uint16_t src_port, uint16_t dst_port, uint8_t flags) {
  return add(Tcp{src_port, dst_port, flags});
}
PacketBuilder &PacketBuilder::arp() {
  return add(Arp{});
}
PacketBuilder &PacketBuilder::payload(std::vector<uint8_t> bytes) {
  return add(Payload{std::move(bytes)});
}
PacketBuilder &PacketBuilder::payload(std::size_t size, uint8_t fill) {
  return add(Payload{std::vector<uint8_t>(size, fill)});
}

PacketBuilder &PacketBuilder::next_header(uint16_t value) {
  if (layers_.empty()) return *this;
  std::visit(
      [value](auto &layer) {
        using T = std::decay_t<decltype(layer)>;
        if constexpr (std::is_same_v<T, Ethernet>) {
          layer.ethertype = value;
        } else if constexpr (std::is_same_v<T, Gre>) {
          layer.options.protocol = value;
        } else if constexpr (requires { layer.next; }) {
          layer.next = value;
        }
      },
      layers_.back());
  return *this;
}

PacketBuilder &PacketBuilder::ipv6_version(uint8_t version) {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (auto *ip = std::get_if<Ip6>(&*it)) {
      ip->version = version;
      break;
    }
  }
  return *this;
}

PacketBuilder &PacketBuilder::truncate(std::size_t size) {
  truncate_ = size;
  return *this;
}

// The protocol number of the layer after `index`: as an ethertype (Ethernet, GRE) or as an
// IP next header. nullopt when nothing follows or the layer has no such number.
std::optional<uint16_t> PacketBuilder::protocol_after(std::size_t index, bool as_ethertype) const {
  if (index + 1 >= layers_.size()) return std::nullopt;
  return std::visit(
      [as_ethertype](const auto &layer) -> std::optional<uint16_t> {
        using T = std::decay_t<decltype(layer)>;
        if constexpr (std::is_same_v<T, Ip6>) return as_ethertype ? ETH_P_IPV6 : IPPROTO_IPV6;
        if constexpr (std::is_same_v<T, Ip4>) return as_ethertype ? ETH_P_IP : IPPROTO_IPIP;
        if constexpr (std::is_same_v<T, Arp>) {
          if (as_ethertype) return ETH_P_ARP;
        }
        if constexpr (std::is_same_v<T, Ethernet>) {
          if (as_ethertype) return ETH_P_TEB;  // GRE transparent Ethernet bridging
        }
        if (as_ethertype) return std::nullopt;
        if constexpr (std::is_same_v<T, Extension>) return layer.type;
        if constexpr (std::is_same_v<T, Fragment>) return IPPROTO_FRAGMENT;
        if constexpr (std::is_same_v<T, Esp>) return IPPROTO_ESP;
        if constexpr (std::is_same_v<T, Gre>) return IPPROTO_GRE;
        if constexpr (std::is_same_v<T, Icmp6Echo>) return IPPROTO_ICMPV6;
        if constexpr (std::is_same_v<T, Udp>) return IPPROTO_UDP;
        if constexpr (std::is_same_v<T, Tcp>) return IPPROTO_TCP;
        return std::nullopt;
      },
      layers_[index + 1]);
}

std::size_t PacketBuilder::enclosing_ip(std::size_t index) const {
  for (std::size_t i = index; i-- > 0;) {
    if (std::holds_alternative<Ip6>(layers_[i]) || std::holds_alternative<Ip4>(layers_[i])) {
      return i;
    }
  }
  return layers_.size();
}

std::vector<uint8_t> PacketBuilder::serialize(std::size_t index,
                                              const std::vector<uint8_t> &rest) const {
  const auto next_nh = [&](const std::optional<uint16_t> &forced) -> uint8_t {
    return static_cast<uint8_t>(
        forced.value_or(protocol_after(index, false).value_or(IPPROTO_NONE)));
  };
  // Transport checksums cover the pseudo-header of the nearest enclosing IP header.
  const auto transport_checksum = [&](const std::vector<uint8_t> &segment, uint8_t protocol) {
    Checksum sum;
    const std::size_t ip = enclosing_ip(index);
    if (ip < layers_.size()) {
      if (const auto *ip6 = std::get_if<Ip6>(&layers_[ip])) {
        sum.add(ip6->src.octets.data(), 16);
        sum.add(ip6->dst.octets.data(), 16);
        sum.add32(static_cast<uint32_t>(segment.size()));
        sum.add16(protocol);
      } else if (const auto *ip4 = std::get_if<Ip4>(&layers_[ip])) {
        sum.add32(ip4->src);
        sum.add32(ip4->dst);
        sum.add16(protocol);
        sum.add16(static_cast<uint16_t>(segment.size()));
      }
    }
    sum.add(segment);
    return sum.finish();
  };

  std::vector<uint8_t> out;
  std::visit(
      [&](const auto &layer) {
        using T = std::decay_t<decltype(layer)>;
        if constexpr (std::is_same_v<T, Ethernet>) {
          const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
          const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
          out.insert(out.end(), dst, dst + 6);
          out.insert(out.end(), src, src + 6);
          for (const auto &[tpid, vid] : layer.tags) {
            put16(out, tpid);
            put16(out, vid & 0x0fff);
          }
          put16(out, layer.ethertype.value_or(protocol_after(index, true).value_or(0x88b5)));
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Ip6>) {
          put32(out, (uint32_t{layer.version} << 28));
          put16(out, static_cast<uint16_t>(rest.size()));
          out.push_back(next_nh(layer.next));
          out.push_back(layer.hop_limit);
          out.insert(out.end(), layer.src.octets.begin(), layer.src.octets.end());
          out.insert(out.end(), layer.dst.octets.begin(), layer.dst.octets.end());
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Ip4>) {
          out.push_back(0x45);
          out.push_back(0);
          put16(out, static_cast<uint16_t>(20 + rest.size()));
          put32(out, 0x00004000);  // id 0, don't fragment
          out.push_back(64);
          out.push_back(next_nh(layer.next));
          put16(out, 0);
          put32(out, layer.src);
          put32(out, layer.dst);
          Checksum sum;
          sum.add(out);
          set16(out, 10, sum.finish());
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Extension>) {
          const std::size_t size = layer.type == IPPROTO_AH ? (std::size_t{layer.length} + 2) * 4
                                                            : (layer.length + 1) * 8;
          out.push_back(next_nh(layer.next));
          out.push_back(layer.length);
          // Zero option bytes are Pad1 options; for AH they are SPI, sequence and ICV.
          out.resize(std::max<std::size_t>(size, 2), 0);
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Fragment>) {
          out.push_back(next_nh(layer.next));
          out.push_back(0);
          put16(out, static_cast<uint16_t>((layer.offset << 3) | (layer.more ? 1 : 0)));
          put32(out, layer.identification);
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Esp>) {
          put32(out, layer.spi);
          put32(out, 1);  // sequence number; the rest is opaque ciphertext
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Gre>) {
          const auto &o = layer.options;
          const uint16_t flags = (o.checksum ? 0x8000 : 0) | (o.routing ? 0x4000 : 0) |
                                 (o.key ? 0x2000 : 0) | (o.sequence ? 0x1000 : 0) |
                                 (o.version & 0x7);
          put16(out, flags);
          put16(out, o.protocol.value_or(protocol_after(index, true).value_or(0)));
          if (o.checksum || o.routing) put32(out, 0);  // checksum + reserved1 (or offset)
          if (o.key) put32(out, 0x0000002a);
          if (o.sequence) put32(out, 1);
          append(out, rest);
          if (o.checksum) {
            Checksum sum;
            sum.add(out);
            set16(out, 4, sum.finish());
          }
        } else if constexpr (std::is_same_v<T, Icmp6Echo>) {
          out.push_back(128);  // echo request
          out.push_back(0);
          put16(out, 0);
          put16(out, layer.identifier);
          put16(out, layer.sequence);
          append(out, rest);
          set16(out, 2, transport_checksum(out, IPPROTO_ICMPV6));
        } else if constexpr (std::is_same_v<T, Udp>) {
          put16(out, layer.src);
          put16(out, layer.dst);
          put16(out, static_cast<uint16_t>(8 + rest.size()));
          put16(out, 0);
          append(out, rest);
          uint16_t checksum = transport_checksum(out, IPPROTO_UDP);
          set16(out, 6, checksum == 0 ? 0xffff : checksum);  // 0 means "none" in UDP
        } else if constexpr (std::is_same_v<T, Tcp>) {
          put16(out, layer.src);
          put16(out, layer.dst);
          put32(out, 1);          // sequence
          put32(out, 0);          // acknowledgment
          out.push_back(5 << 4);  // data offset: 20 octets
          out.push_back(layer.flags);
          put16(out, 65535);  // window
          put16(out, 0);      // checksum
          put16(out, 0);      // urgent pointer
          append(out, rest);
          set16(out, 16, transport_checksum(out, IPPROTO_TCP));
        } else if constexpr (std::is_same_v<T, Arp>) {
          put16(out, 1);  // Ethernet
          put16(out, ETH_P_IP);
          out.push_back(6);
          out.push_back(4);
          put16(out, 1);  // request
          const uint8_t body[20] = {0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1,
                                    0,    0, 0, 0, 0, 0, 10, 0, 0, 2};
          out.insert(out.end(), body, body + sizeof(body));
          append(out, rest);
        } else if constexpr (std::is_same_v<T, Payload>) {
          out = layer.bytes;
          append(out, rest);
        }
      },
      layers_[index]);
  return out;
}

std::vector<uint8_t> PacketBuilder::build() const {
  std::vector<uint8_t> packet;
  for (std::size_t i = layers_.size(); i-- > 0;) packet = serialize(i, packet);
  if (truncate_ && *truncate_ < packet.size()) packet.resize(*truncate_);
  return packet;
}

}  // namespace sixguard
