// The HTTP server under hostile peers (DESIGN §4: no listener can be starved by one peer):
// slow-loris peers, idle streams, a peer over its cap, a server full of idle connections, a
// slow handler, and bodies around the 32 MiB limit (§3). Each test decides from evidence: the
// server's own counters, a request that completes, a connection the server closed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "agent/core/fd.h"
#include "agent/api/http_server.h"
#include "tests/control/temp_dir.h"

namespace sixguard::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Fd connect_unix(const std::string &path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    return Fd();
  }
  return fd;
}

// To 127.0.0.1:port from source (another loopback address is another peer).
Fd connect_tcp(uint16_t port, const char *source = nullptr) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (source) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&local), sizeof(local)) != 0) return Fd();
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    return Fd();
  }
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// Everything the server sends until it closes, or until `stop_at` appears, or `limit` passes
// (then the answer is what came, possibly empty: the caller's assertion fails, no hang).
std::string receive(int fd, std::chrono::milliseconds limit = 20s, std::string_view stop_at = {}) {
  std::string answer;
  const auto end = Clock::now() + limit;
  char buffer[65536];
  while (Clock::now() < end) {
    pollfd wait{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (::poll(&wait, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(got));
    if (!stop_at.empty() && answer.find(stop_at) != std::string::npos) break;
  }
  return answer;
}

unsigned status_of(const std::string &answer) {
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) return 0;
  return static_cast<unsigned>(std::stoi(answer.substr(9, 3)));
}

// One request with Connection: close on fd; the status (0: no answer).
unsigned exchange(const Fd &fd, const std::string &target = "/fast") {
  if (!fd.valid()) return 0;
  if (!send_all(fd.get(), "GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")) {
    return 0;
  }
  return status_of(receive(fd.get()));
}

// Whether the server closed fd (EOF or reset), waiting up to limit.
bool closed_by_server(int fd, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  char buffer[4096];
  while (Clock::now() < end) {
    pollfd wait{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&wait, 1, 50) <= 0) continue;
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN)) return true;
  }
  return false;
}

// The start of a request whose header never ends.
constexpr std::string_view kUnfinished = "GET /fast HTTP/1.1\r\nHost: t\r\nX-Slow: ";

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add("GET", "/fast", [](const HttpRequest &) {
      HttpResponse response;
      response.content_type = "text/plain";
      response.body = "fast\n";
      return response;
    });
    router.add("GET", "/slow", [this](const HttpRequest &) {
      ++slow_entered;
      release_slow.wait();
      HttpResponse response;
      response.body = "slow\n";
      return response;
    });
    router.add("POST", "/size", [](const HttpRequest &request) {
      HttpResponse response;
      response.body = std::to_string(request.body.size());
      return response;
    });
    router.add_stream("GET", "/stream", "application/x-ndjson",
                      [this](const HttpRequest &, ResponseStream &stream) {
                        ++streams_live;
                        while (stream.open()) std::this_thread::sleep_for(20ms);
                        --streams_live;
                      });
    // A stream with a precheck, like /v1/monitor's filters: ?bad is refused.
    router.add_stream(
        "GET", "/checked", "application/x-ndjson",
        [this](const HttpRequest &, ResponseStream &stream) {
          ++streams_live;
          while (stream.open()) std::this_thread::sleep_for(20ms);
          --streams_live;
        },
        [](const HttpRequest &request) -> std::optional<HttpResponse> {
          if (!request.query.contains("bad")) return std::nullopt;
          HttpResponse refusal;
          refusal.status = 400;
          refusal.body = "bad filter\n";
          return refusal;
        });
  }
  void TearDown() override {
    release_promise.set_value();
    if (server) server->stop();
  }

  void start_unix() {
    server = std::make_unique<HttpServer>(router, options);
    ASSERT_TRUE(server->listen_unix(socket_path));
    ASSERT_TRUE(server->start());
  }
  uint16_t start_tcp() {
    server = std::make_unique<HttpServer>(router, options);
    auto port = server->listen_tcp("127.0.0.1:0");
    EXPECT_TRUE(port) << port.error().describe();
    EXPECT_TRUE(server->start());
    return port ? *port : 0;
  }

  // Waits until the server's counters satisfy done (they move on its I/O thread).
  HttpServerCounters wait_for(const std::function<bool(const HttpServerCounters &)> &done,
                              std::chrono::milliseconds limit = 20s) {
    const auto end = Clock::now() + limit;
    HttpServerCounters now = server->counters();
    while (!done(now) && Clock::now() < end) {
      std::this_thread::sleep_for(5ms);
      now = server->counters();
    }
    return now;
  }

  TempDir dir;
  const std::string socket_path = dir / "api.sock";
  Router router;
  HttpServerOptions options;
  std::unique_ptr<HttpServer> server;
  std::atomic<int> slow_entered{0};
  std::atomic<int> streams_live{0};
  std::promise<void> release_promise;
  std::shared_future<void> release_slow = release_promise.get_future().share();
};

