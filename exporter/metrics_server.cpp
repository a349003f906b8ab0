#include "exporter/metrics_server.h"

#include <arpa/inet.h>

namespace sixguard::exporter {

void register_metrics_routes(Router &router, const Exporter &exporter, Endpoints endpoints) {
  for (const char *path : {"/metrics", "/healthz", "/readyz"}) {
    if (endpoints == Endpoints::kHealth && std::string_view(path) == "/metrics") continue;
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

HttpServerOptions listener_options(Endpoints endpoints) {
  HttpServerOptions options;
  options.max_body_bytes = 64 * 1024;  // GET only: nothing to upload
  if (endpoints == Endpoints::kHealth) {
    options.max_connections = 64;
    options.max_connections_per_peer = 64;  // every peer is local
    options.request_deadline = std::chrono::seconds(5);
    options.write_deadline = std::chrono::seconds(5);
    options.worker_threads = 1;  // /healthz and /readyz never block
    options.max_handlers_per_peer = 1;
  } else {
    options.max_connections = 128;
    options.max_connections_per_peer = 8;  // a scraper needs one or two
    options.worker_threads = 2;            // a scrape reads the pinned maps
    options.max_handlers_per_peer = 1;     // one peer's scrapes never take both
  }
  options.max_streams = 0;  // no streamed routes here
  return options;
}

bool is_loopback_host(const std::string &host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const Exporter &exporter,
                                                            const std::string &address,
                                                            Endpoints endpoints) {
  return start(exporter, address, endpoints, listener_options(endpoints));
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const Exporter &exporter,
                                                            const std::string &address,
                                                            Endpoints endpoints,
                                                            HttpServerOptions options) {
  const std::string key = endpoints == Endpoints::kHealth ? "health_address" : "metrics_address";
  if (endpoints == Endpoints::kHealth) {
    std::string host;
    uint16_t unused = 0;
    if (auto parsed = parse_listen_address(address, host, unused); !parsed) {
      return make_error(key + " " + address + ": " + parsed.error().message, EINVAL);
    }
    if (!is_loopback_host(host)) {
      return make_error(key + " " + address + ": must be a loopback address (127.0.0.1, [::1])",
                        EINVAL);
    }
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  register_metrics_routes(server->router_, exporter, endpoints);
  server->server_ = std::make_unique<HttpServer>(server->router_, options);
  auto port = server->server_->listen_tcp(address);
  if (!port)
    return make_error(key + " " + address + ": " + port.error().message, port.error().code);
  server->port_ = *port;
  if (auto started = server->server_->start(); !started) return started.error();
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
}

}  // namespace sixguard::exporter
