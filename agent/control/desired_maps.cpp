#include "agent/control/desired_maps.h"

#include <cstring>
#include <vector>

namespace sixguard {

namespace {

bool overlaps_6pn(const Ipv6Prefix &prefix) {
  if (prefix.length >= 16) return is_6pn(prefix.address);
  Ipv6 fdaa;
  fdaa.octets[0] = SG_6PN_OCTET0;
  fdaa.octets[1] = SG_6PN_OCTET1;
  return prefix.contains(fdaa);
}

struct WriteTally {
  WriteSummary summary;
  std::size_t failures = 0;
  std::optional<Error> first;

  void record(const Status &status, bool is_delete) {
    if (status) {
      ++(is_delete ? summary.deletes : summary.puts);
      return;
    }
    if (!first) first = status.error();
    ++failures;
  }
};

// Deletes keys of current missing from desired.
template <typename Map, typename Delete>
void delete_missing(const Map &current, const Map &desired, WriteTally &tally, Delete erase) {
  for (const auto &[key, value] : current) {
    if (!desired.contains(key)) tally.record(erase(key), true);
  }
}

// Puts what desired has that differs from current.
template <typename Map, typename Same, typename Put>
void put_differing(const Map &current, const Map &desired, WriteTally &tally, Same same, Put put) {
  for (const auto &[key, value] : desired) {
    const auto it = current.find(key);
    if (it == current.end() || !same(it->second, value)) tally.record(put(key, value), false);
  }
}

// Deletes keys of current missing from desired, then puts what desired has that differs.
template <typename Map, typename Same, typename Put, typename Delete>
void write_map(const Map &current, const Map &desired, WriteTally &tally, Same same, Put put,
               Delete erase) {
  delete_missing(current, desired, tally, erase);
  put_differing(current, desired, tally, same, put);
}

// sg_machines with sg_owner_slots behind it (see write_difference).
void write_machines(MapBackend &maps, const MapImage &current, const MapImage &desired,
                    WriteTally &tally) {
  const uint32_t count = maps.owner_slot_count();
  std::set<uint32_t> occupied;  // slot indexes holding an entry once this is done
  for (const auto &[index, slot] : current.owner_slots) {
    if (owner_slot_wrong(index, slot, count, desired.machines)) {
      tally.record(maps.clear_owner_slot_index(index), true);
    } else {
      occupied.insert(index);
    }
  }
  for (const auto &[ifindex, value] : current.machines) {
    if (desired.machines.contains(ifindex)) continue;
    // The slot first: were the hash entry gone while the slot still named the interface, the
    // programs would keep the removed owner. A slot that could not be cleared keeps its hash
    // entry (the repair retries both).
    const Status cleared = maps.clear_owner_slot(ifindex);
    if (!cleared) {
      tally.record(cleared, true);
      continue;
    }
    occupied.erase(owner_slot_index(ifindex, count));
    tally.record(maps.delete_machine(ifindex), true);
  }
  std::set<uint32_t> right;  // ifindexes whose hash entry is what desired wants
  for (const auto &[ifindex, value] : desired.machines) {
    const auto it = current.machines.find(ifindex);
    if (it != current.machines.end() && same_machine(it->second, value)) {
      right.insert(ifindex);
      continue;
    }
    const Status put = maps.put_machine(ifindex, value);
    tally.record(put, false);
    if (!put) continue;
    // The hash first, the slot after: until then the programs keep the previous owner (or
    // the hash's answer), as if the write had come a moment later.
    tally.record(maps.put_owner_slot(ifindex, value), false);
    occupied.insert(owner_slot_index(ifindex, count));
  }
  if (current.owner_slot_count == 0) return;  // slots not read: no fill
  for (const uint32_t ifindex : right) {
    const uint32_t index = owner_slot_index(ifindex, count);
    if (occupied.contains(index)) continue;  // its own entry, or a colliding interface's
    tally.record(maps.put_owner_slot(ifindex, desired.machines.at(ifindex)), false);
    occupied.insert(index);
  }
}

}  // namespace

bool owner_slot_wrong(uint32_t index, const sg_owner_slot &slot, uint32_t slot_count,
                      const std::map<uint32_t, sg_machine> &machines) {
  if (slot.seq & 1u) return true;
  if (slot.ifindex == 0) return false;
  if (slot_count == 0 || owner_slot_index(slot.ifindex, slot_count) != index) return true;
  const auto it = machines.find(slot.ifindex);
  return it == machines.end() || !same_machine(it->second, slot.machine);
}

bool same_machine(const sg_machine &a, const sg_machine &b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}
bool same_flycast(const sg_flycast &a, const sg_flycast &b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}
bool same_config(const sg_config &a, const sg_config &b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

sg_config desired_config(const ControlConfig &config) {
  sg_config out{};
  if (config.global_audit) out.flags |= SG_CFG_AUDIT;
  std::set<uint32_t> networks;
  bool any_network = false;
  for (const auto &prefix : config.infra_prefixes) {
    if (!overlaps_6pn(prefix)) continue;  // not a 6PN prefix: never compared with 6PN ids
    if (prefix.length < 48) {
      // Spans more than one network id. The agent's configuration refuses such prefixes
      // (and prefixes outside fdaa::/16), so only a ControlConfig built elsewhere gets here;
      // kept so that such a caller still gets a correct, if slower, sg_config.
      any_network = true;
    } else {
      networks.insert(network_id(prefix.address));
    }
  }
  if (networks.size() > SG_CFG_INFRA_NETS) any_network = true;
  if (any_network) {
    // Every 6PN address is looked up in sg_infra; the list is not consulted.
    out.flags |= SG_CFG_INFRA_ANY_NET;
  } else {
    for (const uint32_t id : networks) out.infra_nets[out.infra_net_count++] = id;
  }
  out.events_per_sec = config.events_per_sec;
  out.events_burst = config.events_burst;
  // Validated by the config (at most SG_CFG_ENCAP_PORTS); the bound is kept here too so that a
  // longer list can never write past the array.
  for (const uint16_t port : config.encap_udp_ports) {
    if (out.encap_udp_port_count == SG_CFG_ENCAP_PORTS) break;
    out.encap_udp_ports[out.encap_udp_port_count++] = port;
  }
  return out;
}

std::optional<sg_machine> desired_machine(const MachineRecord &machine, const AppRecord *app,
                                          bool flycast_target) {
  if (!app) return std::nullopt;  // cannot happen: app.destroyed removes its machines
  sg_machine value{};
  value.prefix = machine_prefix(machine.address).raw();
  value.app_id = app->app_id;
  value.network_id = network_id(machine.address);
  value.flags = flycast_target ? SG_MACHINE_FLYCAST_TARGET : 0;
  return value;
}

std::optional<sg_flycast> desired_flycast(const AppRecord *app) {
  if (!app) return std::nullopt;
  return sg_flycast{app->app_id, app->network_id};
}

std::optional<uint32_t> desired_net_flags(const NetworkRecord &network) {
  if (!network.audit) return std::nullopt;
  return SG_NET_AUDIT;
}

sg_config desired_config(const ControlConfig &config, bool any_audit_network) {
  sg_config out = desired_config(config);
  if (any_audit_network) out.flags |= SG_CFG_NET_AUDIT_ANY;
  return out;
}

MapImage desired_image(const State &state, const ControlConfig &config,
                       const IfindexLookup &ifindex_of) {
  MapImage image;
  for (const auto &[id, machine] : state.machines()) {
    const auto value =
        desired_machine(machine, state.live_app(machine.app), state.is_flycast_target(machine.app));
    if (!value) continue;
    const auto ifindex = ifindex_of(machine.interface_name);
    if (!ifindex || *ifindex == 0) continue;
    // Two names resolving to one ifindex only happens with a stale resolver answer; the
    // first machine (by id) keeps it until the daemon reports the change.
    image.machines.emplace(*ifindex, *value);
  }
  for (const auto &[address, flycast] : state.flycast()) {
    if (const auto value = desired_flycast(state.live_app(flycast.app))) {
      image.flycast.emplace(address, *value);
    }
  }
  for (const auto &prefix : config.infra_prefixes) image.infra.insert(prefix);
  for (const auto &[id, network] : state.networks()) {
    if (const auto flags = desired_net_flags(network)) image.net_flags.emplace(id, *flags);
  }
  image.config = desired_config(config, state.audit_network_count() > 0);
  return image;
}

namespace {
// One map's contents into its part of the image; false (error set) if it could not be read.
template <typename T>
bool take(Result<T> read, T &part, std::optional<Error> &error) {
  if (!read) {
    error = read.error();
    return false;
  }
  part = std::move(*read);
  return true;
}
}  // namespace

Result<MapImage> read_image(MapBackend &maps) {
  MapImage image;
  std::optional<Error> error;
  // Stops at the first map that cannot be read.
  if (take(maps.dump_machines(), image.machines, error) &&
      take(maps.dump_flycast(), image.flycast, error) &&
      take(maps.dump_infra(), image.infra, error) &&
      take(maps.dump_net_flags(), image.net_flags, error) &&
      take(maps.read_config(), image.config, error) &&
      take(maps.dump_owner_slots(), image.owner_slots, error)) {
    image.owner_slot_count = maps.owner_slot_count();
    return image;
  }
  return *error;
}

Result<WriteSummary> write_difference(MapBackend &maps, const MapImage &current,
                                      const MapImage &desired) {
  WriteTally tally;
  // sg_flycast around sg_machines: see SG_MACHINE_FLYCAST_TARGET.
  delete_missing(current.flycast, desired.flycast, tally,
                 [&](const Ipv6 &key) { return maps.delete_flycast(key); });
  write_machines(maps, current, desired, tally);
  put_differing(
      current.flycast, desired.flycast, tally, same_flycast,
      [&](const Ipv6 &key, const sg_flycast &value) { return maps.put_flycast(key, value); });
  write_map(
      current.net_flags, desired.net_flags, tally, [](uint32_t a, uint32_t b) { return a == b; },
      [&](uint32_t key, uint32_t value) { return maps.put_net_flags(key, value); },
      [&](uint32_t key) { return maps.delete_net_flags(key); });
  for (const auto &prefix : current.infra) {
    if (!desired.infra.contains(prefix)) tally.record(maps.delete_infra(prefix), true);
  }
  for (const auto &prefix : desired.infra) {
    if (!current.infra.contains(prefix)) tally.record(maps.put_infra(prefix), false);
  }
  // The config last: an infra network listed before its prefix is in sg_infra (or the other
  // way round) only makes lookups miss, which fails closed.
  if (!same_config(current.config, desired.config)) {
    tally.record(maps.write_config(desired.config), false);
  }
  if (tally.first) {
    return make_error(
        std::to_string(tally.failures) + " map write(s) failed, first: " + tally.first->describe(),
        tally.first->code);
  }
  return tally.summary;
}

}  // namespace sixguard
