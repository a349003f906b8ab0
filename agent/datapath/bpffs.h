// bpffs: where the datapath's maps are pinned (DESIGN §5: the agent mounts it if missing).
#pragma once

#include <string>

#include "agent/core/result.h"

namespace sixguard {

// True when path is the root of (or inside) a bpf filesystem.
bool is_bpffs(const std::string &path);

// Makes sure a bpffs is mounted at path: nothing to do when it is; otherwise creates the
// directory and mounts one (mount -t bpf bpf PATH). The error says why it cannot (not root,
// path is on another filesystem that refuses mkdir, mount refused) and what to run instead.
Status ensure_bpffs(const std::string &path);

// mkdir -p for a directory on bpffs (the pin directory <bpffs>/sixguard), mode 0700.
Status make_pin_dir(const std::string &path);

}  // namespace sixguard
