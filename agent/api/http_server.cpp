#include "http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <filesystem>
#include <list>
#include <system_error>
#include <mutex>
#include <thread>
#include <vector>

#include "fd_stream.h"

namespace sixguard {

namespace http = boost::beast::http;

namespace {

std::string lower(std::string text) {
  for (char &c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The chunked body of a streamed response.
class ChunkedStream final : public ResponseStream {
 public:
  ChunkedStream(FdStream &stream, int stop_fd) : stream_(stream), stop_fd_(stop_fd) {}

  bool write(std::string_view data) override {
    if (broken_ || !open()) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    boost::system::error_code ec;
    boost::asio::write(stream_,
                       http::make_chunk(boost::asio::const_buffer(data.data(), data.size())), ec);
    broken_ = static_cast<bool>(ec);
    return !broken_;
  }

  bool open() override {
    if (broken_) return false;
    pollfd fds[2] = {{stream_.native_handle(), POLLIN | POLLRDHUP, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, 0) < 0) return true;
    if (fds[1].revents) return false;  // server stopping
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) return false;
    if (fds[0].revents & POLLIN) {
      char byte;
      if (::recv(stream_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) return false;
    }
    return true;
  }

  // The terminating chunk goes out even when the server is stopping (the stream's own waits
  // end at stop), so the client sees a complete response; best effort, never blocks.
  void finish() {
    if (broken_) return;
    static constexpr char kLastChunk[] = "0\r\n\r\n";
    (void)::send(stream_.native_handle(), kLastChunk, sizeof(kLastChunk) - 1,
                 MSG_DONTWAIT | MSG_NOSIGNAL);
  }

 private:
  FdStream &stream_;
  int stop_fd_;
  bool broken_ = false;
};

HttpRequest to_request(const http::request<http::string_body> &raw) {
  HttpRequest request;
  request.method = std::string(raw.method_string());
  request.target = std::string(raw.target());
  parse_target(request.target, request.path, request.query);
  for (const auto &field : raw) {
    request.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  }
  request.body = raw.body();
  return request;
}

Status set_v6only(int fd, bool on) {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &value, sizeof(value)) < 0) {
    return errno_error("setsockopt IPV6_V6ONLY");
  }
  return {};
}

}  // namespace

struct HttpServer::Impl {
  struct Listener {
    Fd fd;
    std::string unix_path;  // removed on stop
    std::thread thread;
  };
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  const Router &router;
  HttpServerOptions options;
  Fd stop_fd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  std::vector<Listener> listeners;
  bool started = false;
  bool stopped = false;

  std::mutex connections_mutex;
  std::list<Connection> connections;

  Impl(const Router &r, HttpServerOptions o) : router(r), options(o) {}

  void reap_finished() {
    std::lock_guard lock(connections_mutex);
    for (auto it = connections.begin(); it != connections.end();) {
      if (it->done) {
        it->thread.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_loop(int listen_fd) {
    for (;;) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd.get(), POLLIN, 0}};
      // Wake now and then to join finished connection threads.
      const int ready = ::poll(fds, 2, 1000);
      if (ready < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      reap_finished();
      if (ready <= 0 || !(fds[0].revents & POLLIN)) continue;
      Fd client(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (!client.valid()) continue;
      std::lock_guard lock(connections_mutex);
      if (connections.size() >= options.max_connections) {
        FdStream stream(std::move(client), stop_fd.get(), 1000);
        send_error(stream, 11, json_error(503, "too many connections"));
        continue;
      }
      auto &connection = connections.emplace_back();
      try {
        connection.thread = std::thread([this, fd = client.get(), &connection] {
          try {
            serve(FdStream(Fd(fd), stop_fd.get(),
                           static_cast<int>(options.idle_timeout_seconds * 1000)));
          } catch (const std::exception &) {
            // Out of memory or similar in one connection: drop it, keep serving the others.
          }
          connection.done = true;
        });
        (void)client.release();  // the thread owns it now
      } catch (const std::system_error &) {
        connections.pop_back();  // no thread to be had: `client` closes the connection
      }
    }
  }

  void send_error(FdStream &stream, unsigned version, const HttpResponse &response) {
    http::response<http::string_body> out{static_cast<http::status>(response.status), version};
    out.set(http::field::content_type, response.content_type);
    out.keep_alive(false);
    out.body() = response.body;
    out.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, out, ec);
  }

  HttpResponse dispatch(const Router::Match &match, const HttpRequest &request) {
    if (match.error) return *match.error;
    try {
      return (*match.handler)(request);
    } catch (const std::exception &e) {
      return json_error(500, std::string("internal error: ") + e.what());
    }
  }

  void serve(FdStream stream) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(16 * 1024);
      boost::system::error_code ec;
      http::read_header(stream, buffer, parser, ec);
      if (!ec && parser.get()[http::field::expect] == "100-continue") {
        // curl asks before sending a body over 1 KiB; answering saves it a 1 s wait.
        http::response<http::empty_body> proceed{http::status::continue_, 11};
        http::write(stream, proceed, ec);
      }
      if (!ec) http::read(stream, buffer, parser, ec);
      if (ec) {
        if (ec == http::error::body_limit) {
          send_error(stream, 11,
                     json_error(413, "request body larger than " +
                                         std::to_string(options.max_body_bytes) + " bytes"));
        } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
          send_error(stream, 11, json_error(400, "bad HTTP request: " + ec.message()));
        }
        return;  // eof, timeout, stop, or an error already answered
      }
      const auto &raw = parser.get();
      const HttpRequest request = to_request(raw);
      const auto match = router.match(request.method, request.path);
      if (match.stream) {
        http::response<http::empty_body> header{http::status::ok, raw.version()};
        header.set(http::field::content_type, match.stream_content_type);
        header.set(http::field::cache_control, "no-cache");
        header.chunked(true);
        header.keep_alive(false);
        http::response_serializer<http::empty_body> serializer{header};
        http::write_header(stream, serializer, ec);
        if (ec) return;
        ChunkedStream body(stream, stop_fd.get());
        try {
          (*match.stream)(request, body);
        } catch (const std::exception &) {
          // The status line is gone already; ending the stream is all that is left.
        }
        body.finish();
        return;
      }
      const HttpResponse response = dispatch(match, request);
      http::response<http::string_body> out{static_cast<http::status>(response.status),
                                            raw.version()};
      out.set(http::field::content_type, response.content_type);
      for (const auto &[name, value] : response.headers) out.set(name, value);
      out.keep_alive(raw.keep_alive());
      out.body() = response.body;
      out.prepare_payload();
      http::write(stream, out, ec);
      if (ec || !raw.keep_alive()) return;
    }
  }
};

