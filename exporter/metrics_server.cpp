#include "metrics_server.h"

namespace sixguard::exporter {

void register_metrics_routes(Router &router, const Exporter &exporter) {
  for (const char *path : {"/metrics", "/healthz", "/readyz"}) {
    for (const char *method : {"GET", "HEAD"}) {
      router.add(method, path, [&exporter](const HttpRequest &request) {
        HttpReply reply = exporter.handle(request.method, request.target);
        HttpResponse response;
        response.status = static_cast<unsigned>(reply.status);
        response.content_type = std::move(reply.content_type);
        response.body = std::move(reply.body);
        return response;
      });
    }
  }
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const Exporter &exporter,
                                                            const std::string &address) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  register_metrics_routes(server->router_, exporter);
  server->server_ = std::make_unique<HttpServer>(server->router_);
  auto port = server->server_->listen_tcp(address);
  if (!port)
    return make_error("metrics_address " + address + ": " + port.error().message,
                      port.error().code);
  server->port_ = *port;
  if (auto started = server->server_->start(); !started) return started.error();
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
}

}  // namespace sixguard::exporter
