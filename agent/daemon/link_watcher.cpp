#include "agent/daemon/link_watcher.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <vector>

namespace sixguard::daemon {
namespace {

constexpr std::size_t kBufferSize = 64 * 1024;

Result<Fd> open_route_socket(uint32_t groups, bool nonblocking) {
  int flags = SOCK_RAW | SOCK_CLOEXEC;
  if (nonblocking) flags |= SOCK_NONBLOCK;
  Fd socket(::socket(AF_NETLINK, flags, NETLINK_ROUTE));
  if (!socket.valid()) return errno_error("netlink: socket(NETLINK_ROUTE)");
  // A larger receive buffer makes an overrun (and the resync it costs) rarer when many
  // interfaces change at once (a host booting its machines).
  const int size = 1 << 20;
  ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = groups;
  if (::bind(socket.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    return errno_error("netlink: bind(RTMGRP_LINK)");
  }
  return socket;
}

// The interface name from an RTM_NEWLINK/RTM_DELLINK message; empty when absent.
std::string link_name(const nlmsghdr *header) {
  const auto *info = static_cast<const ifinfomsg *>(NLMSG_DATA(header));
  int length = static_cast<int>(header->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(*info)));
  for (const rtattr *attribute = IFLA_RTA(info); RTA_OK(attribute, length);
       attribute = RTA_NEXT(attribute, length)) {
    if (attribute->rta_type == IFLA_IFNAME) {
      return std::string(
          static_cast<const char *>(RTA_DATA(attribute)),
          ::strnlen(static_cast<const char *>(RTA_DATA(attribute)), RTA_PAYLOAD(attribute)));
    }
  }
  return {};
}

// Applies one link message to a name table.
void apply_to_table(std::map<uint32_t, std::string> &table, const nlmsghdr *header) {
  const auto *info = static_cast<const ifinfomsg *>(NLMSG_DATA(header));
  const auto ifindex = static_cast<uint32_t>(info->ifi_index);
  if (header->nlmsg_type == RTM_NEWLINK) {
    table[ifindex] = link_name(header);
  } else if (header->nlmsg_type == RTM_DELLINK) {
    table.erase(ifindex);
  }
}

}  // namespace

LinkWatcher::LinkWatcher(Fd socket, Callback on_change, ResyncCallback on_resync)
    : socket_(std::move(socket)),
      on_change_(std::move(on_change)),
      on_resync_(std::move(on_resync)) {}

Result<LinkWatcher> LinkWatcher::open(Callback on_change, ResyncCallback on_resync) {
  // Subscribe first, dump second: a link that changes in between shows up in both, and the
  // handlers are idempotent, so nothing is missed.
  auto socket = open_route_socket(RTMGRP_LINK, /*nonblocking=*/true);
  if (!socket) return socket.error();
  LinkWatcher watcher(std::move(*socket), std::move(on_change), std::move(on_resync));
  if (auto status = watcher.read_dump(watcher.links_); !status) return status.error();
  return watcher;
}

Status LinkWatcher::read_dump(std::map<uint32_t, std::string> &table) {
  // A separate, blocking socket without multicast groups so dump replies and notifications
  // never interleave.
  auto socket = open_route_socket(0, /*nonblocking=*/false);
  if (!socket) return socket.error();
  struct {
    nlmsghdr header;
    ifinfomsg info;
  } request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = ++sequence_;
  request.info.ifi_family = AF_UNSPEC;
  if (::send(socket->get(), &request, request.header.nlmsg_len, 0) < 0) {
    return errno_error("netlink: send RTM_GETLINK dump");
  }
  std::map<uint32_t, std::string> fresh;
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    const ssize_t received = ::recv(socket->get(), buffer.data(), buffer.size(), 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      return errno_error("netlink: recv link dump");
    }
    int length = static_cast<int>(received);
    for (auto *header = reinterpret_cast<nlmsghdr *>(buffer.data()); NLMSG_OK(header, length);
         header = NLMSG_NEXT(header, length)) {
      if (header->nlmsg_type == NLMSG_DONE) {
        table = std::move(fresh);
        return {};
      }
      if (header->nlmsg_type == NLMSG_ERROR) {
        const auto *error = static_cast<const nlmsgerr *>(NLMSG_DATA(header));
        return make_error("netlink: link dump failed", -error->error);
      }
      apply_to_table(fresh, header);
    }
  }
}

void LinkWatcher::handle(uint16_t type, uint32_t ifindex, const std::string &name) {
  const auto known = links_.find(ifindex);
  if (type == RTM_DELLINK) {
    if (known == links_.end()) return;
    const LinkChange change{LinkChange::Kind::kRemoved, known->second, ifindex};
    links_.erase(known);
    on_change_(change);
    return;
  }
  if (type != RTM_NEWLINK) return;
  if (known != links_.end()) {
    if (known->second == name) return;  // a state change (up/down, mtu): nothing for us
    // Renamed: to us the old name is gone and the new one appeared.
    const LinkChange gone{LinkChange::Kind::kRemoved, known->second, ifindex};
    known->second = name;
    on_change_(gone);
  } else {
    links_[ifindex] = name;
  }
  on_change_(LinkChange{LinkChange::Kind::kAdded, name, ifindex});
}

Status LinkWatcher::resync() {
  std::map<uint32_t, std::string> current;
  if (auto status = read_dump(current); !status) return status;
  // Report the difference between what we knew and what is there.
  const auto previous = links_;
  for (const auto &[ifindex, name] : previous) {
    const auto now = current.find(ifindex);
    if (now == current.end() || now->second != name) handle(RTM_DELLINK, ifindex, name);
  }
  for (const auto &[ifindex, name] : current) handle(RTM_NEWLINK, ifindex, name);
  if (on_resync_) on_resync_();
  return {};
}

Status LinkWatcher::poll_once() {
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    const ssize_t received = ::recv(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      if (errno == ENOBUFS) {
        // The kernel dropped notifications: our table may be stale. Rebuild it.
        if (auto status = resync(); !status) return status;
        continue;
      }
      return errno_error("netlink: recv link notification");
    }
    int length = static_cast<int>(received);
    for (auto *header = reinterpret_cast<nlmsghdr *>(buffer.data()); NLMSG_OK(header, length);
         header = NLMSG_NEXT(header, length)) {
      if (header->nlmsg_type != RTM_NEWLINK && header->nlmsg_type != RTM_DELLINK) continue;
      const auto *info = static_cast<const ifinfomsg *>(NLMSG_DATA(header));
      handle(header->nlmsg_type, static_cast<uint32_t>(info->ifi_index), link_name(header));
    }
  }
}

}  // namespace sixguard::daemon
