// `sixguard agent`: the daemon in the foreground, and `sixguard agent --uninstall`.
#pragma once

#include "agent/daemon/config.h"

namespace sixguard::daemon {

// Exit codes of `sixguard agent`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // could not start (datapath, state, listeners)
inline constexpr int kExitUsage = 2;    // bad command line or configuration
// Refused for safety (DESIGN §5), same code as kExitUsage: another agent holds the state or
// the pins (its PID named), or the persisted state is empty while the pinned maps hold entries.
inline constexpr int kExitRefused = 2;

// <state_dir>/agent.lock: flocked by the running agent, which writes its PID into it.
inline constexpr const char *kStateLockName = "agent.lock";

// From the command line only (not the configuration file, so that it cannot stay on).
struct AgentOptions {
  // Start even though the persisted state is empty while the pinned maps hold entries, and
  // remove them (the operator chose to replay the events).
  bool accept_empty_state = false;
};

// Runs until SIGTERM/SIGINT, then returns kExitOk leaving programs attached and maps pinned.
// SIGHUP runs a check (state database, maps reconciled by difference, attachments) and goes on.
int run_agent(const AgentConfig &config, const AgentOptions &options);

// Detaches our programs from every interface of this network namespace, removes the pins
// under <bpffs>/sixguard, the state database and the lock file. Refuses (kExitRefused) while
// an agent holds the locks, and while an agent answers on the API socket (it would re-attach).
int run_uninstall(const AgentConfig &config);

}  // namespace sixguard::daemon
