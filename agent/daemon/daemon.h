// `sixguard agent`: the daemon in the foreground, and `sixguard agent --uninstall`.
#pragma once

#include "agent/cli/exit_codes.h"  // the exit statuses: kOk, kAgentFailed, kAgentRefused
#include "agent/daemon/config.h"

namespace sixguard::daemon {

// <state_dir>/agent.lock: flocked by the running agent, which writes its PID into it.
inline constexpr const char *kStateLockName = "agent.lock";

// From the command line only (not the configuration file, so that it cannot stay on).
struct AgentOptions {
  // Start even though the persisted state is empty while the pinned maps hold entries, and
  // remove them (the operator chose to replay the events).
  bool accept_empty_state = false;
};

// Runs until SIGTERM/SIGINT, then returns exit_code::kOk leaving programs attached and maps pinned.
// SIGHUP runs a check (state database, maps reconciled by difference, attachments) and goes on.
int run_agent(const AgentConfig &config, const AgentOptions &options);

// Detaches our programs from every interface of this network namespace, removes the pins
// under <bpffs>/sixguard, the state database and the lock file. Refuses (exit_code::kAgentRefused)
// while an agent holds the locks, and while an agent answers on the API socket (it would
// re-attach).
int run_uninstall(const AgentConfig &config);

}  // namespace sixguard::daemon
