#include "agent/api/peer_key.h"

#include <arpa/inet.h>

#include <cstring>

namespace sixguard {

namespace {

std::string v6_text(const in6_addr &address) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, &address, text, sizeof(text));
  return text;
}

}  // namespace

std::string tcp_peer_key(const sockaddr *address, socklen_t length) {
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(address)->sin_addr, text,
                sizeof(text));
    return text;
  }
  if (address->sa_family != AF_INET6 || length < sizeof(sockaddr_in6)) return "tcp:unknown";
  const auto &v6 = *reinterpret_cast<const sockaddr_in6 *>(address);
  if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text, sizeof(text));
    return text;
  }
  if (IN6_IS_ADDR_LINKLOCAL(&v6.sin6_addr)) {
    return "fe80::/64%" + std::to_string(v6.sin6_scope_id);
  }
  in6_addr prefix = v6.sin6_addr;
  prefix.s6_addr[14] = prefix.s6_addr[15] = 0;
  return v6_text(prefix) + "/112";
}

std::string unix_peer_key(int fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) {
    return "unix:unknown";
  }
  return "pid:" + std::to_string(credentials.pid);
}

}  // namespace sixguard
