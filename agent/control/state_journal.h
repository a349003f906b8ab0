// What a batch did to the registry, key by key, so that a batch is tried on the live State
// rather than on a copy of it: a refused batch is undone from the journal, and an accepted
// one is persisted and written to the maps for the keys the journal names only, at a cost
// proportional to the batch and not to the state (the cascade of app.destroyed included).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/control/state.h"

namespace sixguard {

// One mutation: the record at key before and after it (nullopt: absent).
template <typename Key, typename Record>
struct KeyChange {
  Key key;
  std::optional<Record> before;
  std::optional<Record> after;
};

// A key's net change over a whole batch: its record before the first mutation and after the
// last. Keys whose record ends as it began are left out.
template <typename Key, typename Record>
using NetChanges = std::map<Key, std::pair<std::optional<Record>, std::optional<Record>>>;

template <typename Key, typename Record>
NetChanges<Key, Record> net_changes(const std::vector<KeyChange<Key, Record>> &changes) {
  NetChanges<Key, Record> net;
  for (const auto &change : changes) {
    const auto [it, first] = net.try_emplace(change.key, change.before, change.after);
    if (!first) it->second.second = change.after;
  }
  std::erase_if(net, [](const auto &entry) { return entry.second.first == entry.second.second; });
  return net;
}

// Mutations in the order they were made; each kind of record is independent of the others
// in State (own maps and indexes), so each list is undone or replayed on its own.
struct StateJournal {
  std::vector<KeyChange<uint32_t, NetworkRecord>> networks;
  std::vector<KeyChange<std::string, AppRecord>> apps;
  std::vector<KeyChange<std::string, MachineRecord>> machines;
  std::vector<KeyChange<Ipv6, FlycastRecord>> flycast;
  uint32_t next_app_id_before = 0;
  uint32_t next_app_id_after = 0;

  bool empty() const {
    return networks.empty() && apps.empty() && machines.empty() && flycast.empty() &&
           next_app_id_before == next_app_id_after;
  }
};

// The net effect of a batch: what state.db and the maps must follow.
struct StateDelta {
  NetChanges<uint32_t, NetworkRecord> networks;
  NetChanges<std::string, AppRecord> apps;
  NetChanges<std::string, MachineRecord> machines;
  NetChanges<Ipv6, FlycastRecord> flycast;
  std::optional<uint32_t> next_app_id;    // set: changed to this
  std::optional<SourceMark> source_mark;  // set: committed with the batch (etcd source)

  explicit StateDelta(const StateJournal &journal)
      : networks(net_changes(journal.networks)),
        apps(net_changes(journal.apps)),
        machines(net_changes(journal.machines)),
        flycast(net_changes(journal.flycast)) {
    if (journal.next_app_id_before != journal.next_app_id_after) {
      next_app_id = journal.next_app_id_after;
    }
  }
};

}  // namespace sixguard
