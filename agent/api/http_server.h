// A small HTTP/1.1 server (Boost.Asio/Beast, event-driven) serving a Router on any number of
// listeners: a Unix socket (the API, DESIGN §4) and/or TCP host:port (the exporter's
// /metrics, /healthz, /readyz, and the loopback health listener).
//
//   Router router;  router.add("GET", "/healthz", handler);
//   HttpServer server(router);
//   server.listen_unix("/run/sixguard/api.sock");   // or listen_tcp(":9530")
//   server.start();  ...  server.stop();            // stop() also runs in the destructor
//
// No peer can starve the others (DESIGN §4):
// - one I/O thread reads and writes every connection without blocking; handlers run on a
//   small worker pool, so a slow handler (a large batch, explain) holds one worker, never the
//   I/O or other connections;
// - every request has an overall deadline, from the wait for its first byte until its body
//   is complete (a slow-loris peer is closed at it), and every response a write deadline;
// - connections are capped per peer (TCP: the source address, IPv6 by its /112, link-local
//   by interface; Unix socket: the peer's pid from SO_PEERCRED) and in all; a peer over its
//   cap is answered 503 at once, and when the server is full, a connection that is waiting
//   for a request with nothing received (idle keep-alive, or silent) is closed to make room;
// - one peer's handlers take at most max_handlers_per_peer workers at once;
// - streamed responses (/v1/monitor) have their own caps and threads, never counted against
//   request connections.
//
// The router must outlive the server and must not change after start().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <functional>
#include <memory>
#include <string>

#include "agent/core/result.h"
#include "agent/api/router.h"

namespace sixguard {

struct HttpServerOptions {
  std::size_t max_body_bytes = 32u << 20;  // DESIGN §3: bigger requests get 413, unread
  // Bodies over 64 KiB being received or handled, all connections together: beyond it 503
  // with Retry-After, before the body is read (one request alone always fits).
  std::size_t max_body_bytes_in_flight = 96u << 20;
  std::size_t max_connections = 256;  // request connections, all peers together
  std::size_t max_connections_per_peer = 16;
  std::size_t max_streams = 16;  // open streamed responses (monitor), all peers together
  std::size_t max_streams_per_peer = 4;
  // From the wait for a request's first byte until its body is complete; an idle keep-alive
  // connection is closed at it too.
  std::chrono::milliseconds request_deadline{10'000};
  // To hand a response (or one chunk of a stream) to a peer that does not read.
  std::chrono::milliseconds write_deadline{10'000};
  unsigned worker_threads = 4;  // handlers that may block
  // Handlers of one peer running at once; its further requests wait their turn, so one peer
  // cannot hold every worker.
  std::size_t max_handlers_per_peer = 2;
  // Told, at most once a minute, what the limits turned away (a peer at its cap, deadlines),
  // so that an operator sees an attack or a misbehaving client. Called on the I/O thread.
  std::function<void(const std::string &)> warn;
};

// What the server counts, for tests and logs.
struct HttpServerCounters {
  std::size_t connections = 0;   // open request connections
  std::size_t idle = 0;          // of those, waiting for a request with nothing received
  std::size_t streams = 0;       // open streamed responses
  std::size_t body_bytes = 0;    // reserved by large bodies being received or handled
  std::size_t queued = 0;        // requests waiting for their peer's turn on the workers
  uint64_t refused = 0;          // connections answered 503 at accept (a cap)
  uint64_t evicted = 0;          // idle connections closed to make room
  uint64_t deadline_closed = 0;  // connections closed at the request or write deadline
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

  // Serves every listener; returns at once.
  Status start();
  // Stops accepting, disconnects clients (streams end), joins every thread, removes the
  // Unix socket files it created. Idempotent.
  void stop();

  // A snapshot, taken on the I/O thread (zeros once stopped).
  HttpServerCounters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits a listen address as listen_tcp() understands it. host is empty for all addresses.
Status parse_listen_address(const std::string &address, std::string &host, uint16_t &port);

}  // namespace sixguard
