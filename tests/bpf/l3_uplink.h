// The L3 uplink hook on a real L3 device. BPF_PROG_TEST_RUN cannot show a TC program an skb
// that starts at the IPv6 header (the kernel's skb test run always pushes back an Ethernet
// header), so sg_uplink_l3 is tested as it runs in production: attached to TC ingress of a
// tun device (no Ethernet header, like WireGuard) inside the test namespace, with packets
// written to the tun file descriptor. Its return code is read from the clsact qdisc's drop
// counter.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fd.h"
#include "netns.h"
#include "result.h"

namespace sixguard::bpftest {

class L3Uplink {
 public:
  // Creates tun device `name` in ns (up) and attaches prog_fd to its TC ingress.
  static Result<std::unique_ptr<L3Uplink>> create(const test::NetNs &ns, const char *name,
                                                  int prog_fd);
  ~L3Uplink();  // detaches (clsact removed) and closes the tun fd (which removes the device)

  uint32_t ifindex() const { return ifindex_; }
  // Hands one L3 packet to the kernel as received on the device, with skb->protocol set to
  // `protocol` (the tun packet-information header). TC ingress runs before write() returns
  // (tun receives synchronously in the writer's context).
  Status inject(const std::vector<uint8_t> &packet, uint16_t protocol) const;
  // Packets the clsact ingress has dropped so far (TC_ACT_SHOT).
  Result<uint64_t> drops() const;

 private:
  L3Uplink(const test::NetNs &ns, Fd tun, std::string name, uint32_t ifindex)
      : ns_(ns), tun_(std::move(tun)), name_(std::move(name)), ifindex_(ifindex) {}
  const test::NetNs &ns_;
  Fd tun_;
  std::string name_;
  uint32_t ifindex_;
};

}  // namespace sixguard::bpftest
