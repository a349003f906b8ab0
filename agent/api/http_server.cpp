#include "agent/api/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <filesystem>
#include <future>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
#include <array>
#include <atomic>
#include <functional>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "agent/api/fd_stream.h"
#include "agent/api/peer_key.h"

namespace sixguard {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

std::string lower(std::string text) {
  for (char &c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The chunked body of a streamed response, written by the stream's own thread through its
// own descriptor (a dup of the connection's), every wait bounded by the write deadline and
// ended by the server's stop eventfd.
class ChunkedStream final : public ResponseStream {
 public:
  ChunkedStream(FdStream &stream, int stop_fd) : stream_(stream), stop_fd_(stop_fd) {}

  bool write(std::string_view data) override {
    if (broken_ || !open()) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    error_code ec;
    asio::write(stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())), ec);
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

  // The terminating chunk goes out even when the server is stopping, so the client sees a
  // complete response; best effort, never blocks.
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

HttpRequest to_request(http::request<http::string_body> &&raw) {
  HttpRequest request;
  request.method = std::string(raw.method_string());
  request.target = std::string(raw.target());
  parse_target(request.target, request.path, request.query);
  for (const auto &field : raw) {
    request.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  }
  request.body = std::move(raw.body());
  return request;
}

std::string serialize(const HttpResponse &response, unsigned version, bool keep_alive) {
  http::response<http::string_body> out{static_cast<http::status>(response.status), version};
  out.set(http::field::content_type, response.content_type);
  for (const auto &[name, value] : response.headers) out.set(name, value);
  out.keep_alive(keep_alive);
  out.body() = response.body;
  out.prepare_payload();
  std::ostringstream text;
  text << out;
  return text.str();
}

Status set_v6only(int fd, bool on) {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &value, sizeof(value)) < 0) {
    return errno_error("setsockopt IPV6_V6ONLY");
  }
  return {};
}

std::string peer_key(asio::ip::tcp::socket &socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(socket.native_handle(), reinterpret_cast<sockaddr *>(&address), &length) < 0) {
    return "tcp:unknown";
  }
  return tcp_peer_key(reinterpret_cast<sockaddr *>(&address), length);
}

std::string peer_key(asio::local::stream_protocol::socket &socket) {
  return unix_peer_key(socket.native_handle());
}

// A connection the I/O thread may close: request sessions and refusals.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void close() = 0;
};

}  // namespace

struct HttpServer::Impl {
  struct Listener {
    Fd fd;
    int family = AF_UNIX;
    std::string unix_path;  // removed on stop
  };
  struct StreamThread {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  class Session;  // one request connection (below)
  template <typename Socket>
  class SocketSession;
  template <typename Socket>
  class Refusal;

  const Router &router;
  const HttpServerOptions options;
  Fd stop_fd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  std::vector<Listener> listeners;
  bool started = false;
  bool stopped = false;
  std::atomic<bool> stopping{false};

  // ---- Touched on the I/O thread only. ----
  HttpServerCounters counters;
  std::map<std::string, std::size_t> peer_connections;
  std::map<std::string, std::size_t> peer_streams;
  std::list<Session *> sessions;  // request connections, oldest first
  std::list<Closable *> refusals;
  // Handlers per peer: at most max_handlers_per_peer on the workers, the rest wait here (at
  // most one per connection), so one peer cannot take every worker.
  struct PeerHandlers {
    std::size_t running = 0;
    std::deque<std::function<void()>> waiting;
  };
  std::map<std::string, PeerHandlers> peer_handlers;
  std::vector<std::function<void()>> close_acceptors;

  // Stream threads: started on the I/O thread, joined on stop.
  std::mutex stream_threads_mutex;
  std::list<StreamThread> stream_threads;

  // Destroyed first (reverse order): pending handlers own sessions, which give their slots
  // back to the members above.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  asio::thread_pool workers;
  std::thread io_thread;

  Impl(const Router &r, HttpServerOptions o)
      : router(r), options(o), workers(std::max(1u, o.worker_threads)) {}

