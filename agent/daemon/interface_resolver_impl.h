// The control plane's InterfaceResolver over the kernel: SIOCGIFINDEX in the agent's network
// namespace, asked afresh every time (an interface re-created by a machine restart has a new
// ifindex; a cache would have to be invalidated by netlink anyway). One socket is kept for
// the ioctl: if_nametoindex opens and closes one per call, which dominated the cost of a
// batch of machines (one lookup per machine, in the API and the main thread). The ioctl is
// safe from several threads on one socket.
#pragma once

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "agent/core/fd.h"
#include "agent/control/interface_resolver.h"

namespace sixguard::daemon {

class KernelInterfaceResolver final : public InterfaceResolver {
 public:
  KernelInterfaceResolver() : socket_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}

  std::optional<uint32_t> ifindex(const std::string &name) override {
    unsigned index = 0;
    if (!socket_.valid() || name.size() >= IFNAMSIZ) {
      index = ::if_nametoindex(name.c_str());
    } else {
      ifreq request{};
      std::memcpy(request.ifr_name, name.data(), name.size());
      if (::ioctl(socket_.get(), SIOCGIFINDEX, &request) == 0) {
        index = static_cast<unsigned>(request.ifr_ifindex);
      }
    }
    if (index == 0) return std::nullopt;
    return index;
  }

 private:
  Fd socket_;
};

}  // namespace sixguard::daemon
