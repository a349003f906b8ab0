// The datapath ELF embedded in the generated skeleton (build/bpf/sixguard.skel.h). The
// skeleton declares `struct sixguard`, which clashes with namespace sixguard, so it is
// included by exactly one translation unit that declares nothing else.
#pragma once

#include <cstddef>

namespace sg_skeleton {
const void *sixguard_object_bytes(std::size_t *size);

}  // namespace sg_skeleton
