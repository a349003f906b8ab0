// Test the `sixguard` CLI in-process against an API server started by the test (and against
// none, for "agent not running"), and `decode`, which needs no agent.
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/control/api_fixture.h"
#include "agent/cli/cli.h"
#include "agent/cli/exit_codes.h"

namespace sixguard::testing {
namespace {

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

CliRun run_cli(std::vector<std::string> args, const std::string &stdin_text = "") {
  args.insert(args.begin(), "sixguard");
  std::vector<char *> argv;
  for (auto &arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  CliRun run;
  run.status = cli_main(static_cast<int>(args.size()), argv.data(), in, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(CliDecode, PrintsTheFieldsOfA6pnAddress) {
  const auto run = run_cli({"decode", "fdaa:2:45b:a7b:174:db43:d3c6:2"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(contains(run.out, "6PN:           yes")) << run.out;
  EXPECT_TRUE(contains(run.out, "network id:    2:45b (132187, 0x0002045b)")) << run.out;
  EXPECT_TRUE(contains(run.out, "host id:       0x0a7b0174")) << run.out;
  EXPECT_TRUE(contains(run.out, "machine id:    0x0174db43") ||
              contains(run.out, "machine id:    0xdb43d3c6"))
      << run.out;
  EXPECT_TRUE(contains(run.out, "machine /112:  fdaa:2:45b:a7b:174:db43:d3c6:0/112")) << run.out;
}

TEST(CliDecode, Json) {
  const auto run = run_cli({"decode", "--json", "fdaa:9:d844:a7b:e:33bd:e8b1:2"});
  ASSERT_EQ(run.status, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["network_id"], 0x0009d844u);
  EXPECT_EQ(json["network_id_text"], "9:d844");
  EXPECT_EQ(json["is_6pn"], true);
  EXPECT_EQ(json["machine_prefix"], "fdaa:9:d844:a7b:e:33bd:e8b1:0/112");
}

TEST(CliDecode, NamesThePlatformNetwork) {
  const auto run = run_cli({"decode", "fdaa::3"});
  EXPECT_EQ(run.status, 0);
  EXPECT_TRUE(contains(run.out, "the platform's own network")) << run.out;
  EXPECT_FALSE(contains(run_cli({"decode", "fdaa:2:45b::2"}).out, "platform")) << run.out;
}

TEST(CliDecode, Non6pnSaysSo) {
  const auto run = run_cli({"decode", "2001:db8::1"});
  EXPECT_EQ(run.status, 0);
  EXPECT_TRUE(contains(run.out, "6PN:           no")) << run.out;
  EXPECT_FALSE(contains(run.out, "network id"));
}

TEST(CliDecode, MalformedAddressExits2WithAClearError) {
  const auto run = run_cli({"decode", "fdaa::1", "not-an-address"});
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(contains(run.err, "malformed IPv6 address 'not-an-address'")) << run.err;
  EXPECT_TRUE(contains(run.out, "fdaa::1"));  // the good one is still decoded
}

TEST(CliUsage, UnknownSubcommandOrMissingArgumentExits2) {
  EXPECT_EQ(run_cli({"frobnicate"}).status, 2);
  EXPECT_EQ(run_cli({"decode"}).status, 2);
  EXPECT_EQ(run_cli({}).status, 2);
  const auto help = run_cli({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.out, "monitor")) << help.out;
}

TEST(CliNoAgent, SaysTheAgentIsNotRunningAndExits3) {
  TempDir dir;
  const std::string socket = dir / "api.sock";
  for (const std::vector<std::string> &args : {std::vector<std::string>{"apps"},
                                               {"networks"},
                                               {"status"},
                                               {"monitor"},
                                               {"explain", "fdaa::1", "fdaa::2"}}) {
    auto with_socket = args;
    with_socket.push_back("--socket");
    with_socket.push_back(socket);
    const auto run = run_cli(with_socket);
    EXPECT_EQ(run.status, 3) << args[0];
    EXPECT_TRUE(contains(run.err, "cannot reach the sixguard agent at " + socket)) << run.err;
    EXPECT_TRUE(contains(run.err, "is `sixguard agent` running?")) << run.err;
    EXPECT_EQ(run.out, "") << args[0];  // no table header or partial output
  }
}

class Cli : public ApiFixture {
 protected:
  CliRun cli(std::vector<std::string> args, const std::string &stdin_text = "") {
    args.insert(args.begin(), {"--socket", socket_path});
    return run_cli(std::move(args), stdin_text);
  }
};

TEST_F(Cli, ApplyFromFileAndStdin) {
  const std::string file = dir / "events.json";
  std::ofstream(file) << kPlatform;
  auto run = cli({"apply", file});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "applied 4, unchanged 0\n");
  run = cli({"apply", "-", "--json"}, kPlatform);
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["unchanged"], 4);
}

TEST_F(Cli, ApplyRefusedExits1WithTheReason) {
  auto run = cli({"apply", "-"}, R"({"type":"app.destroyed","app":"ghost"})");
  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(contains(run.err, "unknown app 'ghost'")) << run.err;
  EXPECT_TRUE(contains(run.err, "HTTP 422")) << run.err;
}

TEST_F(Cli, ApplyMissingFileExits2) {
  auto run = cli({"apply", dir / "missing.json"});
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(contains(run.err, "cannot read")) << run.err;
}

TEST_F(Cli, AppsAndNetworksTables) {
  cli({"apply", "-"}, kPlatform);
  auto apps = cli({"apps", "--org", "acme"});
  EXPECT_EQ(apps.status, 0) << apps.err;
  EXPECT_TRUE(contains(apps.out, "NAME")) << apps.out;
  EXPECT_TRUE(contains(apps.out, "tenant-a")) << apps.out;
  EXPECT_TRUE(contains(apps.out, "cust-a")) << apps.out;
  EXPECT_TRUE(contains(apps.out, "2 app(s)")) << apps.out;
  auto none = cli({"apps", "--org", "nobody", "--json"});
  EXPECT_EQ(nlohmann::json::parse(none.out)["total_apps"], 0);

  auto networks = cli({"networks"});
  EXPECT_EQ(networks.status, 0) << networks.err;
  EXPECT_TRUE(contains(networks.out, "2:45b")) << networks.out;
  EXPECT_TRUE(contains(networks.out, "9:d844")) << networks.out;
  EXPECT_TRUE(contains(networks.out, "enforce")) << networks.out;
}

TEST_F(Cli, SocketOptionAfterTheSubcommand) {
  auto run = run_cli({"networks", "--socket", socket_path, "--json"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["total_networks"], 0);
}

TEST_F(Cli, StatusIsATreeAndJsonOnRequest) {
  auto run = cli({"status"});
  EXPECT_EQ(run.status, 0) << run.err;
  // Readiness first, nested objects indented under their key, list items titled by name.
  EXPECT_EQ(run.out.rfind("ready: yes\n", 0), 0u) << run.out;
  EXPECT_TRUE(contains(run.out, "\nstate:\n  apps: 0\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "\ninterfaces:\n  - tap-web\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "\nattached:\n  uplink: 2\n")) << run.out;
  EXPECT_FALSE(contains(run.out, "state.apps")) << run.out;  // not the flattened keys
  run = cli({"status", "--json"});
  EXPECT_EQ(run.status, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["state"]["apps"], 0);
  EXPECT_EQ(json["interfaces"][0]["interface"], "tap-web");
}

TEST_F(Cli, Explain) {
  auto run = cli({"explain", kWebAddress, kTenantAddress, "--interface", "tap-web"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "machine_egress: drop (cross_network)\n");
  run = cli({"explain", kWebAddress, kWebAddress, "--json"});
  EXPECT_EQ(nlohmann::json::parse(run.out)["hook"], "uplink");
  run = cli({"explain", "bogus", kWebAddress});
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(contains(run.err, "SRC")) << run.err;
  run = cli({"explain", kWebAddress, kWebAddress, "--interface", "tap-nope"});
  EXPECT_EQ(run.status, 1);  // 404: refused on its merits
  EXPECT_TRUE(contains(run.err, "HTTP 404")) << run.err;
}

TEST_F(Cli, MonitorPrintsEventsUntilTheAgentStops) {
  CliRun run;
  std::thread client([&] { run = cli({"monitor", "--json"}); });
  wait_for_monitor_written();
  server->stop();
  client.join();
  EXPECT_EQ(run.status, 0) << run.err;
  std::istringstream lines(run.out);
  std::string line;
  std::vector<nlohmann::json> events;
  while (std::getline(lines, line)) events.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(events.size(), 2u) << run.out;
  EXPECT_EQ(events[0]["reason"], "cross_network");
}

TEST_F(Cli, MonitorHumanFormat) {
  CliRun run;
  std::thread client([&] { run = cli({"monitor"}); });
  wait_for_monitor_written();
  server->stop();
  client.join();
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out.rfind("TIME ", 0), 0u) << run.out;
  EXPECT_TRUE(contains(run.out, "machine_egress")) << run.out;
  EXPECT_TRUE(contains(run.out, std::string(kWebAddress) + " -> " + kTenantAddress)) << run.out;
  EXPECT_TRUE(contains(run.out, "spoofed_source")) << run.out;
}

TEST(CliVersion, PrintsTheVersionAndTheSourceRevision) {
  const auto run = run_cli({"--version"});
  EXPECT_EQ(run.status, 0) << run.err;
  // A build outside git says "unknown" (cmake/SourceRevision.cmake); this one is in git.
  EXPECT_TRUE(std::regex_match(
      run.out,
      std::regex(R"(sixguard \d+\.\d+\.\d+ \(revision ([0-9a-f]{12}(-dirty)?|unknown)\)\n)")))
      << run.out;
  EXPECT_EQ(run.err, "");
}

TEST(CliAgent, ArgumentsReachTheRunnerAndItsStatusIsTheExitStatus) {
  std::vector<AgentArgs> seen;
  auto runner = [&](const AgentArgs &args) {
    seen.push_back(args);
    return 42;
  };
  auto run_agent = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"sixguard", "agent"});
    std::vector<char *> argv;
    for (auto &arg : args) argv.push_back(arg.data());
    std::istringstream in;
    std::ostringstream out, err;
    return cli_main(static_cast<int>(args.size()), argv.data(), in, out, err, runner);
  };
  EXPECT_EQ(run_agent({"--config", "/etc/x.yaml", "--accept-empty-state"}), 42);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].config_path, "/etc/x.yaml");
  EXPECT_TRUE(seen[0].accept_empty_state);
  EXPECT_FALSE(seen[0].uninstall);
  EXPECT_EQ(run_agent({"-c", "/etc/y.yaml", "--uninstall", "--print-config"}), 42);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].config_path, "/etc/y.yaml");
  EXPECT_TRUE(seen[1].uninstall && seen[1].print_config);
  // Usage errors never reach the daemon.
  EXPECT_EQ(run_agent({"--bogus"}), 2);
  EXPECT_EQ(run_agent({"--config"}), 2);
  EXPECT_EQ(run_agent({"--config", ""}), 2);
  EXPECT_EQ(run_agent({"--help"}), 0);
  EXPECT_EQ(seen.size(), 2u);
  // Without a runner (the CLI library alone) `agent` is a usage error.
  EXPECT_EQ(run_cli({"agent"}).status, 2);
}

