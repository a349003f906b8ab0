// The control plane's reports (agent/control/observer.h) as metrics:
//
//   sixguard_events_total{type,result}                 type: the 8 event types or "unknown";
//                                                      result: observer.h's classes or "other"
//   sixguard_event_apply_duration_seconds              histogram, one sample per batch
//   sixguard_reconcile_errors_total
//   sixguard_last_reconcile_success_timestamp_seconds  unix time; 0 until the first success
//
// Every type x result series exists from the start at 0, so rate() and alerts work before
// the first event. Thread-safe (prometheus-cpp metrics are atomic).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "agent/control/observer.h"

namespace sixguard::exporter {

class MetricsObserver final : public ControlObserver {
 public:
  // Registers the families in registry, which must outlive this observer.
  explicit MetricsObserver(prometheus::Registry &registry);

  void event_result(std::string_view type, std::string_view result) override;
  void apply_duration(double seconds) override;
  void reconciled(bool ok) override;

 private:
  prometheus::Counter &events_counter(std::string_view type, std::string_view result);

  prometheus::Family<prometheus::Counter> &events_;
  // (type, result) -> series; all bounded label values, created up front (plus "other").
  std::map<std::pair<std::string_view, std::string_view>, prometheus::Counter *> event_series_;
  prometheus::Histogram &apply_duration_;
  prometheus::Counter &reconcile_errors_;
  prometheus::Gauge &last_reconcile_success_;
};

}  // namespace sixguard::exporter
