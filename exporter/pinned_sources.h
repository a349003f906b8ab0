// The real sources: the datapath's maps as pinned under <bpffs>/sixguard (DESIGN §5), read
// through the typed map views of maps/. The daemon opens them once the datapath is loaded
// (the pins exist) and hands them to Exporter::set_*_source. Every call reads the kernel
// afresh; nothing is cached between scrapes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "maps/array_map.h"
#include "maps/map_handle.h"
#include "exporter/sources.h"

namespace sixguard::exporter {

// sg_counters and sg_event_stats, summed over every possible CPU.
class PinnedCounterSource final : public CounterSource {
 public:
  // pin_dir: <bpffs>/sixguard (AgentConfig::pin_dir()).
  static Result<std::shared_ptr<PinnedCounterSource>> open(const std::string &pin_dir);

  Result<VerdictCounters> verdict_counters() override;
  Result<MonitorEventStats> monitor_event_stats() override;

 private:
  PinnedCounterSource(maps::PerCpuArray<sg_counter> counters,
                      maps::PerCpuArray<uint64_t> event_stats)
      : counters_(std::move(counters)), event_stats_(std::move(event_stats)) {}
  maps::PerCpuArray<sg_counter> counters_;
  maps::PerCpuArray<uint64_t> event_stats_;
};

// Entries and capacity of the maps that can fill (labels.h kMapLabels), counted by walking
// their keys: O(entries) get_next_key calls per scrape, a few ms per 10k entries, acceptable
// at scrape intervals of seconds.
class PinnedMapStatsSource final : public MapStatsSource {
 public:
  // Opens every map of kMapLabels under pin_dir; a missing pin is an error.
  static Result<std::shared_ptr<PinnedMapStatsSource>> open(const std::string &pin_dir);

  Result<std::vector<MapUsage>> map_usage() override;

 private:
  struct LabelledMap {
    std::string label;
    maps::MapHandle handle;
  };
  explicit PinnedMapStatsSource(std::vector<LabelledMap> maps) : maps_(std::move(maps)) {}
  std::vector<LabelledMap> maps_;
};

// Attachments as the daemon knows them, through a function it supplies (e.g. a lambda over
// the datapath's attachment registry). The function is called from the metrics thread.
class FunctionAttachmentSource final : public AttachmentSource {
 public:
  explicit FunctionAttachmentSource(std::function<AttachedInterfaces()> read)
      : read_(std::move(read)) {}
  AttachedInterfaces attached_interfaces() override { return read_(); }

 private:
  std::function<AttachedInterfaces()> read_;
};

}  // namespace sixguard::exporter
