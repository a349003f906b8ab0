// Preparing an opened (not yet loaded) instance of the datapath object: map capacities from
// MapSizes and pinning under pin_dir (which pins are reused or migrated: pin_plan.h). Shared
// by the main object and the XDP program's instance so both agree exactly. Maps are found by
// their names in the shared header (SG_MAP_*), not through a skeleton: the same code prepares
// the instances opened from bytes, which may be another build's object (tests/fixtures).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "agent/datapath/map_sizes.h"
#include "agent/datapath/pin_plan.h"
#include "agent/core/result.h"

struct bpf_object;
struct bpf_program;

namespace sixguard {

// bpf_object__open_mem with pin_root_path = pin_dir: an instance of any build's datapath
// object (the agent's own: datapath_skeleton.h).
Result<bpf_object *> open_datapath_object(const void *bytes, std::size_t size,
                                          const std::string &pin_dir, const char *object_name);

// Chooses the kernel-dependent constants of an opened object: sg_coarse_clock (the drop-event
// rate limiter reads bpf_ktime_get_coarse_ns where the kernel has it, 5.11, else the precise
// clock). open_datapath_object calls it; a loader that opens the object itself must too.
Status set_kernel_constants(bpf_object *object);

// Sets max_entries of the resizable maps.
Status apply_map_sizes(bpf_object *object, const MapSizes &sizes);

// Sizes sg_owner_slots alone (slots: a power of two, MapSizes::owner_slots) and sets the mask
// the programs index it with to follow: a loader that sizes sg_machines by itself (the tests'
// harness) keeps the two as the agent does.
Status size_owner_slots(bpf_object *object, uint32_t slots);

// Enables loading only of the given programs of object (skel->progs members, or found by name
// in another build's object); a null among them is a program the object does not have.
Status enable_only(bpf_object *object, std::initializer_list<const bpf_program *> programs);

}  // namespace sixguard
