// The control plane's InterfaceResolver over the kernel: if_nametoindex in the agent's
// network namespace, asked afresh every time (an interface re-created by a machine restart
// has a new ifindex; a cache would have to be invalidated by netlink anyway).
#pragma once

#include <net/if.h>

#include "interface_resolver.h"

namespace sixguard::daemon {

class KernelInterfaceResolver final : public InterfaceResolver {
 public:
  std::optional<uint32_t> ifindex(const std::string &name) override {
    const unsigned index = ::if_nametoindex(name.c_str());
    if (index == 0) return std::nullopt;
    return index;
  }
};

}  // namespace sixguard::daemon
