// Deliberately includes nothing that declares namespace sixguard (see skeleton_bytes.h).
#include "tests/bpf/skeleton_bytes.h"

#include "sixguard.skel.h"

namespace sg_skeleton {

const void *sixguard_object_bytes(std::size_t *size) {
  return sixguard__elf_bytes(size);
}

}  // namespace sg_skeleton
