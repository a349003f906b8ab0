#include "agent/control/partial_image.h"

namespace sixguard {

namespace {

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

// View: State, or StateBefore.
template <typename View>
MapImage partial_image_of(const View &state, const ControlConfig &config,
                          const IfindexCache &interfaces, const MapKeys &keys) {
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

}  // namespace

MapImage partial_image(const State &state, const ControlConfig &config,
                       const IfindexCache &interfaces, const MapKeys &keys) {
  return partial_image_of(state, config, interfaces, keys);
}

MapImage partial_image(const StateBefore &state, const ControlConfig &config,
                       const IfindexCache &interfaces, const MapKeys &keys) {
  return partial_image_of(state, config, interfaces, keys);
}

}  // namespace sixguard
