#include "object_setup.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "map_handle.h"
#include "sixguard_shared.h"

namespace sixguard {
namespace {

// The config key that sizes each resizable map, for error messages.
const char *config_key(std::string_view map) {
  if (map == SG_MAP_MACHINES) return "map_sizes.machines";
  if (map == SG_MAP_FLYCAST) return "map_sizes.flycast";
  if (map == SG_MAP_INFRA) return "map_sizes.infra";
  if (map == SG_MAP_NET_FLAGS) return "map_sizes.net_flags";
  if (map == SG_MAP_EVENTS) return "map_sizes.events";
  return nullptr;
}

const char kHowToReset[] =
    "run `sixguard agent --uninstall` (detaches enforcement and removes the pinned maps) "
    "and start the agent again";

}  // namespace

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

Status apply_map_sizes(bpf_object *object, const MapSizes &sizes) {
  const std::pair<const char *, uint32_t> wanted[] = {
      {SG_MAP_MACHINES, sizes.machines},   {SG_MAP_FLYCAST, sizes.flycast},
      {SG_MAP_INFRA, sizes.infra},         {SG_MAP_NET_FLAGS, sizes.net_flags},
      {SG_MAP_EVENTS, sizes.events_bytes},
  };
  for (const auto &[name, entries] : wanted) {
    bpf_map *map = bpf_object__find_map_by_name(object, name);
    if (map == nullptr) return make_error(std::string(name) + ": not in the BPF object", ENOENT);
    if (int err = bpf_map__set_max_entries(map, entries); err != 0) {
      return make_error(std::string(name) + ": set max_entries " + std::to_string(entries), -err);
    }
  }
  return {};
}

Result<std::vector<std::string>> check_pinned_maps(bpf_object *object, const std::string &pin_dir) {
  std::vector<std::string> recreated;
  bpf_map *map = nullptr;
  bpf_object__for_each_map(map, object) {
    if (bpf_map__pin_path(map) == nullptr) continue;  // not pinned (e.g. .rodata)
    std::string name = bpf_map__name(map);
    std::string path = pin_dir + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // not pinned yet: will be created
    auto pinned = maps::MapHandle::open_pinned(path);
    if (!pinned) return pinned.error();
    const maps::MapInfo &have = pinned->info();
    const bool compatible =
        have.type == bpf_map__type(map) && have.key_size == bpf_map__key_size(map) &&
        have.value_size == bpf_map__value_size(map) &&
        have.max_entries == bpf_map__max_entries(map) && have.map_flags == bpf_map__map_flags(map);
    if (!compatible && name == SG_MAP_CONFIG) {
      if (::unlink(path.c_str()) != 0) return errno_error("unpin incompatible " + path);
      recreated.push_back(name + " (value size " + std::to_string(have.value_size) + " -> " +
                          std::to_string(bpf_map__value_size(map)) + ")");
      continue;
    }
    auto mismatch = [&](const std::string &what, uint64_t pinned_value,
                        uint64_t wanted_value) -> Error {
      std::string message = "pinned map " + name + " (" + path + ") has " + what + " " +
                            std::to_string(pinned_value) + " but this agent needs " +
                            std::to_string(wanted_value) + ": a pinned map is shared with the " +
                            "programs still attached and is never replaced silently; ";
      const char *key = config_key(name);
      if (what == "max_entries" && key != nullptr) {
        message += "set " + std::string(key) + " back to " + std::to_string(pinned_value) +
                   " to keep it, or " + kHowToReset;
      } else {
        message += "it was created by an incompatible sixguard build; " + std::string(kHowToReset);
      }
      return make_error(message, EEXIST);
    };
    if (have.type != bpf_map__type(map)) {
      return mismatch("type " + maps::map_type_name(have.type) + " =", have.type,
                      bpf_map__type(map));
    }
    if (have.key_size != bpf_map__key_size(map)) {
      return mismatch("key size", have.key_size, bpf_map__key_size(map));
    }
    if (have.value_size != bpf_map__value_size(map)) {
      return mismatch("value size", have.value_size, bpf_map__value_size(map));
    }
    if (have.max_entries != bpf_map__max_entries(map)) {
      return mismatch("max_entries", have.max_entries, bpf_map__max_entries(map));
    }
    if (have.map_flags != bpf_map__map_flags(map)) {
      return mismatch("map_flags", have.map_flags, bpf_map__map_flags(map));
    }
  }
  return recreated;
}

Status enable_only(bpf_object *object, std::initializer_list<std::string_view> programs) {
  bpf_program *program = nullptr;
  bpf_object__for_each_program(program, object) {
    bool wanted = false;
    for (auto name : programs) wanted = wanted || name == bpf_program__name(program);
    if (int err = bpf_program__set_autoload(program, wanted); err != 0) {
      return make_error(std::string("set autoload of ") + bpf_program__name(program), -err);
    }
  }
  for (auto name : programs) {
    if (bpf_object__find_program_by_name(object, std::string(name).c_str()) == nullptr) {
      return make_error("program " + std::string(name) + " is not in the BPF object", ENOENT);
    }
  }
  return {};
}

}  // namespace sixguard
