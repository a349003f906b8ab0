#include "tests/common/command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "agent/core/fd.h"

namespace sixguard::test {

Result<CommandOutput> run_command(const std::vector<std::string> &argv) {
  if (argv.empty()) return make_error("run_command: empty argv", EINVAL);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return errno_error("run_command: pipe");
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);

  std::vector<char *> args;
  for (const auto &arg : argv) args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return errno_error("run_command: fork " + argv[0]);
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::dup2(write_end.get(), STDOUT_FILENO);
    ::dup2(write_end.get(), STDERR_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  write_end.reset();

  CommandOutput result;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
    if (n > 0) {
      result.output.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno_error("run_command: waitpid " + argv[0]);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Result<std::string> run_command_ok(const std::vector<std::string> &argv) {
  auto result = run_command(argv);
  if (!result) return result.error();
  if (result->exit_code != 0) {
    std::string line;
    for (const auto &arg : argv) line += (line.empty() ? "" : " ") + arg;
    return make_error("`" + line + "` exited with " + std::to_string(result->exit_code) + ": " +
                      result->output);
  }
  return std::move(result->output);
}

}  // namespace sixguard::test
