// What the daemon's configuration tells the control plane (DESIGN §4 configuration keys).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/address.h"

namespace sixguard {

struct ControlConfig {
  std::string state_dir = "/var/lib/sixguard";  // state.db lives here
  std::vector<Ipv6Prefix> infra_prefixes;       // sg_infra; the daemon's default fdaa::3/128
  bool global_audit = false;                    // mode: audit
  uint32_t events_per_sec = 100;                // drop events per second per CPU; 0: none
  uint32_t events_burst = 100;                  // token-bucket depth
  std::vector<uint16_t> encap_udp_ports;        // sg_config: VXLAN-framed UDP ports (validated)
  std::vector<std::string> uplinks;             // refused as machine interfaces (422)
};

}  // namespace sixguard
