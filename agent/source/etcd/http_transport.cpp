#include "agent/source/etcd/http_transport.h"

#include <openssl/ssl.h>
#include <poll.h>

#include <type_traits>
#include <utility>  // asio's awaitable.hpp uses std::exchange without including it (Boost 1.74)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include "agent/source/etcd/client.h"
#include "agent/source/etcd/types.h"

namespace sixguard::etcd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// One connection to one member with the io_context its socket belongs to, so that a kept-alive
// connection can be driven again by a later request. Members are destroyed in reverse order:
// the streams first (cancelling what is pending), then the io_context with the coroutine
// frames still queued in it.
struct Connection {
  asio::io_context io;
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  bool open = false;  // connected (and handshaken): the next request only writes and reads

  int native_handle() {
    return tls ? tls->next_layer().socket().native_handle() : tcp->socket().native_handle();
  }
  // An idle kept-alive connection is only worth reusing if the member has neither closed it
  // nor sent anything unasked: either makes it readable.
  bool still_idle() {
    pollfd fd{native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&fd, 1, 0) == 0;
  }
};

constexpr std::size_t kIdlePerEndpoint = 16;  // enough for a few threads sharing a client

}  // namespace

struct HttpTransport::Impl {
  std::optional<ssl::context> tls;
  std::mutex idle_mutex;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;  // by endpoint URL

  std::unique_ptr<Connection> take_idle(const Endpoint &endpoint) {
    std::lock_guard lock(idle_mutex);
    auto &pool = idle[endpoint.url];
    while (!pool.empty()) {
      auto connection = std::move(pool.back());
      pool.pop_back();
      if (connection->still_idle()) return connection;
    }
    return nullptr;
  }
  void put_idle(const Endpoint &endpoint, std::unique_ptr<Connection> connection) {
    std::lock_guard lock(idle_mutex);
    auto &pool = idle[endpoint.url];
    if (pool.size() < kIdlePerEndpoint) pool.push_back(std::move(connection));
  }
};

namespace {

constexpr std::size_t kReplyLimit = 256u << 20;  // a range page of 1000 keys is far below
constexpr std::size_t kErrorBodyLimit = 64u << 10;
constexpr auto kSlice = std::chrono::milliseconds(20);  // how often the driver looks at stop

bool is_tls_error(const error_code &ec) {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == ssl::error::get_stream_category();
}

Error transport_error(const Endpoint &endpoint, const char *stage, const error_code &ec) {
  if (is_tls_error(ec)) {
    return make_error("TLS with etcd at " + endpoint.url + " failed while " + stage + ": " +
                          ec.message() +
                          " (the member refused the client certificate or key, or its own "
                          "certificate does not verify against the CA)",
                      kTlsCode);
  }
  int code = ECONNRESET;
  if (ec == beast::error::timeout || ec == asio::error::timed_out) {
    code = ETIMEDOUT;
  } else if (ec.category() == boost::system::system_category() ||
             ec.category() == boost::system::generic_category()) {
    code = ec.value();
  }
  return make_error("etcd at " + endpoint.url + ": " + stage + ": " + ec.message(), code);
}

// What the coroutine and the driver loop share. The coroutine runs on the driver's thread
// (inside io_context::run_for), so no lock is needed.
struct Exchange {
  bool done = false;
  std::optional<Error> error;
  HttpReply reply;
  bool streaming = false;   // a 200 header was read: the request deadline no longer applies
  bool keep_alive = false;  // the unary answer leaves the connection open for the next one
  Clock::time_point last_byte = Clock::now();
  std::chrono::milliseconds connect_timeout{0};
  const StreamCallbacks *callbacks = nullptr;  // null: a unary request

