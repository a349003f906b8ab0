#include "agent/source/etcd/endpoint.h"

#include <charconv>

namespace sixguard::etcd {

Result<Endpoint> parse_endpoint(std::string_view url) {
  auto bad = [&](const std::string &why) {
    return make_error("etcd endpoint \"" + std::string(url) + "\": " + why);
  };
  Endpoint endpoint;
  endpoint.url = std::string(url);
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    endpoint.tls = true;
    rest.remove_prefix(8);
  } else {
    return bad("must start with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return bad("only scheme://host[:port] is accepted");
  }
  std::string_view port_text;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] literal");
    endpoint.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("expected :port after ]");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = rest.find(':');
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    if (endpoint.host.find(':') != std::string::npos) return bad("put an IPv6 address in []");
  }
  if (endpoint.host.empty()) return bad("no host");
  if (!port_text.empty() || rest.ends_with(":")) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad("bad port");
    }
    endpoint.port = static_cast<uint16_t>(port);
  }
  return endpoint;
}

Result<std::vector<Endpoint>> parse_endpoints(std::string_view urls) {
  std::vector<Endpoint> endpoints;
  while (true) {
    const auto comma = urls.find(',');
    const auto item = urls.substr(0, comma);
    if (!item.empty()) {
      auto endpoint = parse_endpoint(item);
      if (!endpoint) return endpoint.error();
      endpoints.push_back(std::move(*endpoint));
    }
    if (comma == std::string_view::npos) break;
    urls.remove_prefix(comma + 1);
  }
  if (endpoints.empty()) return make_error("no etcd endpoint given");
  return endpoints;
}

}  // namespace sixguard::etcd
