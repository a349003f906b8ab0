// Capacities of the resizable maps, set before load (config map_sizes). Defaults come from
// sixguard_shared.h. A pinned map of another size is migrated at load (pin_plan.h): a new map
// of this size, entries copied, programs replaced, then the pin swapped.
#pragma once

#include <cstdint>

#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard {

struct MapSizes {
  uint32_t machines = SG_DEFAULT_MACHINES;
  uint32_t flycast = SG_DEFAULT_FLYCAST;
  uint32_t infra = SG_DEFAULT_INFRA;
  uint32_t net_flags = SG_DEFAULT_NET_FLAGS;
  uint32_t events_bytes = SG_DEFAULT_EVENTS_BYTES;  // ring buffer: a power of two >= 4096

  // Every size non-zero; events_bytes a power of two and at least one page.
  Status validate() const;

  // sg_owner_slots' entries (issue 14): the power of two at or above machines, so that
  // interfaces collide on a slot only when their ifindexes spread wider than the machines
  // the host is sized for; capped at kMaxOwnerSlots (40 MiB of slots). A collision only
  // costs the colliding interface the hash lookup.
  uint32_t owner_slots() const;
  static constexpr uint32_t kMaxOwnerSlots = 1u << 20;
};

}  // namespace sixguard
