// An HTTP/1.1 client for the agent's API over its Unix socket (Boost.Beast). A connection
// failure comes back as an error whose message says the agent is not reachable and how to
// start it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace sixguard {

struct ApiReply {
  unsigned status = 0;
  std::string body;
};

class ApiClient {
 public:
  explicit ApiClient(std::string socket_path, int timeout_ms = 120000)
      : socket_path_(std::move(socket_path)), timeout_ms_(timeout_ms) {}

  Result<ApiReply> request(std::string_view method, std::string_view target,
                           std::string_view body = {}) const;

  // GET target and hand each line of a streamed (chunked NDJSON) body to on_line until it
  // returns false or the server ends the stream. A non-200 answer comes back as the reply.
  // on_open runs once the agent has accepted the stream (status 200).
  Result<ApiReply> stream_lines(std::string_view target,
                                const std::function<bool(std::string_view)> &on_line,
                                const std::function<void()> &on_open = {}) const;

  const std::string &socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
  int timeout_ms_;
};

}  // namespace sixguard