  // A new connection from peer: room for it, making room by closing an idle connection (of
  // that peer when the peer is at its cap) when needed. false: refuse it.
  bool admit(const std::string &peer);
  void release(const std::string &peer) {
    --counters.connections;
    if (auto it = peer_connections.find(peer); it != peer_connections.end() && --it->second == 0) {
      peer_connections.erase(it);
    }
  }
  bool evict_idle(const std::string *peer);
  bool take_stream_slot(const std::string &peer) {
    auto &mine = peer_streams[peer];
    if (counters.streams >= options.max_streams || mine >= options.max_streams_per_peer) {
      if (mine == 0) peer_streams.erase(peer);
      return false;
    }
    ++mine;
    ++counters.streams;
    return true;
  }
  void release_stream_slot(const std::string &peer) {
    --counters.streams;
    if (auto it = peer_streams.find(peer); it != peer_streams.end() && --it->second == 0) {
      peer_streams.erase(it);
    }
  }

  // A small body needs no reservation: the connection caps bound those.
  static constexpr std::size_t kSmallBody = 64 * 1024;
  bool reserve_body(std::size_t bytes) {
    if (counters.body_bytes > 0 && counters.body_bytes + bytes > options.max_body_bytes_in_flight) {
      return false;  // (one request alone always fits, up to max_body_bytes)
    }
    counters.body_bytes += bytes;
    return true;
  }

  void run_handler(const std::string &peer, std::function<void()> job) {
    auto &mine = peer_handlers[peer];
    if (mine.running >= std::max<std::size_t>(1, options.max_handlers_per_peer)) {
      mine.waiting.push_back(std::move(job));
      return;
    }
    ++mine.running;
    asio::post(workers, std::move(job));
  }
  void handler_done(const std::string &peer) {
    const auto it = peer_handlers.find(peer);
    if (it == peer_handlers.end()) return;
    if (stopping) it->second.waiting.clear();  // the workers are going: drop, do not run
    if (!it->second.waiting.empty()) {
      asio::post(workers, std::move(it->second.waiting.front()));
      it->second.waiting.pop_front();
      return;
    }
    if (--it->second.running == 0) peer_handlers.erase(it);
  }

  // At most once a minute: what was turned away since the last report, and the latest why.
  HttpServerCounters reported;
  std::optional<Clock::time_point> last_report;
  void report(const std::string &latest) {
    if (!options.warn || (last_report && Clock::now() - *last_report < std::chrono::minutes(1))) {
      return;
    }
    last_report = Clock::now();
    options.warn("refused " + std::to_string(counters.refused - reported.refused) +
                 " connection(s) at a cap, closed " +
                 std::to_string(counters.deadline_closed - reported.deadline_closed) +
                 " at a deadline, " + std::to_string(counters.evicted - reported.evicted) +
                 " idle to make room (latest: " + latest + ")");
    reported = counters;
  }

  template <typename Protocol>
  void accept(std::shared_ptr<typename Protocol::acceptor> acceptor);
  template <typename Socket>
  void refuse(Socket socket, const std::string &why, const std::string &peer);

  void start_stream_thread(std::function<void()> body) {
    std::lock_guard lock(stream_threads_mutex);
    for (auto it = stream_threads.begin(); it != stream_threads.end();) {
      if (it->done) {
        it->thread.join();
        it = stream_threads.erase(it);
      } else {
        ++it;
      }
    }
    auto &entry = stream_threads.emplace_back();
    try {
      entry.thread = std::thread([body = std::move(body), &entry] {
        try {
          body();
        } catch (const std::exception &) {
          // Out of memory in one stream: that stream ends, the server goes on.
        }
        entry.done = true;
      });
    } catch (const std::system_error &) {
      stream_threads.pop_back();
      throw;
    }
  }

  void close_everything();
};

// ---- One request connection. Every member is touched on the I/O thread only, except while
// its handler runs on a worker (then nothing else touches it) or its stream thread owns it.
class HttpServer::Impl::Session : public Closable {
 public:
  Session(Impl &impl, std::string peer) : impl_(impl), peer_(std::move(peer)) {
    position_ = impl_.sessions.insert(impl_.sessions.end(), this);
  }
  ~Session() override { release_slot(); }

