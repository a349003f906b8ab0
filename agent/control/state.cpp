#include "agent/control/state.h"

#include "agent/control/state_journal.h"

namespace sixguard {

namespace {
template <typename Map, typename Key>
const typename Map::mapped_type *find_in(const Map &map, const Key &key) {
  const auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

template <typename Record>
std::optional<Record> optional_of(const Record *record) {
  return record ? std::optional<Record>(*record) : std::nullopt;
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

const std::set<std::string> &State::machines_of_app(const std::string &app) const {
  static const std::set<std::string> kNone;
  const auto it = machines_by_app_.find(app);
  return it == machines_by_app_.end() ? kNone : it->second;
}

const std::set<Ipv6> &State::flycast_of_app(const std::string &app) const {
  static const std::set<Ipv6> kNone;
  const auto it = flycast_by_app_.find(app);
  return it == flycast_by_app_.end() ? kNone : it->second;
}

void State::put_network(const NetworkRecord &network) {
  if (journal_)
    journal_->networks.push_back({network.id, optional_of(network_by_id(network.id)), network});
  set_network(network.id, network);
}

void State::put_app(const AppRecord &app) {
  if (journal_) journal_->apps.push_back({app.name, optional_of(this->app(app.name)), app});
  set_app(app.name, app);
  if (app.app_id >= next_app_id_) next_app_id_ = app.app_id + 1;
}

void State::put_machine(const MachineRecord &machine) {
  if (journal_) {
    journal_->machines.push_back(
        {machine.machine, optional_of(this->machine(machine.machine)), machine});
  }
  set_machine(machine.machine, machine);
}

void State::erase_machine(const std::string &id) {
  const MachineRecord *existing = machine(id);
  if (!existing) return;
  if (journal_) journal_->machines.push_back({id, *existing, std::nullopt});
  set_machine(id, std::nullopt);
}

void State::put_flycast(const FlycastRecord &flycast) {
  if (journal_) {
    journal_->flycast.push_back(
        {flycast.address, optional_of(this->flycast(flycast.address)), flycast});
  }
  set_flycast(flycast.address, flycast);
}

void State::erase_flycast(const Ipv6 &address) {
  const FlycastRecord *existing = flycast(address);
  if (!existing) return;
  if (journal_) journal_->flycast.push_back({address, *existing, std::nullopt});
  set_flycast(address, std::nullopt);
}

void State::set_network(uint32_t id, const std::optional<NetworkRecord> &network) {
  if (const auto it = networks_.find(id); it != networks_.end()) {
    if (it->second.audit) --audit_networks_;
    network_ids_.erase({it->second.org, it->second.name});
    networks_.erase(it);
  }
  if (!network) return;
  networks_[id] = *network;
  network_ids_[{network->org, network->name}] = id;
  if (network->audit) ++audit_networks_;
}

void State::set_app(const std::string &name, const std::optional<AppRecord> &app) {
  if (const auto it = apps_.find(name); it != apps_.end()) {
    if (!it->second.destroyed) --live_apps_;
    apps_.erase(it);
  }
  if (!app) return;
  apps_[name] = *app;
  if (!app->destroyed) ++live_apps_;
}

void State::set_machine(const std::string &id, const std::optional<MachineRecord> &machine) {
  if (const auto it = machines_.find(id); it != machines_.end()) {
    const MachineRecord &old = it->second;
    machine_by_prefix_.erase(machine_prefix(old.address));
    machine_by_interface_.erase(old.interface_name);
    if (const auto of_app = machines_by_app_.find(old.app); of_app != machines_by_app_.end()) {
      of_app->second.erase(id);
      if (of_app->second.empty()) machines_by_app_.erase(of_app);
    }
    machines_.erase(it);
  }
  if (!machine) return;
  machines_[id] = *machine;
  machine_by_prefix_[machine_prefix(machine->address)] = id;
  machine_by_interface_[machine->interface_name] = id;
  machines_by_app_[machine->app].insert(id);
}

void State::set_flycast(const Ipv6 &address, const std::optional<FlycastRecord> &flycast) {
  if (const auto it = flycast_.find(address); it != flycast_.end()) {
    if (const auto of_app = flycast_by_app_.find(it->second.app); of_app != flycast_by_app_.end()) {
      of_app->second.erase(address);
      if (of_app->second.empty()) flycast_by_app_.erase(of_app);
    }
    flycast_.erase(it);
  }
  if (!flycast) return;
  flycast_[address] = *flycast;
  flycast_by_app_[flycast->app].insert(address);
}

void State::begin_journal(StateJournal &journal) {
  journal = StateJournal{};
  journal.next_app_id_before = journal.next_app_id_after = next_app_id_;
  journal_ = &journal;
}

void State::end_journal() {
  if (journal_) journal_->next_app_id_after = next_app_id_;
  journal_ = nullptr;
}

namespace {
// Sets every change's `before`, most recent first.
template <typename Change, typename Set>
void rewind(const std::vector<Change> &changes, Set set) {
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) set(it->key, it->before);
}
}  // namespace

void State::undo(const StateJournal &journal) {
  rewind(journal.networks,
         [this](const auto &key, const auto &record) { set_network(key, record); });
  rewind(journal.apps, [this](const auto &key, const auto &record) { set_app(key, record); });
  rewind(journal.machines,
         [this](const auto &key, const auto &record) { set_machine(key, record); });
  rewind(journal.flycast,
         [this](const auto &key, const auto &record) { set_flycast(key, record); });
  next_app_id_ = journal.next_app_id_before;
}

JournalMark State::journal_mark() const {
  if (!journal_) return JournalMark{.next_app_id = next_app_id_};
  return {journal_->networks.size(), journal_->apps.size(), journal_->machines.size(),
          journal_->flycast.size(), next_app_id_};
}

namespace {
// Sets the `before` of every change past `keep`, most recent first, and forgets them.
template <typename Change, typename Set>
void rewind_past(std::vector<Change> &changes, std::size_t keep, Set set) {
  while (changes.size() > keep) {
    set(changes.back().key, changes.back().before);
    changes.pop_back();
  }
}
}  // namespace

void State::undo_to_mark(const JournalMark &mark) {
  if (!journal_) return;
  rewind_past(journal_->networks, mark.networks,
              [this](const auto &key, const auto &record) { set_network(key, record); });
  rewind_past(journal_->apps, mark.apps,
              [this](const auto &key, const auto &record) { set_app(key, record); });
  rewind_past(journal_->machines, mark.machines,
              [this](const auto &key, const auto &record) { set_machine(key, record); });
  rewind_past(journal_->flycast, mark.flycast,
              [this](const auto &key, const auto &record) { set_flycast(key, record); });
  next_app_id_ = mark.next_app_id;
}

}  // namespace sixguard
