// The reference model on hand-written packets whose answer DESIGN §2 and the datapath decisions
// spell out, so the model is checked against the contract and not only against the datapath.
#include <gtest/gtest.h>

#include <array>
#include <map>

#include "tests/model/frame_gen.h"
#include "tests/model/fuzz_env.h"
#include "tests/model/model.h"
#include "agent/core/packet_builder.h"

namespace sixguard::model {
namespace {

Ipv6 a(const char *text) {
  return *parse_ipv6(text);
}

const Ipv6 kM1 = a("fdaa:2:45b:a7b:174:db43:d3c6:2");
const Ipv6 kPeerA = a("fdaa:2:45b:ff:1:2:3:4");
const Ipv6 kM2 = a("fdaa:3:1:b1:1:2:3:5");
const Ipv6 kC = a("fdaa:4:0:1:2:3:4:5");
const Ipv6 kDns = a("fdaa::3");
const Ipv6 kFcIntoA = a("fdaa:2:45b:f1c::1");  // target app 300 on B

const Policy &policy(size_t index = 0) {
  return fuzz_policies()[index].policy;
}

Answer egress(const std::vector<uint8_t> &frame, size_t policy_index = 0) {
  return decide(frame, Hook::kEgressXdp, Env{&policy(policy_index), machine_of(Iface::kM1)});
}
Answer uplink(const std::vector<uint8_t> &frame, size_t policy_index = 0) {
  return decide(frame, Hook::kUplink, Env{&policy(policy_index), std::nullopt});
}

void expect(const Answer &answer, uint8_t verdict, uint8_t reason) {
  EXPECT_EQ(verdict_name(answer.verdict) + "/" + reason_name(answer.reason),
            verdict_name(verdict) + "/" + reason_name(reason));
  EXPECT_EQ(answer.slot, SG_COUNTER_INDEX(answer.hook, uint32_t{verdict}, uint32_t{reason}));
}

TEST(Model, EgressRulesInOrder) {
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, kPeerA).udp(1, 2).build()), SG_VERDICT_PASS,
         SG_REASON_SAME_NETWORK);
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, kM2).udp(1, 2).build()), SG_VERDICT_DROP,
         SG_REASON_CROSS_NETWORK);
  expect(egress(PacketBuilder().ethernet().ipv6(kM2, kPeerA).udp(1, 2).build()), SG_VERDICT_DROP,
         SG_REASON_SPOOFED_SOURCE);
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, kDns).udp(1, 53).build()), SG_VERDICT_PASS,
         SG_REASON_INFRA);
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, a("2001:db8::1")).udp(1, 2).build()),
         SG_VERDICT_PASS, SG_REASON_NOT_6PN);
  expect(egress(PacketBuilder().ethernet().arp().build()), SG_VERDICT_PASS, SG_REASON_NOT_6PN);
}

