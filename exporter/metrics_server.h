// The exporter's HTTP side (DESIGN §4), on the agent's own HTTP server (agent/api):
// - the metrics listener: /metrics, /healthz, /readyz on TCP metrics_address (default
//   ":9530", every address, so Prometheus can scrape it);
// - the health listener: /healthz and /readyz only, on health_address (default
//   "127.0.0.1:9531", loopback only), which the DaemonSet's probes use. A server of its own,
//   with its own I/O thread, worker and caps: a flood on the metrics port (reachable from
//   tenant machines over their gateway) or on the API never reaches it.
//
//   auto metrics = MetricsServer::start(exporter, config.metrics_address);
//   auto health = MetricsServer::start(exporter, config.health_address, Endpoints::kHealth);
//   if (!health) fail(health.error());              // e.g. the port is taken, not loopback
//   ...                                              // serves until destroyed
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "exporter/exporter.h"
#include "agent/api/http_server.h"
#include "agent/core/result.h"
#include "agent/api/router.h"

namespace sixguard::exporter {

enum class Endpoints {
  kMetrics,  // /metrics, /healthz, /readyz
  kHealth,   // /healthz, /readyz; loopback addresses only
};

// Adds GET and HEAD for the endpoints to router. exporter must outlive it.
void register_metrics_routes(Router &router, const Exporter &exporter,
                             Endpoints endpoints = Endpoints::kMetrics);

// The server limits of each listener (http_server.h). The health listener's peers are all
// local (the kubelet, systemd, an operator), so it caps connections in all, not per peer.
HttpServerOptions listener_options(Endpoints endpoints);

// Whether host (as in a listen address, brackets removed) names only loopback addresses:
// 127.0.0.0/8, ::1 or "localhost".
bool is_loopback_host(const std::string &host);

class MetricsServer {
 public:
  // Listens on address ("host:port", "[v6]:port", ":port"; port 0 picks a free one) and
  // serves on its own threads. kHealth refuses an address that is not loopback. exporter
  // must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> start(const Exporter &exporter,
                                                      const std::string &address,
                                                      Endpoints endpoints = Endpoints::kMetrics);
  static Result<std::unique_ptr<MetricsServer>> start(const Exporter &exporter,
                                                      const std::string &address,
                                                      Endpoints endpoints,
                                                      HttpServerOptions options);
  ~MetricsServer();  // stops serving
  MetricsServer(const MetricsServer &) = delete;
  MetricsServer &operator=(const MetricsServer &) = delete;

  uint16_t port() const { return port_; }  // the bound port
  HttpServerCounters counters() const { return server_->counters(); }

 private:
  MetricsServer() = default;
  Router router_;
  std::unique_ptr<HttpServer> server_;  // after router_: destroyed (stopped) before it
  uint16_t port_ = 0;
};

}  // namespace sixguard::exporter
