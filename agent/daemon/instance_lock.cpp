#include "agent/daemon/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sixguard::daemon {
namespace {

constexpr int kAttempts = 5;  // each retry means the path was replaced while we locked it

bool same_file(const struct stat &a, const struct stat &b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The PID in a lock file we could not take (what its holder wrote), or 0.
int pid_written_in(const std::string &path) {
  std::ifstream file(path);
  long pid = 0;
  if (!(file >> pid) || pid <= 0 || pid > 0x7fffffff) return 0;
  return static_cast<int>(pid);
}

Error held_by(const std::string &path, const std::string &what, int pid) {
  return make_error(what + " " + path + " is locked by another sixguard agent" +
                        (pid > 0 ? " (PID " + std::to_string(pid) + ")" : "") +
                        "; one agent per state: stop it first",
                    EWOULDBLOCK);
}

// Opens path (open_flags), takes an exclusive flock without waiting, and makes sure the path
// still names the locked file: whoever held it before may have removed it (--uninstall
// removes agent.lock) between our open and our flock, and a lock on a removed file locks
// nothing. Then another attempt on the new file.
Result<Fd> open_and_lock(const std::string &path, int open_flags, const std::string &what) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Fd fd(::open(path.c_str(), open_flags | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return errno_error("opening " + what + " " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return errno_error("locking " + what + " " + path);
      int pid = (open_flags & O_DIRECTORY) ? 0 : pid_written_in(path);
      if (pid == 0) pid = flock_holder(path);
      return held_by(path, what, pid);
    }
    struct stat locked {
    }, named{};
    if (::fstat(fd.get(), &locked) != 0) return errno_error("stat " + path);
    if (::stat(path.c_str(), &named) == 0 && same_file(locked, named)) return fd;
  }
  return make_error(what + " " + path + " keeps being replaced while it is locked", EAGAIN);
}

}  // namespace

Result<InstanceLock> InstanceLock::lock_file(const std::string &path) {
  auto fd = open_and_lock(path, O_RDWR | O_CREAT, "lock file");
  if (!fd) return fd.error();
  // The PID, for the message of the agent we refuse (and for an operator's cat).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd->get(), 0) != 0 ||
      ::pwrite(fd->get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return errno_error("writing our PID into " + path);
  }
  return InstanceLock(std::move(*fd), path);
}

Result<InstanceLock> InstanceLock::lock_directory(const std::string &path) {
  auto fd = open_and_lock(path, O_RDONLY | O_DIRECTORY, "pin directory");
  if (!fd) return fd.error();
  return InstanceLock(std::move(*fd), path);
}

int flock_holder(const std::string &path) {
  struct stat target {};
  if (::stat(path.c_str(), &target) != 0) return 0;
  // Lines: "1: FLOCK  ADVISORY  WRITE 10951 00:29:24842 0 EOF" (major:minor in hex);
  // waiters are "1: -> FLOCK ..." and are skipped.
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string ordinal, kind, advisory, access, device;
    long pid = 0;
    if (!(fields >> ordinal >> kind >> advisory >> access >> pid >> device)) continue;
    if (kind != "FLOCK") continue;
    unsigned major_number = 0, minor_number = 0;
    unsigned long inode = 0;
    if (std::sscanf(device.c_str(), "%x:%x:%lu", &major_number, &minor_number, &inode) != 3) {
      continue;
    }
    if (makedev(major_number, minor_number) == target.st_dev && inode == target.st_ino && pid > 0) {
      return static_cast<int>(pid);
    }
  }
  return 0;
}

}  // namespace sixguard::daemon
