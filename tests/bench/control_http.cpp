#include "tests/bench/control_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <strings.h>

namespace sixguard::bench {

Result<HttpClient> HttpClient::unix_socket(const std::string &path) {
  HttpClient client(path, "", 0);
  if (auto s = client.connect(); !s) return s.error();
  return client;
}

Result<HttpClient> HttpClient::tcp(const std::string &ipv4, uint16_t port) {
  HttpClient client("", ipv4, port);
  if (auto s = client.connect(); !s) return s.error();
  return client;
}

Status HttpClient::connect() {
  buffer_.clear();
  if (!unix_path_.empty()) {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return errno_error("socket(AF_UNIX)");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (unix_path_.size() >= sizeof(address.sun_path)) return make_error("socket path too long");
    std::memcpy(address.sun_path, unix_path_.c_str(), unix_path_.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
      return errno_error("connect " + unix_path_);
    }
    fd_ = std::move(fd);
    return {};
  }
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_error("socket(AF_INET)");
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  if (::inet_pton(AF_INET, ipv4_.c_str(), &address.sin_addr) != 1) {
    return make_error("bad IPv4 address " + ipv4_, EINVAL);
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    return errno_error("connect " + ipv4_ + ":" + std::to_string(port_));
  }
  fd_ = std::move(fd);
  return {};
}

Result<HttpResponse> HttpClient::request(const std::string &method, const std::string &target,
                                         const std::string &body, const std::string &content_type) {
  std::string wire = method + " " + target + " HTTP/1.1\r\nHost: sixguard\r\n";
  if (!body.empty() || method == "POST") {
    wire += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n";
  }
  wire += "\r\n" + body;
  auto response = exchange(wire);
  if (response) return response;
  // The server may close an idle kept-alive connection: reconnect once and retry.
  if (auto s = connect(); !s) return response.error();
  return exchange(wire);
}

Result<HttpResponse> HttpClient::exchange(const std::string &wire) {
  if (!fd_.valid()) return make_error("not connected");
  std::size_t sent = 0;
  while (sent < wire.size()) {
    const ssize_t n = ::send(fd_.get(), wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return errno_error("send");
    sent += static_cast<std::size_t>(n);
  }
  // Headers, then exactly Content-Length bytes of body.
  std::size_t header_end;
  char chunk[16384];
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) return make_error("connection closed before the response", n < 0 ? errno : EPIPE);
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string head = buffer_.substr(0, header_end);
  HttpResponse response;
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return make_error("not HTTP: " + head);
  response.status = std::atoi(head.c_str() + 9);
  std::size_t length = 0;
  bool have_length = false;
  std::size_t at = head.find("\r\n");
  while (at != std::string::npos && at < head.size()) {
    const std::size_t next = head.find("\r\n", at + 2);
    const std::string line =
        head.substr(at + 2, (next == std::string::npos ? head.size() : next) - at - 2);
    if (::strncasecmp(line.c_str(), "content-length:", 15) == 0) {
      length = std::strtoul(line.c_str() + 15, nullptr, 10);
      have_length = true;
    }
    if (::strncasecmp(line.c_str(), "transfer-encoding:", 18) == 0) {
      return make_error("chunked responses are not supported by the benchmark client");
    }
    at = next;
  }
  if (!have_length) return make_error("response without Content-Length");
  const std::size_t body_start = header_end + 4;
  while (buffer_.size() < body_start + length) {
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) return make_error("connection closed in the body", n < 0 ? errno : EPIPE);
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  response.body = buffer_.substr(body_start, length);
  buffer_.erase(0, body_start + length);
  return response;
}

}  // namespace sixguard::bench
