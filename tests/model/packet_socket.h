// A veth end whose clsact egress runs a program, fed through an AF_PACKET socket: frames sent on
// it go through the transmit path (dev_queue_xmit, TC egress) as the kernel's own traffic to a
// machine does, so machine_ingress meets real skbs, not only BPF_PROG_TEST_RUN's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/fd.h"
#include "tests/common/netns.h"
#include "agent/core/result.h"

namespace sixguard::model {

class EgressSender {
 public:
  // Creates the veth pair name/name+"p" in ns (MTU 9000; name up without IPv6, the peer down),
  // attaches prog_fd to name's TC egress and opens a packet socket bound to name.
  static Result<std::unique_ptr<EgressSender>> create(const test::NetNs &ns,
                                                      const std::string &name, int prog_fd);
  ~EgressSender();

  uint32_t ifindex() const { return ifindex_; }
  // Sends one frame out of the device (its TC egress runs before send returns). True when the
  // transmit path dropped it (send fails with ENOBUFS: TC_ACT_SHOT).
  Result<bool> send(const std::vector<uint8_t> &frame) const;

 private:
  EgressSender(const test::NetNs &ns, Fd fd, std::string name, uint32_t ifindex)
      : ns_(ns), fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}
  const test::NetNs &ns_;
  Fd fd_;
  std::string name_;
  uint32_t ifindex_;
};

}  // namespace sixguard::model
