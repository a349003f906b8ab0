#include "agent/datapath/bpffs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>

namespace sixguard {
namespace {
constexpr long kBpfFsMagic = 0xcafe4a11;  // BPF_FS_MAGIC (linux/magic.h)
}

bool is_bpffs(const std::string &path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kBpfFsMagic;
}

Status ensure_bpffs(const std::string &path) {
  if (is_bpffs(path)) return {};
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return errno_error("bpffs: cannot create mount point " + path);
  }
  if (::mount("bpf", path.c_str(), "bpf", 0, "mode=0700") != 0) {
    return errno_error("bpffs: " + path + " is not a bpf filesystem and mounting one failed " +
                       "(run as root, or `mount -t bpf bpf " + path + "` first)");
  }
  if (!is_bpffs(path)) return make_error("bpffs: mounted at " + path + " but statfs disagrees");
  return {};
}

Status make_pin_dir(const std::string &path) {
  for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return errno_error("create pin directory " + prefix);
    }
    if (slash == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error("pin directory " + path + " is not a directory", ENOTDIR);
  }
  return {};
}

}  // namespace sixguard
