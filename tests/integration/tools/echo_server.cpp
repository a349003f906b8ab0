// One persistent echo server per test machine (tests/integration/lib.sh, sg_machine and sg_dns):
// answers every probe from a single process, so that an answer never waits for a fork and exec
// (socat's SYSTEM: per connection was the probes' timing failure under load, issue 15 point 7).
//
//   echo_server NAME ARRIVALS [--tcp PORT]... [--udp PORT]...
//
// TCP: reads one line (or up to EOF), answers "ok-NAME TOKEN\n" and closes. UDP: answers each
// datagram with "ok-NAME TOKEN\n" to its sender. TOKEN is the line or datagram received, cut at
// the first newline. Every request is also appended to ARRIVALS as "tcp TOKEN" or "udp TOKEN":
// the evidence that a probe's request reached this machine, whatever became of the answer.
// Runs in the namespace it is started in (ip netns exec) until it is killed.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr size_t kMaxToken = 200;             // a probe's token is short; more is cut
constexpr int kConnectionDeadlineMs = 10000;  // a silent client cannot hold a slot for ever

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int bound_socket(int type, int port) {
  int fd = ::socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(static_cast<uint16_t>(port));
  address.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 128) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string token_of(std::string_view data) {
  auto token = data.substr(0, data.find('\n'));
  return std::string(token.substr(0, kMaxToken));
}

class EchoServer {
 public:
  EchoServer(std::string name, int arrivals_fd) : name_(std::move(name)), arrivals_(arrivals_fd) {}

  bool add_listener(int type, int port) {
    int fd = bound_socket(type, port);
    if (fd < 0) {
      std::fprintf(stderr, "echo_server: cannot bind %s port %d: %s\n",
                   type == SOCK_STREAM ? "tcp" : "udp", port, std::strerror(errno));
      return false;
    }
    (type == SOCK_STREAM ? tcp_listeners_ : udp_sockets_).push_back(fd);
    return true;
  }

  void run() {
    for (;;) {
      std::vector<pollfd> fds;
      for (int fd : tcp_listeners_) fds.push_back({fd, POLLIN, 0});
      for (int fd : udp_sockets_) fds.push_back({fd, POLLIN, 0});
      for (const auto &connection : connections_) fds.push_back({connection.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) return;
      size_t index = 0;
      for (int fd : tcp_listeners_) {
        if (fds[index++].revents & POLLIN) accept_all(fd);
      }
      for (int fd : udp_sockets_) {
        if (fds[index++].revents & POLLIN) answer_datagrams(fd);
      }
      serve_connections();
    }
  }

 private:
  struct Connection {
    int fd;
    std::string received;
    int64_t deadline_ms;
  };

  std::string answer_for(const std::string &token) const {
    return "ok-" + name_ + " " + token + "\n";
  }

  void record_arrival(const char *proto, const std::string &token) {
    const std::string line = std::string(proto) + " " + token + "\n";
    // One write per line on an O_APPEND file: lines of concurrent writers never interleave.
    (void)!::write(arrivals_, line.data(), line.size());
  }

  void accept_all(int listener) {
    for (;;) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      connections_.push_back({fd, {}, now_ms() + kConnectionDeadlineMs});
    }
  }

  void answer_datagrams(int fd) {
    for (;;) {
      char buffer[512];
      sockaddr_in6 peer{};
      socklen_t peer_length = sizeof(peer);
      ssize_t n = ::recvfrom(fd, buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr *>(&peer),
                             &peer_length);
      if (n < 0) return;
      const std::string token = token_of(std::string_view(buffer, static_cast<size_t>(n)));
      record_arrival("udp", token);
      const std::string answer = answer_for(token);
      (void)::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr *>(&peer),
                     peer_length);
    }
  }

  // Reads what each connection has sent; a complete line (or EOF) is answered and closed.
  void serve_connections() {
    const int64_t now = now_ms();
    std::vector<Connection> open;
    for (auto &connection : connections_) {
      bool complete = false;
      for (;;) {
        char buffer[256];
        ssize_t n = ::read(connection.fd, buffer, sizeof(buffer));
        if (n > 0) {
          if (connection.received.size() < kMaxToken) connection.received.append(buffer, n);
          if (connection.received.find('\n') != std::string::npos) complete = true;
          if (complete) break;
          continue;
        }
        if (n == 0) complete = true;  // EOF: the client sent all it will send
        break;                        // or EAGAIN: nothing more yet
      }
      if (complete) {
        const std::string token = token_of(connection.received);
        record_arrival("tcp", token);
        const std::string answer = answer_for(token);
        (void)!::write(connection.fd, answer.data(), answer.size());
        ::close(connection.fd);
      } else if (now > connection.deadline_ms) {
        ::close(connection.fd);
      } else {
        open.push_back(std::move(connection));
      }
    }
    connections_ = std::move(open);
  }

  std::string name_;
  int arrivals_;
  std::vector<int> tcp_listeners_;
  std::vector<int> udp_sockets_;
  std::vector<Connection> connections_;
};

}  // namespace

int main(int argc, char **argv) {
  if (argc < 5 || (argc - 3) % 2 != 0) {
    std::fprintf(stderr, "usage: echo_server NAME ARRIVALS [--tcp PORT]... [--udp PORT]...\n");
    return 2;
  }
  int arrivals = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (arrivals < 0) {
    std::fprintf(stderr, "echo_server: cannot open %s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  EchoServer server(argv[1], arrivals);
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    const int port = std::atoi(argv[i + 1]);
    if ((option != "--tcp" && option != "--udp") || port <= 0 || port > 65535) {
      std::fprintf(stderr, "echo_server: bad argument %s %s\n", argv[i], argv[i + 1]);
      return 2;
    }
    if (!server.add_listener(option == "--tcp" ? SOCK_STREAM : SOCK_DGRAM, port)) return 1;
  }
  server.run();
  return 1;
}
