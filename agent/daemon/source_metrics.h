// The etcd source's metrics (DESIGN §6), read from its status at each scrape:
//   sixguard_source_revision            gauge: the etcd revision this host's state reflects
//   sixguard_source_connected           gauge: 1 while the source reaches etcd
//   sixguard_source_resyncs_total       counter: lists after the first (compaction, absence)
//   sixguard_source_invalid_keys_total  counter: keys skipped for breaking the §3/§6 rules
//   sixguard_source_invalid_keys        gauge: keys currently skipped
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "etcd_source.h"

namespace sixguard::daemon {

class SourceMetrics final : public prometheus::Collectable {
 public:
  explicit SourceMetrics(const EtcdSource &source) : source_(source) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const EtcdSource &source_;
};

}  // namespace sixguard::daemon
