#include "agent/datapath/pin_plan.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "agent/core/fd.h"
#include "maps/map_handle.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard {
namespace {

struct Layout {
  const char *map;
  int slot;
  uint32_t version;
};
constexpr Layout kLayouts[] = {
    {SG_MAP_MACHINES, SG_META_MACHINES, SG_LAYOUT_MACHINES},
    {SG_MAP_FLYCAST, SG_META_FLYCAST, SG_LAYOUT_FLYCAST},
    {SG_MAP_INFRA, SG_META_INFRA, SG_LAYOUT_INFRA},
    {SG_MAP_NET_FLAGS, SG_META_NET_FLAGS, SG_LAYOUT_NET_FLAGS},
    {SG_MAP_CONFIG, SG_META_CONFIG, SG_LAYOUT_CONFIG},
    {SG_MAP_COUNTERS, SG_META_COUNTERS, SG_LAYOUT_COUNTERS},
    {SG_MAP_EVENTS, SG_META_EVENTS, SG_LAYOUT_EVENTS},
    {SG_MAP_EVENT_STATS, SG_META_EVENT_STATS, SG_LAYOUT_EVENT_STATS},
    {SG_MAP_RATELIMIT, SG_META_RATELIMIT, SG_LAYOUT_RATELIMIT},
    {SG_MAP_OWNER_SLOTS, SG_META_OWNER_SLOTS, SG_LAYOUT_OWNER_SLOTS},
};

// The config key that sizes each resizable map, for error messages.
const char *config_key(std::string_view map) {
  if (map == SG_MAP_MACHINES) return "map_sizes.machines";
  if (map == SG_MAP_FLYCAST) return "map_sizes.flycast";
  if (map == SG_MAP_INFRA) return "map_sizes.infra";
  if (map == SG_MAP_NET_FLAGS) return "map_sizes.net_flags";
  if (map == SG_MAP_EVENTS) return "map_sizes.events";
  if (map == SG_MAP_OWNER_SLOTS) return "map_sizes.machines";
  return nullptr;
}

bool exists(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The layout versions the pins were written with: sg_meta's slots, or all 1 when the pin
// directory predates sg_meta. A slot that cannot be read is 0 (unknown: never this layout).
std::array<uint32_t, SG_META_SLOTS> pinned_layouts(const std::string &pin_dir) {
  std::array<uint32_t, SG_META_SLOTS> versions{};
  const std::string path = pin_dir + "/" + SG_MAP_META;
  if (!exists(path)) {
    versions.fill(1);
    return versions;
  }
  Fd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) return versions;
  auto info = maps::query_map_info(fd.get());
  if (!info || info->type != BPF_MAP_TYPE_ARRAY || info->key_size != 4 || info->value_size != 4) {
    return versions;
  }
  for (uint32_t slot = 0; slot < SG_META_SLOTS && slot < info->max_entries; ++slot) {
    uint32_t value = 0;
    if (bpf_map_lookup_elem(fd.get(), &slot, &value) == 0) versions[slot] = value;
  }
  return versions;
}

// Entries a map holds now (arrays: every slot exists; ring buffers: none to count).
Result<uint64_t> count_entries(int fd, const maps::MapInfo &info) {
  if (info.type == BPF_MAP_TYPE_RINGBUF) return uint64_t{0};
  if (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY) {
    return uint64_t{info.max_entries};
  }
  std::vector<uint8_t> key(info.key_size), next(info.key_size);
  uint64_t count = 0;
  const void *previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, next.data()) == 0) {
    ++count;
    key.swap(next);
    previous = key.data();
  }
  if (errno != ENOENT) return errno_error("count the entries of " + info.name);
  return count;
}

bool per_cpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

}  // namespace

Result<uint64_t> count_pinned_entries(const std::string &path) {
  auto pinned = maps::MapHandle::open_pinned(path);
  if (!pinned) return pinned.error();
  return count_entries(pinned->fd(), pinned->info());
}

int layout_slot(std::string_view map_name) {
  for (const auto &layout : kLayouts) {
    if (map_name == layout.map) return layout.slot;
  }
  return -1;
}

uint32_t layout_version(std::string_view map_name) {
  for (const auto &layout : kLayouts) {
    if (map_name == layout.map) return layout.version;
  }
  return 0;
}

bool PinPlan::migrating(std::string_view name) const {
  for (const auto &migration : migrations) {
    if (migration.name == name) return true;
  }
  return false;
}
std::string PinPlan::final_path(std::string_view name) const {
  return pin_dir + "/" + std::string(name);
}
std::string PinPlan::staging_path(std::string_view name) const {
  return pin_dir + "/" + std::string(name) + "_next";
}

