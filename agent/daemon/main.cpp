// The one `sixguard` binary (DESIGN §4): `sixguard agent ...` runs the daemon; every other
// subcommand is the CLI (agent/cli), which talks to a running agent's API. The command line,
// `agent`'s included, is parsed by the CLI's one definition (cli.cpp).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/cli/cli.h"
#include "agent/daemon/config.h"
#include "agent/daemon/daemon.h"
#include "agent/cli/exit_codes.h"
#include "agent/daemon/library_log.h"
#include "agent/daemon/log.h"

namespace {

using namespace sixguard::daemon;

int agent_main(const sixguard::AgentArgs &args) {
  AgentOptions options;
  options.accept_empty_state = args.accept_empty_state;
  init_log_level_from_env();
  route_library_logs();
  bool node_config_found = false;
  auto config =
      load_config_with_overlay(args.config_path, args.node_config_path, node_config_found);
  if (!config) {
    log_error("config", config.error().describe());
    return sixguard::exit_code::kAgentRefused;  // bad configuration
  }
  set_log_format(value_named(kLogFormatNames, config->log_format).value_or(LogFormat::kText));
  // SIXGUARD_LOG_LEVEL wins over the file's log_level.
  set_log_level(parse_log_level(config->log_level).value_or(LogLevel::kInfo));
  if (!init_log_level_from_env()) {
    log_warn("config", "SIXGUARD_LOG_LEVEL is not debug, info, warn or error: ignored",
             {{"value", std::getenv("SIXGUARD_LOG_LEVEL")}});
  }
  if (!args.node_config_path.empty() && !args.print_config) {
    log_info("config", node_config_found
                           ? "node configuration " + args.node_config_path + " applied"
                           : "no node configuration at " + args.node_config_path);
  }
  // libxdp keeps its dispatcher state on a bpffs of its own choosing (default /sys/fs/bpf);
  // point it at the agent's bpffs, which the agent mounts when missing, so that XDP programs
  // share one dispatcher with other libxdp users there and behave the same wherever the
  // agent runs. An explicit LIBXDP_BPFFS in the environment wins.
  ::setenv("LIBXDP_BPFFS", config->bpffs.c_str(), /*overwrite=*/0);
  if (args.print_config) {
    std::fputs(render_config(*config).c_str(), stdout);
    return sixguard::exit_code::kOk;
  }
  return args.uninstall ? run_uninstall(*config) : run_agent(*config, options);
}

}  // namespace

int main(int argc, char **argv) {
  return sixguard::cli_main(argc, argv, agent_main);
}
