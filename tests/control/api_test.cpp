// Test the HTTP API end to end over a Unix socket in a temporary directory: status codes of
// POST /v1/events, the query routes, explain and monitor against fake daemon providers,
// router errors (400/404/405/413), the socket file's handling, and a TCP listener.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <future>

#include "tests/control/api_fixture.h"
#include "agent/api/state_views.h"
#include "agent/control/input_limits.h"
#include "agent/core/fd.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

// Sends raw bytes to an AF_UNIX or AF_INET socket and returns everything it answers.
std::string raw_exchange(int fd, const std::string &bytes) {
  (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(got));
  }
  return answer;
}

Fd connect_unix(const std::string &path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
  return fd;
}

// A TCP connection to 127.0.0.1:port.
Result<Fd> connect_loopback(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    return errno_error("connect 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

class Api : public ApiFixture {};

TEST_F(Api, EventsStatusCodesEndToEnd) {
  auto ok = request("POST", "/v1/events", kPlatform);
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(json_of(ok), (nlohmann::json{{"applied", 4}, {"unchanged", 0}}));
  EXPECT_EQ(json_of(request("POST", "/v1/events", kPlatform))["unchanged"], 4);

  auto malformed = request("POST", "/v1/events", "{not json");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_TRUE(json_of(malformed).contains("error"));

  auto conflict = request("POST", "/v1/events",
                          R"({"type":"network.created","org":"x","network":"y","id":"2:45b"})");
  EXPECT_EQ(conflict.status, 409u);
  EXPECT_EQ(json_of(conflict)["field"], "id");
  EXPECT_EQ(json_of(conflict)["index"], 0);
  EXPECT_EQ(json_of(conflict)["type"], "network.created");

  auto invalid = request("POST", "/v1/events", R"({"type":"app.destroyed","app":"ghost"})");
  EXPECT_EQ(invalid.status, 422u);

  maps.machines_capacity = 0;
  auto full = request("POST", "/v1/events",
                      test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(full.status, 507u);
  EXPECT_NE(json_of(full)["error"].get<std::string>().find("sg_machines"), std::string::npos);
}

TEST_F(Api, EventsAcceptNdjson) {
  std::string ndjson;
  for (const auto &event : nlohmann::json::parse(kPlatform)) ndjson += event.dump() + "\n";
  auto reply = request("POST", "/v1/events", ndjson);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(json_of(reply)["applied"], 4);
}

TEST_F(Api, MapWriteFailureIs500) {
  request("POST", "/v1/events", kPlatform);
  maps.fail_writes = true;
  auto reply = request("POST", "/v1/events",
                       test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(reply.status, 500u);
  EXPECT_NE(json_of(reply)["error"].get<std::string>().find("map"), std::string::npos);
}

TEST_F(Api, AppsAndNetworks) {
  request("POST", "/v1/events", kPlatform);
  auto apps = json_of(request("GET", "/v1/apps?org_slug=acme"));
  EXPECT_EQ(apps["total_apps"], 2);
  EXPECT_EQ(apps["apps"][0]["name"], "tenant-a");
  EXPECT_EQ(apps["apps"][0]["network"], "cust-a");
  EXPECT_EQ(apps["apps"][0]["machine_count"], 0);
  EXPECT_TRUE(apps["apps"][0]["id"].is_string());
  EXPECT_EQ(json_of(request("GET", "/v1/apps?org_slug=other"))["total_apps"], 0);
  EXPECT_EQ(json_of(request("GET", "/v1/apps"))["total_apps"], 2);
  auto networks = json_of(request("GET", "/v1/networks"));
  EXPECT_EQ(networks["networks"][0]["id_text"], "2:45b");
  EXPECT_EQ(networks["networks"][1]["id"], kCustNet);
}

TEST_F(Api, SourceAloneIsStatusSourcePart) {
  // GET /v1/source answers what /v1/status has as "source", without the rest (maps' usage).
  auto source = json_of(request("GET", "/v1/source"));
  EXPECT_EQ(source, json_of(request("GET", "/v1/status"))["source"]);
  EXPECT_EQ(source["kind"], "api");
  EXPECT_FALSE(source.contains("maps"));
}

TEST_F(Api, StatusMergesTheDaemonAndTheState) {
  request("POST", "/v1/events", kPlatform);
  auto status = json_of(request("GET", "/v1/status"));
  EXPECT_EQ(status["ready"], true);
  EXPECT_EQ(status["state"]["apps"], 2);
  EXPECT_EQ(status["state"]["networks"], 2);
  EXPECT_EQ(status["state"]["maps_in_sync"], true);
}

// A batch holds the control-plane lock while it writes the maps; GET /v1/status (and the
// daemon's readiness, which reads the same maps_in_sync) must answer meanwhile. The batch is
// held inside its first map write until the status reply is in: the reply cannot have waited
// for the batch, and it shows the state the last finished batch published.
TEST_F(Api, StatusAnswersWhileABatchHoldsTheLock) {
  request("POST", "/v1/events", kPlatform);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> holding{false};
  maps.before_write = [&] {
    if (holding.exchange(true)) return;  // the first write only
    entered.set_value();
    released.wait();
  };
  std::atomic<bool> batch_done{false};
  unsigned batch_status = 0;
  std::thread batch([&] {
    batch_status = request("POST", "/v1/events",
                           test::machine_started("web", "m-web", kWebAddress, "tap-web").dump())
                       .status;
    batch_done = true;
  });
  const bool batch_holds_the_lock =
      entered.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  EXPECT_TRUE(batch_holds_the_lock);
  auto status = std::async(std::launch::async, [&] { return request("GET", "/v1/status"); });
  // A failure here is a status that waits for the batch; the bound only keeps a failing
  // test from hanging.
  const bool answered = status.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  const bool batch_was_running = !batch_done;
  release.set_value();
  batch.join();
  ASSERT_TRUE(answered) << "GET /v1/status waited for the batch";
  EXPECT_TRUE(batch_was_running);
  const ApiReply reply = status.get();
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(json_of(reply)["state"]["machines"], 0);  // as published before the batch
  EXPECT_EQ(json_of(reply)["state"]["maps_in_sync"], true);
  EXPECT_EQ(batch_status, 200u);
  EXPECT_EQ(json_of(request("GET", "/v1/status"))["state"]["machines"], 1);
  maps.before_write = nullptr;
}

TEST_F(Api, Explain) {
  auto uplink = request("POST", "/v1/explain",
                        nlohmann::json{{"src", kWebAddress}, {"dst", kWebAddress}}.dump());
  EXPECT_EQ(uplink.status, 200u);
  EXPECT_EQ(json_of(uplink)["hook"], "uplink");
  EXPECT_EQ(json_of(uplink)["reason"], "same_network");
  EXPECT_FALSE(explainer.last_interface);

  auto machine = request(
      "POST", "/v1/explain",
      nlohmann::json{{"src", kWebAddress}, {"dst", kTenantAddress}, {"interface", "tap-web"}}
          .dump());
  EXPECT_EQ(machine.status, 200u);
  EXPECT_EQ(json_of(machine), (nlohmann::json{{"hook", "machine_egress"},
                                              {"verdict", "drop"},
                                              {"reason", "cross_network"},
                                              {"src", kWebAddress},
                                              {"dst", kTenantAddress},
                                              {"interface", "tap-web"}}));
}

TEST_F(Api, ExplainErrors) {
  auto bad_src = request("POST", "/v1/explain", R"({"src":"nope","dst":"fdaa::1"})");
  EXPECT_EQ(bad_src.status, 400u);
  EXPECT_NE(json_of(bad_src)["error"].get<std::string>().find("src"), std::string::npos);
  EXPECT_EQ(request("POST", "/v1/explain", R"({"dst":"fdaa::1"})").status, 400u);
  EXPECT_EQ(request("POST", "/v1/explain", "[]").status, 400u);
  EXPECT_EQ(request("POST", "/v1/explain", R"({"src":"fdaa::1","dst":"fdaa::2","interface":"a/b"})")
                .status,
            400u);
  auto unknown =
      request("POST", "/v1/explain", R"({"src":"fdaa::1","dst":"fdaa::2","interface":"tap-nope"})");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_NE(json_of(unknown)["error"].get<std::string>().find("tap-nope"), std::string::npos);
}

// The explain body is one flat object of three string fields: anything else is refused at
// the first byte that breaks the shape, never built into a document (a 16 MB "[[],[],...]"
// used to peak at 410 MB).
TEST_F(Api, ExplainRefusesEveryOtherShape) {
  options.max_body_bytes = 32u << 20;  // DESIGN §3: what the agent takes
  ASSERT_NO_FATAL_FAILURE(start_server());
  std::string arrays = "[";
  while (arrays.size() < (16u << 20)) arrays += "[],";
  arrays += "[]]";
  const std::string deep(60000, '[');
  const std::string fields = R"("src":"fdaa::1","dst":"fdaa::2")";
  for (const std::string &body : std::vector<std::string>{
           arrays,
           deep,
           "{" + fields + R"(,"x":)" + arrays + "}",                        // an unknown field
           "{" + fields + R"(,"interface":)" + deep + "}",                  // a nested value
           "{" + fields + R"(,"interface":{"a":"b"}})",                     // an object
           "{" + fields + R"(,"src":"fdaa::3"})",                           // a duplicate key
           R"({"src":"fdaa::1\u0000junk","dst":"fdaa::2"})",                // NUL: was truncated
           R"({"src":"fdaa::1","dst":"fdaa::2","interface":"tap\u001b"})",  // a control char
           "{\"src\":\"fdaa::1\",\"dst\":\"fdaa::2\xff\"}",                 // not UTF-8
           R"({"src":1,"dst":"fdaa::2"})",
           R"({"src":"fdaa::1","dst":"fdaa::2","interface":7})",
           R"("fdaa::1")",
       }) {
    auto direct = parse_explain_request(body);
    EXPECT_FALSE(direct) << shown(body, 100);
    if (!direct) {
      EXPECT_LT(direct.error().message.size(), 512u);
      EXPECT_EQ(string_problem(direct.error().message), std::nullopt);
    }
    explainer.last_interface = "untouched";
    const auto reply = request("POST", "/v1/explain", body);
    EXPECT_EQ(reply.status, 400u) << shown(body, 100) << " -> " << shown(reply.body, 300);
    EXPECT_EQ(explainer.last_interface, "untouched");  // the explainer never ran
  }
  // A null interface is an absent one.
  const auto reply = request("POST", "/v1/explain", "{" + fields + R"(,"interface":null})");
  EXPECT_EQ(reply.status, 200u) << reply.body;
}

TEST_F(Api, WithoutProvidersExplainAndMonitorAre503) {
  Router bare;
  register_api_routes(bare, *control, ApiProviders{});
  HttpServer other(bare);
  const std::string path = dir / "bare.sock";
  ASSERT_TRUE(other.listen_unix(path));
  ASSERT_TRUE(other.start());
  EXPECT_EQ(ApiClient(path)
                .request("POST", "/v1/explain", R"({"src":"fdaa::1","dst":"fdaa::2"})")
                ->status,
            503u);
  EXPECT_EQ(ApiClient(path).request("GET", "/v1/monitor")->status, 503u);
  auto status = nlohmann::json::parse(ApiClient(path).request("GET", "/v1/status")->body);
  EXPECT_TRUE(status.contains("state"));
}

TEST_F(Api, MonitorStreamsNdjsonUntilTheClientLeaves) {
  std::vector<nlohmann::json> lines;
  auto reply = ApiClient(socket_path).stream_lines("/v1/monitor", [&](std::string_view line) {
    lines.push_back(nlohmann::json::parse(line));
    return lines.size() < 2;
  });
  ASSERT_TRUE(reply) << reply.error().describe();
  EXPECT_EQ(reply->status, 200u);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["hook"], "machine_egress");
  EXPECT_EQ(lines[0]["verdict"], "drop");
  EXPECT_EQ(lines[0]["reason"], "cross_network");
  EXPECT_EQ(lines[0]["src"], kWebAddress);
  EXPECT_EQ(lines[0]["dst"], kTenantAddress);
  EXPECT_EQ(lines[1]["reason"], "spoofed_source");
  // The client closed its end: the server notices and drops the subscription.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (monitor.live > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(monitor.live, 0);
}

// Issue 16: names from the state, the wall-clock time, and filters checked before the stream.
TEST_F(Api, MonitorRecordsCarryNamesAndWallClockTime) {
  ASSERT_FALSE(control->apply(kPlatform).error);
  ASSERT_FALSE(
      control
          ->apply(R"({"type":"machine.started","app":"web","machine":"m-web","address":")" +
                  std::string(kWebAddress) + R"(","interface":"tap-web"})")
          .error);
  std::vector<nlohmann::json> lines;
  auto reply = ApiClient(socket_path).stream_lines("/v1/monitor", [&](std::string_view line) {
    lines.push_back(nlohmann::json::parse(line));
    return lines.size() < 1;
  });
  ASSERT_TRUE(reply) << reply.error().describe();
  ASSERT_EQ(lines.size(), 1u);
  const auto &record = lines[0];
  EXPECT_EQ(record["src_machine"], "m-web");
  EXPECT_EQ(record["src_app"], "web");
  EXPECT_EQ(record["src_network"], "default");
  EXPECT_EQ(record["src_org"], "acme");
  EXPECT_FALSE(record.contains("dst_app"));  // no machine there: network and org only
  EXPECT_EQ(record["dst_network"], "cust-a");
  EXPECT_EQ(record["dst_org"], "acme");
  // timestamp_ns 123 is 123 ns after CLOCK_MONOTONIC's zero (boot): the wall clock of then.
  timespec real{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  const time_t boot = real.tv_sec - mono.tv_sec;
  tm utc{};
  ::gmtime_r(&boot, &utc);
  char prefix[32];
  std::strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M", &utc);
  const std::string time = record["time"];
  EXPECT_EQ(time.substr(0, 16), prefix) << time;
  EXPECT_EQ(time.size(), 27u) << time;  // 2026-12-03T14:29:54.123456Z
  EXPECT_EQ(time.back(), 'Z');
}

TEST_F(Api, MonitorFiltersAreCheckedBeforeTheStream) {
  ASSERT_FALSE(control->apply(kPlatform).error);
  for (const char *target :
       {"/v1/monitor?hook=bogus", "/v1/monitor?reason=nope", "/v1/monitor?network=no-such",
        "/v1/monitor?network=9:9", "/v1/monitor?colour=red", "/v1/monitor?network=acme/nope"}) {
    auto reply = ApiClient(socket_path).stream_lines(target, [](std::string_view) {
      ADD_FAILURE() << "a refused filter streamed a line";
      return false;
    });
    ASSERT_TRUE(reply) << target << ": " << reply.error().describe();
    EXPECT_EQ(reply->status, 400u) << target;
    EXPECT_TRUE(json_of(*reply).contains("error")) << target << ": " << reply->body;
  }
  EXPECT_EQ(monitor.live, 0);  // no subscription was opened for any of them
}

TEST_F(Api, MonitorFiltersSelectEvents) {
  ASSERT_FALSE(control->apply(kPlatform).error);
  // The fixture's two events: cross_network web -> tenant, spoofed_source from 2:45b.
  const auto first = [&](const std::string &target) {
    nlohmann::json record;
    auto reply = ApiClient(socket_path).stream_lines(target, [&](std::string_view line) {
      record = nlohmann::json::parse(line);
      return false;
    });
    EXPECT_TRUE(reply) << target;
    // The server counts a stream until it sees its client gone; five in a row would otherwise
    // meet the per-client cap of four (503, no record) on a loaded machine. The wait ends on
    // that count; the deadline only bounds a server that never lets go (a hang guard, so
    // generous: stress-ng's load must not reach it).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (server->counters().streams != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(server->counters().streams, 0u) << target;
    return record;
  };
  EXPECT_EQ(first("/v1/monitor?reason=spoofed_source")["reason"], "spoofed_source");
  EXPECT_EQ(first("/v1/monitor?reason=cross_network&hook=machine_egress")["reason"],
            "cross_network");
  EXPECT_EQ(first("/v1/monitor?network=cust-a")["dst_network"], "cust-a");
  EXPECT_EQ(first("/v1/monitor?network=acme%2Fdefault")["src_network"], "default");
  EXPECT_EQ(first("/v1/monitor?network=2:45b")["src_network"], "default");
}

TEST_F(Api, StopEndsOpenStreamsPromptly) {
  std::thread client = open_monitor_stream(std::chrono::seconds(5));
  ASSERT_EQ(monitor.live, 1);
  const auto start = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  client.join();
  EXPECT_EQ(monitor.live, 0);
  // The socket file is gone with the server.
  struct stat unused {};
  EXPECT_NE(::lstat(socket_path.c_str(), &unused), 0);
}

TEST_F(Api, UnknownPathIs404AndWrongMethodIs405) {
  auto missing = request("GET", "/v1/nothing");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_TRUE(json_of(missing).contains("error"));
  auto wrong = request("GET", "/v1/events");
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_TRUE(json_of(wrong).contains("error"));
  Fd fd = connect_unix(socket_path);
  const auto answer =
      raw_exchange(fd.get(), "DELETE /v1/apps HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(answer.find("405"), std::string::npos);
  EXPECT_NE(answer.find("Allow: GET"), std::string::npos) << answer;
}

TEST_F(Api, GarbageIs400) {
  Fd fd = connect_unix(socket_path);
  const auto answer = raw_exchange(fd.get(), "this is not http\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
}

TEST_F(Api, OversizedBodyIs413) {
  options.max_body_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(start_server());
  auto reply = request("POST", "/v1/events", std::string(4096, ' '));
  EXPECT_EQ(reply.status, 413u);
  EXPECT_TRUE(apps_json(*control, std::nullopt)["apps"].empty());
}

// A connection in the middle of a request holds a slot; a monitor stream does not (it has
// its own cap, DESIGN §4).
TEST_F(Api, ConnectionsBeyondTheLimitGet503ButStreamsDoNotCount) {
  options.max_connections = 1;
  ASSERT_NO_FATAL_FAILURE(start_server());
  std::thread stream = open_monitor_stream(std::chrono::seconds(20));
  ASSERT_EQ(monitor.live, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  EXPECT_EQ(request("GET", "/v1/networks").status, 200u);
  // The client has its answer; the server may not have closed its end yet.
  for (auto counters = server->counters();
       counters.connections != 0 && std::chrono::steady_clock::now() < deadline;
       counters = server->counters()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  Fd busy = connect_unix(socket_path);
  ASSERT_EQ(::send(busy.get(), "GET /v1/networks HTTP/1.1\r\n", 27, MSG_NOSIGNAL), 27);
  // Evidence that the server holds it as a request being received, not an idle connection.
  HttpServerCounters counters;
  while (std::chrono::steady_clock::now() < deadline) {
    counters = server->counters();
    if (counters.connections == 1 && counters.idle == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(counters.connections, 1u);
  ASSERT_EQ(counters.idle, 0u);
  EXPECT_EQ(request("GET", "/v1/networks").status, 503u);
  EXPECT_EQ(server->counters().refused, 1u);
  server->stop();
  stream.join();
}

TEST_F(Api, KeepAliveServesSeveralRequests) {
  Fd fd = connect_unix(socket_path);
  const std::string get = "GET /v1/networks HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto answer = raw_exchange(
      fd.get(), get + get + "GET /v1/networks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t count = 0;
  for (auto at = answer.find("HTTP/1.1 200"); at != std::string::npos;
       at = answer.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u);
}

TEST_F(Api, ExpectContinueIsAnswered) {
  Fd fd = connect_unix(socket_path);
  const std::string body = kPlatform;
  const auto answer = raw_exchange(fd.get(),
                                   "POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                   "Expect: 100-continue\r\nContent-Length: " +
                                       std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(answer.rfind("HTTP/1.1 100 Continue", 0), 0u) << answer;
  EXPECT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"applied\":4"), std::string::npos) << answer;
}

TEST_F(Api, SocketFileIsGroupOnly) {
  struct stat info {};
  ASSERT_EQ(::stat(socket_path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

TEST_F(Api, LiveSocketIsNotStolen) {
  HttpServer second(router);
  auto status = second.listen_unix(socket_path);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, EADDRINUSE);
  EXPECT_EQ(request("GET", "/v1/networks").status, 200u);  // the first still serves
}

TEST_F(Api, StaleSocketIsReplacedButOtherFilesAreNot) {
  const std::string stale = dir / "stale.sock";
  {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, stale.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
  }  // closed without unlink: a crashed agent's leftover
  HttpServer replacement(router);
  ASSERT_TRUE(replacement.listen_unix(stale));
  ASSERT_TRUE(replacement.start());
  EXPECT_EQ(ApiClient(stale).request("GET", "/v1/networks")->status, 200u);

  const std::string regular = dir / "regular-file";
  std::ofstream(regular) << "precious";
  HttpServer refused(router);
  EXPECT_FALSE(refused.listen_unix(regular));
  std::ifstream kept(regular);
  std::string content;
  kept >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(Api, TcpListener) {
  Router metrics;
  metrics.add("GET", "/healthz", [](const HttpRequest &) {
    HttpResponse response;
    response.content_type = "text/plain";
    response.body = "ok\n";
    return response;
  });
  HttpServer tcp(metrics);
  auto port = tcp.listen_tcp("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().describe();
  ASSERT_NE(*port, 0);
  ASSERT_TRUE(tcp.start());
  auto fd = connect_loopback(*port);
  ASSERT_TRUE(fd) << fd.error().describe();
  const auto answer =
      raw_exchange(fd->get(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("Content-Type: text/plain"), std::string::npos);
  EXPECT_NE(answer.find("\r\n\r\nok\n"), std::string::npos);
}

TEST_F(Api, TcpListenerOnAllAddresses) {
  HttpServer tcp(router);
  auto port = tcp.listen_tcp(":0");
  ASSERT_TRUE(port) << port.error().describe();
  ASSERT_TRUE(tcp.start());
  auto fd = connect_loopback(*port);
  ASSERT_TRUE(fd) << fd.error().describe();
  EXPECT_EQ(raw_exchange(fd->get(), "GET /v1/networks HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0),
            0u);
}

TEST(ListenAddress, Parses) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(parse_listen_address(":9530", host, port));
  EXPECT_EQ(host, "");
  EXPECT_EQ(port, 9530);
  ASSERT_TRUE(parse_listen_address("127.0.0.1:80", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  ASSERT_TRUE(parse_listen_address("[::1]:9530", host, port));
  EXPECT_EQ(host, "::1");
  for (const char *bad : {"9530", "::1:9530", "host:", "host:70000", "[::1]9530", "h:x"}) {
    EXPECT_FALSE(parse_listen_address(bad, host, port)) << bad;
  }
}

TEST(Router, QueryIsDecoded) {
  std::string path;
  std::map<std::string, std::string> query;
  parse_target("/v1/apps?org_slug=my%2Dorg&x=a+b&flag", path, query);
  EXPECT_EQ(path, "/v1/apps");
  EXPECT_EQ(query["org_slug"], "my-org");
  EXPECT_EQ(query["x"], "a b");
  EXPECT_TRUE(query.contains("flag"));
}

}  // namespace
}  // namespace sixguard::testing
