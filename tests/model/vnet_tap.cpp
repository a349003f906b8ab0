#include "tests/model/vnet_tap.h"

#include <linux/if_tun.h>
#include <sys/uio.h>
#include <unistd.h>

#include <utility>

#include "tests/common/tc_device.h"

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
  auto made = test::make_tun_device(ns, name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, prog_fd);
  if (!made) return made.error();
  return std::unique_ptr<VnetTap>(new VnetTap(ns, std::move(made->fd), made->ifindex));
}

VnetTap::~VnetTap() {
  test::remove_clsact(ns_, ifindex_);
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
