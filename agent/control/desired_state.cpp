#include "agent/control/desired_state.h"

#include <algorithm>
#include <array>
#include <optional>

namespace sixguard {

namespace {

std::optional<uint32_t> network_id_of(const nlohmann::json &id) {
  if (id.is_number_unsigned()) {
    const auto value = id.get<uint64_t>();
    if (value > UINT32_MAX) return std::nullopt;
    return static_cast<uint32_t>(value);
  }
  if (!id.is_string()) return std::nullopt;
  auto parsed = parse_network_id(id.get<std::string>());
  if (!parsed) return std::nullopt;
  return *parsed;
}

const NetworkRecord *app_network(const State &state, const Event &event) {
  return state.network_by_name(event.org, event.network_given ? event.network : "default");
}

// The order a plan is applied in: networks, apps and modes first (what later events name), then
// the removals, then the machines and Flycast addresses that could reuse what was removed.
constexpr std::array kPhaseOrder = {
    EventType::kNetworkCreated, EventType::kAppCreated,       EventType::kNetworkMode,
    EventType::kMachineStopped, EventType::kFlycastReleased,  EventType::kAppDestroyed,
    EventType::kMachineStarted, EventType::kFlycastAllocated,
};

// The event's place in kPhaseOrder (any other type last).
std::size_t phase(const Event &event) {
  return static_cast<std::size_t>(std::find(kPhaseOrder.begin(), kPhaseOrder.end(), event.type) -
                                  kPhaseOrder.begin());
}

Event removal_of(EventType type) {
  Event event;
  event.type = type;
  return event;
}

}  // namespace

bool DesiredState::add(DesiredObject object) {
  const Event &event = object.event;
  // The key is taken before the object moves into the map.
  const auto put = [&object](auto &objects, auto key) {
    objects.insert_or_assign(std::move(key), std::move(object));
    return true;
  };
  switch (event.type) {
    case EventType::kNetworkCreated:
      return put(networks, std::make_pair(event.org, event.network));
    case EventType::kAppCreated:
      return put(apps, event.app);
    case EventType::kNetworkMode:
      return put(modes, std::make_pair(event.org, event.network));
    case EventType::kMachineStarted:
      return put(machines, event.machine);
    case EventType::kFlycastAllocated: {
      auto address = parse_ipv6(event.address);
      return address && put(flycast, *address);
    }
    default:
      return false;
  }
}

void plan_object(const State &state, const DesiredObject &object, std::vector<PlannedEvent> &plan) {
  const Event &event = object.event;
  const auto emit = [&](Event planned) { plan.push_back({std::move(planned), object.origin}); };
  switch (event.type) {
    case EventType::kNetworkCreated: {
      const NetworkRecord *network = state.network_by_name(event.org, event.network);
      if (!network || network_id_of(event.id) != network->id) emit(event);
      return;
    }
    case EventType::kAppCreated: {
      const AppRecord *app = state.live_app(event.app);
      const NetworkRecord *network = app_network(state, event);
      if (!app || app->org != event.org || !network || app->network_id != network->id) {
        emit(event);
      }
      return;
    }
    case EventType::kNetworkMode: {
      const NetworkRecord *network = state.network_by_name(event.org, event.network);
      if (!network || network->audit != (event.mode == "audit")) emit(event);
      return;
    }
    case EventType::kMachineStarted: {
      const MachineRecord *machine = state.machine(event.machine);
      const auto address = parse_ipv6(event.address);
      if (machine && address && machine->app == event.app && machine->address == *address &&
          machine->interface_name == event.interface_name) {
        return;
      }
      // Same app and address on another interface is a move (§3 rules); anything else bound
      // otherwise is stopped first, since the rules would refuse the change as a conflict.
      if (machine && !(address && machine->app == event.app && machine->address == *address)) {
        Event stop = removal_of(EventType::kMachineStopped);
        stop.machine = event.machine;
        emit(std::move(stop));
      }
      emit(event);
      return;
    }
    case EventType::kFlycastAllocated: {
      const auto address = parse_ipv6(event.address);
      const FlycastRecord *flycast = address ? state.flycast(*address) : nullptr;
      if (flycast) {
        const AppRecord *app = state.live_app(event.app);
        const NetworkRecord *network =
            app ? state.network_by_name(app->org, event.network) : nullptr;
        if (flycast->app == event.app && network && flycast->network_id == network->id) return;
        Event release = removal_of(EventType::kFlycastReleased);
        release.address = event.address;
        emit(std::move(release));
      }
      emit(event);
      return;
    }
    default:
      return;
  }
}

void plan_removal(const State &state, const Event &removal, const std::string &origin,
                  std::vector<PlannedEvent> &plan) {
  switch (removal.type) {
    case EventType::kAppDestroyed:
      if (!state.live_app(removal.app)) return;
      break;
    case EventType::kMachineStopped:
      if (!state.machine(removal.machine)) return;
      break;
    case EventType::kFlycastReleased: {
      const auto address = parse_ipv6(removal.address);
      if (!address || !state.flycast(*address)) return;
      break;
    }
    case EventType::kNetworkMode: {
      const NetworkRecord *network = state.network_by_name(removal.org, removal.network);
      if (!network || network->audit == (removal.mode == "audit")) return;
      break;
    }
    default:
      return;
  }
  plan.push_back({removal, origin});
}

std::vector<PlannedEvent> plan_difference(const State &state, const DesiredState &desired) {
  std::vector<PlannedEvent> plan;
  for (const auto &[key, object] : desired.networks) plan_object(state, object, plan);
  for (const auto &[key, object] : desired.apps) plan_object(state, object, plan);
  for (const auto &[key, object] : desired.modes) plan_object(state, object, plan);
  for (const auto &[key, object] : desired.machines) plan_object(state, object, plan);
  for (const auto &[key, object] : desired.flycast) plan_object(state, object, plan);

  // What the registry holds beyond the desired state. Networks stay (never deleted); a
  // network whose mode key is gone goes back to enforce.
  for (const auto &[id, network] : state.networks()) {
    if (network.audit && !desired.modes.contains({network.org, network.name})) {
      Event mode = removal_of(EventType::kNetworkMode);
      mode.org = network.org;
      mode.network = network.name;
      mode.mode = "enforce";
      plan.push_back({std::move(mode), {}});
    }
  }
  for (const auto &[name, app] : state.apps()) {
    if (app.destroyed || desired.apps.contains(name)) continue;
    Event destroy = removal_of(EventType::kAppDestroyed);
    destroy.app = name;
    plan.push_back({std::move(destroy), {}});
  }
  for (const auto &[id, machine] : state.machines()) {
    if (desired.machines.contains(id)) continue;
    Event stop = removal_of(EventType::kMachineStopped);
    stop.machine = id;
    plan.push_back({std::move(stop), {}});
  }
  for (const auto &[address, flycast] : state.flycast()) {
    if (desired.flycast.contains(address)) continue;
    Event release = removal_of(EventType::kFlycastReleased);
    release.address = address.str();
    plan.push_back({std::move(release), {}});
  }
  order_plan(plan);
  return plan;
}

void order_plan(std::vector<PlannedEvent> &plan) {
  std::stable_sort(plan.begin(), plan.end(), [](const PlannedEvent &a, const PlannedEvent &b) {
    return phase(a.event) < phase(b.event);
  });
}

}  // namespace sixguard
