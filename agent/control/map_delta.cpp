#include "agent/control/map_delta.h"

#include <map>
#include <set>
#include <vector>

namespace sixguard {

namespace {

// Per app a batch gave or took Flycast addresses: how many it has after minus before.
std::map<std::string, long> flycast_gained(const StateDelta &delta) {
  std::map<std::string, long> gained;
  for (const auto &[address, change] : delta.flycast) {
    if (change.first) --gained[change.first->app];
    if (change.second) ++gained[change.second->app];
  }
  return gained;
}

// The registry as it was before a batch, seen through the batch's net changes on top of the
// registry after it: the lookups image_of needs, without undoing the batch. Keys the batch
// did not change read through to the registry as it is now.
class StateBefore {
 public:
  // after and delta must outlive the view.
  StateBefore(const State &after, const StateDelta &delta)
      : after_(after),
        delta_(delta),
        flycast_gained_(flycast_gained(delta)),
        audit_networks_(after.audit_network_count()) {
    for (const auto &[id, change] : delta.machines) {
      if (change.first) owners_.emplace(change.first->interface_name, &*change.first);
    }
    for (const auto &[id, change] : delta.networks) {
      if (change.second && change.second->audit) --audit_networks_;
      if (change.first && change.first->audit) ++audit_networks_;
    }
  }

  const MachineRecord *machine_by_interface(const std::string &name) const {
    if (const auto it = owners_.find(name); it != owners_.end()) return it->second;
    // Owned now by a machine the batch did not change: owned by it before too. A changed
    // machine that owned the name before is in owners_.
    const MachineRecord *now = after_.machine_by_interface(name);
    if (!now || delta_.machines.contains(now->machine)) return nullptr;
    return now;
  }

  const AppRecord *live_app(const std::string &name) const {
    if (const auto record = changed(delta_.apps, name)) {
      return *record && !(*record)->destroyed ? *record : nullptr;
    }
    return after_.live_app(name);
  }

  const FlycastRecord *flycast(const Ipv6 &address) const {
    if (const auto record = changed(delta_.flycast, address)) return *record;
    return after_.flycast(address);
  }

  bool is_flycast_target(const std::string &app) const {
    const auto it = flycast_gained_.find(app);
    const long before = static_cast<long>(after_.flycast_of_app(app).size()) -
                        (it == flycast_gained_.end() ? 0 : it->second);
    return before > 0;
  }

  const NetworkRecord *network_by_id(uint32_t id) const {
    if (const auto record = changed(delta_.networks, id)) return *record;
    return after_.network_by_id(id);
  }

  std::size_t audit_network_count() const { return audit_networks_; }

 private:
  // The record before the batch at a key it changed (nullptr: absent), or no answer.
  template <typename Changes, typename Key>
  static std::optional<const typename Changes::mapped_type::first_type::value_type *> changed(
      const Changes &changes, const Key &key) {
    const auto it = changes.find(key);
    if (it == changes.end()) return std::nullopt;
    return it->second.first ? &*it->second.first : nullptr;
  }

