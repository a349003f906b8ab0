// Test that PacketBuilder lays headers out as the wire does and fills what a stack would fill:
// next-protocol fields from the following layer, lengths, and checksums that verify. The
// datapath table (and the agent's explain) trust these packets, so they are checked here
// without the kernel.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "agent/core/packet_builder.h"

namespace sixguard {
namespace {

Ipv6 ip(const char *text) {
  return *parse_ipv6(text);
}

uint16_t be16(const std::vector<uint8_t> &p, std::size_t at) {
  return static_cast<uint16_t>((p[at] << 8) | p[at + 1]);
}

// One's-complement sum of the IPv6 pseudo-header and a segment: 0xffff when the checksum in
// the segment is right.
uint16_t verify_sum(const std::vector<uint8_t> &p, std::size_t ip6, std::size_t segment,
                    uint8_t protocol) {
  uint32_t sum = 0;
  for (std::size_t i = ip6 + 8; i < ip6 + 40; i += 2) sum += be16(p, i);
  const std::size_t length = p.size() - segment;
  sum += static_cast<uint32_t>(length >> 16) + static_cast<uint32_t>(length & 0xffff);
  sum += protocol;
  for (std::size_t i = segment; i + 1 < p.size(); i += 2) sum += be16(p, i);
  if (length % 2) sum += static_cast<uint32_t>(p.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

TEST(PacketBuilder, EthernetIpv6UdpHasLengthsAndAValidChecksum) {
  const auto p = PacketBuilder()
                     .ethernet()
                     .ipv6(ip("fdaa:2:45b::2"), ip("fdaa:2:45b::3"))
                     .udp(5353, 53)
                     .payload(5)
                     .build();
  ASSERT_EQ(p.size(), 14u + 40 + 8 + 5);
  EXPECT_EQ(be16(p, 12), 0x86dd);
  EXPECT_EQ(p[14] >> 4, 6);
  EXPECT_EQ(be16(p, 18), 8 + 5);  // payload length
  EXPECT_EQ(p[20], 17);           // next header UDP
  EXPECT_EQ(be16(p, 54), 5353);
  EXPECT_EQ(be16(p, 58), 8 + 5);  // UDP length
  EXPECT_EQ(verify_sum(p, 14, 54, 17), 0xffff);
}

TEST(PacketBuilder, Icmpv6EchoChecksumCoversThePseudoHeader) {
  const auto p = PacketBuilder().ipv6(ip("fe80::1"), ip("ff02::1")).icmpv6_echo(7, 9).build();
  ASSERT_EQ(p.size(), 40u + 8);
  EXPECT_EQ(p[6], 58);
  EXPECT_EQ(p[40], 128);
  EXPECT_EQ(verify_sum(p, 0, 40, 58), 0xffff);
}

TEST(PacketBuilder, VlanTagsComeOuterFirst) {
  const auto p = PacketBuilder()
                     .ethernet()
                     .vlan(100, PacketBuilder::kTpid8021AD)
                     .vlan(200)
                     .ipv6(ip("fdaa::1"), ip("fdaa::2"))
                     .build();
  EXPECT_EQ(be16(p, 12), 0x88a8);
  EXPECT_EQ(be16(p, 14), 100);
  EXPECT_EQ(be16(p, 16), 0x8100);
  EXPECT_EQ(be16(p, 18), 200);
  EXPECT_EQ(be16(p, 20), 0x86dd);
  EXPECT_EQ(p[22 + 6], 59);  // nothing after the IPv6 header: no next header
}

TEST(PacketBuilder, ExtensionHeadersChainAndHaveTheirLengths) {
  const auto p = PacketBuilder()
                     .ipv6(ip("fdaa::1"), ip("fdaa::2"))
                     .hop_by_hop(1)
                     .authentication(4)
                     .fragment(3, true, 0x11223344)
                     .destination_options()
                     .routing()
                     .udp(1, 2)
                     .build();
  std::size_t at = 40;
  EXPECT_EQ(p[6], 0);  // hop-by-hop
  EXPECT_EQ(p[at], 51);
  at += 16;  // (1 + 1) * 8
  EXPECT_EQ(p[at], 44);
  at += 24;  // AH: (4 + 2) * 4
  EXPECT_EQ(p[at], 60);
  EXPECT_EQ(be16(p, at + 2), (3 << 3) | 1);  // offset 3, more fragments
  at += 8;
  EXPECT_EQ(p[at], 43);
  at += 8;
  EXPECT_EQ(p[at], 17);
  at += 8;
  EXPECT_EQ(p.size(), at + 8);
  EXPECT_EQ(be16(p, 4), p.size() - 40);
}

TEST(PacketBuilder, GreOptionsAndProtocolsFollowTheInnerLayer) {
  GreOptions options;
  options.checksum = true;
  options.key = true;
  options.sequence = true;
  const auto p = PacketBuilder()
                     .ipv6(ip("fdaa::1"), ip("fdaa::2"))
                     .gre(options)
                     .ipv6(ip("fdaa::3"), ip("fdaa::4"))
                     .build();
  EXPECT_EQ(p[6], 47);
  EXPECT_EQ(be16(p, 40), 0xb000);
  EXPECT_EQ(be16(p, 42), 0x86dd);
  ASSERT_EQ(p.size(), 40u + 16 + 40);
  uint32_t sum = 0;  // the GRE checksum covers the GRE header and its payload
  for (std::size_t i = 40; i < p.size(); i += 2) sum += be16(p, i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);

  const auto teb =
      PacketBuilder().ipv6(ip("fdaa::1"), ip("fdaa::2")).gre().ethernet().arp().build();
  EXPECT_EQ(be16(teb, 42), 0x6558);
  EXPECT_EQ(be16(teb, 44 + 12), 0x0806);
}

TEST(PacketBuilder, OverridesAndTruncationBuildMalformedPackets) {
  const auto p = PacketBuilder()
                     .ethernet()
                     .ipv6(ip("fdaa::1"), ip("fdaa::2"))
                     .ipv6_version(4)
                     .next_header(41)
                     .payload(20)
                     .truncate(30)
                     .build();
  ASSERT_EQ(p.size(), 30u);
  EXPECT_EQ(p[14] >> 4, 4);
  EXPECT_EQ(p[20], 41);
  EXPECT_EQ(be16(p, 18), 20);  // lengths are filled before the cut
}

TEST(PacketBuilder, Ipv4HeaderChecksumVerifies) {
  const auto p = PacketBuilder().ethernet().ipv4(0x0a000001, 0x0a000002).udp(1, 2).build();
  EXPECT_EQ(be16(p, 12), 0x0800);
  EXPECT_EQ(be16(p, 16), 20 + 8);
  uint32_t sum = 0;
  for (std::size_t i = 14; i < 34; i += 2) sum += be16(p, i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
}

}  // namespace
}  // namespace sixguard
