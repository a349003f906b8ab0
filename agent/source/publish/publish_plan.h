// `sixguard publish`'s decision, without I/O: the store's contents read at one revision
// become a registry (State) through the same rules the agent uses, the batch is validated on
// it event by event (state_rules.h: the API's 400/409/422, naming the event and field), and
// what it changed becomes ONE etcd txn guarded by what it read.
//
// Guards (DESIGN §6: two publishers can never both bind one network ID, a batch lands whole):
//   - no key under the prefix was created or modified after the read revision (a compare
//     over the whole prefix: mod_revision < revision + 1);
//   - every key the batch writes, deletes or depends on (the app of a machine or Flycast
//     address, the network of an app) still has the mod_revision it was read with, which
//     also catches its deletion;
//   - every key the batch creates, network-ids/<id> above all, is still absent
//     (create_revision == 0).
// A lost guard means "re-read and decide again" (publisher.h).
//
// Decisions where the contract is silent:
// - Machines of every host are in one registry: machine ids and /112s are global (§3), but
//   interface names are per host, so the registry sees each machine's interface qualified
//   by its host. A machine.started of a machine that runs on another host, or a
//   machine.stopped naming another host, is a 409 on "host" (stop it there first): one
//   machine never has two keys.
// - app.destroyed deletes the app's key and, in the same txn, the keys of its machines (on
//   every host) and of the Flycast addresses targeting it: the registry's cascade (§3), so
//   the store never holds machines of an app that is gone (every agent would count them as
//   invalid keys).
// - network.mode enforce deletes the mode key (a missing key means enforce, §6).
// - Keys in the store that break the rules (written around publish) are skipped, as the
//   agent skips them, and listed in StoreView::skipped; they never block a batch.
// - The infrastructure prefixes are the agents' default (fdaa::3/128) unless given.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/source/etcd/types.h"
#include "agent/control/events.h"
#include "agent/control/state.h"
#include "agent/control/state_rules.h"

namespace sixguard {

struct StoreView {
  std::string prefix;
  int64_t revision = 0;
  std::map<std::string, etcd::KeyValue> kvs;         // every key read under <prefix>/
  State state;                                       // the valid objects
  std::map<std::string, std::string> machine_hosts;  // machine id -> its host
  std::vector<std::string> skipped;                  // "key: why" for keys that break the rules
};

// The registry the store's keys describe (snapshot: every key under <prefix>/).
StoreView build_store_view(const std::string &prefix, const etcd::Snapshot &snapshot,
                           const EventRules &rules);

// The interface a machine has in StoreView::state ("<interface>@<host>"); lo is kept as it
// is, so the rules refuse it in the same words as the API.
std::string qualified_interface(const std::string &interface_name, const std::string &host);

struct PublishPlan {
  std::optional<EventError> refusal;  // set: nothing is to be written
  etcd::Txn txn;                      // compares and puts/deletes (success only)
  std::size_t applied = 0;            // events that change the store
  std::size_t unchanged = 0;          // events already in effect
  std::size_t writes() const { return txn.success.size(); }
};

// hosts[i]: the host of event i (its "host" field, else --host; empty: none). Consumes the
// view's state (the batch is tried on it).
PublishPlan plan_publish(StoreView &view, const std::deque<Event> &events,
                         const std::vector<std::string> &hosts, const EventRules &rules);

// The "host" field of each event of a body parse_events accepted (empty when absent) into
// hosts; a 400 naming the event when a host is not a string or not a valid host name.
std::optional<EventError> event_hosts(std::string_view body, std::size_t count,
                                      std::vector<std::string> &hosts);

}  // namespace sixguard
