#include "state.h"

namespace sixguard {

namespace {
template <typename Map, typename Key>
const typename Map::mapped_type *find_in(const Map &map, const Key &key) {
  const auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}
}  // namespace

const NetworkRecord *State::network_by_id(uint32_t id) const {
  return find_in(networks_, id);
}

const NetworkRecord *State::network_by_name(const std::string &org, const std::string &name) const {
  const auto it = network_ids_.find({org, name});
  return it == network_ids_.end() ? nullptr : network_by_id(it->second);
}

const AppRecord *State::app(const std::string &name) const {
  return find_in(apps_, name);
}

const AppRecord *State::live_app(const std::string &name) const {
  const AppRecord *record = app(name);
  return record && !record->destroyed ? record : nullptr;
}

const MachineRecord *State::machine(const std::string &id) const {
  return find_in(machines_, id);
}

const MachineRecord *State::machine_by_prefix(const Ipv6 &prefix) const {
  const auto it = machine_by_prefix_.find(prefix);
  return it == machine_by_prefix_.end() ? nullptr : machine(it->second);
}

const MachineRecord *State::machine_by_interface(const std::string &name) const {
  const auto it = machine_by_interface_.find(name);
  return it == machine_by_interface_.end() ? nullptr : machine(it->second);
}

const FlycastRecord *State::flycast(const Ipv6 &address) const {
  return find_in(flycast_, address);
}

const FlycastRecord *State::flycast_in_prefix(const Ipv6 &prefix) const {
  // Addresses order by their octets, so those of one /112 are contiguous from its prefix.
  const auto it = flycast_.lower_bound(prefix);
  if (it == flycast_.end() || machine_prefix(it->first) != prefix) return nullptr;
  return &it->second;
}

void State::put_network(const NetworkRecord &network) {
  if (const auto it = networks_.find(network.id); it != networks_.end()) {
    if (it->second.audit) --audit_networks_;
    network_ids_.erase({it->second.org, it->second.name});
  }
  networks_[network.id] = network;
  network_ids_[{network.org, network.name}] = network.id;
  if (network.audit) ++audit_networks_;
}

void State::put_app(const AppRecord &app) {
  apps_[app.name] = app;
  if (app.app_id >= next_app_id_) next_app_id_ = app.app_id + 1;
}

void State::put_machine(const MachineRecord &machine) {
  erase_machine(machine.machine);
  machines_[machine.machine] = machine;
  machine_by_prefix_[machine_prefix(machine.address)] = machine.machine;
  machine_by_interface_[machine.interface_name] = machine.machine;
}

void State::erase_machine(const std::string &id) {
  const auto it = machines_.find(id);
  if (it == machines_.end()) return;
  machine_by_prefix_.erase(machine_prefix(it->second.address));
  machine_by_interface_.erase(it->second.interface_name);
  machines_.erase(it);
}

void State::put_flycast(const FlycastRecord &flycast) {
  flycast_[flycast.address] = flycast;
}

void State::erase_flycast(const Ipv6 &address) {
  flycast_.erase(address);
}

}  // namespace sixguard