// Issue 11, case 2: 100 connections sending one byte at a time. The others are served all
// along, and each slow one is closed at the overall deadline although it kept sending.
TEST_F(HttpServerTest, SlowLorisPeersDoNotStopOthersAndAreClosedAtTheDeadline) {
  options.request_deadline = 3s;
  options.max_connections_per_peer = 200;  // all from this process: the deadline is under test
  start_unix();
  constexpr int kSlow = 100;
  std::vector<Fd> slow;
  std::vector<Clock::time_point> connected;
  for (int i = 0; i < kSlow; ++i) {
    // Before connect: the server may accept (and start the deadline) before connect returns.
    connected.push_back(Clock::now());
    slow.push_back(connect_unix(socket_path));
    ASSERT_TRUE(slow.back().valid());
    ASSERT_TRUE(send_all(slow.back().get(), kUnfinished));
  }
  std::atomic<bool> stop_dripping{false};
  std::thread drip([&] {  // one byte per connection every 100 ms: never idle, never done
    while (!stop_dripping) {
      for (auto &fd : slow) (void)::send(fd.get(), "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(100ms);
    }
  });
  auto counters = wait_for([&](const auto &c) { return c.connections == kSlow && c.idle == 0; });
  ASSERT_EQ(counters.connections, static_cast<std::size_t>(kSlow));
  ASSERT_EQ(counters.idle, 0u);

  for (int i = 0; i < 20; ++i) EXPECT_EQ(exchange(connect_unix(socket_path)), 200u) << i;
  // Served while the slow ones were being received, not after they were closed.
  counters = server->counters();
  EXPECT_EQ(counters.deadline_closed, 0u) << "the machine is too slow for a 3 s deadline";

  for (int i = 0; i < kSlow; ++i) {
    ASSERT_TRUE(closed_by_server(slow[i].get(), 30s)) << i;
    EXPECT_GE(Clock::now() - connected[i], options.request_deadline) << i;
  }
  stop_dripping = true;
  drip.join();
  counters = wait_for([&](const auto &c) { return c.connections == 0; });
  EXPECT_EQ(counters.deadline_closed, static_cast<uint64_t>(kSlow));
  EXPECT_EQ(counters.connections, 0u);
  EXPECT_EQ(exchange(connect_unix(socket_path)), 200u);
}

// Issue 11: 64 idle /v1/monitor-like streams made every request answer 503.
TEST_F(HttpServerTest, IdleStreamsHaveTheirOwnCapAndDoNotStopRequests) {
  options.max_connections = 8;
  options.max_streams = 16;
  options.max_streams_per_peer = 16;  // all from this process
  start_unix();
  std::vector<Fd> streams;
  int open = 0, refused = 0;
  for (int i = 0; i < 64; ++i) {
    streams.push_back(connect_unix(socket_path));
    ASSERT_TRUE(send_all(streams.back().get(), "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
    const unsigned status = status_of(receive(streams.back().get(), 20s, "\r\n\r\n"));
    open += status == 200;
    refused += status == 503;
  }
  EXPECT_EQ(open, 16);
  EXPECT_EQ(refused, 48);
  const auto counters = wait_for([](const auto &c) { return c.streams == 16; });
  EXPECT_EQ(counters.streams, 16u);
  EXPECT_EQ(streams_live, 16);
  // More requests than max_connections, one after the other and eight at once.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(exchange(connect_unix(socket_path)), 200u) << i;
  std::vector<Fd> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(connect_unix(socket_path));
  for (auto &fd : batch) EXPECT_EQ(exchange(fd), 200u);
  // A stream that ends gives its place back.
  streams.front().reset();
  wait_for([](const auto &c) { return c.streams == 15; });
  Fd another = connect_unix(socket_path);
  ASSERT_TRUE(send_all(another.get(), "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(status_of(receive(another.get(), 20s, "\r\n\r\n")), 200u);
}

// A stream's precheck runs before a stream slot is taken: with every slot of this client held,
// a refused request still gets its 400 (a 503 for the cap would hide the client's mistake),
// an accepted one gets the cap's 503, and refusals one after the other never use a slot up
// (the loaded CI run that found this: the 5th of 6 refusals in a row answered 503).
TEST_F(HttpServerTest, AStreamRefusedByItsPrecheckNeverTakesAStreamSlot) {
  options.max_streams = 16;
  options.max_streams_per_peer = 2;
  start_unix();
  std::vector<Fd> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(connect_unix(socket_path));
    ASSERT_TRUE(send_all(held.back().get(), "GET /checked HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(status_of(receive(held.back().get(), 20s, "\r\n\r\n")), 200u) << i;
  }
  ASSERT_EQ(wait_for([](const auto &c) { return c.streams == 2; }).streams, 2u);

  Fd refused = connect_unix(socket_path);
  ASSERT_TRUE(send_all(refused.get(), "GET /checked?bad=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  const std::string answer = receive(refused.get());
  EXPECT_EQ(status_of(answer), 400u) << answer;
  Fd over_cap = connect_unix(socket_path);
  ASSERT_TRUE(send_all(over_cap.get(), "GET /checked HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(status_of(receive(over_cap.get())), 503u);

  held.clear();  // the two streams end: their slots come back
  ASSERT_EQ(wait_for([](const auto &c) { return c.streams == 0; }).streams, 0u);
  for (int i = 0; i < 10; ++i) {
    Fd again = connect_unix(socket_path);
    ASSERT_TRUE(send_all(again.get(), "GET /checked?bad=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
    EXPECT_EQ(status_of(receive(again.get())), 400u) << i;
  }
  EXPECT_EQ(server->counters().streams, 0u);
}

TEST_F(HttpServerTest, APeerOverItsCapIsRefusedAndOthersAreNot) {
  options.max_connections_per_peer = 4;
  std::mutex warnings_mutex;
  std::vector<std::string> warnings;
  options.warn = [&](const std::string &message) {
    std::lock_guard lock(warnings_mutex);
    warnings.push_back(message);
  };
  const uint16_t port = start_tcp();
  std::vector<Fd> greedy;
  for (int i = 0; i < 4; ++i) {
    greedy.push_back(connect_tcp(port, "127.0.0.2"));
    ASSERT_TRUE(greedy.back().valid()) << "cannot bind 127.0.0.2";
    ASSERT_TRUE(send_all(greedy.back().get(), kUnfinished));
  }
  auto counters = wait_for([](const auto &c) { return c.connections == 4 && c.idle == 0; });
  ASSERT_EQ(counters.connections, 4u);
  ASSERT_EQ(counters.idle, 0u);

  Fd fifth = connect_tcp(port, "127.0.0.2");
  ASSERT_TRUE(send_all(fifth.get(), "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"));
  const std::string refused = receive(fifth.get());
  EXPECT_EQ(status_of(refused), 503u) << refused;
  EXPECT_NE(refused.find("from this client"), std::string::npos) << refused;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(exchange(connect_tcp(port, "127.0.0.1")), 200u);
  EXPECT_EQ(exchange(connect_tcp(port, "127.0.0.3")), 200u);
  counters = server->counters();
  EXPECT_EQ(counters.refused, 1u);
  {
    std::lock_guard lock(warnings_mutex);  // the operator is told, once, and who it was
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("refused 1 connection"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("127.0.0.2"), std::string::npos) << warnings[0];
  }
  // The greedy peer's requests that were admitted go on.
  ASSERT_TRUE(send_all(greedy[0].get(), "x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_of(receive(greedy[0].get())), 200u);
}

// On the Unix socket a peer is a process (SO_PEERCRED pid): a child at its cap is refused,
// this process is not.
TEST_F(HttpServerTest, UnixSocketPeersAreProcesses) {
  ::signal(SIGPIPE, SIG_IGN);  // a pipe to a child that failed must fail the test, not kill it
  options.max_connections_per_peer = 3;
  start_unix();
  int to_parent[2], to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  // Everything the child uses is ready before fork: it only makes system calls.
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  static constexpr char kRequest[] = "GET /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fds[4];
    for (int i = 0; i < 3; ++i) {
      fds[i] = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (::connect(fds[i], reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        _exit(2);
      }
      (void)::send(fds[i], kUnfinished.data(), kUnfinished.size(), MSG_NOSIGNAL);
    }
    char go;
    if (::read(to_child[0], &go, 1) != 1) _exit(3);  // the parent saw the three held
    fds[3] = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(fds[3], reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) _exit(4);
    (void)::send(fds[3], kRequest, sizeof(kRequest) - 1, MSG_NOSIGNAL);
    char answer[64] = {};
    const ssize_t got = ::recv(fds[3], answer, sizeof(answer) - 1, MSG_WAITALL);
    (void)!::write(to_parent[1], answer, got > 0 ? static_cast<size_t>(got) : 0);
    ::close(to_parent[1]);
    (void)!::read(to_child[0], &go, 1);  // hold the connections until the parent is done
    _exit(0);
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  auto counters = wait_for([](const auto &c) { return c.connections == 3 && c.idle == 0; });
  EXPECT_EQ(counters.connections, 3u);
  EXPECT_EQ(counters.idle, 0u);
  (void)!::write(to_child[1], "g", 1);
  std::string child_answer;
  char buffer[64];
  for (ssize_t got; (got = ::read(to_parent[0], buffer, sizeof(buffer))) > 0;) {
    child_answer.append(buffer, static_cast<std::size_t>(got));
  }
  EXPECT_EQ(status_of(child_answer), 503u) << child_answer;
  EXPECT_EQ(exchange(connect_unix(socket_path)), 200u);
  EXPECT_EQ(exchange(connect_unix(socket_path)), 200u);
  (void)!::write(to_child[1], "g", 1);
  ::close(to_child[1]);
  ::close(to_parent[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// Issue 11: 70 silent TCP connections made the metrics port answer 503. At the cap, a
// connection with nothing received is closed to make room for a new one.
TEST_F(HttpServerTest, SilentConnectionsAreClosedToMakeRoom) {
  options.max_connections = 4;
  const uint16_t port = start_tcp();
  std::vector<Fd> silent;
  for (int i = 0; i < 70; ++i) silent.push_back(connect_tcp(port));
  auto counters = wait_for([](const auto &c) { return c.connections == 4 && c.idle == 4; });
  EXPECT_EQ(counters.connections, 4u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(exchange(connect_tcp(port)), 200u) << i;
  counters = server->counters();
  EXPECT_GE(counters.evicted, 10u);
  // A keep-alive connection between requests is idle too.
  Fd kept = connect_tcp(port);
  ASSERT_TRUE(send_all(kept.get(), "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(status_of(receive(kept.get(), 20s, "fast\n")), 200u);
  EXPECT_EQ(exchange(connect_tcp(port)), 200u);
}

TEST_F(HttpServerTest, ASlowHandlerDoesNotStopOtherRequests) {
  options.worker_threads = 3;
  options.max_handlers_per_peer = 3;  // every request here is from this one process
  start_unix();
  std::vector<std::thread> slow;
  std::atomic<int> slow_ok{0};
  for (int i = 0; i < 2; ++i) {
    slow.emplace_back([&] { slow_ok += exchange(connect_unix(socket_path), "/slow") == 200; });
  }
  const auto end = Clock::now() + 20s;
  while (slow_entered < 2 && Clock::now() < end) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(slow_entered, 2);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(exchange(connect_unix(socket_path)), 200u);
  EXPECT_EQ(slow_ok, 0);  // still held: the fast ones did not wait for them
  release_promise.set_value();
  for (auto &thread : slow) thread.join();
  EXPECT_EQ(slow_ok, 2);
  release_promise = std::promise<void>();  // for TearDown
}

// One peer's slow requests take at most max_handlers_per_peer workers; the rest wait their
// turn, and another peer is served meanwhile.
TEST_F(HttpServerTest, OnePeerCannotTakeEveryWorker) {
  options.worker_threads = 3;
  options.max_handlers_per_peer = 2;
  const uint16_t port = start_tcp();
  std::vector<std::thread> greedy;
  std::atomic<int> greedy_ok{0};
  for (int i = 0; i < 5; ++i) {
    greedy.emplace_back(
        [&] { greedy_ok += exchange(connect_tcp(port, "127.0.0.2"), "/slow") == 200; });
  }
  const auto counters = wait_for([&](const auto &c) { return c.queued == 3 && slow_entered == 2; });
  ASSERT_EQ(counters.queued, 3u);
  ASSERT_EQ(slow_entered, 2);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(exchange(connect_tcp(port, "127.0.0.3")), 200u);
  EXPECT_EQ(slow_entered, 2);  // the greedy peer's others still wait their turn
  release_promise.set_value();
  for (auto &thread : greedy) thread.join();
  EXPECT_EQ(greedy_ok, 5);
  EXPECT_EQ(slow_entered, 5);
  release_promise = std::promise<void>();  // for TearDown
}

// DESIGN §3: a body over 32 MiB is 413, decided from Content-Length before any of it is read;
// 32 MiB exactly is served.
TEST_F(HttpServerTest, BodiesOver32MiBAre413WithoutBeingRead) {
  EXPECT_EQ(options.max_body_bytes, 32u << 20);
  start_unix();
  const std::string too_big = std::to_string((32u << 20) + 1);
  Fd over = connect_unix(socket_path);
  ASSERT_TRUE(send_all(
      over.get(), "POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: " + too_big + "\r\n\r\n"));
  const std::string answer = receive(over.get());  // no body was sent: an answer proves it
  EXPECT_EQ(status_of(answer), 413u) << answer;

  Fd asking = connect_unix(socket_path);
  ASSERT_TRUE(send_all(asking.get(),
                       "POST /size HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                       "Content-Length: " +
                           too_big + "\r\n\r\n"));
  EXPECT_EQ(status_of(receive(asking.get())), 413u);  // and not 100 Continue

  Fd exact = connect_unix(socket_path);
  const std::string body(32u << 20, 'x');
  std::thread sender([&] {
    (void)send_all(exact.get(),
                   "POST /size HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                   "Content-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  const std::string served = receive(exact.get(), 60s);
  sender.join();
  EXPECT_EQ(status_of(served), 200u);
  EXPECT_NE(served.find("\r\n\r\n" + std::to_string(32u << 20)), std::string::npos);
}

// Large bodies share a memory budget: over it, 503 with Retry-After before the body is read;
// small requests pass, and the refused one passes once the budget is free again.
TEST_F(HttpServerTest, LargeBodiesShareABudget) {
  options.max_body_bytes_in_flight = 1u << 20;
  start_unix();
  const std::string body(800'000, 'x');
  const std::string header =
      "POST /size HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  Fd first = connect_unix(socket_path);
  ASSERT_TRUE(send_all(first.get(), header));  // the body comes later
  auto counters = wait_for([&](const auto &c) { return c.body_bytes == body.size(); });
  ASSERT_EQ(counters.body_bytes, body.size());

  Fd second = connect_unix(socket_path);
  ASSERT_TRUE(send_all(second.get(), header));
  const std::string busy = receive(second.get());
  EXPECT_EQ(status_of(busy), 503u) << busy;
  EXPECT_NE(busy.find("Retry-After: 1"), std::string::npos) << busy;
  Fd small = connect_unix(socket_path);
  ASSERT_TRUE(send_all(small.get(),
                       "POST /size HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       "Content-Length: 5\r\n\r\nhello"));
  EXPECT_EQ(status_of(receive(small.get())), 200u);

  ASSERT_TRUE(send_all(first.get(), body));
  EXPECT_EQ(status_of(receive(first.get())), 200u);
  counters = wait_for([](const auto &c) { return c.body_bytes == 0; });
  EXPECT_EQ(counters.body_bytes, 0u);
  Fd retry = connect_unix(socket_path);
  std::thread sender([&] { (void)send_all(retry.get(), header + body); });
  EXPECT_EQ(status_of(receive(retry.get())), 200u);
  sender.join();
}

// A peer that does not read its answer is closed at the write deadline, and holds no slot.
TEST_F(HttpServerTest, APeerThatDoesNotReadIsClosedAtTheWriteDeadline) {
  router.add("GET", "/big", [](const HttpRequest &) {
    HttpResponse response;
    response.body.assign(16u << 20, 'b');
    return response;
  });
  options.write_deadline = 1s;
  start_unix();
  Fd reader_less = connect_unix(socket_path);
  const int small = 4096;
  ::setsockopt(reader_less.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_TRUE(send_all(reader_less.get(), "GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto counters =
      wait_for([](const auto &c) { return c.deadline_closed == 1 && c.connections == 0; });
  EXPECT_EQ(counters.deadline_closed, 1u);
  EXPECT_EQ(counters.connections, 0u);
  EXPECT_EQ(exchange(connect_unix(socket_path)), 200u);
}

}  // namespace
}  // namespace sixguard::testing
