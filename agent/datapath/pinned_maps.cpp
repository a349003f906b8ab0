#include "agent/datapath/pinned_maps.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <utility>

namespace sixguard {
namespace {

// One typed view: get the handle by name, then let the view check type and sizes.
template <typename View, typename Get>
Result<View> view(Get &get, const char *name) {
  auto handle = get(name);
  if (!handle) return handle.error();
  return View::open(std::move(*handle));
}

template <typename Get>
Result<PinnedMaps> assemble(Get &&get) {
  auto machines = view<maps::HashMap<uint32_t, sg_machine>>(get, SG_MAP_MACHINES);
  if (!machines) return machines.error();
  auto flycast = view<maps::HashMap<sg_in6, sg_flycast>>(get, SG_MAP_FLYCAST);
  if (!flycast) return flycast.error();
  auto infra = view<maps::LpmTrie<uint32_t>>(get, SG_MAP_INFRA);
  if (!infra) return infra.error();
  auto net_flags = view<maps::HashMap<uint32_t, uint32_t>>(get, SG_MAP_NET_FLAGS);
  if (!net_flags) return net_flags.error();
  auto config = view<maps::ArrayMap<sg_config>>(get, SG_MAP_CONFIG);
  if (!config) return config.error();
  auto counters = view<maps::PerCpuArray<sg_counter>>(get, SG_MAP_COUNTERS);
  if (!counters) return counters.error();
  auto event_stats = view<maps::PerCpuArray<uint64_t>>(get, SG_MAP_EVENT_STATS);
  if (!event_stats) return event_stats.error();
  auto events = get(SG_MAP_EVENTS);
  if (!events) return events.error();
  if (events->info().type != BPF_MAP_TYPE_RINGBUF) {
    return make_error(std::string(SG_MAP_EVENTS) + ": is not a ring buffer", EINVAL);
  }
  auto owner_slots = view<maps::OwnerSlots>(get, SG_MAP_OWNER_SLOTS);
  if (!owner_slots) return owner_slots.error();
  return PinnedMaps{std::move(*machines),    std::move(*flycast), std::move(*infra),
                    std::move(*net_flags),   std::move(*config),  std::move(*counters),
                    std::move(*event_stats), std::move(*events),  std::move(*owner_slots)};
}

}  // namespace

Result<PinnedMaps> PinnedMaps::from_object(const struct bpf_object *object) {
  return assemble([&](const char *name) -> Result<maps::MapHandle> {
    const bpf_map *map = bpf_object__find_map_by_name(object, name);
    if (map == nullptr) return make_error(std::string(name) + ": not in the BPF object", ENOENT);
    return maps::MapHandle::from_bpf_map(map);
  });
}

Result<PinnedMaps> PinnedMaps::open(const std::string &pin_dir) {
  return assemble(
      [&](const char *name) { return maps::MapHandle::open_pinned(pin_dir + "/" + name); });
}

}  // namespace sixguard
