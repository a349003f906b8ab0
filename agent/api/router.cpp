#include "agent/api/router.h"

namespace sixguard {

HttpResponse json_error(unsigned status, std::string_view message) {
  return json_response(status, nlohmann::json{{"error", std::string(message)}});
}

HttpResponse json_response(unsigned status, const nlohmann::json &body) {
  HttpResponse response;
  response.status = status;
  // Replace invalid UTF-8 (names echoed from requests) instead of throwing.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return response;
}

void Router::add(const std::string &method, const std::string &path, HttpHandler handler) {
  routes_[path][method] = Route{std::move(handler), nullptr, "", {}};
}

void Router::add_stream(const std::string &method, const std::string &path,
                        std::string content_type, StreamHandler handler, StreamPrecheck precheck) {
  routes_[path][method] =
      Route{nullptr, std::move(handler), std::move(content_type), std::move(precheck)};
}

Router::Match Router::match(const std::string &method, const std::string &path) const {
  Match match;
  const auto by_path = routes_.find(path);
  if (by_path == routes_.end()) {
    match.error = json_error(404, "no such endpoint: " + path);
    return match;
  }
  const auto route = by_path->second.find(method);
  if (route == by_path->second.end()) {
    std::string allow;
    for (const auto &[name, unused] : by_path->second) allow += (allow.empty() ? "" : ", ") + name;
    match.error = json_error(
        405, "method " + method + " not allowed on " + path + " (allowed: " + allow + ")");
    match.error->headers.emplace_back("Allow", allow);
    return match;
  }
  if (route->second.stream) {
    match.stream = &route->second.stream;
    match.stream_content_type = route->second.stream_content_type;
    if (route->second.precheck) match.precheck = &route->second.precheck;
  } else {
    match.handler = &route->second.handler;
  }
  return match;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

void parse_target(const std::string &target, std::string &path,
                  std::map<std::string, std::string> &query) {
  const auto question = target.find('?');
  path = target.substr(0, question);
  if (question == std::string::npos) return;
  std::string_view rest(target);
  rest.remove_prefix(question + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto equals = pair.find('=');
    const std::string key = percent_decode(pair.substr(0, equals));
    if (!key.empty()) {
      query[key] = equals == std::string_view::npos ? "" : percent_decode(pair.substr(equals + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

}  // namespace sixguard
