// The compiled datapath object (build/bpf/sixguard.bpf.o), embedded in the binary by the
// generated skeleton. Reached through this tiny bridge because the skeleton's `struct
// sixguard` cannot share a translation unit with `namespace sixguard` (same name, different
// kinds of entity). Programs and maps are then found by name: the names are the contract
// between bpf/sixguard.bpf.c and the agent.
#pragma once

#include <cstddef>

namespace sg_embedded {

// The ELF bytes of the datapath object; valid for the life of the process.
const void *datapath_object_bytes(std::size_t *size);

}  // namespace sg_embedded