  const std::string &peer() const { return peer_; }
  // Waiting for a request with nothing of it received: safe to close to make room.
  bool idle() const { return waiting_first_byte_ && !closed_; }
  void evict() {
    ++impl_.counters.evicted;
    close();
  }

 protected:
  // Gives the connection slot back (once): at close, or when the connection becomes a stream.
  void release_slot() {
    if (!slot_held_) return;
    slot_held_ = false;
    impl_.sessions.erase(position_);
    impl_.release(peer_);
  }

  Impl &impl_;
  const std::string peer_;
  bool waiting_first_byte_ = false;
  bool closed_ = false;

 private:
  std::list<Session *>::iterator position_;
  bool slot_held_ = true;
};

template <typename Socket>
class HttpServer::Impl::SocketSession final
    : public Session,
      public std::enable_shared_from_this<SocketSession<Socket>> {
 public:
  SocketSession(Impl &impl, Socket socket, std::string peer)
      : Session(impl, std::move(peer)), socket_(std::move(socket)), deadline_(impl.io) {}

  void start() { wait_for_request(); }

  void close() override {
    if (closed_) return;
    closed_ = true;
    disarm();
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    release_slot();
    release_body();
    if (stream_slot_) {
      stream_slot_ = false;
      impl_.release_stream_slot(peer_);
    }
  }

 private:
  // The deadline closes the connection; a handler that finds the deadline moved on (it was
  // re-armed or disarmed after it fired) does nothing.
  void arm(std::chrono::milliseconds after) {
    deadline_.expires_after(after);
    deadline_.async_wait([weak = this->weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_ || self->deadline_.expiry() > Clock::now()) return;
      ++self->impl_.counters.deadline_closed;
      self->impl_.report("a connection from " + self->peer_ + " reached its deadline");
      self->close();
    });
  }
  void disarm() { deadline_.expires_at(Clock::time_point::max()); }

  void release_body() {
    impl_.counters.body_bytes -= body_reserved_;
    body_reserved_ = 0;
  }

