// The drift checker's metrics (DESIGN §5):
//
//   sixguard_drift_repairs_total{map}               differences found and repaired; map: a
//                                                   policy map's label (machines, flycast,
//                                                   infra, net_flags, config), pin or
//                                                   attachment
//   sixguard_drift_check_errors_total               checks that could not compare or repair
//                                                   something (the status says what)
//   sixguard_drift_last_check_timestamp_seconds     unix time the last check finished; 0
//                                                   before the first
//
// Every series exists from the start at 0. Thread-safe (prometheus-cpp metrics are atomic).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace sixguard::exporter {

// The label values of sixguard_drift_repairs_total{map}, in order.
inline constexpr std::string_view kDriftRepairLabels[] = {
    "machines", "flycast", "infra", "net_flags", "config", "owner_slots", "pin", "attachment"};

class DriftMetrics {
 public:
  explicit DriftMetrics(prometheus::Registry &registry);

  // A label outside kDriftRepairLabels is counted as "other" (never a new unbounded series).
  void repaired(std::string_view label, double count = 1);
  void check_error();
  void checked(double unix_seconds);

 private:
  prometheus::Family<prometheus::Counter> &repairs_;
  std::map<std::string, prometheus::Counter *, std::less<>> series_;
  prometheus::Counter &errors_;
  prometheus::Gauge &last_check_;
};

}  // namespace sixguard::exporter
