#include "agent/control/map_drift.h"

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
  for (const uint32_t ifindex : keys.ifindexes) {
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