HttpServer::HttpServer(const Router &router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, options)) {}

HttpServer::~HttpServer() {
  stop();
}

Status HttpServer::listen_unix(const std::string &path, mode_t mode) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return make_error("unix socket path '" + path + "' is empty or too long", ENAMETOOLONG);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);

  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return make_error("cannot create " + parent.string(), ec.value());
  }
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return make_error(path + " exists and is not a socket; refusing to remove it", EEXIST);
    }
    Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() &&
        ::connect(probe.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0) {
      return make_error("another process is serving " + path, EADDRINUSE);
    }
    ::unlink(path.c_str());  // stale: left by a process that is gone
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_error("socket(AF_UNIX)");
  if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) < 0) {
    return errno_error("bind " + path);
  }
  if (::chmod(path.c_str(), mode) < 0) return errno_error("chmod " + path);
  if (::listen(fd.get(), 128) < 0) return errno_error("listen " + path);
  impl_->listeners.push_back(Impl::Listener{std::move(fd), path, {}});
  return {};
}

Status parse_listen_address(const std::string &address, std::string &host, uint16_t &port) {
  std::string port_text;
  if (!address.empty() && address[0] == '[') {
    const auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return make_error("malformed listen address '" + address + "' (expected [v6]:port)", EINVAL);
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) {
      return make_error("malformed listen address '" + address + "' (expected host:port)", EINVAL);
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return make_error("IPv6 listen address '" + address + "' needs brackets: [addr]:port",
                        EINVAL);
    }
  }
  unsigned value = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      value > 65535) {
    return make_error("malformed port in listen address '" + address + "'", EINVAL);
  }
  port = static_cast<uint16_t>(value);
  return {};
}

Result<uint16_t> HttpServer::listen_tcp(const std::string &address) {
  std::string host;
  uint16_t port = 0;
  if (auto status = parse_listen_address(address, host, port); !status) return status.error();

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  // All addresses: one dual-stack IPv6 socket, or IPv4 when the host has no IPv6.
  const std::vector<std::string> hosts =
      host.empty() ? std::vector<std::string>{"::", "0.0.0.0"} : std::vector<std::string>{host};
  Error last = make_error("no address to listen on for '" + address + "'", EADDRNOTAVAIL);
  for (const auto &candidate : hosts) {
    addrinfo *found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(candidate.c_str(), service.c_str(), &hints, &found); rc != 0) {
      last = make_error("cannot resolve '" + candidate + "': " + ::gai_strerror(rc), EINVAL);
      continue;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    for (addrinfo *info = found; info; info = info->ai_next) {
      Fd fd(::socket(info->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!fd.valid()) {
        last = errno_error("socket for " + address);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (info->ai_family == AF_INET6 && host.empty()) (void)set_v6only(fd.get(), false);
      if (::bind(fd.get(), info->ai_addr, info->ai_addrlen) < 0 || ::listen(fd.get(), 128) < 0) {
        last = errno_error("bind/listen " + address);
        continue;
      }
      sockaddr_storage bound{};
      socklen_t length = sizeof(bound);
      ::getsockname(fd.get(), reinterpret_cast<sockaddr *>(&bound), &length);
      const uint16_t bound_port = bound.ss_family == AF_INET6
                                      ? ntohs(reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in *>(&bound)->sin_port);
      impl_->listeners.push_back(Impl::Listener{std::move(fd), "", {}});
      return bound_port;
    }
  }
  return last;
}

Status HttpServer::start() {
  if (!impl_->stop_fd.valid()) return errno_error("eventfd");
  if (impl_->started) return make_error("HTTP server already started", EALREADY);
  if (impl_->listeners.empty()) return make_error("HTTP server has nothing to listen on", EINVAL);
  impl_->started = true;
  for (auto &listener : impl_->listeners) {
    listener.thread = std::thread([this, fd = listener.fd.get()] { impl_->accept_loop(fd); });
  }
  return {};
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  const uint64_t one = 1;
  // The eventfd stays readable: every wait in every thread ends at once from now on.
  (void)!::write(impl_->stop_fd.get(), &one, sizeof(one));
  for (auto &listener : impl_->listeners) {
    if (listener.thread.joinable()) listener.thread.join();
  }
  {
    std::lock_guard lock(impl_->connections_mutex);
    for (auto &connection : impl_->connections) {
      if (connection.thread.joinable()) connection.thread.join();
    }
    impl_->connections.clear();
  }
  for (auto &listener : impl_->listeners) {
    if (!listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
    listener.fd.reset();
  }
}

}  // namespace sixguard
