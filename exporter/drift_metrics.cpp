#include "exporter/drift_metrics.h"

#include "agent/control/map_drift.h"
#include "exporter/registered_metrics.h"

namespace sixguard::exporter {

namespace {

// The policy maps' labels are the comparison's own (map_drift.h): one list, checked here.
constexpr bool labels_agree() {
  std::size_t i = 0;
  for (std::string_view label : kDriftMapLabels) {
    if (kDriftRepairLabels[i++] != label) return false;
  }
  return true;
}
static_assert(labels_agree(), "kDriftRepairLabels must start with map_drift.h's kDriftMapLabels");

}  // namespace

DriftMetrics::DriftMetrics(prometheus::Registry &registry)
    : repairs_(counter_family(registry, "sixguard_drift_repairs_total",
                              "Differences between the kernel and what it should hold (map "
                              "entries, pins, attachments) that the drift checker found and "
                              "repaired")),
      errors_(unlabelled_counter(registry, "sixguard_drift_check_errors_total",
                                 "Drift checks that could not compare or repair something (GET "
                                 "/v1/status says what)")),
      last_check_(unlabelled_gauge(registry, "sixguard_drift_last_check_timestamp_seconds",
                                   "Unix time the last drift check finished; 0 before the first")) {
  for (std::string_view label : kDriftRepairLabels) {
    series_.emplace(std::string(label), &repairs_.Add({{"map", std::string(label)}}));
  }
  series_.emplace("other", &repairs_.Add({{"map", "other"}}));
}

void DriftMetrics::repaired(std::string_view label, double count) {
  auto found = series_.find(label);
  if (found == series_.end()) found = series_.find("other");
  found->second->Increment(count);
}

void DriftMetrics::check_error() {
  errors_.Increment();
}

void DriftMetrics::checked(double unix_seconds) {
  last_check_.Set(unix_seconds);
}

}  // namespace sixguard::exporter
