// The pins under <bpffs>/sixguard as the drift checker keeps them (DESIGN §5): a pin deleted,
// or bpffs unmounted, under a running agent is pinned again from the map fds the agent holds
// (the maps are alive in the kernel: the attached programs and our fds hold them). A pin
// that names another map than ours (same name, other id) is replaced by ours: the pin
// directory is locked by this agent, so whatever put it there is not an agent of ours, and
// the next agent would otherwise adopt it.
#pragma once

#include <string>
#include <vector>

#include "maps/map_handle.h"
#include "agent/core/result.h"

namespace sixguard {

// One map of the loaded object that is pinned by name: the pin is <pin_dir>/<name>.
struct PinnedMapRef {
  std::string name;
  maps::MapHandle map;
};

struct PinRepair {
  bool remounted = false;           // bpffs was not mounted at the bpffs path: mounted again
  std::vector<std::string> pinned;  // the maps pinned again ("sg_machines: missing", ...)
  std::vector<std::string> errors;  // what could not be repaired, for status and the log
};

// Checks the mount, the pin directory and every pin; repairs what differs.
PinRepair repair_pins(const std::string &bpffs, const std::string &pin_dir,
                      const std::vector<PinnedMapRef> &maps);

}  // namespace sixguard
