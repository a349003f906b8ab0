#include "agent/source/publish/publish_plan.h"

#include <set>

#include "agent/control/desired_state.h"
#include "agent/source/etcd_keys.h"

namespace sixguard {

namespace {

bool is_machine_event(const Event &event) {
  return event.type == EventType::kMachineStarted || event.type == EventType::kMachineStopped;
}

// The batch's effect on the store: the last word on each key, and the keys it relied on.
struct StoreChanges {
  const std::string &prefix;
  std::map<std::string, std::optional<std::string>> writes;  // nullopt: delete
  std::set<std::string> depends;

  std::string text(const EtcdKey &key) const { return etcd_key_text(prefix, key); }
  void put(const EtcdKey &key, std::string value) { writes[text(key)] = std::move(value); }
  void erase(const EtcdKey &key) { writes[text(key)] = std::nullopt; }
  void depend(const EtcdKey &key) { depends.insert(text(key)); }
};

// Records what an applied event writes. Returns a refusal only for a store-level conflict
// the registry cannot see (a network-ids key bound otherwise without its networks key).
std::optional<EventError> record_applied(const StoreView &view, StoreChanges &changes,
                                         std::size_t index, const Event &event,
                                         const std::string &host) {
  switch (event.type) {
    case EventType::kNetworkCreated: {
      const auto id = etcd_event_network_id(event);
      if (!id) break;
      const auto id_key = changes.text(etcd_network_id_key(*id));
      const auto id_value = etcd_network_id_value(event.org, event.network);
      if (const auto bound = view.kvs.find(id_key); bound != view.kvs.end()) {
        auto entry = parse_etcd_entry(view.prefix, id_key, bound->second.value);
        if (!entry || entry->bound_org != event.org || entry->bound_network != event.network) {
          return event_error(ControlErrorKind::kConflict, index, event, "id",
                             "network id " + format_network_id(*id) +
                                 " is already bound in the store (" + id_key + ")");
        }
      }
      changes.writes[id_key] = id_value;
      auto key = etcd_key_for_event(event, host);
      if (key) changes.put(*key, etcd_value_for_event(event, host));
      break;
    }
    case EventType::kAppCreated:
      changes.depend(etcd_network_key(event.org, event.network_given ? event.network : "default"));
      if (auto key = etcd_key_for_event(event, host))
        changes.put(*key, etcd_value_for_event(event, host));
      break;
    case EventType::kMachineStarted:
      changes.depend(etcd_app_key(event.app));
      if (auto key = etcd_key_for_event(event, host))
        changes.put(*key, etcd_value_for_event(event, host));
      break;
    case EventType::kFlycastAllocated:
      changes.depend(etcd_app_key(event.app));
      if (const AppRecord *app = view.state.app(event.app))
        changes.depend(etcd_network_key(app->org, event.network));
      if (auto key = etcd_key_for_event(event, host))
        changes.put(*key, etcd_value_for_event(event, host));
      break;
    case EventType::kNetworkMode:
      changes.depend(etcd_network_key(event.org, event.network));
      if (auto key = etcd_key_for_event(event, host)) {
        if (event.mode == "enforce") {
          changes.erase(*key);
        } else {
          changes.put(*key, etcd_value_for_event(event, host));
        }
      }
      break;
    case EventType::kAppDestroyed:
    case EventType::kMachineStopped:
    case EventType::kFlycastReleased:
      if (auto key = etcd_key_deleted_by(event, host)) changes.erase(*key);
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string qualified_interface(const std::string &interface_name, const std::string &host) {
  if (interface_name == "lo") return interface_name;
  return interface_name + "@" + host;
}

StoreView build_store_view(const std::string &prefix, const etcd::Snapshot &snapshot,
                           const EventRules &rules) {
  StoreView view;
  view.prefix = prefix;
  view.revision = snapshot.revision;
  DesiredState desired;
  std::map<std::string, std::string> hosts;  // machine -> host, of the keys read
  for (const auto &kv : snapshot.kvs) {
    view.kvs[kv.key] = kv;
    auto entry = parse_etcd_entry(prefix, kv.key, kv.value);
    if (!entry) {
      view.skipped.push_back(kv.key + ": " + entry.error().message);
      continue;
    }
    if (entry->key.kind == EtcdKeyKind::kNetworkId || !entry->event) continue;
    Event event = *entry->event;
    if (entry->key.kind == EtcdKeyKind::kMachine) {
      if (hosts.count(event.machine)) {
        view.skipped.push_back(kv.key + ": machine " + event.machine + " also runs on host " +
                               hosts[event.machine]);
        continue;
      }
      hosts[event.machine] = entry->key.host;
      event.interface_name = qualified_interface(event.interface_name, entry->key.host);
    }
    desired.add(DesiredObject{std::move(event), kv.key});
  }
  const auto plan = plan_difference(view.state, desired);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto outcome = apply_event(view.state, plan[i].event, i, rules);
    if (outcome.error) view.skipped.push_back(plan[i].origin + ": " + outcome.error->message);
  }
  for (const auto &[machine, host] : hosts) {
    if (view.state.machine(machine)) view.machine_hosts[machine] = host;
  }
  return view;
}

PublishPlan plan_publish(StoreView &view, const std::deque<Event> &events,
                         const std::vector<std::string> &hosts, const EventRules &rules) {
  PublishPlan plan;
  StoreChanges changes{view.prefix, {}, {}};
  for (std::size_t index = 0; index < events.size(); ++index) {
    const Event &event = events[index];
    const std::string host = index < hosts.size() ? hosts[index] : std::string();
    Event tried = event;
    if (is_machine_event(event)) {
      if (host.empty()) {
        plan.refusal = event_error(ControlErrorKind::kMalformed, index, event, "host",
                                   "machine events name their host (--host, or a \"host\" field)");
        return plan;
      }
      const auto runs_on = view.machine_hosts.find(event.machine);
      if (runs_on != view.machine_hosts.end() && runs_on->second != host) {
        plan.refusal = event_error(ControlErrorKind::kConflict, index, event, "host",
                                   "machine " + event.machine + " runs on host " + runs_on->second +
                                       ", not " + host + ": stop it there first");
        return plan;
      }
      if (event.type == EventType::kMachineStarted) {
        tried.interface_name = qualified_interface(event.interface_name, host);
      }
    }
    // app.destroyed cascades in the registry; its machines' and Flycast keys go with it.
    std::vector<std::string> app_machines;
    std::vector<Ipv6> app_flycast;
    if (event.type == EventType::kAppDestroyed && view.state.live_app(event.app)) {
      const auto &machines = view.state.machines_of_app(event.app);
      app_machines.assign(machines.begin(), machines.end());
      const auto &flycast = view.state.flycast_of_app(event.app);
      app_flycast.assign(flycast.begin(), flycast.end());
    }
    const auto outcome = apply_event(view.state, tried, index, rules);
    if (outcome.error) {
      plan.refusal = *outcome.error;
      return plan;
    }
    if (outcome.effect == EventEffect::kUnchanged) {
      ++plan.unchanged;
      continue;
    }
    ++plan.applied;
    if (auto refusal = record_applied(view, changes, index, event, host)) {
      plan.refusal = std::move(refusal);
      return plan;
    }
    for (const auto &machine : app_machines) {
      changes.erase(etcd_machine_key(view.machine_hosts[machine], machine));
      view.machine_hosts.erase(machine);
    }
    for (const auto &address : app_flycast) changes.erase(etcd_flycast_key(address));
    if (event.type == EventType::kMachineStarted) view.machine_hosts[event.machine] = host;
    if (event.type == EventType::kMachineStopped) view.machine_hosts.erase(event.machine);
  }

  // Nothing under the prefix created or modified since the read (deletions are caught by
  // the per-key guards below).
  const std::string under = view.prefix + "/";
  etcd::Compare unchanged_since;
  unchanged_since.key = under;
  unchanged_since.range_end = etcd::prefix_end(under);
  unchanged_since.target = etcd::CompareTarget::kModRevision;
  unchanged_since.result = etcd::CompareResult::kLess;
  unchanged_since.number = view.revision + 1;
  std::set<std::string> guarded;
  for (const auto &[key, value] : changes.writes) {
    const auto existing = view.kvs.find(key);
    if (value) {
      if (existing != view.kvs.end() && existing->second.value == *value) {
        changes.depends.insert(key);
        continue;
      }
      plan.txn.success.push_back(etcd::put(key, *value));
    } else {
      if (existing == view.kvs.end()) continue;
      plan.txn.success.push_back(etcd::erase(key));
    }
    plan.txn.compare.push_back(existing != view.kvs.end()
                                   ? etcd::mod_revision_is(key, existing->second.mod_revision)
                                   : etcd::key_absent(key));
    guarded.insert(key);
  }
  for (const auto &key : changes.depends) {
    const auto existing = view.kvs.find(key);
    if (existing == view.kvs.end() || guarded.count(key)) continue;
    plan.txn.compare.push_back(etcd::mod_revision_is(key, existing->second.mod_revision));
  }
  if (!plan.txn.success.empty()) plan.txn.compare.insert(plan.txn.compare.begin(), unchanged_since);
  return plan;
}

std::optional<EventError> event_hosts(std::string_view body, std::size_t count,
                                      std::vector<std::string> &hosts) {
  hosts.assign(count, std::string());
  std::vector<nlohmann::json> objects;
  const auto first = body.find_first_not_of(" \t\r\n");
  auto whole = nlohmann::json::parse(body, nullptr, false);
  if (!whole.is_discarded()) {
    if (whole.is_array()) {
      for (auto &item : whole) objects.push_back(std::move(item));
    } else {
      objects.push_back(std::move(whole));
    }
  } else if (first != std::string_view::npos) {
    std::size_t start = 0;
    while (start < body.size()) {
      auto end = body.find('\n', start);
      if (end == std::string_view::npos) end = body.size();
      const auto line = body.substr(start, end - start);
      if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
        objects.push_back(nlohmann::json::parse(line, nullptr, false));
      }
      start = end + 1;
    }
  }
  for (std::size_t i = 0; i < objects.size() && i < count; ++i) {
    if (!objects[i].is_object()) continue;
    const auto host = objects[i].find("host");
    if (host == objects[i].end()) continue;
    const std::string type = objects[i].value("type", std::string());
    if (!host->is_string() || !valid_host_name(host->get<std::string>())) {
      return event_error(ControlErrorKind::kMalformed, i, type, "host",
                         "must be a host name (1-253 letters, digits, '-', '_', '.')");
    }
    hosts[i] = host->get<std::string>();
  }
  return std::nullopt;
}

}  // namespace sixguard
