// A minimal HTTP/1.1 client for the control-plane benchmarks: one kept-alive connection to the
// agent's API (Unix socket) or metrics port (TCP), requests with a Content-Length body,
// responses with a Content-Length body. Small on purpose: the benchmark measures the agent,
// and a client that forks (curl) or allocates a lot per request would be measured instead.
#pragma once

#include <cstdint>
#include <string>

#include "agent/core/fd.h"
#include "agent/core/result.h"

namespace sixguard::bench {

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  static Result<HttpClient> unix_socket(const std::string &path);
  static Result<HttpClient> tcp(const std::string &ipv4, uint16_t port);

  // Sends one request and reads its response on the kept-alive connection (reconnecting once
  // if the server closed it in between).
  Result<HttpResponse> request(const std::string &method, const std::string &target,
                               const std::string &body = "",
                               const std::string &content_type = "application/json");

 private:
  HttpClient(std::string unix_path, std::string ipv4, uint16_t port)
      : unix_path_(std::move(unix_path)), ipv4_(std::move(ipv4)), port_(port) {}
  Status connect();
  Result<HttpResponse> exchange(const std::string &wire);

  std::string unix_path_;  // empty: TCP
  std::string ipv4_;
  uint16_t port_ = 0;
  Fd fd_;
  std::string buffer_;  // bytes read past the previous response
};

}  // namespace sixguard::bench
