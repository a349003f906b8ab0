// The desired image (desired_maps.h) at a few keys only: what a batch or an interface change
// touched. Computed on the registry before and after the change, the two partial images
// hold everything write_difference needs, at a cost that follows the change and not the
// size of the registry. Reconcile and repair keep using the full image.
#pragma once

#include <cstdint>
#include <set>

#include "agent/control/control_config.h"
#include "agent/control/desired_maps.h"
#include "agent/control/ifindex_cache.h"
#include "agent/control/state.h"
#include "agent/control/state_before.h"

namespace sixguard {

struct MapKeys {
  std::set<uint32_t> ifindexes;  // sg_machines
  std::set<Ipv6> flycast;        // sg_flycast
  std::set<uint32_t> networks;   // sg_net_flags
  bool config = false;           // sg_config (the infra prefixes never change with the state)
};

// The entries of desired_image(state) at keys, with the interfaces as cached. It equals
// the full image there provided every machine's interface name is in the cache (the full
// image resolves the others; they must be resolved, ControlPlane::resolve, first).
MapImage partial_image(const State &state, const ControlConfig &config,
                       const IfindexCache &interfaces, const MapKeys &keys);
// The same for the registry as it was before a batch (state_before.h).
MapImage partial_image(const StateBefore &state, const ControlConfig &config,
                       const IfindexCache &interfaces, const MapKeys &keys);

}  // namespace sixguard
