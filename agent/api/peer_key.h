// Who a connection comes from, for the HTTP server's per-peer caps (http_server.h).
//
// TCP: the source address, grouped by what one tenant machine can choose freely: IPv4 by
// address, IPv6 by its /112 (a machine's 6PN allocation), link-local by the interface it
// arrived on (one tap per machine), IPv4-mapped as IPv4.
// Unix socket: the peer's pid (SO_PEERCRED). Every client of the API socket is root or in its
// group, so the uid does not tell clients apart; the pid keeps a leaking or flooding process
// from starving the platform's own client. (A process that forks to get more pids is already
// privileged; the global cap still bounds it.)
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace sixguard {

std::string tcp_peer_key(const sockaddr *address, socklen_t length);
std::string unix_peer_key(int fd);

}  // namespace sixguard
