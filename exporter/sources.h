// What the exporter reads at scrape time. Each interface is small so that the daemon plugs
// in the real thing (the pinned maps, the datapath's attachments) and unit tests plug in
// fakes. Implementations are called from the metrics server's thread, concurrently with the
// rest of the agent: they must be safe to call from there and must not block for long (a
// scrape reads a few per-CPU arrays and the maps' sizes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::exporter {

// SG_COUNTER_SLOTS without its enum*enum arithmetic (deprecated in C++20, -Wextra warns).
inline constexpr std::size_t kCounterSlots = static_cast<std::size_t>(SG_HOOK_COUNT) *
                                             static_cast<std::size_t>(SG_VERDICT_COUNT) *
                                             static_cast<std::size_t>(SG_REASON_COUNT);

// sg_counters summed over every possible CPU, indexed by SG_COUNTER_INDEX(hook, verdict,
// reason).
using VerdictCounters = std::array<sg_counter, kCounterSlots>;
// sg_event_stats summed over every possible CPU, indexed by enum sg_event_stat.
using MonitorEventStats = std::array<uint64_t, SG_EVSTAT_COUNT>;

// The datapath's counters (sg_counters, sg_event_stats), read fresh on every call.
class CounterSource {
 public:
  virtual ~CounterSource() = default;
  virtual Result<VerdictCounters> verdict_counters() = 0;
  virtual Result<MonitorEventStats> monitor_event_stats() = 0;
};

// How full one map is.
struct MapUsage {
  std::string map;  // the label: "machines", "flycast", "infra", "net_flags" (labels.h)
  uint64_t entries = 0;
  uint64_t capacity = 0;
};

class MapStatsSource {
 public:
  virtual ~MapStatsSource() = default;
  // Maps not in the returned list are not exported at this scrape; labels outside
  // kMapLabels are ignored (bounded labels).
  virtual Result<std::vector<MapUsage>> map_usage() = 0;
};

// Interfaces currently carrying a sixguard program, per hook (indexed by enum sg_hook).
using AttachedInterfaces = std::array<uint64_t, SG_HOOK_COUNT>;

class AttachmentSource {
 public:
  virtual ~AttachmentSource() = default;
  virtual AttachedInterfaces attached_interfaces() = 0;
};

}  // namespace sixguard::exporter
