// The metrics read from the kernel at scrape time (DESIGN §4, STYLE "pull metrics"): no
// thread polls the maps and keeps copies; every scrape sums the per-CPU counters afresh.
//
//   sixguard_packets_total{hook,verdict,reason}   every 3x3x8 combination, zeros included
//   sixguard_bytes_total{hook,verdict,reason}
//   sixguard_monitor_events_total{result}         sent | rate_limited | lost
//   sixguard_map_entries{map}, sixguard_map_capacity{map}   the maps that can fill
//   sixguard_attached_interfaces{hook}
//   sixguard_build_info{version,revision,kernel} 1
//   sixguard_ready                                 1 when /readyz answers 200
//   sixguard_scrape_errors_total{source}          a source failed; its series are left out
//
// A source that is not set yet (the datapath not loaded) leaves its series out: absent data
// is not reported as zero traffic.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "exporter/build_info.h"
#include "exporter/readiness.h"
#include "exporter/sources.h"

namespace sixguard::exporter {

class DatapathCollector final : public prometheus::Collectable {
 public:
  DatapathCollector(BuildInfo build, const Readiness &readiness);

  // Sources can be set (or replaced) at any time, e.g. once the datapath is loaded.
  void set_counter_source(std::shared_ptr<CounterSource> source);
  void set_map_stats_source(std::shared_ptr<MapStatsSource> source);
  void set_attachment_source(std::shared_ptr<AttachmentSource> source);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  enum ErrorSource { kCounters, kMonitorEvents, kMapUsage, kErrorSourceCount };

  void collect_counters(CounterSource &source, std::vector<prometheus::MetricFamily> &out) const;
  void collect_monitor_events(CounterSource &source,
                              std::vector<prometheus::MetricFamily> &out) const;
  void collect_map_usage(MapStatsSource &source, std::vector<prometheus::MetricFamily> &out) const;
  void collect_attachments(AttachmentSource &source,
                           std::vector<prometheus::MetricFamily> &out) const;
  // Returns ok; a source that could not be read (!ok) is counted in
  // sixguard_scrape_errors_total{source} and its series are left out.
  bool counted_if_failed(bool ok, ErrorSource source) const;
  prometheus::MetricFamily error_family() const;

  BuildInfo build_;
  const Readiness &readiness_;

  mutable std::mutex sources_mutex_;  // guards the three pointers, not the sources' calls
  std::shared_ptr<CounterSource> counters_;
  std::shared_ptr<MapStatsSource> maps_;
  std::shared_ptr<AttachmentSource> attachments_;

  mutable std::array<std::atomic<uint64_t>, kErrorSourceCount> errors_{};
};

}  // namespace sixguard::exporter
