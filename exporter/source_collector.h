// The desired state's source (DESIGN §6, the etcd source) as metrics, read at each scrape:
//   sixguard_source_revision            gauge: the etcd revision this host's state reflects
//   sixguard_source_connected           gauge: 1 while the source reaches etcd
//   sixguard_source_resyncs_total       counter: lists after the first (compaction, absence)
//   sixguard_source_invalid_keys_total  counter: keys skipped for breaking the §3/§6 rules
//   sixguard_source_invalid_keys        gauge: keys currently skipped
// Only in etcd mode (the daemon adds it with Exporter::add_collectable).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace sixguard::exporter {

struct SourceStats {
  int64_t revision = 0;
  bool connected = false;
  uint64_t resyncs = 0;
  uint64_t invalid_keys_total = 0;
  uint64_t invalid_keys = 0;
};

class SourceCollector final : public prometheus::Collectable {
 public:
  explicit SourceCollector(std::function<SourceStats()> stats) : stats_(std::move(stats)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<SourceStats()> stats_;
};

}  // namespace sixguard::exporter
