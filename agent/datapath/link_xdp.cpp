#include "agent/datapath/link_xdp.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "agent/core/fd.h"

namespace sixguard {
namespace {

// IFLA_XDP's nested attributes: the attach mode, and the program's id in single-program modes.
void read_xdp(const rtattr *xdp, LinkXdp &out) {
  int length = static_cast<int>(RTA_PAYLOAD(xdp));
  for (const auto *attribute = static_cast<const rtattr *>(RTA_DATA(xdp));
       RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length)) {
    if (attribute->rta_type == IFLA_XDP_ATTACHED && RTA_PAYLOAD(attribute) >= sizeof(uint8_t)) {
      out.attach_mode = *static_cast<const uint8_t *>(RTA_DATA(attribute));
    } else if (attribute->rta_type == IFLA_XDP_PROG_ID &&
               RTA_PAYLOAD(attribute) >= sizeof(uint32_t)) {
      std::memcpy(&out.prog_id, RTA_DATA(attribute), sizeof(uint32_t));
    }
  }
}

}  // namespace

Result<LinkXdp> query_link_xdp(int ifindex) {
  const std::string what = "netlink: XDP program of ifindex " + std::to_string(ifindex);
  Fd socket(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!socket.valid()) return errno_error(what + ": socket");
  struct {
    nlmsghdr header;
    ifinfomsg info;
    rtattr mask_header;
    uint32_t mask;
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 1;
  request.info.ifi_family = AF_UNSPEC;
  request.info.ifi_index = ifindex;
  // No statistics in the answer: they are most of a link message, and unused here.
  request.mask_header.rta_type = IFLA_EXT_MASK;
  request.mask_header.rta_len = RTA_LENGTH(sizeof(uint32_t));
  request.mask = RTEXT_FILTER_SKIP_STATS;
  if (::send(socket.get(), &request, sizeof(request), 0) < 0) return errno_error(what + ": send");

  std::array<char, 32 * 1024> buffer;
  for (;;) {
    const ssize_t received = ::recv(socket.get(), buffer.data(), buffer.size(), 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      return errno_error(what + ": recv");
    }
    int length = static_cast<int>(received);
    for (auto *header = reinterpret_cast<nlmsghdr *>(buffer.data()); NLMSG_OK(header, length);
         header = NLMSG_NEXT(header, length)) {
      if (header->nlmsg_type == NLMSG_ERROR) {
        const auto *error = static_cast<const nlmsgerr *>(NLMSG_DATA(header));
        return make_error(what, error->error != 0 ? -error->error : EPROTO);
      }
      if (header->nlmsg_type != RTM_NEWLINK) continue;
      const auto *info = static_cast<const ifinfomsg *>(NLMSG_DATA(header));
      if (info->ifi_index != ifindex) continue;
      LinkXdp out;
      int attributes =
          static_cast<int>(header->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(*info)));
      for (const rtattr *attribute = IFLA_RTA(info); RTA_OK(attribute, attributes);
           attribute = RTA_NEXT(attribute, attributes)) {
        if (attribute->rta_type == IFLA_XDP) read_xdp(attribute, out);
      }
      return out;
    }
  }
}

}  // namespace sixguard
