// The generated skeleton of bpf/sixguard.bpf.c (build/bpf/sg_datapath.skel.h, `bpftool gen
// skeleton ... name sg_datapath`): `struct sg_datapath` with one member per entry point
// (skel->progs.sg_uplink) and per map (skel->maps.sg_machines). A file that reads those
// members includes the generated header itself; this one only opens and owns an instance.
//
// Opening lives in datapath_skeleton.cpp, the only translation unit that instantiates the
// skeleton's open functions, so the object's ELF bytes are in the binary once.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "agent/core/result.h"

struct sg_datapath;

namespace sixguard {

struct DestroySkeleton {
  void operator()(sg_datapath *skeleton) const;
};
using DatapathSkeleton = std::unique_ptr<sg_datapath, DestroySkeleton>;

// A new, not yet loaded instance named object_name, its pinned maps under pin_dir (empty:
// libbpf's default root), the kernel constants set (object_setup.h: set_kernel_constants).
Result<DatapathSkeleton> open_datapath_skeleton(const std::string &pin_dir,
                                                const char *object_name);

// The object's ELF as embedded by the skeleton, for the loaders that open further instances of
// it by bytes (the XDP program's own instances, xdp_attachment.h). Lives as long as the process.
std::span<const std::byte> datapath_object_elf();

}  // namespace sixguard
