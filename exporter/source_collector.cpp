#include "exporter/source_collector.h"

#include "exporter/metric_family.h"

namespace sixguard::exporter {

std::vector<prometheus::MetricFamily> SourceCollector::Collect() const {
  using prometheus::MetricType;
  const SourceStats stats = stats_();
  return {
      single_sample("sixguard_source_revision", "The etcd revision this host's state reflects.",
                    MetricType::Gauge, static_cast<double>(stats.revision)),
      single_sample("sixguard_source_connected", "1 while the etcd source reaches etcd.",
                    MetricType::Gauge, stats.connected ? 1 : 0),
      single_sample("sixguard_source_resyncs_total",
                    "Lists of the whole state after the first (compacted revision, long absence).",
                    MetricType::Counter, static_cast<double>(stats.resyncs)),
      single_sample(
          "sixguard_source_invalid_keys_total",
          "etcd keys skipped because they break the rules (each time a key became invalid).",
          MetricType::Counter, static_cast<double>(stats.invalid_keys_total)),
      single_sample("sixguard_source_invalid_keys", "etcd keys currently skipped as invalid.",
                    MetricType::Gauge, static_cast<double>(stats.invalid_keys)),
  };
}

}  // namespace sixguard::exporter
