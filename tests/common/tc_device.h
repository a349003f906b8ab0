// The devices that hand test packets to a TC program (tests/bpf/inject_device.h,
// tests/model/vnet_tap.h, tests/model/packet_socket.h) share how the program goes on a
// device and comes off it, and how a tun/tap device is made inside a namespace.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>

#include "agent/core/fd.h"
#include "agent/core/result.h"
#include "tests/common/netns.h"

namespace sixguard::test {

// Puts prog_fd on the clsact hook `point` of ifindex, creating the clsact when it is missing.
// Call it inside the device's namespace (NetNs::run).
Status attach_tc_program(uint32_t ifindex, int prog_fd, bpf_tc_attach_point point);

// Removes the clsact of ifindex in ns, and every program on it; errors are ignored (a
// destructor's clean-up: the device may be gone already).
void remove_clsact(const NetNs &ns, uint32_t ifindex);

struct TunDevice {
  Fd fd;  // closing it removes the device
  uint32_t ifindex;
};

// Makes the tun/tap device `name` (TUNSETIFF with ifr_flags `flags`) inside ns, puts prog_fd
// on its TC ingress and sets it up.
Result<TunDevice> make_tun_device(const NetNs &ns, const char *name, short flags, int prog_fd);

}  // namespace sixguard::test
