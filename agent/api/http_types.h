// The HTTP request and response as route handlers see them: plain values, no Beast types,
// so handlers (the control routes here, /metrics in the exporter) stay independent of the
// server's implementation.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sixguard {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: "/v1/apps?org_slug=acme"
  std::string path;                            // "/v1/apps"
  std::map<std::string, std::string> query;    // percent-decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// {"error": message} with the status; the shape of every API error.
HttpResponse json_error(unsigned status, std::string_view message);
// A JSON body (with a trailing newline, for curl).
HttpResponse json_response(unsigned status, const nlohmann::json &body);

// The body of a streamed (chunked) response, for long-lived routes such as /v1/monitor.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends one chunk. false: the client went away or the server is stopping.
  virtual bool write(std::string_view data) = 0;
  // false once the client closed its end or the server is stopping; poll it between writes.
  virtual bool open() = 0;
};

}  // namespace sixguard