Result<PinPlan> check_pinned_maps(bpf_object *object, const std::string &pin_dir) {
  PinPlan plan;
  plan.pin_dir = pin_dir;
  const auto pinned_versions = pinned_layouts(pin_dir);
  bpf_map *map = nullptr;
  bpf_object__for_each_map(map, object) {
    if (bpf_map__pin_path(map) == nullptr) continue;  // not pinned (e.g. .rodata)
    const std::string name = bpf_map__name(map);
    // A staging pin left by a migration cut short: its map was never in use.
    if (::unlink(plan.staging_path(name).c_str()) != 0 && errno != ENOENT) {
      return errno_error("remove the stale staging pin " + plan.staging_path(name));
    }
    const std::string path = plan.final_path(name);
    if (!exists(path)) continue;  // not pinned yet: will be created
    auto pinned = maps::MapHandle::open_pinned(path);
    if (!pinned) return pinned.error();
    const maps::MapInfo &have = pinned->info();
    const int slot = layout_slot(name);
    const uint32_t have_layout = slot >= 0 ? pinned_versions[slot] : 0;
    const uint32_t want_layout = slot >= 0 ? layout_version(name) : 0;

    std::string why;
    auto note = [&](const std::string &what, uint64_t from, uint64_t to) {
      if (from == to) return;
      why += (why.empty() ? "" : ", ") + what + " " + std::to_string(from) + " -> " +
             std::to_string(to);
    };
    note("type", have.type, bpf_map__type(map));
    note("key size", have.key_size, bpf_map__key_size(map));
    note("value size", have.value_size, bpf_map__value_size(map));
    note("map_flags", have.map_flags, bpf_map__map_flags(map));
    note("layout", have_layout, want_layout);
    const bool same_layout = why.empty();
    note("max_entries", have.max_entries, bpf_map__max_entries(map));
    if (why.empty()) continue;  // exactly ours: reused

    MapMigration migration;
    migration.name = name;
    migration.why = why;
    // sg_owner_slots is never copied: its index is ifindex & (size - 1), so a copy into a map
    // of another size would put entries in slots nobody reads. It starts empty (every
    // program then asks the hash) and the reconcile fills it from the state.
    migration.copy_entries = same_layout && have.type != BPF_MAP_TYPE_RINGBUF &&
                             name != std::string_view(SG_MAP_OWNER_SLOTS);
    if (migration.copy_entries && bpf_map__max_entries(map) < have.max_entries) {
      auto live = count_entries(pinned->fd(), have);
      if (!live) return live.error();
      if (*live > bpf_map__max_entries(map)) {
        const char *key = config_key(name);
        return make_error(
            "pinned map " + name + " holds " + std::to_string(*live) + " entries, more than the " +
                std::to_string(bpf_map__max_entries(map)) + " of " +
                (key ? std::string(key) : "its new size") +
                ": shrinking below the live entry count would drop entries; "
                "the map and the programs attached to it are left as they are. "
                "Set " +
                (key ? std::string(key) : "the size") + " to at least " + std::to_string(*live) +
                " (it is " + std::to_string(have.max_entries) + " now)",
            ENOSPC);
      }
    }
    plan.migrations.push_back(std::move(migration));
  }
  return plan;
}

Status apply_pin_plan(bpf_object *object, const PinPlan &plan) {
  for (const auto &migration : plan.migrations) {
    bpf_map *map = bpf_object__find_map_by_name(object, migration.name.c_str());
    if (map == nullptr) return make_error(migration.name + ": not in the BPF object", ENOENT);
    if (int err = bpf_map__set_pin_path(map, plan.staging_path(migration.name).c_str()); err != 0) {
      return make_error(migration.name + ": set the staging pin path", -err);
    }
  }
  return {};
}

Result<std::vector<std::string>> copy_entries(bpf_object *loaded, const PinPlan &plan) {
  std::vector<std::string> copied;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return make_error("libbpf_num_possible_cpus", -cpus);
  for (const auto &migration : plan.migrations) {
    if (!migration.copy_entries) continue;
    const bpf_map *map = bpf_object__find_map_by_name(loaded, migration.name.c_str());
    if (map == nullptr) return make_error(migration.name + ": not in the BPF object", ENOENT);
    auto old = maps::MapHandle::open_pinned(plan.final_path(migration.name));
    if (!old) return old.error();
    const maps::MapInfo &info = old->info();
    const std::size_t value_bytes =
        per_cpu(info.type) ? ((info.value_size + 7) / 8 * 8) * static_cast<std::size_t>(cpus)
                           : info.value_size;
    std::vector<uint8_t> key(info.key_size), next(info.key_size), value(value_bytes);
    const void *previous = nullptr;
    uint64_t count = 0;
    while (bpf_map_get_next_key(old->fd(), previous, next.data()) == 0) {
      key.swap(next);
      previous = key.data();
      if (bpf_map_lookup_elem(old->fd(), key.data(), value.data()) != 0) {
        if (errno == ENOENT) continue;  // deleted meanwhile
        return errno_error(migration.name + ": read an entry to copy");
      }
      if (bpf_map_update_elem(bpf_map__fd(map), key.data(), value.data(), BPF_ANY) != 0) {
        return errno_error(migration.name + ": copy an entry into the new map");
      }
      ++count;
    }
    if (errno != ENOENT) return errno_error(migration.name + ": walk the old map");
    copied.push_back(migration.name + ": " + std::to_string(count) + " entries copied");
  }
  return copied;
}

Status commit_pin_plan(bpf_object *loaded, const PinPlan &plan) {
  for (const auto &migration : plan.migrations) {
    const std::string staging = plan.staging_path(migration.name);
    const std::string final_path = plan.final_path(migration.name);
    if (::rename(staging.c_str(), final_path.c_str()) != 0) {
      return errno_error("pin " + migration.name + ": rename " + staging + " over " + final_path);
    }
    bpf_map *map = bpf_object__find_map_by_name(loaded, migration.name.c_str());
    if (map != nullptr) (void)bpf_map__set_pin_path(map, final_path.c_str());
  }
  const bpf_map *meta = bpf_object__find_map_by_name(loaded, SG_MAP_META);
  if (meta == nullptr) return make_error(std::string(SG_MAP_META) + ": not in the BPF object");
  for (const auto &layout : kLayouts) {
    const uint32_t slot = static_cast<uint32_t>(layout.slot);
    if (bpf_map_update_elem(bpf_map__fd(meta), &slot, &layout.version, BPF_ANY) != 0) {
      return errno_error(std::string(SG_MAP_META) + ": record the layout of " + layout.map);
    }
  }
  return {};
}

}  // namespace sixguard
