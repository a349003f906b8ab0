// `sixguard agent`: the daemon in the foreground, and `sixguard agent --uninstall`.
#pragma once

#include "config.h"

namespace sixguard::daemon {

// Exit codes of `sixguard agent`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // could not start (datapath, state, listeners)
inline constexpr int kExitUsage = 2;    // bad command line or configuration

// Runs until SIGTERM/SIGINT, then returns kExitOk leaving programs attached and maps pinned.
int run_agent(const AgentConfig &config);

// Detaches our programs from every interface of this network namespace, removes the pins
// under <bpffs>/sixguard and the state database. Refuses while an agent answers on the API
// socket (it would re-attach).
int run_uninstall(const AgentConfig &config);

}  // namespace sixguard::daemon
