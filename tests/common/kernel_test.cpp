#include "tests/common/kernel_test.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "tests/common/command.h"
#include "agent/core/fd.h"

namespace sixguard::test {
namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;  // BPF_FS_MAGIC (linux/magic.h)

bool is_bpffs(const char *path) {
  struct statfs fs {};
  return ::statfs(path, &fs) == 0 && static_cast<long>(fs.f_type) == kBpfFsMagic;
}

std::optional<std::string> probe_kernel() {
  if (::geteuid() != 0)
    return "kernel test needs root (euid is " + std::to_string(::geteuid()) + ")";
  const std::string bpffs(kBpffs);
  if (!is_bpffs(bpffs.c_str())) {
    ::mkdir(bpffs.c_str(), 0755);
    if (::mount("bpf", bpffs.c_str(), "bpf", 0, "mode=0700") != 0) {
      return "bpffs is not mounted at " + bpffs +
             " and mounting it failed: " + std::strerror(errno);
    }
    if (!is_bpffs(bpffs.c_str())) return "bpffs mount at " + bpffs + " did not take effect";
  }
  // The smallest useful proof that bpf() works: create (and drop) a one-element array.
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sg_probe", 4, 4, 1, nullptr);
  if (fd < 0) return std::string("bpf(BPF_MAP_CREATE) refused: ") + std::strerror(-fd);
  ::close(fd);
  return std::nullopt;
}

std::optional<std::string> probe_netns() {
  if (::geteuid() != 0)
    return "netns test needs root (euid is " + std::to_string(::geteuid()) + ")";
  auto ip = run_command({"ip", "-V"});
  if (!ip || ip->exit_code != 0)
    return std::string("netns test needs iproute2 (`ip` not runnable)");
  // unshare on a throwaway thread: proves CLONE_NEWNET works without touching this thread.
  int unshare_errno = 0;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) unshare_errno = errno;
  }).join();
  if (unshare_errno != 0) {
    return std::string("unshare(CLONE_NEWNET) refused: ") + std::strerror(unshare_errno);
  }
  return std::nullopt;
}

}  // namespace

bool kernel_tests_required() {
  const char *value = std::getenv("SIXGUARD_REQUIRE_KERNEL_TESTS");
  return value != nullptr && std::string_view(value) == "1";
}

std::optional<std::string> kernel_unavailable_reason() {
  static const std::optional<std::string> reason = probe_kernel();
  return reason;
}

std::optional<std::string> netns_unavailable_reason() {
  static const std::optional<std::string> reason = probe_netns();
  return reason;
}

Status remove_bpffs_tree(const std::string &path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return errno_error("stat " + path);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR *dir = ::opendir(path.c_str());
    if (dir == nullptr) return errno_error("opendir " + path);
    while (dirent *entry = ::readdir(dir)) {
      std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      if (auto status = remove_bpffs_tree(path + "/" + std::string(name)); !status) {
        ::closedir(dir);
        return status;
      }
    }
    ::closedir(dir);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return errno_error("rmdir " + path);
    return {};
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("unlink " + path);
  return {};
}

Result<PinDir> PinDir::create(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::string path = std::string(kBpffs) + "/" + std::string(prefix) + "-" +
                     std::to_string(::getpid()) + "-" + std::to_string(counter++);
  if (!is_bpffs(std::string(kBpffs).c_str())) {
    return make_error("PinDir: " + std::string(kBpffs) + " is not a bpffs mount");
  }
  // A leftover from a crashed run with the same pid is ours by name: clear it first.
  if (auto status = remove_bpffs_tree(path); !status) return status.error();
  if (::mkdir(path.c_str(), 0700) != 0) return errno_error("PinDir: mkdir " + path);
  return PinDir(std::move(path));
}

PinDir::PinDir(PinDir &&other) noexcept : path_(std::exchange(other.path_, {})) {}

PinDir &PinDir::operator=(PinDir &&other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)remove_bpffs_tree(path_);
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

PinDir::~PinDir() {
  if (!path_.empty()) (void)remove_bpffs_tree(path_);
}

}  // namespace sixguard::test
