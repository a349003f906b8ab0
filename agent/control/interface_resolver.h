// How the control plane learns the ifindex of a machine's interface (sg_machines is keyed
// by ifindex). The daemon implements it (if_nametoindex or its netlink cache) and tells the
// control plane about changes with ControlPlane::interface_changed().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sixguard {

class InterfaceResolver {
 public:
  virtual ~InterfaceResolver() = default;
  // The ifindex of the interface called name, or nullopt when it does not exist (yet).
  virtual std::optional<uint32_t> ifindex(const std::string &name) = 0;
};

}  // namespace sixguard
