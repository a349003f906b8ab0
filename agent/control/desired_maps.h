// The datapath maps as they should be, derived from the registry and the configuration, and
// the difference between two such images written through a MapBackend. The same diff serves
// the start-up reconcile and the repair after a failed write (current = what the maps hold,
// desired = the full image), a batch and an interface change (the image before and after,
// at the keys they touched only: map_delta.h), so only what differs is ever written.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "agent/control/control_config.h"
#include "agent/control/map_backend.h"
#include "agent/control/state.h"

namespace sixguard {

struct MapImage {
  std::map<uint32_t, sg_machine> machines;  // by ifindex
  std::map<Ipv6, sg_flycast> flycast;
  std::set<Ipv6Prefix> infra;
  std::map<uint32_t, uint32_t> net_flags;
  sg_config config{};
  // sg_owner_slots as read (read_image): the slots that are not empty, by index, and the
  // map's size. Never part of a desired image: a slot is right when it says what
  // machines says for its ifindex, or nothing (owner_slot_wrong).
  std::map<uint32_t, sg_owner_slot> owner_slots;
  uint32_t owner_slot_count = 0;  // 0: the slots were not read (partial images)
};

// Whether slot index holding slot contradicts desired machines: a write cut short (odd
// seq), an entry in a slot its ifindex does not index, or an owner other than the one
// machines wants for the ifindex. Such a slot is cleared; an empty one is never wrong.
bool owner_slot_wrong(uint32_t index, const sg_owner_slot &slot, uint32_t slot_count,
                      const std::map<uint32_t, sg_machine> &machines);

// Some keys of each map: what a batch, an interface change or a drift check touched
// (map_delta.h writes the images at those keys only).
struct MapKeys {
  std::set<uint32_t> ifindexes;  // sg_machines
  std::set<Ipv6> flycast;        // sg_flycast
  std::set<uint32_t> networks;   // sg_net_flags
  bool config = false;           // sg_config (the infra prefixes never change with the state)
};

using IfindexLookup = std::function<std::optional<uint32_t>(const std::string &)>;

// Machines whose interface does not resolve have no entry (attached when it appears).
MapImage desired_image(const State &state, const ControlConfig &config,
                       const IfindexLookup &ifindex_of);

// The values desired_image gives one record, given its live app (nullopt: none, the app is
// not live). The incremental path (map_delta.h) builds its entries with these same
// functions.
// flycast_target: some Flycast address targets the app (SG_MACHINE_FLYCAST_TARGET).
std::optional<sg_machine> desired_machine(const MachineRecord &machine, const AppRecord *live_app,
                                          bool flycast_target);
std::optional<sg_flycast> desired_flycast(const AppRecord *live_app);
std::optional<uint32_t> desired_net_flags(const NetworkRecord &network);

// sg_config: global audit flag, the infra networks (see sixguard_shared.h) and the drop-event
// rate limit.
sg_config desired_config(const ControlConfig &config);
// The same with what the state adds: SG_CFG_NET_AUDIT_ANY while a network is in audit.
sg_config desired_config(const ControlConfig &config, bool any_audit_network);

// Reads every policy map and the config through the backend.
Result<MapImage> read_image(MapBackend &maps);

struct WriteSummary {
  std::size_t puts = 0;
  std::size_t deletes = 0;
};

// Writes into the maps what differs between current and desired: deletes first (frees room,
// fails closed), then inserts and updates. sg_owner_slots follows sg_machines so that a slot
// never says more than the hash: the slots of current that desired contradicts are cleared
// first, a machine's slot is cleared before its hash entry is deleted and written after its
// hash entry is; when current holds every slot (owner_slot_count set: a reconcile), empty
// slots are then filled for the machines whose hash entry is right. Flycast deletes come before
// every sg_machines write and Flycast puts after them, so that a machine's
// SG_MACHINE_FLYCAST_TARGET is set before its app's first Flycast entry appears and cleared only
// once its last one is gone: the flag is never missing where a Flycast lookup could pass a packet.
// A failed write does not stop the others; the first failure is returned with the number of failed
// writes.
Result<WriteSummary> write_difference(MapBackend &maps, const MapImage &current,
                                      const MapImage &desired);

bool same_machine(const sg_machine &a, const sg_machine &b);
bool same_flycast(const sg_flycast &a, const sg_flycast &b);
bool same_config(const sg_config &a, const sg_config &b);

}  // namespace sixguard
