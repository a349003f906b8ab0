#include "exporter/pinned_sources.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>

#include "exporter/labels.h"
#include "maps/map_error.h"

namespace sixguard::exporter {

namespace {

template <typename V>
Result<maps::PerCpuArray<V>> open_per_cpu(const std::string &pin_dir, const char *name) {
  auto handle = maps::MapHandle::open_pinned(pin_dir + "/" + name);
  if (!handle) return handle.error();
  return maps::PerCpuArray<V>::open(std::move(*handle));
}

// Counts keys without knowing their type: get_next_key with key_size-byte buffers. Bounded
// like maps::KeyValueMap's walk (a concurrent delete of the cursor key restarts a hash walk).
Result<uint64_t> count_keys(const maps::MapHandle &map) {
  std::vector<unsigned char> key(map.info().key_size);
  std::vector<unsigned char> next(map.info().key_size);
  const void *cursor = nullptr;
  const uint64_t bound = 2ull * map.max_entries() + 16;
  uint64_t entries = 0;
  for (uint64_t steps = 0;; ++steps) {
    if (steps > bound) return maps::map_error(map.name(), "count: walk did not terminate", EAGAIN);
    if (bpf_map_get_next_key(map.fd(), cursor, next.data()) != 0) {
      if (errno == ENOENT) return entries;
      return maps::map_error(map.name(), "get_next_key", errno);
    }
    ++entries;
    key.swap(next);
    cursor = key.data();
  }
}

}  // namespace

Result<std::shared_ptr<PinnedCounterSource>> PinnedCounterSource::open(const std::string &pin_dir) {
  auto counters = open_per_cpu<sg_counter>(pin_dir, SG_MAP_COUNTERS);
  if (!counters) return counters.error();
  auto event_stats = open_per_cpu<uint64_t>(pin_dir, SG_MAP_EVENT_STATS);
  if (!event_stats) return event_stats.error();
  return std::shared_ptr<PinnedCounterSource>(
      new PinnedCounterSource(std::move(*counters), std::move(*event_stats)));
}

Result<VerdictCounters> PinnedCounterSource::verdict_counters() {
  auto summed = counters_.read_all_summed();
  if (!summed) return summed.error();
  if (summed->size() < kCounterSlots) {
    return make_error(std::string(SG_MAP_COUNTERS) + ": " + std::to_string(summed->size()) +
                          " slots, expected " + std::to_string(kCounterSlots),
                      EINVAL);
  }
  VerdictCounters result{};
  for (std::size_t slot = 0; slot < kCounterSlots; ++slot) result[slot] = (*summed)[slot];
  return result;
}

Result<MonitorEventStats> PinnedCounterSource::monitor_event_stats() {
  MonitorEventStats result{};
  for (uint32_t stat = 0; stat < SG_EVSTAT_COUNT; ++stat) {
    auto total = event_stats_.read_sum(stat);
    if (!total) return total.error();
    result[stat] = *total;
  }
  return result;
}

Result<std::shared_ptr<PinnedMapStatsSource>> PinnedMapStatsSource::open(
    const std::string &pin_dir) {
  std::vector<LabelledMap> opened;
  for (const MapLabel &map : kMapLabels) {
    auto handle = maps::MapHandle::open_pinned(pin_dir + "/" + std::string(map.kernel_name));
    if (!handle) return handle.error();
    opened.push_back(LabelledMap{std::string(map.label), std::move(*handle)});
  }
  return std::shared_ptr<PinnedMapStatsSource>(new PinnedMapStatsSource(std::move(opened)));
}

Result<std::vector<MapUsage>> PinnedMapStatsSource::map_usage() {
  std::vector<MapUsage> usage;
  for (const LabelledMap &map : maps_) {
    auto entries = count_keys(map.handle);
    if (!entries) return entries.error();
    usage.push_back(MapUsage{map.label, *entries, map.handle.max_entries()});
  }
  return usage;
}

}  // namespace sixguard::exporter
