// A real device whose TC ingress runs one of our programs on packets the test writes: where
// BPF_PROG_TEST_RUN cannot show a program the packet as the kernel would.
//  - kL3, a tun device (no Ethernet header, like WireGuard) for sg_uplink_l3: the kernel's skb
//    test run always pushes back an Ethernet header.
//  - kEthernet, a tap device for sg_egress_tc on frames the skb test run refuses (an IPv6
//    ethertype with a cut header), which a machine can still send.
// Packets are written to the tun/tap file descriptor; the program's return code is read from
// the clsact qdisc's drop counter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/fd.h"
#include "tests/common/netns.h"
#include "agent/core/result.h"

namespace sixguard::bpftest {

class InjectDevice {
 public:
  enum class Framing { kL3, kEthernet };

  // Creates the tun (kL3) or tap (kEthernet) device `name` in ns (up) and attaches prog_fd
  // to its TC ingress.
  static Result<std::unique_ptr<InjectDevice>> create(const test::NetNs &ns, const char *name,
                                                      Framing framing, int prog_fd);
  ~InjectDevice();  // detaches (clsact removed) and closes the fd (which removes the device)

  uint32_t ifindex() const { return ifindex_; }
  // Hands one packet to the kernel as received on the device: an L3 packet with skb->protocol
  // set to `protocol` (the tun packet-information header), or an Ethernet frame (protocol
  // unused). TC ingress runs before write() returns (tun/tap receive synchronously in the
  // writer's context).
  Status inject(const std::vector<uint8_t> &packet, uint16_t protocol = 0) const;
  // Packets the clsact ingress has dropped so far (TC_ACT_SHOT).
  Result<uint64_t> drops() const;

 private:
  InjectDevice(const test::NetNs &ns, Fd fd, std::string name, Framing framing, uint32_t ifindex)
      : ns_(ns), fd_(std::move(fd)), name_(std::move(name)), framing_(framing), ifindex_(ifindex) {}
  const test::NetNs &ns_;
  Fd fd_;
  std::string name_;
  Framing framing_;
  uint32_t ifindex_;
};

}  // namespace sixguard::bpftest