  const State &after_;
  const StateDelta &delta_;
  std::map<std::string, const MachineRecord *> owners_;  // interfaces of changed machines
  // Per app the batch changed: its Flycast addresses after the batch minus before.
  std::map<std::string, long> flycast_gained_;
  std::size_t audit_networks_ = 0;
};

// The full image gives an ifindex to the first machine, by id, whose interface resolved to
// it; every name that resolved there is in the cache's reverse index.
template <typename View>
std::optional<sg_machine> machine_at(const View &state, const IfindexCache &interfaces,
                                     uint32_t ifindex) {
  const MachineRecord *first = nullptr;
  std::optional<sg_machine> value;
  for (const auto &name : interfaces.names_at(ifindex)) {
    const MachineRecord *machine = state.machine_by_interface(name);
    if (!machine || (first && first->machine < machine->machine)) continue;
    if (auto candidate = desired_machine(*machine, state.live_app(machine->app),
                                         state.is_flycast_target(machine->app))) {
      first = machine;
      value = candidate;
    }
  }
  return value;
}

// The entries of desired_image(state) at keys, with the interfaces as cached. It equals the
// full image there provided every machine's interface name is in the cache (the full image
// resolves the others; they must be resolved first). Computed on the registry before and
// after a change, two such images hold everything write_difference needs, at a cost that
// follows the change and not the size of the registry. View: State, or StateBefore.
template <typename View>
MapImage image_of(const View &state, const ControlConfig &config, const IfindexCache &interfaces,
                  const MapKeys &keys) {
  MapImage image;
  for (const uint32_t ifindex : keys.ifindexes) {
    if (const auto value = machine_at(state, interfaces, ifindex)) {
      image.machines.emplace(ifindex, *value);
    }
  }
  for (const Ipv6 &address : keys.flycast) {
    const FlycastRecord *flycast = state.flycast(address);
    if (!flycast) continue;
    if (const auto value = desired_flycast(state.live_app(flycast->app))) {
      image.flycast.emplace(address, *value);
    }
  }
  for (const uint32_t id : keys.networks) {
    const NetworkRecord *network = state.network_by_id(id);
    if (!network) continue;
    if (const auto flags = desired_net_flags(*network)) image.net_flags.emplace(id, *flags);
  }
  // Left zeroed when not asked for: both sides of the difference then agree and nothing is
  // written.
  if (keys.config) image.config = desired_config(config, state.audit_network_count() > 0);
  return image;
}

Status written(const Result<WriteSummary> &summary) {
  if (!summary) return summary.error();
  return {};
}

}  // namespace

MapDelta::MapDelta(const ControlConfig &config, MapBackend &maps, InterfaceResolver &resolver)
    : config_(config), maps_(maps), resolver_(resolver) {}

std::optional<uint32_t> MapDelta::resolve(const std::string &name) {
  if (const auto cached = interfaces_.find(name)) return *cached;
  auto ifindex = resolver_.ifindex(name);
  if (ifindex && *ifindex == 0) ifindex.reset();
  interfaces_.set(name, ifindex);
  return ifindex;
}

MapImage MapDelta::image(const State &state) {
  return desired_image(state, config_, [this](const std::string &name) { return resolve(name); });
}

MapImage MapDelta::image_at(const State &state, const MapKeys &keys) const {
  return image_of(state, config_, interfaces_, keys);
}

Status MapDelta::reconcile(const State &state) {
  interfaces_.clear();
  auto current = read_image(maps_);
  if (!current) return make_error("reconcile: reading the maps: " + current.error().describe());
  auto summary = write_difference(maps_, *current, image(state));
  if (!summary) return make_error("reconcile: " + summary.error().message, summary.error().code);
  return {};
}

// After a failed write the maps may differ from any image: read them and write everything
// that differs from the image of the state.
Status MapDelta::repair(const State &state) {
  auto current = read_image(maps_);
  std::vector<std::string> unused;
  for (const auto &[name, ifindex] : interfaces_.entries()) {
    if (!state.machine_by_interface(name)) unused.push_back(name);
  }
  for (const auto &name : unused) interfaces_.erase(name);
  if (!current) return make_error("reading the maps: " + current.error().describe());
  return written(write_difference(maps_, *current, image(state)));
}

Status MapDelta::write_batch(const State &after, const StateDelta &delta) {
  // The keys whose desired entries the batch may have changed. An entry depends on its own
  // record, its app's record and (sg_machines) the interfaces cached for its ifindex; the
  // machines and Flycast addresses an app lost are in the delta themselves.
  MapKeys keys;
  std::set<std::string> names;  // the interfaces of the machines touched, before and after
  for (const auto &[id, change] : delta.machines) {
    if (change.first) names.insert(change.first->interface_name);
    if (change.second) names.insert(change.second->interface_name);
  }
  // A machine's entry also depends on whether its app is a Flycast target
  // (SG_MACHINE_FLYCAST_TARGET): the machines of an app that gained its first address or lost
  // its last have their entries recomputed. Only those: an app whose count moved and stayed
  // above zero keeps its flag, and recomputing its machines anyway made a batch of Flycast
  // events cost the size of their apps (99k allocations ran at 6k events/s, not 84k).
  for (const auto &[address, change] : delta.flycast) keys.flycast.insert(address);
  for (const auto &[app, gained] : flycast_gained(delta)) {
    const long now = static_cast<long>(after.flycast_of_app(app).size());
    if ((now > 0) == (now - gained > 0)) continue;
    for (const auto &id : after.machines_of_app(app)) {
      names.insert(after.machine(id)->interface_name);
    }
  }
  for (const auto &[name, change] : delta.apps) {
    for (const auto &id : after.machines_of_app(name)) {
      names.insert(after.machine(id)->interface_name);
    }
    for (const auto &address : after.flycast_of_app(name)) keys.flycast.insert(address);
  }
  for (const auto &[id, change] : delta.networks) keys.networks.insert(id);
  keys.config = !delta.networks.empty();  // SG_CFG_NET_AUDIT_ANY follows the audit networks
  // New names are resolved now, so that both sides see the same interfaces; the maps hold
  // the image of the state before with the names cached before, unchanged since. The
  // state before is seen through the delta (StateBefore), not restored.
  machines_recomputed_ += names.size();
  for (const auto &name : names) {
    if (const auto ifindex = resolve(name)) keys.ifindexes.insert(*ifindex);
  }

  const MapImage before = image_of(StateBefore(after, delta), config_, interfaces_, keys);
  const MapImage now = image_of(after, config_, interfaces_, keys);
  for (const auto &name : names) {
    if (!after.machine_by_interface(name)) interfaces_.erase(name);
  }
  return written(write_difference(maps_, before, now));
}

Status MapDelta::write_interface(const State &state, const std::string &name,
                                 std::optional<uint32_t> ifindex) {
  // Only the ifindexes the name leaves and takes can change their entries.
  MapKeys keys;
  if (const auto old = resolve(name)) keys.ifindexes.insert(*old);
  if (ifindex) keys.ifindexes.insert(*ifindex);
  const MapImage before = image_at(state, keys);
  interfaces_.set(name, ifindex);
  const MapImage after = image_at(state, keys);
  return written(write_difference(maps_, before, after));
}

}  // namespace sixguard
