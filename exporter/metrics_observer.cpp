#include "exporter/metrics_observer.h"

#include <prometheus/histogram.h>

#include "exporter/labels.h"
#include "exporter/registered_metrics.h"

namespace sixguard::exporter {

namespace {

// From half a millisecond (one event, maps already in step) to 10 s (a large batch, or the
// disk stalling on persist).
prometheus::Histogram::BucketBoundaries apply_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

MetricsObserver::MetricsObserver(prometheus::Registry &registry)
    : events_(counter_family(registry, "sixguard_events_total",
                             "Control-plane events by type and result (applied, unchanged, or "
                             "the error class)")),
      apply_duration_(unlabelled_histogram(
          registry, "sixguard_event_apply_duration_seconds",
          "Wall time of one POST /v1/events batch, validation to maps written", apply_buckets())),
      reconcile_errors_(
          unlabelled_counter(registry, "sixguard_reconcile_errors_total",
                             "Reconciliations of the maps to the persisted state that failed")),
      last_reconcile_success_(
          unlabelled_gauge(registry, "sixguard_last_reconcile_success_timestamp_seconds",
                           "Unix time of the last successful reconciliation; 0 before the first")) {
  auto add = [this](std::string_view type, std::string_view result) {
    event_series_[{type, result}] =
        &events_.Add({{"type", std::string(type)}, {"result", std::string(result)}});
  };
  for (std::string_view result : kEventResults) {
    for (std::string_view type : kEventTypes) add(type, result);
    add(kUnknownEventType, result);
  }
  // "other" results (a result class the control plane added later) are created on first use.
}

prometheus::Counter &MetricsObserver::events_counter(std::string_view type,
                                                     std::string_view result) {
  const std::string_view bounded_type = bounded_event_type(type);
  const std::string_view bounded_result = bounded_event_result(result);
  auto found = event_series_.find({bounded_type, bounded_result});
  if (found != event_series_.end()) return *found->second;
  // Only reached for kOtherEventResult. Family::Add is thread-safe and returns the existing
  // series when the labels are already there, so no lock is needed here and the map is not
  // written after construction.
  return events_.Add(
      {{"type", std::string(bounded_type)}, {"result", std::string(bounded_result)}});
}

void MetricsObserver::event_result(std::string_view type, std::string_view result) {
  events_counter(type, result).Increment();
}

void MetricsObserver::apply_duration(double seconds) {
  apply_duration_.Observe(seconds);
}

void MetricsObserver::reconciled(bool ok) {
  if (ok) {
    last_reconcile_success_.SetToCurrentTime();
  } else {
    reconcile_errors_.Increment();
  }
}

}  // namespace sixguard::exporter