// One stub agent answering every route with the given status, to check exit codes by class.
class StubAgent {
 public:
  StubAgent(unsigned status, std::string body) {
    for (const char *target : {"/v1/apps", "/v1/networks", "/v1/status", "/v1/monitor"}) {
      router_.add("GET", target, [=](const HttpRequest &) {
        HttpResponse response;
        response.status = status;
        response.body = body;
        return response;
      });
    }
    for (const char *target : {"/v1/events", "/v1/explain"}) {
      router_.add("POST", target, [=](const HttpRequest &) {
        HttpResponse response;
        response.status = status;
        response.body = body;
        return response;
      });
    }
    server_ = std::make_unique<HttpServer>(router_);
    EXPECT_TRUE(server_->listen_unix(socket));
    EXPECT_TRUE(server_->start());
  }
  TempDir dir;
  const std::string socket = dir / "api.sock";

 private:
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

const std::vector<std::vector<std::string>> kEveryAgentCommand = {
    {"apps"},      {"networks"}, {"status"}, {"monitor"}, {"explain", "fdaa::1", "fdaa::2"},
    {"apply", "-"}};

TEST(CliExitCodes, ClientErrorsExit1ServerErrorsExit3) {
  for (const auto &[status, expected] : std::vector<std::pair<unsigned, int>>{
           {400, 1}, {404, 1}, {409, 1}, {413, 1}, {422, 1}, {500, 3}, {503, 3}, {507, 3}}) {
    StubAgent agent(status, R"({"error":"stub says no"})");
    for (const auto &args : kEveryAgentCommand) {
      std::vector<std::string> full = args;
      full.insert(full.begin(), {"--socket", agent.socket});
      const auto run = run_cli(full, "{}");
      EXPECT_EQ(run.status, expected) << args[0] << " HTTP " << status;
      EXPECT_TRUE(contains(run.err, "stub says no (HTTP " + std::to_string(status) + ")"))
          << args[0] << ": " << run.err;
      EXPECT_EQ(run.out, "") << args[0];
    }
  }
}

TEST(CliExitCodes, AnAnswerThatIsNotJsonExits3) {
  StubAgent agent(200, "<html>not the sixguard API</html>");
  for (const auto &args : kEveryAgentCommand) {
    if (args[0] == "monitor") continue;  // a stream: lines that are not JSON are skipped
    std::vector<std::string> full = args;
    full.insert(full.begin(), {"--socket", agent.socket});
    const auto run = run_cli(full, "{}");
    EXPECT_EQ(run.status, 3) << args[0];
    EXPECT_TRUE(contains(run.err, "not JSON")) << args[0] << ": " << run.err;
  }
}

TEST(CliExitCodes, TheTableMatchesTheConstants) {
  const auto help = run_cli({"--help"});
  for (const auto &[code, meaning] : exit_code::kCliCodes) {
    EXPECT_TRUE(contains(help.out, "  " + std::to_string(code) + "  " + meaning)) << help.out;
  }
  EXPECT_EQ(exit_code::for_http_status(400), exit_code::kRefused);
  EXPECT_EQ(exit_code::for_http_status(499), exit_code::kRefused);
  EXPECT_EQ(exit_code::for_http_status(500), exit_code::kUnavailable);
  EXPECT_EQ(exit_code::for_http_status(302), exit_code::kUnavailable);
}

TEST(CliStatusTree, NotReadySaysWhyOnTheFirstLinesAndNestsLists) {
  TempDir dir;
  Router router;
  router.add("GET", "/v1/status", [](const HttpRequest &) {
    return json_response(200, nlohmann::json::parse(R"({
      "version": "0.1.0", "revision": "0123456789ab", "kernel": "6.1.0-test",
      "ready": false, "ready_reason": "interface tap1 not attached", "mode": "enforce",
      "interfaces": [{"interface": "tap1", "ifindex": 7,
                      "hooks": [{"hook": "machine_egress", "mode": "xdp", "adopted": true}]}],
      "maps": {"sg_machines": {"entries": 3, "capacity": 65536}},
      "uplinks": ["eth0", "eth1"], "drift": {}
    })"));
  });
  HttpServer server(router);
  const std::string socket = dir / "api.sock";
  ASSERT_TRUE(server.listen_unix(socket));
  ASSERT_TRUE(server.start());
  const auto run = run_cli({"status", "--socket", socket});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "sixguard 0.1.0 (revision 0123456789ab) on kernel 6.1.0-test\n"
            "ready: NO (interface tap1 not attached)\n"
            "mode: enforce\n"
            "maps:\n"
            "  sg_machines:\n"
            "    capacity: 65536\n"
            "    entries: 3\n"
            "drift: (none)\n"
            "interfaces:\n"
            "  - tap1\n"
            "    hooks:\n"
            "      - machine_egress\n"
            "        adopted: true\n"
            "        mode: xdp\n"
            "    ifindex: 7\n"
            "uplinks: eth0, eth1\n");
}

}  // namespace
}  // namespace sixguard::testing

