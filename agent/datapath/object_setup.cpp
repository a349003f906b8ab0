#include "agent/datapath/object_setup.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "bpf/include/sixguard_shared.h"

namespace sixguard {

Result<bpf_object *> open_datapath_object(const void *bytes, std::size_t size,
                                          const std::string &pin_dir, const char *object_name) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name,
              .pin_root_path = pin_dir.c_str());
  bpf_object *object = bpf_object__open_mem(bytes, size, &opts);
  if (object == nullptr) return make_error("open BPF object " + std::string(object_name), errno);
  if (auto status = set_kernel_constants(object); !status) {
    bpf_object__close(object);
    return status.error();
  }
  return object;
}

Status set_kernel_constants(bpf_object *object) {
  bpf_map *clock = bpf_object__find_map_by_name(object, SG_RODATA_CLOCK);
  if (clock == nullptr)
    return make_error(std::string(SG_RODATA_CLOCK) + ": not in the object", ENOENT);
  // 1: the verifier accepts the helper; 0: this kernel predates it (5.10).
  const int probe =
      libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_ktime_get_coarse_ns, nullptr);
  if (probe < 0) return make_error("probe bpf_ktime_get_coarse_ns", -probe);
  const uint32_t coarse = probe == 1 ? 1 : 0;
  if (int err = bpf_map__set_initial_value(clock, &coarse, sizeof(coarse)); err != 0) {
    return make_error(std::string("set ") + SG_RODATA_CLOCK, -err);
  }
  return {};
}

namespace {

Status set_max_entries(bpf_object *object, const char *name, uint32_t entries) {
  bpf_map *map = bpf_object__find_map_by_name(object, name);
  if (map == nullptr) return make_error(std::string(name) + ": not in the BPF object", ENOENT);
  if (int err = bpf_map__set_max_entries(map, entries); err != 0) {
    return make_error(std::string(name) + ": set max_entries " + std::to_string(entries), -err);
  }
  return {};
}

}  // namespace

Status apply_map_sizes(bpf_object *object, const MapSizes &sizes) {
  const std::pair<const char *, uint32_t> wanted[] = {
      {SG_MAP_MACHINES, sizes.machines},   {SG_MAP_FLYCAST, sizes.flycast},
      {SG_MAP_INFRA, sizes.infra},         {SG_MAP_NET_FLAGS, sizes.net_flags},
      {SG_MAP_EVENTS, sizes.events_bytes},
  };
  for (const auto &[name, entries] : wanted) {
    if (auto status = set_max_entries(object, name, entries); !status) return status;
  }
  return size_owner_slots(object, sizes.owner_slots());
}

Status size_owner_slots(bpf_object *object, uint32_t slots) {
  if (auto status = set_max_entries(object, SG_MAP_OWNER_SLOTS, slots); !status) return status;
  // The programs index sg_owner_slots with this mask: it must follow the map's size.
  bpf_map *mask = bpf_object__find_map_by_name(object, SG_RODATA_OWNER_SLOTS);
  if (mask == nullptr) {
    return make_error(std::string(SG_RODATA_OWNER_SLOTS) + ": not in the object", ENOENT);
  }
  const uint32_t value = slots - 1;
  if (int err = bpf_map__set_initial_value(mask, &value, sizeof(value)); err != 0) {
    return make_error(std::string("set ") + SG_RODATA_OWNER_SLOTS, -err);
  }
  return {};
}

Status enable_only(bpf_object *object, std::initializer_list<const bpf_program *> programs) {
  for (const bpf_program *wanted : programs) {
    if (wanted == nullptr) return make_error("a program to load is not in the BPF object", ENOENT);
  }
  bpf_program *program = nullptr;
  bpf_object__for_each_program(program, object) {
    bool wanted = false;
    for (const bpf_program *candidate : programs) wanted = wanted || candidate == program;
    if (int err = bpf_program__set_autoload(program, wanted); err != 0) {
      return make_error(std::string("set autoload of ") + bpf_program__name(program), -err);
    }
  }
  return {};
}

}  // namespace sixguard
