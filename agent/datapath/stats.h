// What the exporter and status read from the kernel at scrape time (pull, no copies kept):
// per-slot verdict counters summed over CPUs, drop-event stream counters, and the fill level
// of each policy map against its capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/datapath/pinned_maps.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard {

struct CounterSample {
  sg_hook hook;
  sg_verdict verdict;
  sg_reason reason;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct EventStats {
  uint64_t sent = 0;
  uint64_t rate_limited = 0;
  uint64_t ringbuf_full = 0;
};

struct MapUsage {
  std::string_view label;  // exporter label: "machines", "flycast", "infra", "net_flags"
  std::string map;         // kernel map name
  std::size_t entries = 0;
  std::size_t capacity = 0;
};

// Every hook x verdict x reason slot (SG_COUNTER_SLOTS samples, zero slots included, in slot
// order), each summed over the possible CPUs.
Result<std::vector<CounterSample>> read_counters(const PinnedMaps &maps);
Result<EventStats> read_event_stats(const PinnedMaps &maps);
// Entry counts walk each map's keys: O(entries) syscalls per scrape.
Result<std::vector<MapUsage>> read_map_usage(const PinnedMaps &maps);

}  // namespace sixguard
