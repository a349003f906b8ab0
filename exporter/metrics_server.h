// The exporter's HTTP side: /metrics, /healthz and /readyz (exporter.h) served on TCP
// metrics_address (DESIGN §4, default ":9530") by the agent's own HTTP server (agent/api).
//
//   auto server = MetricsServer::start(exporter, config.metrics_address);
//   if (!server) fail(server.error());            // e.g. the port is taken
//   ...                                            // serves until destroyed
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "exporter.h"
#include "http_server.h"
#include "result.h"
#include "router.h"

namespace sixguard::exporter {

// Adds GET and HEAD /metrics, /healthz and /readyz to router. exporter must outlive it.
void register_metrics_routes(Router &router, const Exporter &exporter);

class MetricsServer {
 public:
  // Listens on address ("host:port", "[v6]:port", ":port"; port 0 picks a free one) and
  // serves on its own threads. exporter must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> start(const Exporter &exporter,
                                                      const std::string &address);
  ~MetricsServer();  // stops serving
  MetricsServer(const MetricsServer &) = delete;
  MetricsServer &operator=(const MetricsServer &) = delete;

  uint16_t port() const { return port_; }  // the bound port

 private:
  MetricsServer() = default;
  Router router_;
  std::unique_ptr<HttpServer> server_;  // after router_: destroyed (stopped) before it
  uint16_t port_ = 0;
};

}  // namespace sixguard::exporter
