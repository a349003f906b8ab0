// Fuzz target of the API's request path (issue 11): one input is one HTTP request, sent over
// a real Unix socket to the real HttpServer (Beast's parser, the Router, the /v1 routes), whose
// POST /v1/events reaches the real ControlPlane on a state.db in a temporary directory and the
// in-memory map backend of tests/control. Every answer must be one of 200, 400, 409, 413, 422
// (and 404 for /v1/explain, whose fake explainer knows one interface); a crash, a sanitizer
// report, a hang or another status is a finding.
//
// Input layout, so that libFuzzer's mutations reach every part of the request:
//   byte 0   framing: bits 0-1: 0 Content-Length, 1 chunked, 2 raw (the header section and
//            body are the input's own bytes), 3 Content-Length with the input's first
//            "\n\n"-ended part as extra header lines; bit 2: /v1/explain instead of /v1/events
//   byte 1   how the bytes are written: pieces of 1 << (byte % 16) bytes; chunk size for
//            framing 1: byte % 61 + 1
//   rest     the body (or, framing 2, everything after the request line)
// With framings 0 and 1 the request is complete and well-framed, so an answer is required;
// with 2 and 3 the bytes may leave it incomplete, and the server may close without answering.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "agent/api/api_routes.h"
#include "agent/control/control_plane.h"
#include "tests/control/fake_map_backend.h"
#include "agent/core/fd.h"
#include "agent/api/http_server.h"
#include "tests/control/temp_dir.h"

namespace sixguard::fuzz {
namespace {

using testing::FakeMapBackend;
using testing::FakeResolver;
using testing::RecordingObserver;
using testing::TempDir;

[[noreturn]] void finding(const std::string &what, std::string_view request) {
  std::fprintf(stderr, "FUZZ FINDING: %s\nrequest (%zu bytes): %.*s\n", what.c_str(),
               request.size(), static_cast<int>(std::min<std::size_t>(request.size(), 2000)),
               request.data());
  std::abort();
}

class OneInterfaceExplainer : public Explainer {
 public:
  Result<Explanation> explain(const Ipv6 &, const Ipv6 &,
                              const std::optional<std::string> &interface_name) override {
    if (interface_name && *interface_name != "tap-web") {
      return make_error("no machine interface " + *interface_name, ENODEV);
    }
    return Explanation{SG_HOOK_UPLINK, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK};
  }
};

// The platform the mutated events run against: two networks, two apps, three interfaces.
constexpr const char *kPlatform = R"([
  {"type":"network.created","org":"acme","network":"default","id":"2:45b"},
  {"type":"network.created","org":"acme","network":"cust-a","id":645188},
  {"type":"app.created","org":"acme","app":"web"},
  {"type":"app.created","org":"acme","app":"tenant-a","network":"cust-a"},
  {"type":"machine.started","app":"web","machine":"m1",
   "address":"fdaa:2:45b:a7b:174:db43:d3c6:2","interface":"tap-web"}
])";

// One agent's API for the whole run: built on the first input, stopped at exit.
struct Harness {
  TempDir dir;
  FakeMapBackend maps;
  FakeResolver resolver;
  RecordingObserver observer;
  std::unique_ptr<ControlPlane> control;
  OneInterfaceExplainer explainer;
  Router router;
  std::unique_ptr<HttpServer> server;
  std::string socket_path;

  Harness() {
    // Capacities beyond anything one input can fill: 507 is not an answer of request parsing.
    maps.machines_capacity = maps.flycast_capacity = maps.infra_capacity = maps.net_flags_capacity =
        1u << 20;
    resolver.interfaces = {{"tap-web", 11}, {"tap-tenant", 12}, {"tap-spare", 13}};
    ControlConfig config;
    config.state_dir = dir / "state";
    config.infra_prefixes = {*parse_ipv6_prefix("fdaa::3/128")};
    auto opened = ControlPlane::open(config, maps, resolver, observer);
    if (!opened) finding("cannot open the control plane: " + opened.error().describe(), "");
    control = std::move(*opened);
    if (auto status = control->reconcile(); !status) finding("reconcile failed", "");
    if (control->apply(kPlatform).error) finding("the platform was refused", kPlatform);
    register_api_routes(router, *control,
                        ApiProviders{.status = nullptr,
                                     .explainer = &explainer,
                                     .monitor = nullptr,
                                     .events_owned_by = {},
                                     .source_status = {}});
    socket_path = dir / "api.sock";
    server = std::make_unique<HttpServer>(router);
    if (!server->listen_unix(socket_path) || !server->start()) finding("cannot serve", "");
  }
};

Harness &harness() {
  static Harness instance;
  return instance;
}

