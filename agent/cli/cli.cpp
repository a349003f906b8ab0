#include "agent/cli/cli.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "agent/core/address.h"
#include "agent/cli/api_client.h"
#include "agent/cli/decode.h"
#include "agent/cli/docs_gen.h"
#include "agent/cli/exit_codes.h"
#include "agent/cli/terminal_json.h"
#include "agent/control/input_limits.h"  // agent/control
#include "agent/cli/publish_command.h"
#include "agent/cli/status_tree.h"
#include "agent/datapath/names.h"  // agent/datapath
#include "agent/cli/table.h"
#include "agent/version/version.h"

namespace sixguard {

namespace {

using exit_code::kOk;
using exit_code::kUnavailable;
using exit_code::kUsage;

struct Io {
  std::istream &in;
  std::ostream &out;
  std::ostream &err;
};

// Everything the agent answers is printed through printable() or as ASCII-only JSON
// (terminal_json.h): names and messages reach a terminal, and an escape sequence in them must
// not drive it. The agent refuses such names (DESIGN §3); this is defence in depth against an
// older state or agent.
// The API's {"error": ...} as one line; the raw body (bounded) when it is not that.
std::string error_text(const ApiReply &reply) {
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  std::string message = body.is_object() && body.contains("error") && body["error"].is_string()
                            ? printable(body["error"].get<std::string>())
                            : shown(reply.body, 1024);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message + " (HTTP " + std::to_string(reply.status) + ")";
}

// An answer, or the exit status that says why there is none (exit_codes.h).
struct Answer {
  std::optional<nlohmann::json> body;
  int exit_status = kOk;
};

// Runs a request; on failure prints why (prefixed with `who`) and says how to exit.
Answer call(const ApiClient &client, Io io, std::string_view method, std::string_view target,
            std::string_view body = {}, std::string_view who = "sixguard") {
  auto reply = client.request(method, target, body);
  if (!reply) {
    io.err << "sixguard: " << reply.error().message << "\n";
    return {std::nullopt, kUnavailable};
  }
  if (reply->status != 200) {
    io.err << who << ": " << error_text(*reply) << "\n";
    return {std::nullopt, exit_code::for_http_status(reply->status)};
  }
  auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (json.is_discarded()) {
    io.err << "sixguard: the agent answered with something that is not JSON\n";
    return {std::nullopt, kUnavailable};
  }
  return {std::move(json), kOk};
}

std::string text_of(const nlohmann::json &value) {
  if (value.is_string()) return printable(value.get<std::string>());
  if (value.is_null()) return "-";
  return terminal_json(value);
}

int cmd_apply(const ApiClient &client, Io io, const std::string &file, bool json) {
  std::string body;
  if (file == "-") {
    body.assign(std::istreambuf_iterator<char>(io.in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream input(file, std::ios::binary);
    if (!input) {
      io.err << "sixguard apply: cannot read " << file << ": " << std::strerror(errno) << "\n";
      return kUsage;
    }
    body.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
  }
  const auto answer = call(client, io, "POST", "/v1/events", body, "sixguard apply");
  if (!answer.body) return answer.exit_status;
  const auto &result = *answer.body;
  if (json) {
    io.out << terminal_json(result) << "\n";
  } else {
    io.out << "applied " << text_of(result.value("applied", nlohmann::json())) << ", unchanged "
           << text_of(result.value("unchanged", nlohmann::json())) << "\n";
  }
  return kOk;
}

std::string url_encode(const std::string &text) {
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int cmd_apps(const ApiClient &client, Io io, const std::string &org, bool json) {
  const std::string target = org.empty() ? "/v1/apps" : "/v1/apps?org_slug=" + url_encode(org);
  auto answer = call(client, io, "GET", target);
  auto &result = answer.body;
  if (!result) return answer.exit_status;
  if (json) {
    io.out << terminal_json(*result, 2) << "\n";
    return kOk;
  }
  Table table({"NAME", "ID", "ORG", "NETWORK", "MACHINES"});
  for (const auto &app : (*result)["apps"]) {
    table.add({text_of(app["name"]), text_of(app["id"]),
               text_of(app.value("org", nlohmann::json())), text_of(app["network"]),
               text_of(app["machine_count"])});
  }
  table.print(io.out);
  io.out << text_of((*result)["total_apps"]) << " app(s)\n";
  return kOk;
}

int cmd_networks(const ApiClient &client, Io io, bool json) {
  auto answer = call(client, io, "GET", "/v1/networks");
  auto &result = answer.body;
  if (!result) return answer.exit_status;
  if (json) {
    io.out << terminal_json(*result, 2) << "\n";
    return kOk;
  }
  Table table({"ORG", "NAME", "ID", "ID (INTEGER)", "MODE", "APPS"});
  for (const auto &network : (*result)["networks"]) {
    table.add({text_of(network["org"]), text_of(network["name"]), text_of(network["id_text"]),
               text_of(network["id"]), text_of(network["mode"]), text_of(network["app_count"])});
  }
  table.print(io.out);
  return kOk;
}

int cmd_status(const ApiClient &client, Io io, bool json) {
  const auto answer = call(client, io, "GET", "/v1/status");
  if (!answer.body) return answer.exit_status;
  if (json) {
    io.out << terminal_json(*answer.body, 2) << "\n";
  } else {
    io.out << render_status_tree(*answer.body);
  }
  return kOk;
}

int cmd_decode(Io io, const std::vector<std::string> &addresses, bool json) {
  int status = kOk;
  nlohmann::json all = nlohmann::json::array();
  for (const auto &text : addresses) {
    auto decoded = decode_address(text);
    if (!decoded) {
      io.err << "sixguard decode: " << decoded.error().message << "\n";
      status = kUsage;
      continue;
    }
    if (json) {
      all.push_back(*decoded);
    } else {
      io.out << format_decoded(*decoded);
    }
  }
  if (json) io.out << terminal_json(all.size() == 1 ? all[0] : all, 2) << "\n";
  return status;
}

int cmd_explain(const ApiClient &client, Io io, const std::string &src, const std::string &dst,
                const std::string &interface_name, bool json) {
  for (const auto &[name, text] : {std::pair{"SRC", &src}, std::pair{"DST", &dst}}) {
    if (auto parsed = parse_ipv6(*text); !parsed) {
      io.err << "sixguard explain: " << name << ": " << parsed.error().message << "\n";
      return kUsage;
    }
  }
  nlohmann::json request = {{"src", src}, {"dst", dst}};
  if (!interface_name.empty()) request["interface"] = interface_name;
  auto answer = call(client, io, "POST", "/v1/explain", terminal_json(request));
  auto &result = answer.body;
  if (!result) return answer.exit_status;
  if (json) {
    io.out << terminal_json(*result) << "\n";
  } else {
    io.out << text_of((*result)["hook"]) << ": " << text_of((*result)["verdict"]) << " ("
           << text_of((*result)["reason"]) << ")\n";
  }
  return kOk;
}

std::string wall_clock_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char text[32];
  std::snprintf(text, sizeof(text), "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min,
                local.tm_sec, static_cast<int>(millis));
  return text;
}

struct MonitorFilters {
  std::string hook, reason, network;
};

std::string percent_encoded(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof(escaped), "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

std::string monitor_target(const MonitorFilters &filters) {
  std::string query;
  const auto add = [&](std::string_view key, const std::string &value) {
    if (value.empty()) return;
    query += (query.empty() ? "?" : "&") + std::string(key) + "=" + percent_encoded(value);
  };
  add("hook", filters.hook);
  add("reason", filters.reason);
  add("network", filters.network);
  return "/v1/monitor" + query;
}

// "app (org/network)" for one end of an event, or nothing when the agent knows neither.
std::string end_names(const nlohmann::json &event, const std::string &prefix) {
  const std::string app = text_of(event.value(prefix + "app", nlohmann::json()));
  const std::string org = text_of(event.value(prefix + "org", nlohmann::json()));
  const std::string network = text_of(event.value(prefix + "network", nlohmann::json()));
  if (!event.contains(prefix + "network")) return "";
  return " [" + (event.contains(prefix + "app") ? app + " " : std::string()) + org + "/" + network +
         "]";
}

int cmd_monitor(const ApiClient &client, Io io, bool json, const MonitorFilters &filters) {
  auto on_line = [&](std::string_view line) {
    const auto event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded()) return true;
    if (json) {
      io.out << terminal_json(event) << "\n" << std::flush;
      return static_cast<bool>(io.out);
    }
    char row[96];
    std::snprintf(row, sizeof(row), "%-13s %-16s %-8s %-16s ", wall_clock_now().c_str(),
                  text_of(event.value("hook", nlohmann::json())).c_str(),
                  text_of(event.value("verdict", nlohmann::json())).c_str(),
                  text_of(event.value("reason", nlohmann::json())).c_str());
    io.out << row << text_of(event.value("src", nlohmann::json())) << end_names(event, "src_")
           << " -> " << text_of(event.value("dst", nlohmann::json())) << end_names(event, "dst_")
           << " (" << text_of(event.value("interface", event.value("ifindex", nlohmann::json())))
           << ", " << text_of(event.value("packet_len", nlohmann::json())) << ")\n"
           << std::flush;
    return static_cast<bool>(io.out);
  };
  auto on_open = [&] {
    if (!json) {
      io.out << "TIME          HOOK             VERDICT  REASON           SRC -> DST (INTERFACE, "
                "BYTES)\n"
             << std::flush;
    }
  };
  auto reply = client.stream_lines(monitor_target(filters), on_line, on_open);
  if (!reply) {
    io.err << "sixguard: " << reply.error().message << "\n";
    return kUnavailable;
  }
  if (reply->status != 200) {
    io.err << "sixguard monitor: " << error_text(*reply) << "\n";
    // A filter the agent does not know (an unknown network) is its 400: refused, exit 1, like
    // every 4xx; --hook and --reason values are checked here first (usage, exit 2).
    return exit_code::for_http_status(reply->status);
  }
  return kOk;
}

std::string exit_codes_footer(const auto &codes) {
  std::string text = "Exit status:";
  for (const auto &[code, meaning] : codes) {
    text += "\n  " + std::to_string(code) + "  " + meaning;
  }
  return text;
}

// `sixguard generate-docs man|bash-completion [--output FILE]`: hidden, run by the build.
int cmd_generate_docs(const CLI::App &app, Io io, const std::string &kind,
                      const std::string &output) {
  const std::string text = kind == "man" ? render_man_page(app) : render_bash_completion(app);
  if (output.empty()) {
    io.out << text;
    return kOk;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file << text;
  if (!file.flush()) {
    io.err << "sixguard generate-docs: cannot write " << output << ": " << std::strerror(errno)
           << "\n";
    return kUsage;
  }
  return kOk;
}

}  // namespace

int cli_main(int argc, char **argv, std::istream &in, std::ostream &out, std::ostream &err,
             const AgentRunner &run_agent) {
  const Io io{in, out, err};
  CLI::App app{
      "sixguard: 6PN tenant isolation with eBPF. `sixguard agent` runs the daemon; "
      "the other subcommands talk to it."};
  app.name("sixguard");
  app.require_subcommand(1);
  app.set_version_flag("--version", version_line(), "print the version and source revision");
  app.footer(exit_codes_footer(exit_code::kCliCodes));
  std::string socket = kDefaultApiSocket;
  app.add_option("--socket", socket, "the agent's API socket")
      ->capture_default_str()
      ->type_name("PATH");

  bool json = false;
  auto with_json = [&](CLI::App *command, const char *what) {
    command->add_flag("--json", json, what);
    command->fallthrough();  // --socket after the subcommand too
    return command;
  };

  // First, as operators look for it first in --help and the man page.
  AgentArgs agent_args;
  auto *agent = app.add_subcommand("agent",
                                   "run the daemon in the foreground, logging to stderr "
                                   "(or, with --uninstall, remove everything and exit)");
  agent->footer(exit_codes_footer(exit_code::kAgentCodes));
  // An empty path is refused here: it would otherwise mean "no file" without saying so.
  const auto add_file_option = [agent](const char *name, std::string &path, const char *help) {
    agent->add_option(name, path, help)->type_name("FILE")->check([](const std::string &value) {
      return value.empty() ? "needs a file" : "";
    });
  };
  add_file_option("--config,-c", agent_args.config_path,
                  "configuration file (default /etc/sixguard/config.yaml; no file: every key "
                  "at its default)");
  add_file_option("--node-config", agent_args.node_config_path,
                  "a node-local file whose keys replace those of --config (e.g. uplinks on a "
                  "cluster-wide ConfigMap); a missing file is no overlay");
  agent->add_flag("--uninstall", agent_args.uninstall,
                  "detach every sixguard program, remove the pins under <bpffs>/sixguard and "
                  "the state database, then exit");
  agent->add_flag("--print-config", agent_args.print_config,
                  "print the effective configuration (every key) and exit");
  agent->add_flag("--accept-empty-state", agent_args.accept_empty_state,
                  "start even though the state database is empty or missing while the pinned "
                  "maps hold entries, and remove them (otherwise: exit 2)");

  std::string file;
  auto *apply = with_json(app.add_subcommand("apply",
                                             "send control-plane events (JSON object, "
                                             "array or NDJSON) from FILE or - (stdin)"),
                          "print the agent's JSON answer");
  apply->add_option("file", file, "FILE, or - for stdin")->required()->type_name("FILE");

  std::string org;
  auto *apps = with_json(app.add_subcommand("apps", "list apps"), "print JSON");
  apps->add_option("--org", org, "only the apps of this organisation")->type_name("ORG");

  auto *networks = with_json(app.add_subcommand("networks", "list networks"), "print JSON");
  auto *status = with_json(
      app.add_subcommand("status", "the agent's status, as a tree (readiness and why not first)"),
      "print the agent's JSON");

  std::vector<std::string> addresses;
  auto *decode =
      with_json(app.add_subcommand("decode",
                                   "decode 6PN addresses (network, host, machine id; no agent "
                                   "needed)"),
                "print JSON");
  decode->add_option("address", addresses, "IPv6 addresses")->required()->type_name("ADDRESS");

  std::string src, dst, interface_name;
  auto *explain = with_json(
      app.add_subcommand("explain", "what the loaded datapath decides for a packet SRC -> DST"),
      "print JSON");
  explain->add_option("src", src, "source address")->required()->type_name("SRC");
  explain->add_option("dst", dst, "destination address")->required()->type_name("DST");
  explain
      ->add_option("--interface,-i", interface_name,
                   "a machine interface (machine hooks); without it, the uplink hook")
      ->type_name("IFACE");

  auto *monitor = with_json(app.add_subcommand("monitor", "stream drop and audit events"),
                            "one JSON object per line");
  MonitorFilters monitor_filters;
  const std::vector<std::string> hooks(kHookNames.begin(), kHookNames.end());
  const std::vector<std::string> reasons(kReasonNames.begin(), kReasonNames.end());
  monitor->add_option("--hook", monitor_filters.hook, "only events of this hook")
      ->check(CLI::IsMember(hooks));
  monitor->add_option("--reason", monitor_filters.reason, "only events with this reason")
      ->check(CLI::IsMember(reasons));
  monitor
      ->add_option("--network", monitor_filters.network,
                   "only events with either end on this network: NAME, ORG/NAME or its id "
                   "(2:45b)")
      ->check([](const std::string &value) {
        return value.empty() ? std::string("must not be empty") : std::string();
      });

  PublishArgs publish_args;
  auto *publish =
      with_json(app.add_subcommand("publish",
                                   "validate events against the etcd store and write them as one "
                                   "transaction (no agent needed; exit 3: store unreachable)"),
                "print the JSON answer");
  publish->add_option("--etcd", publish_args.etcd, "etcd client URLs, comma-separated")->required();
  publish->add_option("--prefix", publish_args.prefix, "key prefix")->capture_default_str();
  publish->add_option("--host", publish_args.host,
                      "the host of machine events without a \"host\" field");
  publish->add_option("--cacert", publish_args.cacert, "CA of the etcd members (PEM)");
  publish->add_option("--cert", publish_args.cert, "client certificate (PEM)");
  publish->add_option("--key", publish_args.key, "client key (PEM)");
  publish->add_option("--timeout-ms", publish_args.timeout_ms, "per request")
      ->capture_default_str();
  publish->add_option("file", publish_args.file, "FILE, or - for stdin")->required();

  // Hidden (no group): the build generates the man page and the completion with it.
  std::string docs_kind, docs_output;
  auto *generate_docs = app.add_subcommand("generate-docs", "man page or bash completion");
  generate_docs->group("");
  generate_docs->add_option("kind", docs_kind)
      ->required()
      ->check(CLI::IsMember({"man", "bash-completion"}));
  generate_docs->add_option("--output", docs_output);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? kOk : kUsage;
  }

  if (agent->parsed()) {
    if (!run_agent) {
      err << "sixguard: `sixguard agent` is run by the binary's entry point, not the CLI\n";
      return kUsage;
    }
    return run_agent(agent_args);
  }
  if (generate_docs->parsed()) return cmd_generate_docs(app, io, docs_kind, docs_output);
  const ApiClient client(socket);
  if (apply->parsed()) return cmd_apply(client, io, file, json);
  if (apps->parsed()) return cmd_apps(client, io, org, json);
  if (networks->parsed()) return cmd_networks(client, io, json);
  if (status->parsed()) return cmd_status(client, io, json);
  if (decode->parsed()) return cmd_decode(io, addresses, json);
  if (explain->parsed()) return cmd_explain(client, io, src, dst, interface_name, json);
  if (monitor->parsed()) return cmd_monitor(client, io, json, monitor_filters);
  if (publish->parsed()) {
    publish_args.json = json;
    return cmd_publish(publish_args, in, out, err);
  }
  return kUsage;
}

int cli_main(int argc, char **argv, const AgentRunner &run_agent) {
  return cli_main(argc, argv, std::cin, std::cout, std::cerr, run_agent);
}

}  // namespace sixguard
