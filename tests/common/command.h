// Running external tools (ip, bpftool) from tests without a shell: argv in, exit status and
// combined stdout+stderr out. Used by the netns helpers and by tests that verify attachments
// with `bpftool net` or `ip link`.
#pragma once

#include <string>
#include <vector>

#include "agent/core/result.h"

namespace sixguard::test {

struct CommandOutput {
  int exit_code = -1;  // the process's exit status; -1 when it did not exit normally
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs argv[0] (searched in PATH) with argv. An error only when the process could not be
// started; a non-zero exit is a successful Result with exit_code != 0.
Result<CommandOutput> run_command(const std::vector<std::string> &argv);

// Like run_command, but a non-zero exit is an error carrying the command line and its output.
Result<std::string> run_command_ok(const std::vector<std::string> &argv);

}  // namespace sixguard::test
