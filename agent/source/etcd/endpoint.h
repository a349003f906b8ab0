// An etcd client URL: http:// or https://, a host name or IP literal ([v6] in brackets) and
// a port (default 2379). Nothing else (no path, no user info).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace sixguard::etcd {

struct Endpoint {
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 2379;
  std::string url;  // as given, for messages
  bool operator==(const Endpoint &) const = default;
};

Result<Endpoint> parse_endpoint(std::string_view url);
// A comma-separated list ("http://a:2379,http://b:2379"), as --etcd and the config take it.
Result<std::vector<Endpoint>> parse_endpoints(std::string_view urls);

}  // namespace sixguard::etcd
