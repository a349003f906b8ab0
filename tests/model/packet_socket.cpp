#include "tests/model/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/common/tc_device.h"

namespace sixguard::model {

Result<std::unique_ptr<EgressSender>> EgressSender::create(const test::NetNs &ns,
                                                           const std::string &name, int prog_fd) {
  const std::string peer = name + "p";
  if (auto made = ns.ip({"link", "add", name, "mtu", "9000", "type", "veth", "peer", "name", peer,
                         "mtu", "9000"});
      !made) {
    return made.error();
  }
  // Only the frames the test sends may leave through the program: no IPv6 on the device (no
  // DAD, MLD or router solicitations of its own) and the peer down (nothing is received there,
  // so nothing answers back).
  if (auto off = ns.exec_ok({"sysctl", "-qw", "net.ipv6.conf." + name + ".disable_ipv6=1"}); !off) {
    return off.error();
  }
  if (auto up = ns.ip({"link", "set", name, "up"}); !up) return up.error();
  auto opened = ns.run([&]() -> Result<std::pair<int, uint32_t>> {
    const uint32_t ifindex = ::if_nametoindex(name.c_str());
    if (ifindex == 0) return errno_error("if_nametoindex " + name);
    if (auto status = test::attach_tc_program(ifindex, prog_fd, BPF_TC_EGRESS); !status) {
      return status.error();
    }
    // Protocol 0: the socket sends only (no copy of every frame on the device comes back).
    Fd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return errno_error("socket AF_PACKET");
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = static_cast<int>(ifindex);
    if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
      return errno_error("bind AF_PACKET to " + name);
    }
    return std::make_pair(fd.release(), ifindex);
  });
  if (!opened) return opened.error();
  if (!*opened) return opened->error();
  return std::unique_ptr<EgressSender>(
      new EgressSender(ns, Fd((*opened)->first), name, (*opened)->second));
}

EgressSender::~EgressSender() {
  fd_ = Fd();
  (void)ns_.ip({"link", "del", name_});  // removes the peer too, and the clsact with it
}

Result<bool> EgressSender::send(const std::vector<uint8_t> &frame) const {
  if (::send(fd_.get(), frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size())) {
    return false;
  }
  if (errno == ENOBUFS) return true;  // NET_XMIT_DROP from TC egress
  return errno_error("send on " + name_);
}

}  // namespace sixguard::model