namespace sixguard::testing {
namespace {

// Defence in depth: even if an agent (an older one, or its state) answers with names that
// hold terminal escapes, the CLI prints them escaped. The agent here is a stub router.
TEST(CliEscaping, NamesFromTheAgentArePrintedEscaped) {
  TempDir dir;
  const std::string hostile =
      "evil\x1b[2J\x1b]0;owned\x07\xc2\x9b"
      "31m\x7f\\x1b";
  Router router;
  router.add("GET", "/v1/apps", [&](const HttpRequest &) {
    nlohmann::json app = {{"id", "00000001"}, {"name", hostile}, {"machine_count", 0}};
    app["network"] = hostile;
    app["org"] = hostile;
    nlohmann::json body = {{"total_apps", 1}};
    body["apps"] = nlohmann::json::array({app});
    return json_response(200, body);
  });
  router.add("GET", "/v1/status", [&](const HttpRequest &) {
    nlohmann::json body = nlohmann::json::object();
    body[hostile] = hostile;
    return json_response(200, body);
  });
  router.add("POST", "/v1/events",
             [&](const HttpRequest &) { return json_error(422, "unknown app '" + hostile + "'"); });
  const std::string socket = dir / "api.sock";
  HttpServer server(router);
  ASSERT_TRUE(server.listen_unix(socket));
  ASSERT_TRUE(server.start());
  for (const std::vector<std::string> &args : {std::vector<std::string>{"apps"},
                                               {"apps", "--json"},
                                               {"status"},
                                               {"status", "--json"},
                                               {"apply", "-"}}) {
    std::vector<std::string> full = args;
    full.insert(full.begin(), {"--socket", socket});
    const CliRun run = run_cli(full, "{}");
    const std::string all = run.out + run.err;
    EXPECT_TRUE(contains(all, "evil")) << args[0] << ": " << all;
    for (const char byte : all) {
      const auto c = static_cast<unsigned char>(byte);
      EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << args[0] << ": byte " << int(c);
    }
  }
}

}  // namespace
}  // namespace sixguard::testing