  void fail(Error e) {
    error = std::move(e);
    done = true;
  }
};

http::request<http::string_body> make_request(const Endpoint &endpoint, std::string_view path,
                                              const std::string &body) {
  http::request<http::string_body> request{http::verb::post,
                                           beast::string_view(path.data(), path.size()), 11};
  request.set(http::field::host, endpoint.host + ":" + std::to_string(endpoint.port));
  request.set(http::field::user_agent, "sixguard");
  request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  return request;
}

// Writes the request and reads the answer on a connected (and, for TLS, handshaken) stream.
template <typename Stream>
asio::awaitable<void> exchange_on(Stream &stream, const Endpoint &endpoint,
                                  http::request<http::string_body> request, Exchange &ex) {
  error_code ec;
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec && !is_tls_error(ec)) {
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      // With TLS 1.3 the member checks our certificate after our side of the handshake is
      // done: a refusal is an alert, then the member closes, and its reset can fail this write
      // when we were slow to send (a loaded machine). The alert is still in the receive queue:
      // read it, so a refused certificate is reported as one and not as a retryable reset.
      char byte = 0;
      error_code alert;
      co_await stream.async_read_some(asio::buffer(&byte, 1),
                                      asio::redirect_error(asio::use_awaitable, alert));
      if (is_tls_error(alert)) {
        const std::string stage = "sending the request (" + ec.message() + "; then read)";
        co_return ex.fail(transport_error(endpoint, stage.c_str(), alert));
      }
    }
  }
  if (ec) co_return ex.fail(transport_error(endpoint, "sending the request", ec));
  beast::flat_buffer buffer;
  if (!ex.callbacks) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kReplyLimit);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ex.fail(transport_error(endpoint, "reading the answer", ec));
    ex.reply.status = parser.get().result_int();
    ex.keep_alive = parser.get().keep_alive() && buffer.size() == 0;
    ex.reply.body = std::move(parser.get().body());
    ex.done = true;
    co_return;
  }
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ex.fail(transport_error(endpoint, "reading the answer", ec));
  ex.reply.status = parser.get().result_int();
  if (ex.callbacks->on_status) ex.callbacks->on_status(ex.reply.status);
  const bool streaming = ex.reply.status == 200;
  ex.streaming = streaming;
  ex.last_byte = Clock::now();
  char piece[64 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    co_await http::async_read_some(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return ex.fail(transport_error(endpoint, "reading the stream", ec));
    const std::size_t got = sizeof piece - parser.get().body().size;
    if (got == 0) continue;
    ex.last_byte = Clock::now();
    if (!streaming) {
      if (ex.reply.body.size() < kErrorBodyLimit) ex.reply.body.append(piece, got);
      continue;
    }
    if (!ex.callbacks->on_bytes(std::string_view(piece, got))) {
      ex.done = true;
      co_return;
    }
  }
  if (streaming) {
    co_return ex.fail(make_error("etcd at " + endpoint.url + " ended the stream", ECONNRESET));
  }
  ex.done = true;
}

// Connects (and, for TLS, handshakes) unless the connection is already open, then exchanges.
asio::awaitable<void> run_exchange(Connection &connection, const Endpoint &endpoint,
                                   ssl::context *tls, http::request<http::string_body> request,
                                   Exchange &ex) {
  if (!connection.open) {
    auto executor = co_await asio::this_coro::executor;
    error_code ec;
    tcp::resolver resolver(executor);
    const auto addresses =
        co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ex.fail(transport_error(endpoint, "resolving the host", ec));
    beast::tcp_stream &tcp_stream = connection.tcp.emplace(executor);
    tcp_stream.expires_after(ex.connect_timeout);
    co_await tcp_stream.async_connect(addresses, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ex.fail(transport_error(endpoint, "connecting", ec));
    tcp_stream.expires_never();  // the driver's deadline bounds the rest
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    if (endpoint.tls) {
      if (!tls) {
        co_return ex.fail(make_error(
            "etcd endpoint " + endpoint.url + " is https but no TLS files are configured",
            kTlsCode));
      }
      auto &stream = connection.tls.emplace(std::move(tcp_stream), *tls);
      connection.tcp.reset();
      boost::system::error_code ignored;
      const bool is_ip = (asio::ip::make_address(endpoint.host, ignored), !ignored);
      if (!is_ip) SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str());
      stream.set_verify_callback(ssl::host_name_verification(endpoint.host));
      co_await stream.async_handshake(ssl::stream_base::client,
                                      asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return ex.fail(transport_error(endpoint, "the TLS handshake", ec));
    }
    connection.open = true;
  }
  if (connection.tls) {
    co_await exchange_on(*connection.tls, endpoint, std::move(request), ex);
  } else {
    co_await exchange_on(*connection.tcp, endpoint, std::move(request), ex);
  }
}

Error timeout_error(const Endpoint &endpoint, std::chrono::milliseconds timeout) {
  return make_error("etcd at " + endpoint.url + " did not answer within " +
                        std::to_string(timeout.count()) + " ms",
                    ETIMEDOUT);
}

// Runs one exchange on `connection` to its end, its deadline, an idle failure or a stop. A
// connection that fails is the caller's to destroy (with its io_context, the coroutine and
// its sockets); keep_alive says whether a successful one may carry the next request.
Result<HttpReply> drive(Connection &connection, bool &keep_alive, const Endpoint &endpoint,
                        ssl::context *tls, std::string_view path, const std::string &body,
                        std::chrono::milliseconds connect_timeout,
                        std::chrono::milliseconds timeout, std::chrono::milliseconds idle,
                        const StreamCallbacks *callbacks, const std::stop_token &stop) {
  Exchange
      ex;  // the caller destroys a failed connection while ex is gone: frames never use it then
  asio::io_context &io = connection.io;
  io.restart();
  keep_alive = false;
  ex.connect_timeout = connect_timeout;
  ex.callbacks = callbacks;
  const auto deadline = Clock::now() + timeout;
  asio::co_spawn(io,
                 run_exchange(connection, endpoint, tls, make_request(endpoint, path, body), ex),
                 [&ex, &endpoint](std::exception_ptr failure) {
                   if (!failure) return;
                   std::string what = "unknown";
                   try {
                     std::rethrow_exception(failure);
                   } catch (const std::exception &e) {
                     what = e.what();
                   } catch (...) {
                   }
                   ex.fail(make_error("etcd at " + endpoint.url + ": " + what, ECONNRESET));
                 });
  while (!ex.done) {
    const auto now = Clock::now();
    if (stop.stop_requested()) {
      return make_error("etcd request to " + endpoint.url + " stopped", kStoppedCode);
    }
    if (!ex.streaming) {
      if (now >= deadline) return timeout_error(endpoint, timeout);
      io.run_for(std::min<Clock::duration>(kSlice, deadline - now));
    } else {
      if (callbacks->on_idle && now - ex.last_byte >= idle) {
        if (auto alive = callbacks->on_idle(); !alive) return alive.error();
        ex.last_byte = Clock::now();
      }
      io.run_for(kSlice);
    }
    if (io.stopped() && !ex.done) io.restart();
  }
  if (ex.error) return *ex.error;
  keep_alive = ex.keep_alive;
  return std::move(ex.reply);
}

}  // namespace

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

