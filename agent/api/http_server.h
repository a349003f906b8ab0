// A small HTTP/1.1 server (Boost.Beast, synchronous, one thread per connection, bounded)
// serving a Router on any number of listeners: a Unix socket (the API, DESIGN §4) and/or
// TCP host:port (the exporter's /metrics, /healthz, /readyz).
//
//   Router router;  router.add("GET", "/healthz", handler);
//   HttpServer server(router);
//   server.listen_unix("/run/sixguard/api.sock");   // or listen_tcp(":9530")
//   server.start();  ...  server.stop();            // stop() also runs in the destructor
//
// The router must outlive the server and must not change after start().
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "result.h"
#include "router.h"

namespace sixguard {

struct HttpServerOptions {
  std::size_t max_body_bytes = 16u << 20;  // bigger requests get 413
  std::size_t max_connections = 64;        // more at once get 503
  unsigned idle_timeout_seconds = 60;      // a silent client is disconnected
};

class HttpServer {
 public:
  explicit HttpServer(const Router &router, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  // Creates the parent directory, removes a stale socket file (refuses when another process
  // still answers on it, or when the path is not a socket), binds, chmods to mode.
  Status listen_unix(const std::string &path, mode_t mode = 0660);
  // "host:port", "[v6]:port", ":port" (all addresses, IPv6 and IPv4); port 0 picks a free
  // one. Returns the bound port.
  Result<uint16_t> listen_tcp(const std::string &address);

  // Serves every listener on its own accept thread; returns at once.
  Status start();
  // Stops accepting, disconnects clients (streams end), joins every thread, removes the
  // Unix socket files it created. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits a listen address as listen_tcp() understands it. host is empty for all addresses.
Status parse_listen_address(const std::string &address, std::string &host, uint16_t &port);

}  // namespace sixguard
