// A tap device with a virtio-net header (IFF_VNET_HDR) whose TC ingress runs one of our
// programs: the header's hdr_len tells tun how many bytes of a long frame to put in the skb's
// linear head, the rest goes to page fragments. So the TC programs meet non-linear skbs, as
// from a NIC or GRO, which BPF_PROG_TEST_RUN cannot build (its skbs are linear), and their
// pull of the outer headers is exercised.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "agent/core/fd.h"
#include "tests/common/netns.h"
#include "agent/core/result.h"

namespace sixguard::model {

class VnetTap {
 public:
  static Result<std::unique_ptr<VnetTap>> create(const test::NetNs &ns, const char *name,
                                                 int prog_fd);
  ~VnetTap();  // removes the clsact qdisc; closing the fd removes the device

  uint32_t ifindex() const { return ifindex_; }
  // Hands a frame to the kernel as received, `head` bytes of it linear (tun makes the whole
  // frame linear when it is shorter than a page).
  Status inject(const std::vector<uint8_t> &frame, uint16_t head) const;

 private:
  VnetTap(const test::NetNs &ns, Fd fd, uint32_t ifindex)
      : ns_(ns), fd_(std::move(fd)), ifindex_(ifindex) {}
  const test::NetNs &ns_;
  Fd fd_;
  uint32_t ifindex_;
};

}  // namespace sixguard::model
