#include "agent/control/state_before.h"

namespace sixguard {

namespace {
// The record before the batch at a key it changed (nullptr: absent), or no answer.
template <typename Changes, typename Key>
std::optional<const typename Changes::mapped_type::first_type::value_type *> changed(
    const Changes &changes, const Key &key) {
  const auto it = changes.find(key);
  if (it == changes.end()) return std::nullopt;
  return it->second.first ? &*it->second.first : nullptr;
}
}  // namespace

StateBefore::StateBefore(const State &after, const StateDelta &delta)
    : after_(after), delta_(delta), audit_networks_(after.audit_network_count()) {
  for (const auto &[id, change] : delta.machines) {
    if (change.first) owners_.emplace(change.first->interface_name, &*change.first);
  }
  for (const auto &[address, change] : delta.flycast) {
    if (change.second) --flycast_added_back_[change.second->app];
    if (change.first) ++flycast_added_back_[change.first->app];
  }
  for (const auto &[id, change] : delta.networks) {
    if (change.second && change.second->audit) --audit_networks_;
    if (change.first && change.first->audit) ++audit_networks_;
  }
}

const MachineRecord *StateBefore::machine_by_interface(const std::string &name) const {
  if (const auto it = owners_.find(name); it != owners_.end()) return it->second;
  // Owned now by a machine the batch did not change: owned by it before too. A changed
  // machine that owned the name before is in owners_.
  const MachineRecord *now = after_.machine_by_interface(name);
  if (!now || delta_.machines.contains(now->machine)) return nullptr;
  return now;
}

const AppRecord *StateBefore::live_app(const std::string &name) const {
  if (const auto record = changed(delta_.apps, name)) {
    return *record && !(*record)->destroyed ? *record : nullptr;
  }
  return after_.live_app(name);
}

const FlycastRecord *StateBefore::flycast(const Ipv6 &address) const {
  if (const auto record = changed(delta_.flycast, address)) return *record;
  return after_.flycast(address);
}

bool StateBefore::is_flycast_target(const std::string &app) const {
  const auto it = flycast_added_back_.find(app);
  const long before = static_cast<long>(after_.flycast_of_app(app).size()) +
                      (it == flycast_added_back_.end() ? 0 : it->second);
  return before > 0;
}

const NetworkRecord *StateBefore::network_by_id(uint32_t id) const {
  if (const auto record = changed(delta_.networks, id)) return *record;
  return after_.network_by_id(id);
}

}  // namespace sixguard
