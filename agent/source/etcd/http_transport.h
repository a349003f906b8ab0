// HTTP/1.1 POSTs to one etcd member, plain or TLS. A unary request reuses an idle kept-alive
// connection to the member when there is one (each connection has its own io_context, so that
// a deadline can end everything it started: a failed connection is closed, never kept); a
// stream has a connection of its own. Errors carry the member's URL; TLS failures are kTls
// with what OpenSSL said.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "agent/source/etcd/endpoint.h"

namespace sixguard::etcd {

struct TlsFiles;

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

struct StreamCallbacks {
  // The answer's status once its header is read; a non-200 answer's body is then read whole
  // and returned as the reply instead of being streamed.
  std::function<void(unsigned)> on_status;
  // Each piece of a 200 body as it arrives; false ends the stream (ok).
  std::function<bool(std::string_view)> on_bytes;
  // Called when no byte arrived for `idle`; an error ends the stream with that error.
  std::function<Status()> on_idle;
};

class HttpTransport {
 public:
  // Loads the CA, certificate and key (errors name the file). tls may be empty when no
  // endpoint is https.
  static Result<std::unique_ptr<HttpTransport>> create(const std::optional<TlsFiles> &tls);
  ~HttpTransport();

  // The whole exchange (resolve, connect, handshake, write, read) within `timeout`; connect
  // alone within connect_timeout. An idempotent request that fails on a reused connection
  // (other than by its deadline) is sent once more on a new one.
  Result<HttpReply> post(const Endpoint &endpoint, std::string_view path, const std::string &body,
                         bool idempotent, std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds timeout);

  // POSTs and streams the answer's body. The request (connect included) must be answered
  // within `timeout`; then the stream lasts until on_bytes returns false, the member ends or
  // breaks it, on_idle fails, or `stop` is requested (kStopped). A 200 stream that the
  // member ends is an error (ECONNRESET): etcd never ends a watch by itself.
  Result<HttpReply> post_stream(const Endpoint &endpoint, std::string_view path,
                                const std::string &body, std::chrono::milliseconds connect_timeout,
                                std::chrono::milliseconds timeout, std::chrono::milliseconds idle,
                                const StreamCallbacks &callbacks, std::stop_token stop);

 private:
  struct Impl;
  explicit HttpTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sixguard::etcd
