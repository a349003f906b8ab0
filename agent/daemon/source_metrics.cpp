#include "source_metrics.h"

namespace sixguard::daemon {

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

std::vector<prometheus::MetricFamily> SourceMetrics::Collect() const {
  using prometheus::MetricType;
  const EtcdSourceStatus status = source_.status();
  return {
      one("sixguard_source_revision", "The etcd revision this host's state reflects.",
          MetricType::Gauge, static_cast<double>(status.revision)),
      one("sixguard_source_connected", "1 while the etcd source reaches etcd.", MetricType::Gauge,
          status.connected ? 1 : 0),
      one("sixguard_source_resyncs_total",
          "Lists of the whole state after the first (compacted revision, long absence).",
          MetricType::Counter, static_cast<double>(status.resyncs)),
      one("sixguard_source_invalid_keys_total",
          "etcd keys skipped because they break the rules (each time a key became invalid).",
          MetricType::Counter, static_cast<double>(status.invalid_keys_total)),
      one("sixguard_source_invalid_keys", "etcd keys currently skipped as invalid.",
          MetricType::Gauge, static_cast<double>(status.invalid_keys.size())),
  };
}

}  // namespace sixguard::daemon
