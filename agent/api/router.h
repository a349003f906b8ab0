// (method, path) -> handler. Paths match exactly (the query string is not part of the path).
// Unknown path: 404; known path, other method: 405 with Allow. Both as JSON errors.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "agent/api/http_types.h"

namespace sixguard {

using HttpHandler = std::function<HttpResponse(const HttpRequest &)>;
// A streaming handler: content_type is sent in the header, then handler writes chunks until
// it returns (or the client goes away).
using StreamHandler = std::function<void(const HttpRequest &, ResponseStream &)>;
// Runs before a stream's 200 header (on the stream's thread): a response here is sent instead
// of the stream (e.g. 400 for a bad filter), since a stream cannot change its status later.
using StreamPrecheck = std::function<std::optional<HttpResponse>(const HttpRequest &)>;

class Router {
 public:
  void add(const std::string &method, const std::string &path, HttpHandler handler);
  void add_stream(const std::string &method, const std::string &path, std::string content_type,
                  StreamHandler handler, StreamPrecheck precheck = {});

  struct Match {
    const HttpHandler *handler = nullptr;
    const StreamHandler *stream = nullptr;
    const StreamPrecheck *precheck = nullptr;  // set for streams that have one
    std::string stream_content_type;
    std::optional<HttpResponse> error;  // 404 / 405 when nothing matches
  };
  Match match(const std::string &method, const std::string &path) const;

 private:
  struct Route {
    HttpHandler handler;
    StreamHandler stream;
    std::string stream_content_type;
    StreamPrecheck precheck;
  };
  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
};

// Splits "path?a=1&b=x%20y" into path and decoded query parameters.
void parse_target(const std::string &target, std::string &path,
                  std::map<std::string, std::string> &query);

}  // namespace sixguard
