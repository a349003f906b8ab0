#include "agent/control/map_drift.h"

#include <cstring>
#include <set>

namespace sixguard {

namespace {

std::string describe(const sg_machine &value) {
  return "prefix " + Ipv6::from(value.prefix).str() + "/112 app_id " +
         std::to_string(value.app_id) + " network_id " + format_network_id(value.network_id);
}

std::string describe(const sg_flycast &value) {
  return "target_app_id " + std::to_string(value.target_app_id) + " target_network_id " +
         format_network_id(value.target_network_id);
}

std::string describe(uint32_t net_flags) {
  return "flags " + std::to_string(net_flags);
}

std::string key_text(uint32_t ifindex, const sg_machine &) {
  return "ifindex " + std::to_string(ifindex);
}
std::string key_text(const Ipv6 &address, const sg_flycast &) {
  return address.str();
}
std::string key_text(uint32_t network_id, uint32_t) {
  return "network " + format_network_id(network_id);
}

// One map: keys held but not wanted, wanted but not held, and held with another value.
// Both maps are ordered by key, so one merge pass does it.
template <typename Map, typename Same>
void compare_map(const Map &held, const Map &wanted, std::string_view map, std::string_view label,
                 Same same, Map &held_out, Map &wanted_out, std::vector<MapDifference> &out) {
  auto h = held.begin();
  auto w = wanted.begin();
  const auto comes_before = held.key_comp();
  while (h != held.end() || w != wanted.end()) {
    if (w == wanted.end() || (h != held.end() && comes_before(h->first, w->first))) {
      out.push_back({map, label, DriftKind::kExtra, key_text(h->first, h->second),
                     "held " + describe(h->second) + ", wanted none"});
      held_out.emplace(h->first, h->second);
      ++h;
    } else if (h == held.end() || comes_before(w->first, h->first)) {
      out.push_back({map, label, DriftKind::kMissing, key_text(w->first, w->second),
                     "held none, wanted " + describe(w->second)});
      wanted_out.emplace(w->first, w->second);
      ++w;
    } else {
      if (!same(h->second, w->second)) {
        out.push_back({map, label, DriftKind::kDifferent, key_text(h->first, h->second),
                       "held " + describe(h->second) + ", wanted " + describe(w->second)});
        held_out.emplace(h->first, h->second);
        wanted_out.emplace(w->first, w->second);
      }
      ++h;
      ++w;
    }
  }
}

}  // namespace

std::string_view drift_kind_name(DriftKind kind) {
  // In DriftKind's order.
  static constexpr std::string_view kNames[] = {"missing", "extra", "different"};
  const auto index = static_cast<std::size_t>(kind);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

MapDrift compare_maps(const MapImage &held, const MapImage &wanted) {
  MapDrift drift;
  compare_map(held.machines, wanted.machines, SG_MAP_MACHINES, kDriftMapLabels[0], same_machine,
              drift.held.machines, drift.wanted.machines, drift.differences);
  compare_map(held.flycast, wanted.flycast, SG_MAP_FLYCAST, kDriftMapLabels[1], same_flycast,
              drift.held.flycast, drift.wanted.flycast, drift.differences);
  for (const auto &prefix : held.infra) {
    if (wanted.infra.contains(prefix)) continue;
    drift.differences.push_back(
        {SG_MAP_INFRA, kDriftMapLabels[2], DriftKind::kExtra, prefix.str(), "held, wanted none"});
    drift.held.infra.insert(prefix);
  }
  for (const auto &prefix : wanted.infra) {
    if (held.infra.contains(prefix)) continue;
    drift.differences.push_back(
        {SG_MAP_INFRA, kDriftMapLabels[2], DriftKind::kMissing, prefix.str(), "held none, wanted"});
    drift.wanted.infra.insert(prefix);
  }
  compare_map(
      held.net_flags, wanted.net_flags, SG_MAP_NET_FLAGS, kDriftMapLabels[3],
      [](uint32_t a, uint32_t b) { return a == b; }, drift.held.net_flags, drift.wanted.net_flags,
      drift.differences);
  // sg_owner_slots: a slot is wrong when it contradicts the machines wanted (never when it is
  // empty: that only costs the hash lookup). Wanted has no slots; the repair clears the
  // slots held here (write_difference).
  for (const auto &[index, slot] : held.owner_slots) {
    if (!owner_slot_wrong(index, slot, held.owner_slot_count, wanted.machines)) continue;
    const bool torn = slot.seq & 1u;
    const auto it = wanted.machines.find(slot.ifindex);
    const bool misplaced = !torn && owner_slot_index(slot.ifindex, held.owner_slot_count) != index;
    std::string detail = "slot " + std::to_string(index) + ": ";
    if (torn) {
      detail += "left mid-write (seq " + std::to_string(slot.seq) + ")";
    } else if (misplaced) {
      detail += "holds ifindex " + std::to_string(slot.ifindex) + ", which indexes another slot";
    } else if (it == wanted.machines.end()) {
      detail += "held " + describe(slot.machine) + ", wanted none";
    } else {
      detail += "held " + describe(slot.machine) + ", wanted " + describe(it->second);
    }
    drift.differences.push_back({SG_MAP_OWNER_SLOTS, kDriftMapLabels[5],
                                 torn || (!misplaced && it != wanted.machines.end())
                                     ? DriftKind::kDifferent
                                     : DriftKind::kExtra,
                                 "ifindex " + std::to_string(slot.ifindex), detail});
    drift.held.owner_slots.emplace(index, slot);
  }
  // sg_config is one element, always present: only ever "different". Left equal in both
  // partial images otherwise, so that the repair does not write it.
  drift.held.config = held.config;
  drift.wanted.config = held.config;
  if (!same_config(held.config, wanted.config)) {
    drift.differences.push_back({SG_MAP_CONFIG, kDriftMapLabels[4], DriftKind::kDifferent, "0",
                                 "held flags " + std::to_string(held.config.flags) +
                                     ", wanted flags " + std::to_string(wanted.config.flags) +
                                     " (or other fields)"});
    drift.wanted.config = wanted.config;
  }
  return drift;
}

MapKeys keys_of(const MapDrift &drift) {
  MapKeys keys;
  for (const auto *image : {&drift.held, &drift.wanted}) {
    for (const auto &[ifindex, value] : image->machines) keys.ifindexes.insert(ifindex);
    for (const auto &[address, value] : image->flycast) keys.flycast.insert(address);
    for (const auto &[id, value] : image->net_flags) keys.networks.insert(id);
    // A wrong slot is judged again against what the state wants for its ifindex.
    for (const auto &[index, slot] : image->owner_slots) {
      if (slot.ifindex != 0) keys.ifindexes.insert(slot.ifindex);
    }
  }
  keys.config = !same_config(drift.held.config, drift.wanted.config);
  return keys;
}

namespace {

template <typename Map, typename Same>
void keep_still_wanted(const Map &held, const Map &wanted, const Map &now, Same same, Map &held_out,
                       Map &wanted_out) {
  auto unchanged = [&](const auto &key) {
    const auto before = wanted.find(key);
    const auto after = now.find(key);
    if (before == wanted.end() || after == now.end()) {
      return before == wanted.end() && after == now.end();
    }
    return same(before->second, after->second);
  };
  for (const auto &[key, value] : held) {
    if (unchanged(key)) held_out.emplace(key, value);
  }
  for (const auto &[key, value] : wanted) {
    if (unchanged(key)) wanted_out.emplace(key, value);
  }
}

}  // namespace

Result<MapImage> read_at(MapBackend &maps, const MapDrift &drift) {
  MapImage image;
  const MapKeys keys = keys_of(drift);
  // The hash only at the machines' differences: a wrong slot's ifindex is in keys_of for
  // still_wanted's sake, but its hash entry was no difference (read here, it would look extra
  // against the wanted entries at the differing keys).
  std::set<uint32_t> machine_keys;
  for (const auto *image_of : {&drift.held, &drift.wanted}) {
    for (const auto &[ifindex, value] : image_of->machines) machine_keys.insert(ifindex);
  }
  for (const uint32_t ifindex : machine_keys) {
    auto value = maps.lookup_machine(ifindex);
    if (!value) return value.error();
    if (*value) image.machines.emplace(ifindex, **value);
  }
  for (const Ipv6 &address : keys.flycast) {
    auto value = maps.lookup_flycast(address);
    if (!value) return value.error();
    if (*value) image.flycast.emplace(address, **value);
  }
  for (const uint32_t id : keys.networks) {
    auto value = maps.lookup_net_flags(id);
    if (!value) return value.error();
    if (*value) image.net_flags.emplace(id, **value);
  }
  if (!drift.held.infra.empty() || !drift.wanted.infra.empty()) {
    auto infra = maps.dump_infra();  // a handful of prefixes
    if (!infra) return infra.error();
    for (const auto &prefix : *infra) {
      if (drift.held.infra.contains(prefix) || drift.wanted.infra.contains(prefix)) {
        image.infra.insert(prefix);
      }
    }
  }
  if (!drift.held.owner_slots.empty()) {
    auto slots = maps.dump_owner_slots();
    if (!slots) return slots.error();
    // Only a slot still holding what was found: one written since was written by the agent
    // under the lock, from the state (it is right, and the comparison at the drift's keys
    // could not judge it: the ifindex may have no difference there).
    for (const auto &[index, slot] : *slots) {
      const auto found = drift.held.owner_slots.find(index);
      if (found != drift.held.owner_slots.end() &&
          std::memcmp(&found->second, &slot, sizeof(slot)) == 0) {
        image.owner_slots.emplace(index, slot);
      }
    }
    image.owner_slot_count = maps.owner_slot_count();
  }
  image.config = drift.wanted.config;
  if (keys.config) {
    auto config = maps.read_config();
    if (!config) return config.error();
    image.config = *config;
  }
  return image;
}

MapDrift still_wanted(const MapDrift &drift, const MapImage &now) {
  MapImage held, wanted;
  keep_still_wanted(drift.held.machines, drift.wanted.machines, now.machines, same_machine,
                    held.machines, wanted.machines);
  keep_still_wanted(drift.held.flycast, drift.wanted.flycast, now.flycast, same_flycast,
                    held.flycast, wanted.flycast);
  keep_still_wanted(
      drift.held.net_flags, drift.wanted.net_flags, now.net_flags,
      [](uint32_t a, uint32_t b) { return a == b; }, held.net_flags, wanted.net_flags);
  // A slot found wrong stays to clear if the image now still contradicts it (clearing is
  // always safe: the programs then ask the hash). Its ifindex is in keys_of(drift), so now
  // holds what the state wants for it. The index is checked against the slot's own size.
  for (const auto &[index, slot] : drift.held.owner_slots) {
    const bool torn = slot.seq & 1u;
    // An init-capture, not [&]: clang before 16 cannot capture a structured binding.
    const bool contradicted = [&now, &found = slot, torn] {
      if (torn || found.ifindex == 0) return true;
      const auto it = now.machines.find(found.ifindex);
      return it == now.machines.end() || !same_machine(it->second, found.machine);
    }();
    if (contradicted) held.owner_slots.emplace(index, slot);
  }
  // The infrastructure prefixes come from the configuration, never from the state.
  held.infra = drift.held.infra;
  wanted.infra = drift.wanted.infra;
  held.config = drift.held.config;
  wanted.config = drift.held.config;
  if (!same_config(drift.held.config, drift.wanted.config) &&
      same_config(drift.wanted.config, now.config)) {
    wanted.config = drift.wanted.config;
  }
  // The differences among what is kept, named as compare_maps names them.
  MapDrift out = compare_maps(held, wanted);
  return out;
}

}  // namespace sixguard