std::string hex(std::size_t value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%zx", value);
  return text;
}

// Builds the request bytes; sets must_answer when the request is complete and well-framed.
std::string build_request(const uint8_t *data, std::size_t size, bool &must_answer, bool &explain) {
  const uint8_t framing = size > 0 ? data[0] : 0;
  const uint8_t shape = size > 1 ? data[1] : 0;
  const std::string_view payload(
      reinterpret_cast<const char *>(data) + std::min<std::size_t>(size, 2),
      size - std::min<std::size_t>(size, 2));
  explain = framing & 4;
  std::string request = std::string("POST ") + (explain ? "/v1/explain" : "/v1/events") +
                        " HTTP/1.1\r\nHost: sixguard\r\n";
  must_answer = false;
  switch (framing & 3) {
    case 0:
      must_answer = true;
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) +
          "\r\n\r\n";
      request += payload;
      break;
    case 1: {
      must_answer = true;
      request += "Transfer-Encoding: chunked\r\n\r\n";
      const std::size_t chunk = shape % 61 + 1;
      for (std::size_t at = 0; at < payload.size(); at += chunk) {
        const auto piece = payload.substr(at, chunk);
        request += hex(piece.size()) + "\r\n";
        request += piece;
        request += "\r\n";
      }
      request += "0\r\n\r\n";
      break;
    }
    case 2:
      request += payload;
      break;
    case 3: {
      const auto split = payload.find("\n\n");
      const auto headers = payload.substr(0, split == std::string_view::npos ? 0 : split);
      const auto body = split == std::string_view::npos ? payload : payload.substr(split + 2);
      for (std::size_t at = 0; at < headers.size();) {
        const auto end = std::min(headers.find('\n', at), headers.size());
        request += headers.substr(at, end - at);
        request += "\r\n";
        at = end + 1;
      }
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      request += body;
      break;
    }
  }
  return request;
}

// Sends the request in pieces, closes the write side, reads the whole answer. The first
// status that is not 1xx (100 Continue may come first), or 0 when none came.
unsigned exchange(const std::string &socket_path, const std::string &request, std::size_t piece) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_path.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) < 0) {
    finding("cannot connect to the API socket", request);
  }
  // The server may answer (413, 400) and close before the whole request is written: a write
  // error then is expected; the answer is read below.
  // libFuzzer's timeout alarm (SIGALRM) interrupts system calls: EINTR is retried everywhere.
  for (std::size_t at = 0; at < request.size();) {
    const std::size_t length = std::min(piece, request.size() - at);
    const ssize_t sent = ::send(fd.get(), request.data() + at, length, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) break;
    at += static_cast<std::size_t>(sent);
  }
  ::shutdown(fd.get(), SHUT_WR);
  std::string answer;
  char buffer[8192];
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    pollfd entry{fd.get(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    const int ready = ::poll(&entry, 1, static_cast<int>(std::max<long>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      // Where every thread of the server is stuck, when gdb is there to tell, and what the
      // kernel holds on the socket (queued bytes on each end).
      const std::string gdb = "ss -xpn | grep -F '" + socket_path + "' >&2; " +
                              "command -v gdb >/dev/null && gdb -p " + std::to_string(::getpid()) +
                              " -batch -ex 'thread apply all bt 20' >&2";
      (void)!std::system(gdb.c_str());
      finding("no answer and no close within 60 s", request);
    }
    const ssize_t got = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(got));
  }
  for (std::size_t at = 0; at + 12 <= answer.size();) {
    if (answer.compare(at, 5, "HTTP/") != 0) finding("not an HTTP answer: " + answer, request);
    const unsigned status = static_cast<unsigned>(std::atoi(answer.c_str() + at + 9));
    if (status >= 200) return status;
    const auto end = answer.find("\r\n\r\n", at);
    if (end == std::string::npos) break;
    at = end + 4;
  }
  return 0;
}

}  // namespace
}  // namespace sixguard::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace sixguard::fuzz;
  Harness &h = harness();
  bool must_answer = false, explain = false;
  const std::string request = build_request(data, size, must_answer, explain);
  const std::size_t piece = std::size_t{1} << ((size > 1 ? data[1] : 0) % 16);
  const unsigned status = exchange(h.socket_path, request, piece);
  switch (status) {
    case 200:
    case 400:
    case 409:
    case 413:
    case 422:
      return 0;
    case 404:
      if (explain) return 0;
      break;
    case 0:
      if (!must_answer) return 0;
      finding("a complete request got no answer", request);
  }
  finding("answer " + std::to_string(status) + " is not one of 200/400/409/413/422", request);
}
