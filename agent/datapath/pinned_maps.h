// Typed handles on every datapath map (bpf/lib/maps.h), either of a freshly loaded object
// or opened from their pins (<bpffs>/sixguard/<map name>) by a process that did not load them.
#pragma once

#include <cstdint>
#include <string>

#include "maps/array_map.h"
#include "maps/hash_map.h"
#include "maps/map_handle.h"
#include "maps/owner_slots.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

struct bpf_object;  // libbpf

namespace sixguard {

struct PinnedMaps {
  maps::HashMap<uint32_t, sg_machine> machines;  // ifindex -> machine
  maps::HashMap<sg_in6, sg_flycast> flycast;     // Flycast address -> target
  maps::LpmTrie<uint32_t> infra;                 // infrastructure prefixes
  maps::HashMap<uint32_t, uint32_t> net_flags;   // network id -> SG_NET_*
  maps::ArrayMap<sg_config> config;              // one element
  maps::PerCpuArray<sg_counter> counters;        // SG_COUNTER_SLOTS slots
  maps::PerCpuArray<uint64_t> event_stats;       // enum sg_event_stat
  maps::MapHandle events;                        // ring buffer of sg_drop_event
  maps::OwnerSlots owner_slots;                  // the machines' cache, mmap'd (issue 14)

  // The maps of a loaded libbpf object (fds are duplicated; the object may be closed after).
  static Result<PinnedMaps> from_object(const struct bpf_object *object);
  // The maps pinned in pin_dir (e.g. /sys/fs/bpf/sixguard).
  static Result<PinnedMaps> open(const std::string &pin_dir);
};

}  // namespace sixguard
