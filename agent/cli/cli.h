// The `sixguard` command line for everything except `sixguard agent` (DESIGN §4): apply,
// apps, networks, status, decode, explain, monitor; global --socket PATH (default
// /run/sixguard/api.sock). The daemon's main() calls cli_main for every other subcommand.
//
// Exit status: 0 success; 1 the agent is unreachable or refused the request; 2 bad usage
// or malformed input (an address that does not parse, a file that cannot be read).
// `publish` (publish_command.h) needs no agent and adds 3: the etcd store is unreachable.
#pragma once

#include <iosfwd>

namespace sixguard {

inline constexpr const char *kDefaultApiSocket = "/run/sixguard/api.sock";

int cli_main(int argc, char **argv);
// The same with explicit streams, for tests.
int cli_main(int argc, char **argv, std::istream &in, std::ostream &out, std::ostream &err);

}  // namespace sixguard
