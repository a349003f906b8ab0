// Deliberately includes nothing that declares namespace sixguard (see object_bytes.h).
#include "agent/datapath/object_bytes.h"

#include "sixguard.skel.h"

namespace sg_embedded {

const void *datapath_object_bytes(std::size_t *size) {
  return sixguard__elf_bytes(size);
}

}  // namespace sg_embedded
