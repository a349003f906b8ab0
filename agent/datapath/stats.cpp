#include "agent/datapath/stats.h"

#include "agent/datapath/names.h"

namespace sixguard {

Result<std::vector<CounterSample>> read_counters(const PinnedMaps &maps) {
  auto totals = maps.counters.read_all_summed();
  if (!totals) return totals.error();
  std::vector<CounterSample> samples;
  samples.reserve(totals->size());
  for (uint32_t hook = 0; hook < SG_HOOK_COUNT; ++hook) {
    for (uint32_t verdict = 0; verdict < SG_VERDICT_COUNT; ++verdict) {
      for (uint32_t reason = 0; reason < SG_REASON_COUNT; ++reason) {
        const uint32_t slot = SG_COUNTER_INDEX(hook, verdict, reason);
        if (slot >= totals->size()) return make_error("sg_counters: fewer slots than expected");
        samples.push_back(CounterSample{
            static_cast<sg_hook>(hook), static_cast<sg_verdict>(verdict),
            static_cast<sg_reason>(reason), (*totals)[slot].packets, (*totals)[slot].bytes});
      }
    }
  }
  return samples;
}

Result<EventStats> read_event_stats(const PinnedMaps &maps) {
  EventStats stats;
  const std::pair<uint32_t, uint64_t *> fields[] = {{SG_EVSTAT_SENT, &stats.sent},
                                                    {SG_EVSTAT_RATE_LIMITED, &stats.rate_limited},
                                                    {SG_EVSTAT_RINGBUF_FULL, &stats.ringbuf_full}};
  for (const auto &[index, field] : fields) {
    auto total = maps.event_stats.read_sum(index);
    if (!total) return total.error();
    *field = *total;
  }
  return stats;
}

Result<std::vector<MapUsage>> read_map_usage(const PinnedMaps &maps) {
  std::vector<MapUsage> usage;
  auto add = [&](std::string_view label, const auto &map) -> Status {
    auto entries = map.count();
    if (!entries) return entries.error();
    usage.push_back(MapUsage{label, map.name(), *entries, map.max_entries()});
    return {};
  };
  if (auto s = add(kMapLabelMachines, maps.machines); !s) return s.error();
  if (auto s = add(kMapLabelFlycast, maps.flycast); !s) return s.error();
  if (auto s = add(kMapLabelInfra, maps.infra); !s) return s.error();
  if (auto s = add(kMapLabelNetFlags, maps.net_flags); !s) return s.error();
  return usage;
}

}  // namespace sixguard
