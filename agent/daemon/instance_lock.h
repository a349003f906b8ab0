// One agent per state (DESIGN §5): exclusive flock(2) locks on <state_dir>/agent.lock and on
// the pin directory <bpffs>/sixguard, held for the agent's (or --uninstall's) lifetime and
// released by the kernel when the process dies, however it dies: no stale lock to clean up.
//
// Why flock and not a PID file: a PID file outlives a killed agent and names a PID that may
// be reused; a flock cannot outlive its holder. Why the pin directory itself: bpffs holds no
// regular files (only pins and directories), but flock works on a directory's fd there, and
// the directory is the very thing two agents would fight over, whatever their state_dir.
#pragma once

#include <string>

#include "agent/core/fd.h"
#include "agent/core/result.h"

namespace sixguard::daemon {

class InstanceLock {
 public:
  // Locks the regular file at path (created 0600 if missing) and writes our PID into it.
  // Held elsewhere: an Error with code EWOULDBLOCK naming the holder's PID.
  static Result<InstanceLock> lock_file(const std::string &path);
  // Locks the directory at path itself (it must exist). Held elsewhere: as above, the
  // holder's PID found in /proc/locks.
  static Result<InstanceLock> lock_directory(const std::string &path);

  const std::string &path() const { return path_; }

 private:
  InstanceLock(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

// The PID /proc/locks shows holding a flock on the file or directory at path; 0 if none.
int flock_holder(const std::string &path);

}  // namespace sixguard::daemon
