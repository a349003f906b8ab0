#include "agent/cli/api_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <limits>
#include <optional>

#include "agent/api/fd_stream.h"

namespace sixguard {

namespace http = boost::beast::http;

namespace {

Result<Fd> connect_unix(const std::string &path) {
  auto unreachable = [&](int code) {
    return make_error("cannot reach the sixguard agent at " + path + ": " + std::strerror(code) +
                          " — is `sixguard agent` running?",
                      code);
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) return unreachable(ENAMETOOLONG);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_error("socket(AF_UNIX)");
  if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) < 0) {
    return unreachable(errno);
  }
  return fd;
}

Error transfer_error(const std::string &path, const boost::system::error_code &ec) {
  return make_error("talking to the sixguard agent at " + path + ": " + ec.message(), ec.value());
}

http::request<http::string_body> make_request(std::string_view method, std::string_view target,
                                              std::string_view body) {
  http::request<http::string_body> request{
      http::string_to_verb(boost::beast::string_view(method.data(), method.size())),
      boost::beast::string_view(target.data(), target.size()), 11};
  request.set(http::field::host, "sixguard");
  request.set(http::field::user_agent, "sixguard-cli");
  request.keep_alive(false);
  if (!body.empty() || method == "POST") {
    request.set(http::field::content_type, "application/json");
    request.body() = std::string(body);
  }
  request.prepare_payload();
  return request;
}

}  // namespace

Result<ApiReply> ApiClient::request(std::string_view method, std::string_view target,
                                    std::string_view body) const {
  auto fd = connect_unix(socket_path_);
  if (!fd) return fd.error();
  FdStream stream(std::move(*fd), -1, timeout_ms_);
  boost::system::error_code ec;
  auto request = make_request(method, target, body);
  http::write(stream, request, ec);
  // A server that answers before reading (503 when it is at its connection limit, 413) may
  // have closed already: its answer is still waiting to be read, and says more than EPIPE.
  const auto write_error = ec;
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) return transfer_error(socket_path_, write_error ? write_error : ec);
  return ApiReply{parser.get().result_int(), std::move(parser.get().body())};
}

Result<ApiReply> ApiClient::stream_lines(std::string_view target,
                                         const std::function<bool(std::string_view)> &on_line,
                                         const std::function<void()> &on_open) const {
  auto fd = connect_unix(socket_path_);
  if (!fd) return fd.error();
  FdStream stream(std::move(*fd), -1, -1);  // a stream may be quiet for as long as it likes
  boost::system::error_code ec;
  auto request = make_request("GET", target, {});
  http::write(stream, request, ec);
  if (ec) return transfer_error(socket_path_, ec);

  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  // Beast checks a Content-Length against the limit as the header completes: an error answer
  // (400 for a bad filter, 503 at the stream cap) is read under this limit; the stream itself
  // (chunked, endless) has none.
  parser.body_limit(16u << 20);
  http::read_header(stream, buffer, parser, ec);
  if (ec) return transfer_error(socket_path_, ec);
  const unsigned status = parser.get().result_int();
  if (status != 200 || !parser.chunked()) {
    http::read(stream, buffer, parser, ec);
    if (ec) return transfer_error(socket_path_, ec);
    return ApiReply{status, std::move(parser.get().body())};
  }
  parser.body_limit(boost::none);
  if (on_open) on_open();
  std::string pending;
  bool stop = false;
  auto on_chunk = [&](std::uint64_t, boost::beast::string_view data,
                      boost::system::error_code &) -> std::size_t {
    pending.append(data.data(), data.size());
    std::size_t start = 0;
    for (auto end = pending.find('\n', start); end != std::string::npos && !stop;
         end = pending.find('\n', start)) {
      if (end > start && !on_line(std::string_view(pending).substr(start, end - start))) {
        stop = true;
      }
      start = end + 1;
    }
    pending.erase(0, start);
    return data.size();
  };
  parser.on_chunk_body(on_chunk);
  while (!stop && !parser.is_done()) {
    http::read_some(stream, buffer, parser, ec);
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof) break;
    if (ec) return transfer_error(socket_path_, ec);
  }
  return ApiReply{status, {}};
}

}  // namespace sixguard
