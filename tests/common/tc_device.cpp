#include "tests/common/tc_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cstring>
#include <string>
#include <utility>

namespace sixguard::test {

Status attach_tc_program(uint32_t ifindex, int prog_fd, bpf_tc_attach_point point) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = point);
  if (int err = bpf_tc_hook_create(&hook); err && err != -EEXIST) {
    return make_error("create clsact", -err);
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
  if (int err = bpf_tc_attach(&hook, &opts); err) {
    return make_error(point == BPF_TC_EGRESS ? "attach tc egress" : "attach tc ingress", -err);
  }
  return {};
}

void remove_clsact(const NetNs &ns, uint32_t ifindex) {
  (void)ns.run([&] {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    bpf_tc_hook_destroy(&hook);
  });
}

Result<TunDevice> make_tun_device(const NetNs &ns, const char *name, short flags, int prog_fd) {
  // The device is made in the namespace of the thread that opens /dev/net/tun.
  auto made = ns.run([&]() -> Result<std::pair<int, uint32_t>> {
    Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return errno_error("open /dev/net/tun");
    ifreq request{};
    request.ifr_flags = flags;
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) return errno_error("TUNSETIFF");
    const uint32_t ifindex = ::if_nametoindex(name);
    if (ifindex == 0) return errno_error(std::string("if_nametoindex ") + name);
    if (auto status = attach_tc_program(ifindex, prog_fd, BPF_TC_INGRESS); !status) {
      return status.error();
    }
    return std::make_pair(fd.release(), ifindex);
  });
  if (!made) return made.error();
  if (!*made) return made->error();
  TunDevice device{Fd((*made)->first), (*made)->second};
  if (auto up = ns.ip({"link", "set", name, "up"}); !up) return up.error();
  return device;
}

}  // namespace sixguard::test
