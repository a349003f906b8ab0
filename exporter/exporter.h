// The exporter as the daemon uses it: one object that owns the readiness flag, the control
// plane's observer and the collector of kernel counters, and answers the metrics endpoints.
//
//   GET /metrics  200, Prometheus text format 0.0.4, read from the sources at this moment
//   GET /healthz  200 "ok" whenever the process serves
//   GET /readyz   200 "ready" once readiness().set_ready() was called, else 503 + the reason
//   anything else 404; a method other than GET/HEAD 405
//
// The HTTP transport is separate (metrics_server.h), so this class is tested without sockets.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/registry.h>

#include "exporter/build_info.h"
#include "exporter/datapath_collector.h"
#include "exporter/drift_metrics.h"
#include "exporter/metrics_observer.h"
#include "exporter/readiness.h"
#include "exporter/sources.h"

namespace sixguard::exporter {

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
};

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class Exporter {
 public:
  explicit Exporter(BuildInfo build = BuildInfo::current());
  Exporter(const Exporter &) = delete;
  Exporter &operator=(const Exporter &) = delete;

  // Give to the control plane; it reports every event, batch and reconciliation here.
  ControlObserver &observer() { return *observer_; }
  // The drift checker reports its repairs and checks here.
  DriftMetrics &drift() { return *drift_; }
  // The daemon sets it ready once state is loaded and interfaces attached.
  Readiness &readiness() { return readiness_; }

  void set_counter_source(std::shared_ptr<CounterSource> source);
  void set_map_stats_source(std::shared_ptr<MapStatsSource> source);
  void set_attachment_source(std::shared_ptr<AttachmentSource> source);
  // More families read at each scrape (the etcd source's, DESIGN §6). Set before serving.
  void add_collectable(std::shared_ptr<prometheus::Collectable> collectable);

  // The /metrics body.
  std::string scrape() const;
  // One request; target may carry a query string, which is ignored.
  HttpReply handle(std::string_view method, std::string_view target) const;

 private:
  Readiness readiness_;
  prometheus::Registry registry_;  // the observer's families
  std::unique_ptr<MetricsObserver> observer_;
  std::unique_ptr<DriftMetrics> drift_;
  std::shared_ptr<DatapathCollector> collector_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace sixguard::exporter
