#include "agent/control/state_rules.h"

#include <algorithm>
#include <string>
#include <vector>

#include "agent/control/input_limits.h"

namespace sixguard {

namespace {

EventOutcome conflict(std::size_t index, const Event &event, std::string field,
                      const std::string &what) {
  return {EventEffect::kUnchanged,
          event_error(ControlErrorKind::kConflict, index, event, std::move(field), what)};
}

EventOutcome invalid(std::size_t index, const Event &event, std::string field,
                     const std::string &what) {
  return {EventEffect::kUnchanged,
          event_error(ControlErrorKind::kInvalid, index, event, std::move(field), what)};
}

constexpr EventOutcome kApplied{EventEffect::kApplied, std::nullopt};
constexpr EventOutcome kUnchanged{EventEffect::kUnchanged, std::nullopt};

// Values are quoted back bounded and printable: an address field may hold anything.
std::string quoted(const std::string &text) {
  return "'" + shown(text) + "'";
}

std::string network_text(const NetworkRecord &network) {
  return quoted(network.name) + " of org " + quoted(network.org) + " (id " +
         format_network_id(network.id) + ")";
}

// Parses a 6PN address field; on failure returns the 422 refusal.
std::optional<EventOutcome> parse_6pn(std::size_t index, const Event &event, Ipv6 &out) {
  auto address = parse_ipv6(event.address);
  if (!address) {
    return invalid(index, event, "address", "malformed IPv6 address " + quoted(event.address));
  }
  if (!is_6pn(*address)) {
    return invalid(index, event, "address",
                   "address " + quoted(event.address) + " is not a 6PN address (fdaa::/16)");
  }
  out = *address;
  return std::nullopt;
}

std::optional<EventOutcome> parse_id(std::size_t index, const Event &event, uint32_t &out) {
  if (event.id.is_number_unsigned()) {
    const auto value = event.id.get<uint64_t>();
    if (value > UINT32_MAX) {
      return invalid(index, event, "id", "network id " + event.id.dump() + " is out of range");
    }
    out = static_cast<uint32_t>(value);
  } else if (event.id.is_number_integer()) {
    return invalid(index, event, "id", "network id " + event.id.dump() + " is out of range");
  } else {
    const auto text = event.id.get<std::string>();
    auto parsed = parse_network_id(text);
    if (!parsed) {
      return invalid(index, event, "id",
                     "malformed network id " + quoted(text) +
                         " (expected an integer or the address form \"2:45b\")");
    }
    out = *parsed;
  }
  if (out == 0) {
    return invalid(index, event, "id", "network id 0 is the platform's own, never a tenant's");
  }
  return std::nullopt;
}

// The /48 of a network id: every address on the network.
Ipv6Prefix network_prefix(uint32_t id) {
  Ipv6Prefix prefix{Ipv6{}, 48};
  prefix.address.octets[0] = SG_6PN_OCTET0;
  prefix.address.octets[1] = SG_6PN_OCTET1;
  for (int i = 0; i < 4; ++i)
    prefix.address.octets[2 + i] = static_cast<uint8_t>(id >> (24 - 8 * i));
  return prefix;
}

const Ipv6Prefix *infra_overlapping(const Ipv6Prefix &prefix,
                                    std::span<const Ipv6Prefix> infra_prefixes) {
  for (const auto &infra : infra_prefixes) {
    if (infra.overlaps(prefix)) return &infra;
  }
  return nullptr;
}

EventOutcome network_created(State &state, const Event &event, std::size_t index,
                             const EventRules &rules) {
  uint32_t id = 0;
  if (auto refused = parse_id(index, event, id)) return *refused;
  const NetworkRecord *by_id = state.network_by_id(id);
  const NetworkRecord *by_name = state.network_by_name(event.org, event.network);
  if (by_id && (by_id->org != event.org || by_id->name != event.network)) {
    return conflict(index, event, "id",
                    "network id " + format_network_id(id) + " is already bound to network " +
                        network_text(*by_id));
  }
  if (by_name && by_name->id != id) {
    return conflict(index, event, "network",
                    "network " + network_text(*by_name) + " is already bound to another id");
  }
  if (by_id) return kUnchanged;
  // Checked after "already bound": a network bound before the configuration changed is
  // refused at start-up (check_infra_prefixes), so by_id never holds an infra prefix here.
  if (const Ipv6Prefix *infra = infra_overlapping(network_prefix(id), rules.infra_prefixes)) {
    return conflict(index, event, "id",
                    "network id " + format_network_id(id) + " holds infrastructure prefix " +
                        infra->str() +
                        " (infra_prefixes in the agent's configuration); it cannot be a "
                        "tenant network");
  }
  state.put_network(NetworkRecord{id, event.org, event.network, false});
  return kApplied;
}

EventOutcome app_created(State &state, const Event &event, std::size_t index, const EventRules &) {
  if (const AppRecord *existing = state.live_app(event.app)) {
    if (existing->org != event.org) {
      return conflict(index, event, "app",
                      "app " + quoted(event.app) + " already exists in org " +
                          quoted(existing->org) + " (app names are global)");
    }
    const NetworkRecord *current = state.network_by_id(existing->network_id);
    if (!current || current->name != event.network) {
      return conflict(index, event, "network",
                      "app " + quoted(event.app) + " is on network " +
                          (current ? network_text(*current) : std::string("?")) +
                          "; an app never changes network");
    }
    return kUnchanged;
  }
  const NetworkRecord *network = state.network_by_name(event.org, event.network);
  if (!network) {
    return invalid(index, event, "network",
                   "unknown network " + quoted(event.network) + " in org " + quoted(event.org) +
                       (event.network_given ? "" : " (the org's default network)") +
                       ": send network.created first");
  }
  state.put_app(AppRecord{state.allocate_app_id(), event.app, event.org, network->id, false});
  return kApplied;
}

EventOutcome app_destroyed(State &state, const Event &event, std::size_t index,
                           const EventRules &) {
  const AppRecord *existing = state.app(event.app);
  if (!existing) return invalid(index, event, "app", "unknown app " + quoted(event.app));
  if (existing->destroyed) return kUnchanged;
  AppRecord tombstone = *existing;
  tombstone.destroyed = true;
  state.put_app(tombstone);
  // Cascade: the app's machines and the Flycast addresses targeting it go with it, so its
  // interfaces lose their sg_machines entries and fail closed in the datapath. Through the
  // per-app indexes: the cost follows the app, not the registry (copied first: erasing
  // updates them).
  const std::set<std::string> &machines = state.machines_of_app(event.app);
  for (const std::string &id : std::vector<std::string>(machines.begin(), machines.end())) {
    state.erase_machine(id);
  }
  const std::set<Ipv6> &addresses = state.flycast_of_app(event.app);
  for (const Ipv6 &address : std::vector<Ipv6>(addresses.begin(), addresses.end())) {
    state.erase_flycast(address);
  }
  return kApplied;
}

EventOutcome machine_started(State &state, const Event &event, std::size_t index,
                             const EventRules &rules) {
  const AppRecord *app = state.live_app(event.app);
  if (!app) return invalid(index, event, "app", "unknown app " + quoted(event.app));
  // Machine programs on lo or an uplink would judge the host's own or the fabric's traffic
  // as one machine's (and the uplink's own programs would be replaced).
  if (event.interface_name == "lo") {
    return invalid(index, event, "interface", "'lo' is never a machine interface");
  }
  if (std::find(rules.uplinks.begin(), rules.uplinks.end(), event.interface_name) !=
      rules.uplinks.end()) {
    return invalid(index, event, "interface",
                   "interface " + quoted(event.interface_name) +
                       " is a configured uplink, never a machine interface");
  }
  Ipv6 address;
  if (auto refused = parse_6pn(index, event, address)) return *refused;
  if (network_id(address) != app->network_id) {
    return invalid(index, event, "address",
                   "address " + quoted(event.address) + " is on network " +
                       format_network_id(network_id(address)) + " but app " + quoted(app->name) +
                       " is on network " + format_network_id(app->network_id));
  }
  const Ipv6Prefix slash112{machine_prefix(address), 112};
  if (const Ipv6Prefix *infra = infra_overlapping(slash112, rules.infra_prefixes)) {
    return invalid(index, event, "address",
                   "the /112 of " + quoted(event.address) + " overlaps infrastructure prefix " +
                       infra->str() + " (infra_prefixes in the agent's configuration)");
  }
  const MachineRecord *existing = state.machine(event.machine);
  if (existing && (existing->app != event.app || existing->address != address)) {
    return conflict(index, event, existing->app != event.app ? "app" : "address",
                    "machine " + quoted(event.machine) + " is already bound to app " +
                        quoted(existing->app) + " at " + existing->address.str());
  }
  if (const MachineRecord *owner = state.machine_by_prefix(machine_prefix(address));
      owner && owner->machine != event.machine) {
    return conflict(
        index, event, "address",
        "the /112 of " + quoted(event.address) + " belongs to machine " + quoted(owner->machine));
  }
  if (const MachineRecord *owner = state.machine_by_interface(event.interface_name);
      owner && owner->machine != event.machine) {
    return conflict(index, event, "interface",
                    "interface " + quoted(event.interface_name) + " belongs to machine " +
                        quoted(owner->machine));
  }
  if (const FlycastRecord *flycast = state.flycast_in_prefix(machine_prefix(address))) {
    return conflict(index, event, "address",
                    "the /112 of " + quoted(event.address) + " holds Flycast address " +
                        flycast->address.str() + " (app " + quoted(flycast->app) + ")");
  }
  if (existing && existing->interface_name == event.interface_name) return kUnchanged;
  state.put_machine(MachineRecord{event.machine, event.app, address, event.interface_name});
  return kApplied;
}

EventOutcome machine_stopped(State &state, const Event &event, std::size_t, const EventRules &) {
  // Stopping a machine that is not running here is already in effect.
  if (!state.machine(event.machine)) return kUnchanged;
  state.erase_machine(event.machine);
  return kApplied;
}

EventOutcome flycast_allocated(State &state, const Event &event, std::size_t index,
                               const EventRules &rules) {
  const AppRecord *app = state.live_app(event.app);
  if (!app) return invalid(index, event, "app", "unknown app " + quoted(event.app));
  const NetworkRecord *network = state.network_by_name(app->org, event.network);
  if (!network) {
    return invalid(index, event, "network",
                   "unknown network " + quoted(event.network) + " in org " + quoted(app->org));
  }
  Ipv6 address;
  if (auto refused = parse_6pn(index, event, address)) return *refused;
  if (network_id(address) != network->id) {
    return invalid(index, event, "address",
                   "Flycast address " + quoted(event.address) + " is on network " +
                       format_network_id(network_id(address)) + " but network " +
                       network_text(*network) + " was asked for");
  }
  if (const Ipv6Prefix *infra = infra_overlapping(Ipv6Prefix{address, 128}, rules.infra_prefixes)) {
    return invalid(index, event, "address",
                   "Flycast address " + quoted(event.address) +
                       " is inside infrastructure prefix " + infra->str() +
                       " (infra_prefixes in the agent's configuration)");
  }
  if (const FlycastRecord *existing = state.flycast(address)) {
    if (existing->app == event.app && existing->network_id == network->id) return kUnchanged;
    return conflict(index, event, "address",
                    "Flycast address " + address.str() + " is already allocated for app " +
                        quoted(existing->app));
  }
  if (const MachineRecord *owner = state.machine_by_prefix(machine_prefix(address))) {
    return conflict(index, event, "address",
                    "Flycast address " + address.str() + " is inside the /112 of machine " +
                        quoted(owner->machine));
  }
  state.put_flycast(FlycastRecord{address, event.app, network->id});
  return kApplied;
}

EventOutcome flycast_released(State &state, const Event &event, std::size_t index,
                              const EventRules &) {
  Ipv6 address;
  if (auto refused = parse_6pn(index, event, address)) return *refused;
  if (!state.flycast(address)) return kUnchanged;
  state.erase_flycast(address);
  return kApplied;
}

EventOutcome network_mode(State &state, const Event &event, std::size_t index, const EventRules &) {
  if (event.mode != "audit" && event.mode != "enforce") {
    return invalid(index, event, "mode",
                   "bad mode " + quoted(event.mode) + ": expected \"audit\" or \"enforce\"");
  }
  const NetworkRecord *network = state.network_by_name(event.org, event.network);
  if (!network) {
    return invalid(index, event, "network",
                   "unknown network " + quoted(event.network) + " in org " + quoted(event.org));
  }
  const bool audit = event.mode == "audit";
  if (network->audit == audit) return kUnchanged;
  NetworkRecord changed = *network;
  changed.audit = audit;
  state.put_network(changed);
  return kApplied;
}

}  // namespace

EventOutcome apply_event(State &state, const Event &event, std::size_t index,
                         const EventRules &rules) {
  using Rule = EventOutcome (*)(State &, const Event &, std::size_t, const EventRules &);
  struct TypedRule {
    EventType type;
    Rule rule;
  };
  static constexpr TypedRule kRules[] = {
      {EventType::kNetworkCreated, network_created},
      {EventType::kAppCreated, app_created},
      {EventType::kAppDestroyed, app_destroyed},
      {EventType::kMachineStarted, machine_started},
      {EventType::kMachineStopped, machine_stopped},
      {EventType::kFlycastAllocated, flycast_allocated},
      {EventType::kFlycastReleased, flycast_released},
      {EventType::kNetworkMode, network_mode},
  };
  for (const auto &[type, rule] : kRules) {
    if (type == event.type) return rule(state, event, index, rules);
  }
  return invalid(index, event, "type", "unhandled event type");
}

Status check_infra_prefixes(const State &state, std::span<const Ipv6Prefix> infra_prefixes) {
  // By network: O(networks x prefixes), once at start-up. Network id 0 is never bound.
  for (const auto &[id, network] : state.networks()) {
    if (const Ipv6Prefix *infra = infra_overlapping(network_prefix(id), infra_prefixes)) {
      return make_error("infrastructure prefix " + infra->str() +
                        " (infra_prefixes in the configuration) is inside tenant network " +
                        network_text(network) +
                        " of the persisted state: it would open that network's addresses to "
                        "every network. Remove the prefix from infra_prefixes (or move it "
                        "out of the network) and restart");
    }
  }
  return {};
}

}  // namespace sixguard
