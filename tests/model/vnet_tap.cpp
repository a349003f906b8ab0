#include "tests/model/vnet_tap.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace sixguard::model {

namespace {

// struct virtio_net_hdr (linux/virtio_net.h, which does not compile as C++: a field is named
// `class`). Its size is what tun expects by default (TUNSETVNETHDRSZ not called).
struct VirtioNetHdr {
  uint8_t flags;
  uint8_t gso_type;  // VIRTIO_NET_HDR_GSO_NONE is 0
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(VirtioNetHdr) == 10);

}  // namespace

Result<std::unique_ptr<VnetTap>> VnetTap::create(const test::NetNs &ns, const char *name,
                                                 int prog_fd) {
  // The device is made in the namespace of the thread that opens /dev/net/tun.
  auto made = ns.run([&]() -> Result<std::pair<int, uint32_t>> {
    Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return errno_error("open /dev/net/tun");
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) return errno_error("TUNSETIFF");
    const uint32_t ifindex = ::if_nametoindex(name);
    if (ifindex == 0) return errno_error(std::string("if_nametoindex ") + name);
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
                .attach_point = BPF_TC_INGRESS);
    if (int err = bpf_tc_hook_create(&hook); err && err != -EEXIST) {
      return make_error("create clsact", -err);
    }
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
    if (int err = bpf_tc_attach(&hook, &opts); err) return make_error("attach tc ingress", -err);
    return std::make_pair(fd.release(), ifindex);
  });
  if (!made) return made.error();
  if (!*made) return made->error();
  std::unique_ptr<VnetTap> tap(new VnetTap(ns, Fd((*made)->first), (*made)->second));
  if (auto up = ns.ip({"link", "set", name, "up"}); !up) return up.error();
  return tap;
}

VnetTap::~VnetTap() {
  (void)ns_.run([&] {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex_),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    bpf_tc_hook_destroy(&hook);
  });
}

Status VnetTap::inject(const std::vector<uint8_t> &frame, uint16_t head) const {
  VirtioNetHdr header{};  // no checksum offload, no GSO: only the linear length
  header.hdr_len = head;  // host byte order: a little-endian host's virtio (tun's default)
  iovec parts[2] = {{&header, sizeof(header)}, {const_cast<uint8_t *>(frame.data()), frame.size()}};
  const ssize_t written = ::writev(fd_.get(), parts, 2);
  if (written != static_cast<ssize_t>(sizeof(header) + frame.size())) {
    return errno_error("write to the vnet tap");
  }
  return {};
}

}  // namespace sixguard::model
