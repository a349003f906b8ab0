// A desired state given whole (DESIGN §6: what an outside source such as etcd says exists),
// and the §3 events that take the registry there by difference: only what differs becomes
// an event, so the existing rules, persistence and incremental map writes do the work. Each
// planned event remembers the object (origin) it came from, so that an event the rules
// refuse is dropped with its origin named while the rest of the plan is applied.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/control/events.h"
#include "agent/control/state.h"

namespace sixguard {

// One object as the event that creates it (network.created, app.created, network.mode,
// machine.started, flycast.allocated), and where it came from (an etcd key).
struct DesiredObject {
  Event event;
  std::string origin;
};

// Objects by identity: one per (org, network), app, mode (org, network), machine, address.
// Networks are never removed: a network in the registry but not here stays (§6).
struct DesiredState {
  std::map<std::pair<std::string, std::string>, DesiredObject> networks;
  std::map<std::string, DesiredObject> apps;
  std::map<std::pair<std::string, std::string>, DesiredObject> modes;
  std::map<std::string, DesiredObject> machines;
  std::map<Ipv6, DesiredObject> flycast;

  std::size_t size() const {
    return networks.size() + apps.size() + modes.size() + machines.size() + flycast.size();
  }
  // Adds an object by its event's identity; false when the event creates nothing or its
  // address is malformed (a Flycast key is its address).
  bool add(DesiredObject object);
};

struct PlannedEvent {
  Event event;
  std::string origin;  // the object's origin; removals carry the origin that caused them
};

// The events that take state to desired: creations and changes of what desired holds, and
// removals (app.destroyed, machine.stopped, flycast.released, network.mode enforce) of what
// the registry holds beyond it. Ordered to apply as one batch (order_plan). Reads whole
// tables: its cost follows the state, as a full resynchronisation must.
std::vector<PlannedEvent> plan_difference(const State &state, const DesiredState &desired);

// The events that make one object as desired (nothing when it already is): a machine or
// Flycast address bound otherwise is removed before it is made again.
void plan_object(const State &state, const DesiredObject &object, std::vector<PlannedEvent> &plan);
// The events that remove one object (an event such as etcd_deletion_event gives); nothing
// when it is already absent.
void plan_removal(const State &state, const Event &removal, const std::string &origin,
                  std::vector<PlannedEvent> &plan);

// Stable order in which a batch can apply: networks, apps, modes, then removals (machines,
// Flycast, apps), then machines and Flycast addresses.
void order_plan(std::vector<PlannedEvent> &plan);

}  // namespace sixguard
