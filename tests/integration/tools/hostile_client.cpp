// One process holding many connections to an HTTP listener, for tests/integration/hostile.sh:
// a slow-loris (bytes dripped one at a time), idle connections, or streams left open (a
// request sent at once, the answer never read to its end). One process on purpose: a listener
// that caps connections per peer must see one peer, as it would from a real attacker.
//
//   hostile_client (--unix PATH | --tcp HOST PORT) --connections N --seconds S
//                  [--send TEXT] [--drip TEXT] [--interval-ms M] [--until-closed]
//
// --send is written at once on every connection, then --drip one byte every M ms (default
// 1000). The client stops after S seconds, or with --until-closed as soon as the server has
// closed every connection, and prints one line:
//   connected=C refused=R closed_by_server=X open_at_end=O seconds=T statuses=200:n,503:m
// where statuses counts the status code of the first response line each connection received.
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string unix_path, host, port, send, drip;
  int connections = 1, seconds = 10, interval_ms = 1000;
  bool until_closed = false;
};

struct Connection {
  int fd = -1;
  std::size_t dripped = 0;
  std::string received;
  bool status_counted = false;
  bool closed = false;
};

int connect_unix(const std::string &path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return -1;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_tcp(const std::string &host, const std::string &port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo *found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) < 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  return fd;
}

bool parse(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--unix")
      options.unix_path = value();
    else if (arg == "--tcp") {
      options.host = value();
      options.port = value();
    } else if (arg == "--connections")
      options.connections = std::atoi(value().c_str());
    else if (arg == "--seconds")
      options.seconds = std::atoi(value().c_str());
    else if (arg == "--interval-ms")
      options.interval_ms = std::atoi(value().c_str());
    else if (arg == "--send")
      options.send = value();
    else if (arg == "--drip")
      options.drip = value();
    else if (arg == "--until-closed")
      options.until_closed = true;
    else
      return false;
  }
  return (!options.unix_path.empty() || !options.port.empty()) && options.connections > 0;
}

// "\r\n" written as the two characters \ r in the shell arrives as real CR LF.
std::string unescape(const std::string &text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char next = text[++i];
      out += next == 'r' ? '\r' : next == 'n' ? '\n' : next;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: hostile_client (--unix PATH | --tcp HOST PORT) --connections N "
                 "--seconds S [--send TEXT] [--drip TEXT] [--interval-ms M]\n");
    return 2;
  }
  options.send = unescape(options.send);
  options.drip = unescape(options.drip);

  std::vector<Connection> connections;
  int refused = 0;
  for (int i = 0; i < options.connections; ++i) {
    const int fd = options.unix_path.empty() ? connect_tcp(options.host, options.port)
                                             : connect_unix(options.unix_path);
    if (fd < 0) {
      ++refused;
      continue;
    }
    if (!options.send.empty()) {
      (void)!::send(fd, options.send.data(), options.send.size(), MSG_NOSIGNAL);
    }
    Connection connection;
    connection.fd = fd;
    connections.push_back(std::move(connection));
  }

  std::map<int, int> statuses;
  const auto begin = std::chrono::steady_clock::now();
  const auto end = begin + std::chrono::seconds(options.seconds);
  auto next_drip = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < end) {
    const auto now = std::chrono::steady_clock::now();
    if (!options.drip.empty() && now >= next_drip) {
      for (auto &connection : connections) {
        if (connection.closed) continue;
        const char byte = options.drip[connection.dripped % options.drip.size()];
        if (::send(connection.fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++connection.dripped;
      }
      next_drip = now + std::chrono::milliseconds(options.interval_ms);
    }
    std::vector<pollfd> fds;
    for (auto &connection : connections) {
      if (!connection.closed) fds.push_back({connection.fd, POLLIN, 0});
    }
    if (fds.empty()) {
      if (options.until_closed) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
    std::size_t index = 0;
    for (auto &connection : connections) {
      if (connection.closed) continue;
      const pollfd &entry = fds[index++];
      if (!(entry.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[4096];
      const ssize_t got = ::recv(connection.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (got > 0) {
        // Only the first line matters; a stream's body is read and dropped.
        if (connection.received.size() < 64) connection.received.append(buffer, got);
      } else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        connection.closed = true;
      }
      if (!connection.status_counted && connection.received.size() >= 12 &&
          connection.received.compare(0, 5, "HTTP/") == 0) {
        ++statuses[std::atoi(connection.received.c_str() + 9)];
        connection.status_counted = true;
      }
    }
  }

  int closed = 0, open = 0;
  for (auto &connection : connections) {
    (connection.closed ? closed : open) += 1;
    ::close(connection.fd);
  }
  std::string status_text;
  for (const auto &[code, count] : statuses) {
    status_text +=
        (status_text.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(count);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf(
      "connected=%zu refused=%d closed_by_server=%d open_at_end=%d seconds=%.1f statuses=%s\n",
      connections.size(), refused, closed, open, seconds, status_text.c_str());
  return 0;
}