  void wait_for_request() {
    arm(impl_.options.request_deadline);
    if (buffer_.size() > 0) return read_header();  // pipelined: the next request is here
    waiting_first_byte_ = true;
    socket_.async_wait(Socket::wait_read, [self = this->shared_from_this()](error_code ec) {
      self->waiting_first_byte_ = false;
      if (ec || self->closed_) return self->close();
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(impl_.options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return fail(ec);
    // Large bodies share a memory budget: beyond it, 503 with Retry-After before any of the
    // body is read, rather than the agent outgrowing its memory limit.
    const auto length = parser_->content_length();
    const std::size_t body = length               ? static_cast<std::size_t>(*length)
                             : parser_->chunked() ? impl_.options.max_body_bytes
                                                  : 0;
    if (body > kSmallBody) {
      if (!impl_.reserve_body(body)) {
        HttpResponse busy = json_error(503, "too many large requests at once; retry shortly");
        busy.headers.emplace_back("Retry-After", "1");
        return respond(busy, parser_->get().version(), false);
      }
      body_reserved_ = body;
    }
    if (parser_->get()[http::field::expect] == "100-continue") {
      // curl asks before sending a body over 1 KiB; answering saves it a 1 s wait. (A body
      // over the limit was refused above, from its Content-Length, before this.)
      auto proceed =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(socket_, *proceed,
                        [self = this->shared_from_this(), proceed](error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t) {
                       if (ec) return self->fail(ec);
                       self->on_request();
                     });
  }

  void fail(error_code ec) {
    if (closed_) return;
    if (ec == http::error::body_limit) {
      return respond(json_error(413, "request body larger than " +
                                         std::to_string(impl_.options.max_body_bytes) + " bytes"),
                     11, false);
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return respond(json_error(400, "bad HTTP request: " + ec.message()), 11, false);
    }
    close();  // eof, reset, or the deadline (which closed the socket)
  }

  void on_request() {
    disarm();  // the request is whole: the handler's time is not the peer's
    auto &raw = parser_->get();
    const unsigned version = raw.version();
    const bool keep_alive = raw.keep_alive();
    HttpRequest request = to_request(std::move(raw));
    parser_.reset();
    auto match = impl_.router.match(request.method, request.path);
    if (match.error) return respond(std::move(*match.error), version, keep_alive);
    if (match.stream && match.precheck)
      return precheck_then_stream(std::move(request), match, version);
    if (match.stream) return start_stream(std::move(request), match, version);
    // The handler may block (a large batch, explain): on a worker, never on the I/O thread.
    impl_.run_handler(peer_, [self = this->shared_from_this(), request = std::move(request),
                              handler = match.handler, version, keep_alive]() mutable {
      HttpResponse response;
      try {
        response = (*handler)(request);
      } catch (const std::exception &e) {
        response = json_error(500, std::string("internal error: ") + e.what());
      }
      auto &io = self->impl_.io;
      // self moves into the I/O thread's handler: the session is only ever destroyed there.
      asio::post(io, [self = std::move(self), response = std::move(response), version,
                      keep_alive]() mutable {
        self->impl_.handler_done(self->peer_);
        self->respond(response, version, keep_alive);
      });
    });
  }

  void respond(const HttpResponse &response, unsigned version, bool keep_alive) {
    release_body();  // the handler is done with it
    if (closed_) return;
    auto text = std::make_shared<std::string>(serialize(response, version, keep_alive));
    arm(impl_.options.write_deadline);
    asio::async_write(
        socket_, asio::buffer(*text),
        [self = this->shared_from_this(), text, keep_alive](error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->close();
          self->wait_for_request();
        });
  }

  // A stream's precheck (the monitor's filters), on a worker like any handler since it reads
  // the state under its lock, and before a stream slot is taken: a refused request never holds
  // one, so a client that fixes a typo and asks again gets its 400, not a 503 for the slot of
  // the refusal it has already read.
  void precheck_then_stream(HttpRequest request, const Router::Match &match, unsigned version) {
    impl_.run_handler(peer_, [self = this->shared_from_this(), request = std::move(request), match,
                              version]() mutable {
      std::optional<HttpResponse> refusal;
      try {
        refusal = (*match.precheck)(request);
      } catch (const std::exception &e) {
        refusal = json_error(500, std::string("internal error: ") + e.what());
      }
      auto &io = self->impl_.io;
      asio::post(io, [self = std::move(self), refusal = std::move(refusal),
                      request = std::move(request), match, version]() mutable {
        self->impl_.handler_done(self->peer_);
        if (refusal) return self->respond(*refusal, version, false);
        if (!self->closed_) self->start_stream(std::move(request), match, version);
      });
    });
  }

  // A streamed response (/v1/monitor): under the stream caps, on its own thread, no longer
  // counted as a request connection. Its precheck, if any, has passed.
  void start_stream(HttpRequest request, const Router::Match &match, unsigned version) {
    if (!impl_.take_stream_slot(peer_)) {
      return respond(
          json_error(503, "too many open streams (at most " +
                              std::to_string(impl_.options.max_streams) + ", " +
                              std::to_string(impl_.options.max_streams_per_peer) + " per client)"),
          version, false);
    }
    stream_slot_ = true;
    release_slot();
    Fd fd(::dup(socket_.native_handle()));
    if (!fd.valid()) return respond(json_error(503, "cannot open a stream now"), version, false);
    const int timeout_ms = static_cast<int>(impl_.options.write_deadline.count());
    try {
      impl_.start_stream_thread([self = this->shared_from_this(), fd = fd.release(),
                                 request = std::move(request), handler = match.stream,
                                 content_type = match.stream_content_type, version,
                                 timeout_ms]() mutable {
        {
          FdStream stream(Fd(fd), self->impl_.stop_fd.get(), timeout_ms);
          http::response<http::empty_body> header{http::status::ok, version};
          header.set(http::field::content_type, content_type);
          header.set(http::field::cache_control, "no-cache");
          header.chunked(true);
          header.keep_alive(false);
          http::response_serializer<http::empty_body> serializer{header};
          error_code ec;
          http::write_header(stream, serializer, ec);
          if (!ec) {
            ChunkedStream body(stream, self->impl_.stop_fd.get());
            try {
              (*handler)(request, body);
            } catch (const std::exception &) {
              // The status line is gone already; ending the stream is all that is left.
            }
            body.finish();
          }
        }
        auto &io = self->impl_.io;
        asio::post(io, [self = std::move(self)] { self->close(); });
      });
    } catch (const std::system_error &) {
      ::close(fd.release());
      close();
    }
  }

  Socket socket_;
  asio::steady_timer deadline_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool stream_slot_ = false;
  std::size_t body_reserved_ = 0;  // of the body budget, for the request being handled
};

// A refused connection: the 503 goes out, our side is shut, and what the peer already sent is
// read and dropped for a moment, so that closing does not reset the connection before the
// peer has read the answer. Bounded in number and time.
template <typename Socket>
class HttpServer::Impl::Refusal final : public Closable,
                                        public std::enable_shared_from_this<Refusal<Socket>> {
 public:
  static constexpr std::size_t kMaxDraining = 64;

  Refusal(Impl &impl, Socket socket) : impl_(impl), socket_(std::move(socket)), timer_(impl.io) {
    position_ = impl_.refusals.insert(impl_.refusals.end(), this);
  }
  ~Refusal() override { impl_.refusals.erase(position_); }

  void start(const std::string &answer) {
    error_code ignored;
    (void)::send(socket_.native_handle(), answer.data(), answer.size(),
                 MSG_DONTWAIT | MSG_NOSIGNAL);
    socket_.shutdown(Socket::shutdown_send, ignored);
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->close();
    });
    drain();
  }

  void close() override {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void drain() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = this->shared_from_this()](error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > 64 * 1024) return self->close();
                              self->drain();
                            });
  }

  Impl &impl_;
  Socket socket_;
  asio::steady_timer timer_;
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
  std::list<Closable *>::iterator position_;
};

