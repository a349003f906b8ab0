// The one `sixguard` binary (DESIGN §4): `sixguard agent ...` runs the daemon; every other
// subcommand is the CLI (agent/cli), which talks to a running agent's API.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "library_log.h"
#include "log.h"

namespace {

constexpr const char *kAgentUsage =
    "usage: sixguard agent [--config FILE] [--node-config FILE] [--uninstall] [--print-config] "
    "[--accept-empty-state]\n"
    "  --config FILE    configuration (default /etc/sixguard/config.yaml; no file: defaults)\n"
    "  --node-config FILE\n"
    "                   a node-local file whose keys replace those of --config (e.g. uplinks\n"
    "                   on a cluster-wide ConfigMap); a missing file is no overlay\n"
    "  --uninstall      detach every sixguard program, remove the pins under <bpffs>/sixguard\n"
    "                   and the state database, then exit\n"
    "  --print-config   print the effective configuration (every key) and exit\n"
    "  --accept-empty-state\n"
    "                   start even though the state database is empty or missing while the\n"
    "                   pinned maps hold entries, and remove them (otherwise: exit 2)\n";

int agent_main(int argc, char **argv) {
  using namespace sixguard::daemon;
  std::string config_path;
  std::string node_config_path;
  bool uninstall = false;
  bool print_config = false;
  AgentOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sixguard agent: --config needs a file\n%s", kAgentUsage);
        return kExitUsage;
      }
      config_path = argv[++i];
      if (config_path.empty()) {
        std::fprintf(stderr, "sixguard agent: --config needs a file\n");
        return kExitUsage;
      }
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = std::string(arg.substr(9));
    } else if (arg == "--node-config") {
      if (i + 1 >= argc || argv[i + 1][0] == '\0') {
        std::fprintf(stderr, "sixguard agent: --node-config needs a file\n%s", kAgentUsage);
        return kExitUsage;
      }
      node_config_path = argv[++i];
    } else if (arg == "--uninstall") {
      uninstall = true;
    } else if (arg == "--accept-empty-state") {
      options.accept_empty_state = true;
    } else if (arg == "--print-config") {
      print_config = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kAgentUsage, stdout);
      return kExitOk;
    } else {
      std::fprintf(stderr, "sixguard agent: unknown argument '%s'\n%s", argv[i], kAgentUsage);
      return kExitUsage;
    }
  }
  // Early, for messages about the configuration itself; applied again once it is read.
  init_log_level_from_env();
  route_library_logs();
  bool node_config_found = false;
  auto config = load_config_with_overlay(config_path, node_config_path, node_config_found);
  if (!config) {
    log_error("config", config.error().describe());
    return kExitUsage;
  }
  set_log_format(config->log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  // SIXGUARD_LOG_LEVEL wins over the file's log_level.
  set_log_level(parse_log_level(config->log_level).value_or(LogLevel::kInfo));
  if (!init_log_level_from_env()) {
    log_warn("config", "SIXGUARD_LOG_LEVEL is not debug, info, warn or error: ignored",
             {{"value", std::getenv("SIXGUARD_LOG_LEVEL")}});
  }
  if (!node_config_path.empty() && !print_config) {
    log_info("config", node_config_found ? "node configuration " + node_config_path + " applied"
                                         : "no node configuration at " + node_config_path);
  }
  // libxdp keeps its dispatcher state on a bpffs of its own choosing (default /sys/fs/bpf);
  // point it at the agent's bpffs, which the agent mounts when missing, so that XDP programs
  // share one dispatcher with other libxdp users there and behave the same wherever the
  // agent runs. An explicit LIBXDP_BPFFS in the environment wins.
  ::setenv("LIBXDP_BPFFS", config->bpffs.c_str(), /*overwrite=*/0);
  if (print_config) {
    std::fputs(render_config(*config).c_str(), stdout);
    return kExitOk;
  }
  return uninstall ? run_uninstall(*config) : run_agent(*config, options);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc >= 2 && std::strcmp(argv[1], "agent") == 0) return agent_main(argc, argv);
  return sixguard::cli_main(argc, argv);
}
