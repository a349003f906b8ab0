// The host the datapath tests pretend to be: three machine interfaces, an unknown interface,
// an Ethernet uplink (veth ends) and an L3 (tun) uplink in a namespace of their own, plus the
// policy maps of DESIGN §1 (networks, machines' /112s, infrastructure prefixes, Flycast addresses).
//
//   network A = 2:45b   machine M1 (app 100) on sgm1: fdaa:2:45b:a7b:174:db43:d3c6::/112
//   network B = 3:1     machine M2 (app 300) on sgm2: fdaa:3:1:b1:1:2:3::/112
//                       machine M3 (app 301) on sgm3: fdaa:3:1:b1:1:2:4::/112
//   network C = 4:0     no machine here
//   infra: fdaa::3/128 (DNS, network 0) and fdaa:7:7::/48 (an admin tunnel, network 7:7)
//   Flycast: FC_INTO_A fdaa:2:45b:f1c::1  allocated into A, target app 300 (network B)
//            FC_TO_M1  fdaa:3:1:f1c::2    allocated into B, target app 100 (network A)
//            FC_B      fdaa:3:1:f1c::9    allocated into B, target app 300 (network B)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/core/address.h"
#include "tests/bpf/datapath_harness.h"
#include "tests/bpf/inject_device.h"
#include "tests/common/address_literal.h"
#include "tests/common/netns.h"
#include "agent/core/result.h"

namespace sixguard::bpftest {

inline constexpr uint32_t kNetA = 0x0002045b;
inline constexpr uint32_t kNetB = 0x00030001;
inline constexpr uint32_t kNetC = 0x00040000;
inline constexpr uint32_t kNetInfra = 0x00070007;
inline constexpr uint32_t kAppM1 = 100;
inline constexpr uint32_t kAppM2 = 300;
inline constexpr uint32_t kAppM3 = 301;

// Parses a literal address of the scenario (aborts on a typo: a test bug, not a result).
using test::addr;

struct Addresses {
  Ipv6 m1 = addr("fdaa:2:45b:a7b:174:db43:d3c6:2");
  Ipv6 m1_other_free = addr("fdaa:2:45b:a7b:174:db43:d3c6:99");  // same /112
  Ipv6 a_outside_112 = addr("fdaa:2:45b:a7b:174:db43:d3c7:2");   // same network
  Ipv6 a_peer = addr("fdaa:2:45b:ff:1:2:3:4");  // same network, other host and machine
  Ipv6 m2 = addr("fdaa:3:1:b1:1:2:3:5");
  Ipv6 m3 = addr("fdaa:3:1:b1:1:2:4:7");
  Ipv6 b = addr("fdaa:3:1:a7b:174:db43:d3c6:2");  // M1's host/machine bits on network B
  Ipv6 c = addr("fdaa:4:0:1:2:3:4:5");
  Ipv6 dns = addr("fdaa::3");
  Ipv6 net0 = addr("fdaa::5");  // network 0, not infrastructure
  Ipv6 admin = addr("fdaa:7:7::1");
  Ipv6 fc_into_a = addr("fdaa:2:45b:f1c::1");
  Ipv6 fc_to_m1 = addr("fdaa:3:1:f1c::2");
  Ipv6 fc_b = addr("fdaa:3:1:f1c::9");
  Ipv6 public_v6 = addr("2001:db8::1");
  Ipv6 mapped_v4 = addr("::ffff:10.0.0.1");
  Ipv6 near_6pn = addr("fdab:2:45b::1");  // one bit off fdaa::/16
  Ipv6 ula_other = addr("fd00:2:45b::1");
  Ipv6 link_local = addr("fe80::1");
  Ipv6 link_local_peer = addr("fe80::2");
  Ipv6 all_nodes = addr("ff02::1");
  Ipv6 solicited = addr("ff02::1:ff00:2");
  Ipv6 unspecified = addr("::");
};

const Addresses &addrs();

// The configuration the agent would write for this scenario: infra_nets lists 0 and 7:7,
// events on (1000/s, burst 1000), enforce mode.
sg_config base_config();

// The namespace with its interfaces and the loaded datapath with the scenario's policy.
class Host {
 public:
  static Result<std::unique_ptr<Host>> create(const MapSizes &sizes = {});

  // Empties the policy maps and writes the scenario's policy and `config`.
  Status reset_policy(const sg_config &config);

  const test::NetNs &ns() const { return ns_; }
  Datapath &datapath() { return *datapath_; }
  const InjectDevice &l3_uplink() const { return *l3_; }
  // A tap with sg_egress_tc on its TC ingress: machine_egress's TC program on real frames.
  const InjectDevice &egress_tap() const { return *tap_; }

  uint32_t if_m1 = 0, if_m2 = 0, if_m3 = 0, if_unknown = 0, if_uplink = 0, if_tun = 0, if_tap = 0;

 private:
  Host(test::NetNs ns, std::unique_ptr<Datapath> datapath)
      : ns_(std::move(ns)), datapath_(std::move(datapath)) {}
  test::NetNs ns_;
  std::unique_ptr<Datapath> datapath_;
  // Declared last: detached before the namespace goes.
  std::unique_ptr<InjectDevice> l3_;
  std::unique_ptr<InjectDevice> tap_;
};

}  // namespace sixguard::bpftest
