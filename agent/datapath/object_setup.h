// Preparing an opened (not yet loaded) instance of the datapath object: map capacities from
// MapSizes, pinning under pin_dir, and the refusal to load over incompatible pinned maps.
// Shared by the main object and the XDP program's instance so both agree exactly.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>
#include <string_view>

#include "map_sizes.h"
#include "result.h"

struct bpf_object;

namespace sixguard {

// bpf_object__open_mem with pin_root_path = pin_dir.
Result<bpf_object *> open_datapath_object(const void *bytes, std::size_t size,
                                          const std::string &pin_dir, const char *object_name);

// Chooses the kernel-dependent constants of an opened object: sg_coarse_clock (the drop-event
// rate limiter reads bpf_ktime_get_coarse_ns where the kernel has it, 5.11, else the precise
// clock). open_datapath_object calls it; a loader that opens the object itself must too.
Status set_kernel_constants(bpf_object *object);

// Sets max_entries of the resizable maps.
Status apply_map_sizes(bpf_object *object, const MapSizes &sizes);

// For every map of object already pinned in pin_dir: the pin must be compatible with what
// the object would create (type, key and value size, max_entries, flags), because libbpf
// reuses it and running programs share it. The error names the map, what differs and how to
// resolve it; no map that holds state is replaced.
//
// The one exception is sg_config, which holds nothing but what the agent derives from its
// configuration and writes at every start before it attaches anything: an incompatible
// sg_config pin (an older build's layout) is unpinned, so the load creates a new one. The
// programs still attached keep their reference to the old map, and with it their
// enforcement, until the new programs replace them atomically. Returns the maps so replaced.
Result<std::vector<std::string>> check_pinned_maps(bpf_object *object, const std::string &pin_dir);

// Enables loading only of the named programs.
Status enable_only(bpf_object *object, std::initializer_list<std::string_view> programs);

}  // namespace sixguard