bool HttpServer::Impl::evict_idle(const std::string *peer) {
  for (Session *session : sessions) {
    if (session->idle() && (!peer || session->peer() == *peer)) {
      session->evict();
      return true;
    }
  }
  return false;
}

bool HttpServer::Impl::admit(const std::string &peer) {
  if (const auto it = peer_connections.find(peer); it != peer_connections.end() &&
                                                   it->second >= options.max_connections_per_peer &&
                                                   !evict_idle(&peer)) {
    return false;
  }
  if (counters.connections >= options.max_connections && !evict_idle(nullptr)) return false;
  ++counters.connections;
  ++peer_connections[peer];
  return true;
}

template <typename Socket>
void HttpServer::Impl::refuse(Socket socket, const std::string &why, const std::string &peer) {
  ++counters.refused;
  report(why + ": " + peer);
  const std::string answer = serialize(json_error(503, why), 11, false);
  if (refusals.size() >= Refusal<Socket>::kMaxDraining) {
    (void)::send(socket.native_handle(), answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return;  // closed as it goes out of scope
  }
  std::make_shared<Refusal<Socket>>(*this, std::move(socket))->start(answer);
}

template <typename Protocol>
void HttpServer::Impl::accept(std::shared_ptr<typename Protocol::acceptor> acceptor) {
  acceptor->async_accept([this, acceptor](error_code ec, typename Protocol::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, most likely: make room if we can, and try again shortly rather
      // than spin.
      (void)evict_idle(nullptr);
      auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(50));
      timer->async_wait([this, acceptor, timer](error_code) {
        if (!stopping) accept<Protocol>(acceptor);
      });
      return;
    }
    const std::string peer = peer_key(socket);
    if (!admit(peer)) {
      const bool peer_full = peer_connections.count(peer) &&
                             peer_connections[peer] >= options.max_connections_per_peer;
      refuse(std::move(socket),
             peer_full ? "too many connections from this client (at most " +
                             std::to_string(options.max_connections_per_peer) + ")"
                       : "too many connections",
             peer);
    } else {
      std::make_shared<SocketSession<typename Protocol::socket>>(*this, std::move(socket), peer)
          ->start();
    }
    accept<Protocol>(acceptor);
  });
}

