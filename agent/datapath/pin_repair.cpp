#include "agent/datapath/pin_repair.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>

#include "agent/datapath/bpffs.h"

namespace sixguard {

PinRepair repair_pins(const std::string &bpffs, const std::string &pin_dir,
                      const std::vector<PinnedMapRef> &maps) {
  PinRepair repair;
  if (!is_bpffs(bpffs)) {
    if (auto status = ensure_bpffs(bpffs); !status) {
      repair.errors.push_back(status.error().describe());
      return repair;
    }
    repair.remounted = true;
  }
  if (auto status = make_pin_dir(pin_dir); !status) {
    repair.errors.push_back(status.error().describe());
    return repair;
  }
  for (const auto &[name, map] : maps) {
    const std::string path = pin_dir + "/" + name;
    std::string why;
    if (auto pinned = maps::MapHandle::open_pinned(path); pinned) {
      if (pinned->id() == map.id()) continue;
      why = "pinned map id " + std::to_string(pinned->id()) + ", ours " + std::to_string(map.id());
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        repair.errors.push_back(errno_error("unpin " + path + " (" + why + ")").describe());
        continue;
      }
    } else if (pinned.error().code == ENOENT) {
      why = "missing";
    } else {
      // Something there that is not a map (a directory, another object type): not ours to
      // remove blindly; reported.
      repair.errors.push_back("pin " + path + ": " + pinned.error().describe());
      continue;
    }
    if (::bpf_obj_pin(map.fd(), path.c_str()) != 0) {
      repair.errors.push_back(errno_error("pin " + path + " (" + why + ")").describe());
      continue;
    }
    repair.pinned.push_back(name + ": " + why);
  }
  return repair;
}

}  // namespace sixguard