Result<std::unique_ptr<HttpTransport>> HttpTransport::create(const std::optional<TlsFiles> &files) {
  auto impl = std::make_unique<Impl>();
  if (files) {
    ssl::context context(ssl::context::tls_client);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (files->ca_file.empty()) return make_error("etcd TLS: no CA file (--cacert)", kTlsCode);
    context.load_verify_file(files->ca_file, ec);
    if (ec)
      return make_error("etcd TLS: CA file " + files->ca_file + ": " + ec.message(), kTlsCode);
    context.set_verify_mode(ssl::verify_peer);
    if (files->cert_file.empty() != files->key_file.empty()) {
      return make_error(
          "etcd TLS: a client certificate needs its key and the other way round (--cert and --key)",
          kTlsCode);
    }
    if (!files->cert_file.empty()) {
      context.use_certificate_chain_file(files->cert_file, ec);
      if (ec) {
        return make_error("etcd TLS: client certificate " + files->cert_file + ": " + ec.message(),
                          kTlsCode);
      }
      context.use_private_key_file(files->key_file, ssl::context::pem, ec);
      if (ec)
        return make_error("etcd TLS: client key " + files->key_file + ": " + ec.message(),
                          kTlsCode);
      if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
        return make_error(
            "etcd TLS: key " + files->key_file + " does not match certificate " + files->cert_file,
            kTlsCode);
      }
    }
    impl->tls.emplace(std::move(context));
  }
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

Result<HttpReply> HttpTransport::post(const Endpoint &endpoint, std::string_view path,
                                      const std::string &body, bool idempotent,
                                      std::chrono::milliseconds connect_timeout,
                                      std::chrono::milliseconds timeout) {
  ssl::context *tls = impl_->tls ? &*impl_->tls : nullptr;
  auto connection = impl_->take_idle(endpoint);
  const bool reused = connection != nullptr;
  if (!connection) connection = std::make_unique<Connection>();
  bool keep_alive = false;
  auto reply = drive(*connection, keep_alive, endpoint, tls, path, body, connect_timeout, timeout,
                     timeout, nullptr, std::stop_token{});
  if (!reply && reused && idempotent && reply.error().code != ETIMEDOUT) {
    // The member may have closed the kept-alive connection as the request left: once more
    // on a new one. A request that is not idempotent may have been applied; its caller decides.
    connection = std::make_unique<Connection>();
    reply = drive(*connection, keep_alive, endpoint, tls, path, body, connect_timeout, timeout,
                  timeout, nullptr, std::stop_token{});
  }
  if (reply && keep_alive) impl_->put_idle(endpoint, std::move(connection));
  return reply;
}

Result<HttpReply> HttpTransport::post_stream(
    const Endpoint &endpoint, std::string_view path, const std::string &body,
    std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout,
    std::chrono::milliseconds idle, const StreamCallbacks &callbacks, std::stop_token stop) {
  // A stream is never kept: it lasts until it breaks or is stopped.
  Connection connection;
  bool keep_alive = false;
  return drive(connection, keep_alive, endpoint, impl_->tls ? &*impl_->tls : nullptr, path, body,
               connect_timeout, timeout, idle, &callbacks, stop);
}

}  // namespace sixguard::etcd