void HttpServer::Impl::close_everything() {
  for (auto &close : close_acceptors) close();
  // close() unlinks each from its list: walk copies.
  for (Session *session : std::vector<Session *>(sessions.begin(), sessions.end())) {
    session->close();
  }
  for (Closable *refusal : std::vector<Closable *>(refusals.begin(), refusals.end())) {
    refusal->close();
  }
}

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
  impl_->listeners.push_back(Impl::Listener{std::move(fd), AF_UNIX, path});
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
      impl_->listeners.push_back(Impl::Listener{std::move(fd), info->ai_family, ""});
      return bound_port;
    }
  }
  return last;
}

Status HttpServer::start() {
  auto &impl = *impl_;
  if (!impl.stop_fd.valid()) return errno_error("eventfd");
  if (impl.started) return make_error("HTTP server already started", EALREADY);
  if (impl.listeners.empty()) return make_error("HTTP server has nothing to listen on", EINVAL);
  for (auto &listener : impl.listeners) {
    error_code ec;
    if (listener.family == AF_UNIX) {
      using Protocol = asio::local::stream_protocol;
      auto acceptor = std::make_shared<Protocol::acceptor>(impl.io);
      acceptor->assign(Protocol(), listener.fd.get(), ec);
      if (ec) return make_error("cannot serve " + listener.unix_path + ": " + ec.message(), EINVAL);
      impl.close_acceptors.push_back([acceptor] { acceptor->close(); });
      impl.accept<Protocol>(acceptor);
    } else {
      using Protocol = asio::ip::tcp;
      auto acceptor = std::make_shared<Protocol::acceptor>(impl.io);
      acceptor->assign(listener.family == AF_INET6 ? Protocol::v6() : Protocol::v4(),
                       listener.fd.get(), ec);
      if (ec) return make_error("cannot serve a TCP listener: " + ec.message(), EINVAL);
      impl.close_acceptors.push_back([acceptor] { acceptor->close(); });
      impl.accept<Protocol>(acceptor);
    }
    (void)listener.fd.release();  // the acceptor owns it now
  }
  impl.started = true;
  impl.io_thread = std::thread([&impl] {
    for (;;) {
      try {
        impl.io.run();
        return;
      } catch (const std::exception &) {
        // Out of memory or similar in one connection's handler: that connection is dropped
        // (its handler is gone), every other one goes on.
      }
    }
  });
  return {};
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  auto &impl = *impl_;
  impl.stopped = true;
  impl.stopping = true;
  const uint64_t one = 1;
  // The eventfd stays readable: every stream thread's wait ends at once from now on.
  (void)!::write(impl.stop_fd.get(), &one, sizeof(one));
  asio::post(impl.io, [&impl] { impl.close_everything(); });
  impl.work.reset();
  {
    std::lock_guard lock(impl.stream_threads_mutex);
    for (auto &entry : impl.stream_threads) {
      if (entry.thread.joinable()) entry.thread.join();
    }
    impl.stream_threads.clear();
  }
  impl.workers.join();  // handlers running now finish; their answers find closed sessions
  if (impl.io_thread.joinable()) impl.io_thread.join();
  // What workers and streams handed to the I/O thread after it ran out of work.
  impl.io.restart();
  impl.close_everything();
  impl.peer_handlers.clear();  // handlers that never ran: their sessions go with the I/O
  impl.io.run();
  for (auto &listener : impl.listeners) {
    if (!listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
    listener.fd.reset();
  }
}

HttpServerCounters HttpServer::counters() const {
  auto &impl = *impl_;
  if (!impl.started || impl.stopped) return impl.counters;
  std::promise<HttpServerCounters> snapshot;
  auto future = snapshot.get_future();
  asio::post(impl.io, [&] {
    HttpServerCounters now = impl.counters;
    for (const auto *session : impl.sessions) now.idle += session->idle() ? 1 : 0;
    for (const auto &[peer, handlers] : impl.peer_handlers) now.queued += handlers.waiting.size();
    snapshot.set_value(now);
  });
  return future.get();
}

}  // namespace sixguard
