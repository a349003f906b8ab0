#include "exporter/source_collector.h"

namespace sixguard::exporter {

namespace {

prometheus::MetricFamily one(std::string name, std::string help, prometheus::MetricType type,
                             double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> SourceCollector::Collect() const {
  using prometheus::MetricType;
  const SourceStats stats = stats_();
  return {
      one("sixguard_source_revision", "The etcd revision this host's state reflects.",
          MetricType::Gauge, static_cast<double>(stats.revision)),
      one("sixguard_source_connected", "1 while the etcd source reaches etcd.", MetricType::Gauge,
          stats.connected ? 1 : 0),
      one("sixguard_source_resyncs_total",
          "Lists of the whole state after the first (compacted revision, long absence).",
          MetricType::Counter, static_cast<double>(stats.resyncs)),
      one("sixguard_source_invalid_keys_total",
          "etcd keys skipped because they break the rules (each time a key became invalid).",
          MetricType::Counter, static_cast<double>(stats.invalid_keys_total)),
      one("sixguard_source_invalid_keys", "etcd keys currently skipped as invalid.",
          MetricType::Gauge, static_cast<double>(stats.invalid_keys)),
  };
}

}  // namespace sixguard::exporter
