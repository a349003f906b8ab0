// The `sixguard` command line (DESIGN §4), one CLI11 definition for every subcommand: `agent`
// (its arguments parsed here, the daemon run by the entry point's runner), apply, apps,
// networks, status, decode, explain, monitor; global --socket PATH (default
// /run/sixguard/api.sock) and --version. The man page and the bash completion are generated
// from the same definition (docs_gen.h).
//
// Exit status: exit_codes.h (0 ok, 1 refused by the agent, 2 usage, 3 agent unavailable);
// `publish` (publish_command.h) needs no agent: 3 there means the etcd store is unreachable.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

namespace sixguard {

inline constexpr const char *kDefaultApiSocket = "/run/sixguard/api.sock";

// `sixguard agent [--config FILE] [--uninstall] [--print-config] [--accept-empty-state]`.
struct AgentArgs {
  std::string config_path;       // empty: the default path (no file there: defaults)
  std::string node_config_path;  // empty: none; a missing file: none (see load_config_with_overlay)
  bool uninstall = false;
  bool print_config = false;
  bool accept_empty_state = false;
};
// Runs the daemon for `sixguard agent`; returns its exit status.
using AgentRunner = std::function<int(const AgentArgs &)>;

int cli_main(int argc, char **argv, const AgentRunner &run_agent);
// The same with explicit streams, for tests; without a runner `agent` is a usage error.
int cli_main(int argc, char **argv, std::istream &in, std::ostream &out, std::ostream &err,
             const AgentRunner &run_agent = {});

}  // namespace sixguard
