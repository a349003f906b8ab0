// Test that the 6PN address model of DESIGN §1 is parsed and formatted exactly.
#include <gtest/gtest.h>

#include "agent/core/address.h"

using namespace sixguard;

namespace {
Ipv6 ip(const char *text) {
  auto parsed = parse_ipv6(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : Ipv6{};
}
}  // namespace

TEST(Address, SeedExampleFields) {
  const Ipv6 machine1 = ip("fdaa:2:45b:a7b:174:db43:d3c6:2");
  EXPECT_TRUE(is_6pn(machine1));
  EXPECT_EQ(network_id(machine1), 0x0002045bu);
  EXPECT_EQ(host_id(machine1), 0x0a7b0174u);
  EXPECT_EQ(machine_id(machine1), 0xdb43d3c6u);
  EXPECT_EQ(free_bits(machine1), 2);
  EXPECT_EQ(format_network_id(network_id(machine1)), "2:45b");

  const Ipv6 machine2 = ip("fdaa:9:d844:a7b:e:33bd:e8b1:2");
  EXPECT_EQ(network_id(machine2), 0x0009d844u);
  EXPECT_NE(network_id(machine1), network_id(machine2));
}

TEST(Address, DifferentHostAndMachineBitsSameNetwork) {
  EXPECT_EQ(network_id(ip("fdaa:2:45b:1::1")), network_id(ip("fdaa:2:45b:ffff:ffff:ffff:ffff:1")));
}

TEST(Address, NotSixPn) {
  EXPECT_FALSE(is_6pn(ip("::ffff:10.0.0.1")));
  EXPECT_FALSE(is_6pn(ip("fe80::1")));
  EXPECT_FALSE(is_6pn(ip("fdab:2:45b::1")));
  EXPECT_FALSE(is_6pn(ip("2001:db8::1")));
  EXPECT_FALSE(is_6pn(ip("::")));
  EXPECT_TRUE(is_6pn(ip("fdaa::3")));
  EXPECT_EQ(network_id(ip("fdaa::3")), 0u);
}

TEST(Address, MachinePrefixClearsTheFreeBits) {
  EXPECT_EQ(machine_prefix(ip("fdaa:2:45b:a7b:174:db43:d3c6:2")).str(),
            "fdaa:2:45b:a7b:174:db43:d3c6:0");
}

TEST(Address, MalformedAddressesAreErrors) {
  for (const char *bad : {"", "fdaa::3::4", "fdaa:2:45b", "10.0.0.1", "fdaa::gggg",
                          "fdaa:2:45b:a7b:174:db43:d3c6:2:1", "fdaa::3 ",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    auto parsed = parse_ipv6(bad);
    EXPECT_FALSE(parsed.ok()) << "'" << bad << "'";
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("malformed"), std::string::npos);
    }
  }
}

TEST(Address, FormatsCanonically) {
  EXPECT_EQ(ip("FDAA:0002:045B:0:0:0:0:0002").str(), "fdaa:2:45b::2");
}

TEST(Prefix, ParsesAndContains) {
  auto prefix = parse_ipv6_prefix("fdaa:0:1::/48");
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(prefix->length, 48);
  EXPECT_TRUE(prefix->contains(ip("fdaa:0:1:ffff::1")));
  EXPECT_FALSE(prefix->contains(ip("fdaa:0:2::1")));
  EXPECT_EQ(prefix->str(), "fdaa:0:1::/48");

  auto bare = parse_ipv6_prefix("fdaa::3");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->length, 128);

  EXPECT_FALSE(parse_ipv6_prefix("fdaa:0:1::/47").ok());  // bit 47 is set
  auto odd = parse_ipv6_prefix("fdaa::/47");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->contains(ip("fdaa:0:1::1")));
  EXPECT_TRUE(odd->contains(ip("fdaa:0:0::1")));
  EXPECT_FALSE(odd->contains(ip("fdaa:0:2::1")));

  const sg_lpm_key key = prefix->lpm_key();
  EXPECT_EQ(key.prefixlen, 48u);
  EXPECT_EQ(key.addr.octets[0], 0xfd);
}

TEST(Prefix, OverlapsEitherWayRound) {
  auto p = [](const char *text) { return parse_ipv6_prefix(text).value(); };
  EXPECT_TRUE(p("fdaa:0:1::/48").overlaps(p("fdaa:0:1:2:3:4:5:0/112")));
  EXPECT_TRUE(p("fdaa:0:1:2:3:4:5:0/112").overlaps(p("fdaa:0:1::/48")));
  EXPECT_TRUE(p("fdaa:0:1:2:3:4:5:0/112").overlaps(p("fdaa:0:1:2:3:4:5:9/128")));
  EXPECT_TRUE(p("fdaa:0:1:2:3:4:5:9/128").overlaps(p("fdaa:0:1:2:3:4:5:0/112")));
  EXPECT_TRUE(p("::/0").overlaps(p("fdaa::3/128")));
  EXPECT_FALSE(p("fdaa:0:1::/48").overlaps(p("fdaa:0:2::/48")));
  EXPECT_FALSE(p("fdaa:0:1:2:3:4:5:0/112").overlaps(p("fdaa:0:1:2:3:4:6:0/112")));
  EXPECT_FALSE(p("fdaa::3/128").overlaps(p("fdaa::4/128")));
}

TEST(Prefix, RejectsBadPrefixes) {
  for (const char *bad :
       {"fdaa::3/64", "fdaa::/129", "fdaa::/", "fdaa::/x", "fdaa::/-1", "/48", "fdaa::/48/1"}) {
    EXPECT_FALSE(parse_ipv6_prefix(bad).ok()) << bad;
  }
}

TEST(NetworkId, ParsesEveryForm) {
  EXPECT_EQ(*parse_network_id("2:45b"), 0x0002045bu);
  EXPECT_EQ(*parse_network_id("9:d844"), 0x0009d844u);
  EXPECT_EQ(*parse_network_id("132187"), 132187u);
  EXPECT_EQ(*parse_network_id("0x2045b"), 0x2045bu);
  EXPECT_EQ(*parse_network_id("ffff:ffff"), 0xffffffffu);
  EXPECT_EQ(*parse_network_id("0:1"), 1u);
}

TEST(NetworkId, RejectsMalformed) {
  for (const char *bad :
       {"", "2:", ":45b", "1:2:3", "12345:1", "4294967296", "45b", "-1", "0x", "2:45g", " 2:45b"}) {
    EXPECT_FALSE(parse_network_id(bad).ok()) << bad;
  }
}

TEST(NetworkId, FormatRoundTrips) {
  for (uint32_t id : {0u, 1u, 0xffffu, 0x10000u, 0x0002045bu, 0xffffffffu}) {
    auto parsed = parse_network_id(format_network_id(id));
    ASSERT_TRUE(parsed.ok()) << id;
    EXPECT_EQ(*parsed, id);
  }
  EXPECT_EQ(format_network_id(0x3), "0:3");
}