TEST(Model, AnInnerHeaderIsJudgedLikeTheOuter) {
  // Outer same network, inner to network B: the inner decides.
  const auto frame = PacketBuilder().ethernet().ipv6(kM1, kPeerA).ipv6(kM1, kM2).udp(1, 2).build();
  const Answer answer = egress(frame);
  expect(answer, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  EXPECT_EQ(answer.deciding_level, 2);
  EXPECT_EQ(answer.dst, kM2);
  // IPv4 carrying GRE carrying IPv6: rule 1 does not pass it.
  expect(egress(PacketBuilder()
                    .ethernet()
                    .ipv4(0x0a000001, 0x0a000002)
                    .gre()
                    .ipv6(kM1, kM2)
                    .udp(1, 2)
                    .build()),
         SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  // IPv4 carrying IPv4 (IPIP): outer check only.
  expect(egress(PacketBuilder().ethernet().ipv4(1, 2).ipv4(3, 4).udp(1, 2).build()),
         SG_VERDICT_PASS, SG_REASON_NOT_6PN);
}

TEST(Model, AFourthIpHeaderIsMalformed) {
  PacketBuilder three;
  three.ethernet().ipv6(kM1, kPeerA).ipv6(kM1, kPeerA).ipv6(kM1, kPeerA).udp(1, 2);
  expect(egress(three.build()), SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  PacketBuilder four;
  four.ethernet().ipv6(kM1, kPeerA).ipv6(kM1, kPeerA).ipv6(kM1, kPeerA).ipv6(kM1, kPeerA).udp(1, 2);
  expect(egress(four.build()), SG_VERDICT_DROP, SG_REASON_MALFORMED);
}

TEST(Model, ExtensionHeaderLimitAndFragments) {
  PacketBuilder eight;
  eight.ethernet().ipv6(kM1, kPeerA);
  for (int i = 0; i < 8; ++i) eight.destination_options();
  expect(egress(eight.udp(1, 2).build()), SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  PacketBuilder nine;
  nine.ethernet().ipv6(kM1, kPeerA);
  for (int i = 0; i < 9; ++i) nine.destination_options();
  expect(egress(nine.udp(1, 2).build()), SG_VERDICT_DROP, SG_REASON_MALFORMED);
  // Two fragment headers in one chain.
  expect(egress(PacketBuilder()
                    .ethernet()
                    .ipv6(kM1, kPeerA)
                    .fragment(0, true)
                    .fragment(0, true)
                    .udp(1, 2)
                    .build()),
         SG_VERDICT_DROP, SG_REASON_MALFORMED);
  // A non-first fragment: its addresses are checked, what follows is not read.
  expect(
      egress(
          PacketBuilder().ethernet().ipv6(kM1, kPeerA).fragment(10, true).ipv6(kM1, kM2).build()),
      SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, kM2).fragment(10, false).payload(8).build()),
         SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  // A first fragment that holds nothing after its fragment header (RFC 7112).
  expect(
      egress(PacketBuilder().ethernet().ipv6(kM1, kPeerA).fragment(0, true).next_header(6).build()),
      SG_VERDICT_DROP, SG_REASON_MALFORMED);
  expect(
      egress(
          PacketBuilder().ethernet().ipv6(kM1, kPeerA).fragment(0, false).next_header(6).build()),
      SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
}

TEST(Model, ConsistencyChecks) {
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, kPeerA).ipv6_version(4).udp(1, 2).build()),
         SG_VERDICT_DROP, SG_REASON_MALFORMED);
  auto cut = PacketBuilder().ethernet().ipv6(kM1, kPeerA).udp(1, 2).payload(20).build();
  cut.resize(cut.size() - 1);  // payload length claims a byte more than the frame holds
  expect(egress(cut), SG_VERDICT_DROP, SG_REASON_MALFORMED);
  auto padded = PacketBuilder().ethernet().ipv6(kM1, kPeerA).udp(1, 2).build();
  padded.resize(padded.size() + 10, 0);  // Ethernet padding
  expect(egress(padded), SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  // A third VLAN tag.
  expect(
      egress(
          PacketBuilder().ethernet().vlan(1).vlan(2).vlan(3).ipv6(kM1, kPeerA).udp(1, 2).build()),
      SG_VERDICT_DROP, SG_REASON_MALFORMED);
  expect(egress(PacketBuilder().ethernet().vlan(0).vlan(2).ipv6(kM1, kPeerA).udp(1, 2).build()),
         SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  // GRE version 1 or the routing bit.
  expect(egress(PacketBuilder()
                    .ethernet()
                    .ipv6(kM1, kPeerA)
                    .gre({.version = 1, .protocol = {}})
                    .ipv6(kM1, kPeerA)
                    .build()),
         SG_VERDICT_DROP, SG_REASON_MALFORMED);
}

TEST(Model, UdpEncapsulations) {
  std::vector<uint8_t> vxlan(8, 0);
  vxlan[0] = 0x08;
  auto inner = PacketBuilder().ethernet().ipv6(kM1, kM2).udp(1, 2).build();
  std::vector<uint8_t> payload = vxlan;
  payload.insert(payload.end(), inner.begin(), inner.end());
  expect(egress(PacketBuilder().ethernet().ipv6(kM1, kPeerA).udp(5, 4789).payload(payload).build()),
         SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  // Port 8472 is a tunnel only where it is configured (policy 3).
  const auto on_8472 =
      PacketBuilder().ethernet().ipv6(kM1, kPeerA).udp(5, 8472).payload(payload).build();
  expect(egress(on_8472, 0), SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  EXPECT_EQ(egress(on_8472, 3).reason, SG_REASON_CROSS_NETWORK);
}

TEST(Model, AuditFollowsTheConcernedNetwork) {
  const auto frame = PacketBuilder().ethernet().ipv6(kM1, kM2).udp(1, 2).build();
  expect(egress(frame, 1), SG_VERDICT_AUDIT, SG_REASON_CROSS_NETWORK);  // global audit
  expect(egress(frame, 2), SG_VERDICT_AUDIT, SG_REASON_CROSS_NETWORK);  // M1's network A audits
  // Uplink: the destination's network. Outer to C (audited in policy 2), inner to B (enforcing).
  const auto nested = PacketBuilder().ethernet().ipv6(kM2, kC).ipv6(kC, kM2).udp(1, 2).build();
  const Answer answer = uplink(nested, 2);
  expect(answer, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  EXPECT_EQ(answer.deciding_level, 2);
  // Only the audited level drops: audit, decided by it.
  const auto outer_only = PacketBuilder().ethernet().ipv6(kM2, kC).ipv6(kC, kC).udp(1, 2).build();
  expect(uplink(outer_only, 2), SG_VERDICT_AUDIT, SG_REASON_CROSS_NETWORK);
}

TEST(Model, IngressRulesInOrder) {
  const Env env{&policy(), machine_of(Iface::kM1)};
  auto ingress = [&](const std::vector<uint8_t> &frame) {
    return decide(frame, Hook::kIngress, env);
  };
  expect(ingress(PacketBuilder().ethernet().ipv6(kPeerA, kM1).udp(1, 2).build()), SG_VERDICT_PASS,
         SG_REASON_SAME_NETWORK);
  expect(ingress(PacketBuilder().ethernet().ipv6(kM2, kM1).udp(1, 2).build()), SG_VERDICT_DROP,
         SG_REASON_CROSS_NETWORK);
  expect(ingress(PacketBuilder().ethernet().ipv6(kPeerA, kM2).udp(1, 2).build()), SG_VERDICT_DROP,
         SG_REASON_NOT_FOR_MACHINE);
  // Multicast and link-local destinations are for the machine; their sources are then judged.
  expect(ingress(PacketBuilder().ethernet().ipv6(kM2, a("ff02::1")).udp(1, 2).build()),
         SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  expect(ingress(PacketBuilder().ethernet().ipv6(a("fe80::1"), a("fe80::2")).udp(1, 2).build()),
         SG_VERDICT_PASS, SG_REASON_NOT_6PN);
  // Flycast into B targeting M1's app: replies from it reach M1.
  expect(ingress(PacketBuilder().ethernet().ipv6(a("fdaa:3:1:f1c::2"), kM1).udp(1, 2).build()),
         SG_VERDICT_PASS, SG_REASON_FLYCAST);
  // An interface the agent does not know: nothing is for a machine there.
  expect(decide(PacketBuilder().ethernet().ipv6(kPeerA, kM1).udp(1, 2).build(), Hook::kIngress,
                Env{&policy(), std::nullopt}),
         SG_VERDICT_DROP, SG_REASON_NOT_FOR_MACHINE);
}

TEST(Model, L3UplinkFollowsTheDeviceProtocol) {
  const Env env{&policy(), std::nullopt};
  const auto packet = PacketBuilder().ipv6(kM2, kC).udp(1, 2).build();
  expect(decide(packet, Hook::kUplinkL3, env, 0x86dd), SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  // Named IPv4 by the device: version 6 is not 4.
  expect(decide(packet, Hook::kUplinkL3, env, 0x0800), SG_VERDICT_DROP, SG_REASON_MALFORMED);
  expect(decide(packet, Hook::kUplinkL3, env, 0x0806), SG_VERDICT_PASS, SG_REASON_NOT_6PN);
}

TEST(Model, Ipv4NonFirstFragmentEndsTheWalk) {
  // IPv4 (fragment offset 8) whose payload would be 41 + a cross-network IPv6: opaque.
  auto frame = PacketBuilder().ethernet().ipv4(1, 2).ipv6(kM1, kM2).udp(1, 2).build();
  frame[14 + 6] = 0x00;
  frame[14 + 7] = 0x08;
  expect(egress(frame), SG_VERDICT_PASS, SG_REASON_NOT_6PN);
  frame[14 + 7] = 0x00;  // the first fragment: the inner header is judged
  expect(egress(frame), SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
}

TEST(Model, UplinkFlycast) {
  // From B (the target's network) to the Flycast address allocated into A.
  expect(uplink(PacketBuilder().ethernet().ipv6(kM2, kFcIntoA).udp(1, 2).build()), SG_VERDICT_PASS,
         SG_REASON_FLYCAST);
  expect(uplink(PacketBuilder().ethernet().ipv6(kC, kFcIntoA).udp(1, 2).build()), SG_VERDICT_DROP,
         SG_REASON_CROSS_NETWORK);
}

}  // namespace
}  // namespace sixguard::model

namespace sixguard::model {
namespace {

// Test that the generator builds every family the fuzzer is meant to cover, and that the model
// sees frames decided at inner levels (so the fuzzer compares tunnels, not just outers).
TEST(Generator, ReachesEveryFamily) {
  GeneratorInput input;
  input.pool = address_pool();
  input.udp_ports = extra_udp_ports();
  std::map<std::string, int> seen;
  const char *labels[] = {"eth/q/",  "eth/ad/",  "t9100",     "0x8847",  "0x8864",  "/arp",
                          "ipv4",    "/hbh",     "/hbhjumbo", "/srh",    "/rt",     "/frag+",
                          "/frag0m", "/frag0/",  "/dst",      "/ah",     "/mh",     "/esp",
                          "/59",     "/41",      "/ipip",     "/gre/",   "/greteb", "/vxlan",
                          "/geneve", "/udp8472", "/137",      "/115",    "/nd",     "/icmp6err[",
                          "+flip",   "+trunc",   "+field",    "+insert", "+delete"};
  std::array<int, 4> levels{};
  Policy policy = fuzz_policies()[0].policy;
  for (uint64_t i = 0; i < 20000; ++i) {
    input.machine = machine_of(static_cast<Iface>(i % kIfaceCount));
    const Frame frame = generate_frame(input, 7, i);
    for (const char *label : labels) {
      if (frame.shape.find(label) != std::string::npos) ++seen[label];
    }
    const Answer answer = decide(frame.bytes, Hook::kUplink, Env{&policy, std::nullopt});
    if (answer.deciding_level < 4) ++levels[static_cast<size_t>(answer.deciding_level)];
  }
  for (const char *label : labels) EXPECT_GT(seen[label], 10) << label;
  EXPECT_GT(levels[2], 200) << "frames decided at level 2";
  EXPECT_GT(levels[3], 50) << "frames decided at level 3";
}

}  // namespace
}  // namespace sixguard::model
