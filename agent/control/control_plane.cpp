#include "agent/control/control_plane.h"

#include <chrono>
#include <cstdio>

namespace sixguard {

namespace {

std::string batch_type_label(const EventError &error) {
  // Metric labels stay bounded: only the eight known types, else "unknown".
  return parse_event_type(error.type) ? error.type : std::string("unknown");
}

ApplyResult refused(const EventError &error) {
  ApplyResult result;
  result.status = error.status;
  result.body = error.to_json();
  result.code = std::string(error.result_class());
  return result;
}

}  // namespace

ControlPlane::ControlPlane(ControlConfig config, StateStore store, State state, MapBackend &maps,
                           InterfaceResolver &resolver, ControlObserver &observer)
    : config_(std::move(config)),
      rules_{config_.uplinks, config_.infra_prefixes},
      maps_(maps),
      resolver_(resolver),
      observer_(observer),
      store_(std::move(store)),
      state_(std::move(state)) {
  publish_locked();  // nobody else sees this object yet
}

Result<std::unique_ptr<ControlPlane>> ControlPlane::open(ControlConfig config, MapBackend &maps,
                                                         InterfaceResolver &resolver,
                                                         ControlObserver &observer) {
  auto store = StateStore::open(config.state_dir);
  if (!store) return store.error();
  auto state = store->load();
  if (!state) return state.error();
  return std::unique_ptr<ControlPlane>(new ControlPlane(
      std::move(config), std::move(*store), std::move(*state), maps, resolver, observer));
}

std::string ControlPlane::app_public_id(uint32_t app_id) {
  char text[16];
  std::snprintf(text, sizeof(text), "%08x", app_id);
  return text;
}

std::optional<uint32_t> ControlPlane::resolve(const std::string &name) {
  if (const auto cached = ifindex_cache_.find(name)) return *cached;
  auto ifindex = resolver_.ifindex(name);
  if (ifindex && *ifindex == 0) ifindex.reset();
  ifindex_cache_.set(name, ifindex);
  return ifindex;
}

MapImage ControlPlane::image_of(const State &state) {
  return desired_image(state, config_, [this](const std::string &name) { return resolve(name); });
}

ControlPlane::MapSizes ControlPlane::sizes_of(const State &state) {
  return {state.machine_count(), state.flycast_count(), state.audit_network_count()};
}

Status ControlPlane::check_configuration() const {
  std::lock_guard lock(mutex_);
  return check_infra_prefixes(state_, config_.infra_prefixes);
}

Status ControlPlane::reconcile() {
  std::lock_guard lock(mutex_);
  Status status = reconcile_locked();
  publish_locked();
  return status;
}

void ControlPlane::publish_locked() {
  StateCounts counts;
  counts.networks = state_.network_count();
  counts.apps = state_.live_app_count();
  counts.machines = state_.machine_count();
  // Every name in the cache is a machine's interface (names no machine owns are dropped when
  // a batch or a repair finishes), and a machine owns one interface: the names that
  // resolved are the machines whose interface is there.
  counts.machines_attached = ifindex_cache_.resolved_count();
  counts.flycast = state_.flycast_count();
  counts.audit_networks = state_.audit_network_count();
  std::lock_guard lock(published_mutex_);
  published_counts_ = counts;
  published_in_sync_ = maps_in_sync_;
}

Status ControlPlane::reconcile_locked() {
  ++maps_generation_;
  ifindex_cache_.clear();
  auto current = read_image(maps_);
  Status status;
  if (!current) {
    status = make_error("reconcile: reading the maps: " + current.error().describe());
  } else {
    const MapImage desired = image_of(state_);
    auto written = write_difference(maps_, *current, desired);
    if (!written)
      status = make_error("reconcile: " + written.error().message, written.error().code);
  }
  maps_in_sync_ = status.ok();
  observer_.reconciled(status.ok());
  return status;
}

std::optional<EventError> ControlPlane::check_capacity(const MapSizes &before, std::size_t index,
                                                       const Event &event) const {
  const MapSizes after = sizes_of(state_);
  struct Check {
    PolicyMap map;
    const char *name;
    std::size_t before, after;
    const char *field;
  };
  const Check checks[] = {
      {PolicyMap::kMachines, SG_MAP_MACHINES, before.machines, after.machines, "machine"},
      {PolicyMap::kFlycast, SG_MAP_FLYCAST, before.flycast, after.flycast, "address"},
      {PolicyMap::kNetFlags, SG_MAP_NET_FLAGS, before.net_flags, after.net_flags, "mode"},
  };
  for (const auto &check : checks) {
    const std::size_t capacity = maps_.capacity(check.map);
    // A batch that does not grow a map is let through even if the map is over capacity
    // (a smaller map_sizes after a restart); it can only help.
    if (check.after > capacity && check.after > check.before) {
      const std::string type(event_type_name(event.type));
      return EventError{
          507,
          "event " + std::to_string(index) + " (" + type + "): field '" + check.field + "': map " +
              check.name + " is full (capacity " + std::to_string(capacity) + ", the batch needs " +
              std::to_string(check.after) + " entries); nothing was applied — raise map_sizes",
          index, type, check.field};
    }
  }
  return std::nullopt;
}

ApplyResult ControlPlane::apply(std::string_view body) {
  ApplyResult result = apply_unreported(body);
  observer_.batch_finished(result);
  return result;
}

ApplyResult ControlPlane::apply_unreported(std::string_view body) {
  // At most kBatchesInFlight batches parsed or applied at once: parsing left the lock, so
  // without this bound every concurrent request would hold its parsed events at the same
  // time (memory).
  batches_in_flight_.acquire();
  struct Release {
    std::counting_semaphore<kBatchesInFlight> &semaphore;
    ~Release() { semaphore.release(); }
  } release{batches_in_flight_};
  // state.db gone or corrupt: nothing can be made durable, so nothing is acknowledged, and
  // the body is not even parsed. Checked again under the lock below.
  if (auto refusal = refusal_while_store_faulted()) return *refusal;
  const Stopwatch stopwatch;
  // Parsing and the shape checks need no state: done before taking the lock, so that a
  // large or hostile body holds nobody up (status, readiness, interface changes).
  ParsedEvents parsed = parse_events(body);
  if (parsed.error) {
    observer_.event_result(batch_type_label(*parsed.error), parsed.error->result_class());
    observer_.apply_duration(stopwatch.seconds());
    return refused(*parsed.error);
  }
  bool machines_changed = false;
  ApplyResult result;
  std::function<void()> listener;
  StateStore::Health before, after;
  {
    std::lock_guard lock(mutex_);
    before = store_.health();
    if (before.sticky) return refusal_for(before);
    result = apply_locked(parsed, stopwatch, machines_changed, std::nullopt);
    publish_locked();
    listener = machines_listener_;
    after = store_.health();
  }
  if (!(after == before) && store_listener_) store_listener_(after);
  if (machines_changed && listener) listener();
  return result;
}

ApplyResult ControlPlane::refusal_for(const StateStore::Health &health) {
  // Counted once per batch, unread (its types are unknown).
  observer_.event_result("unknown", "internal");
  ApplyResult result;
  result.status = 503;
  result.body = {{"error", "the state cannot be committed: " + health.reason}};
  result.code = "unavailable";
  return result;
}

std::optional<ApplyResult> ControlPlane::refusal_while_store_faulted() {
  std::lock_guard lock(mutex_);
  const StateStore::Health health = store_.health();
  if (!health.sticky) return std::nullopt;
  return refusal_for(health);
}

StateStore::Health ControlPlane::store_health() const {
  std::lock_guard lock(mutex_);
  return store_.health();
}

StateStore::Health ControlPlane::check_store(bool integrity) {
  StateStore::Health before, after;
  {
    std::lock_guard lock(mutex_);
    before = store_.health();
    after = store_.check(integrity);
  }
  if (!(after == before) && store_listener_) store_listener_(after);
  return after;
}

void ControlPlane::set_store_listener(std::function<void(const StateStore::Health &)> listener) {
  std::lock_guard lock(mutex_);
  store_listener_ = std::move(listener);
}

SourceMark ControlPlane::source_mark() const {
  std::lock_guard lock(mutex_);
  return state_.source_mark();
}

SourceApplyResult ControlPlane::apply_from_source(const SourcePlanner &plan, const SourceMark &mark,
                                                  bool persist_unchanged) {
  SourceApplyResult outcome;
  bool machines_changed = false;
  std::function<void()> listener;
  StateStore::Health before, after;
  {
    std::lock_guard lock(mutex_);
    before = store_.health();
    if (before.sticky) {
      outcome.status = 503;
      outcome.error = "the state cannot be committed: " + before.reason;
      return outcome;
    }
    std::vector<PlannedEvent> planned = plan(state_);
    if (planned.empty() && !persist_unchanged) return outcome;
    // One pass: a refused event is undone alone and the rest goes on, so the cost follows
    // the batch however many keys are refused (a list over a map's capacity refuses many).
    const Stopwatch stopwatch;
    ParsedEvents parsed;
    for (const auto &event : planned) parsed.events.push_back(event.event);
    std::vector<std::pair<std::size_t, EventError>> skipped;
    ApplyResult result = apply_locked(parsed, stopwatch, machines_changed, mark, &skipped);
    for (auto &[index, error] : skipped) {
      outcome.refused.emplace_back(std::move(planned[index]), std::move(error));
    }
    outcome.status = result.status;
    outcome.applied = result.applied;
    outcome.unchanged = result.unchanged;
    if (result.status != 200) {
      outcome.error = result.body.value("error", std::string("batch failed"));
    }
    publish_locked();
    listener = machines_listener_;
    after = store_.health();
  }
  if (!(after == before) && store_listener_) store_listener_(after);
  if (machines_changed && listener) listener();
  return outcome;
}

ApplyResult ControlPlane::apply_locked(const ParsedEvents &parsed, const Stopwatch &stopwatch,
                                       bool &machines_changed,
                                       const std::optional<SourceMark> &mark,
                                       std::vector<std::pair<std::size_t, EventError>> *skipped) {
  // Validate the whole batch on the live state, journalled: each event sees the state plus
  // the earlier events, and a refused batch is undone. No copy of the state: the cost
  // follows the batch.
  const MapSizes sizes_before = sizes_of(state_);
  StateJournal journal;
  state_.begin_journal(journal);
  std::vector<EventEffect> effects;
  std::vector<EventType> types;  // of the events kept, in step with effects
  effects.reserve(parsed.events.size());
  types.reserve(parsed.events.size());
  for (std::size_t i = 0; i < parsed.events.size(); ++i) {
    const Event &event = parsed.events[i];
    const std::size_t index = i - (skipped ? skipped->size() : 0);  // among the events kept
    const JournalMark mark_before = state_.journal_mark();
    EventOutcome outcome = apply_event(state_, event, index, rules_);
    if (!outcome.error) outcome.error = check_capacity(sizes_before, index, event);
    if (outcome.error) {
      observer_.event_result(event_type_name(event.type), outcome.error->result_class());
      if (skipped && outcome.error->index) {
        state_.undo_to_mark(mark_before);
        skipped->emplace_back(i, std::move(*outcome.error));
        continue;
      }
      state_.end_journal();
      state_.undo(journal);
      observer_.apply_duration(stopwatch.seconds());
      return refused(*outcome.error);
    }
    effects.push_back(outcome.effect);
    types.push_back(event.type);
  }
  state_.end_journal();

  ApplyResult result;
  for (std::size_t i = 0; i < effects.size(); ++i) {
    if (effects[i] != EventEffect::kApplied) {
      ++result.unchanged;
      continue;
    }
    ++result.applied;
    ++result.applied_by_type[std::string(event_type_name(parsed.events[i].type))];
  }
  auto report_events = [&](std::string_view failure) {
    for (std::size_t i = 0; i < effects.size(); ++i) {
      const std::string_view outcome = !failure.empty()                      ? failure
                                       : effects[i] == EventEffect::kApplied ? "applied"
                                                                             : "unchanged";
      observer_.event_result(event_type_name(types[i]), outcome);
    }
  };
  result.body = {{"applied", result.applied}, {"unchanged", result.unchanged}};
  // The source's revision is committed with the batch that reaches it, even an empty one;
  // a local API batch that changes anything clears it (nothing to resume from any more).
  std::optional<SourceMark> new_mark = mark;
  if (!mark && result.applied > 0 && !(state_.source_mark() == SourceMark{})) {
    new_mark = SourceMark{};
  }
  if (new_mark && *new_mark == state_.source_mark()) new_mark.reset();
  if (result.applied == 0 && !new_mark) {
    report_events("");
    observer_.apply_duration(stopwatch.seconds());
    return result;
  }

  // Durable first: the batch is on disk before it is acknowledged or reaches the maps.
  StateDelta delta(journal);
  delta.source_mark = new_mark;
  if (auto committed = store_.commit(delta); !committed) {
    state_.undo(journal);
    report_events("internal");
    observer_.apply_duration(stopwatch.seconds());
    result.status = 503;
    result.body = {{"error", "cannot persist the batch (nothing was applied): " +
                                 committed.error().describe()}};
    result.code = "unavailable";
    result.applied_by_type.clear();
    return result;
  }

  ++maps_generation_;
  if (new_mark) state_.set_source_mark(*new_mark);
  machines_changed = !delta.machines.empty();
  for (const auto &[id, change] : delta.machines) {
    if (change.first) changed_interfaces_.insert(change.first->interface_name);
    if (change.second) changed_interfaces_.insert(change.second->interface_name);
  }
  const Status written = maps_in_sync_ ? write_touched(delta) : repair_maps();
  maps_in_sync_ = written.ok();
  observer_.reconciled(written.ok());
  report_events("");
  observer_.apply_duration(stopwatch.seconds());
  if (!written) {
    result.status = 500;
    result.code = "internal";
    result.body["error"] =
        "the batch was committed to state.db but writing the datapath maps failed: " +
        written.error().describe() + "; the next reconciliation will repair the maps";
  }
  return result;
}

Status ControlPlane::write_touched(const StateDelta &delta) {
  // The keys whose desired entries the batch may have changed. An entry depends on its own
  // record, its app's record and (sg_machines) the interfaces cached for its ifindex; the
  // machines and Flycast addresses an app lost are in the delta themselves.
  MapKeys keys;
  std::set<std::string> names;  // the interfaces of the machines touched, before and after
  for (const auto &[id, change] : delta.machines) {
    if (change.first) names.insert(change.first->interface_name);
    if (change.second) names.insert(change.second->interface_name);
  }
  // A machine's entry also depends on whether its app is a Flycast target
  // (SG_MACHINE_FLYCAST_TARGET): the apps that gained or lost an address have their
  // machines' entries recomputed.
  std::set<std::string> flycast_apps;
  for (const auto &[address, change] : delta.flycast) {
    keys.flycast.insert(address);
    if (change.first) flycast_apps.insert(change.first->app);
    if (change.second) flycast_apps.insert(change.second->app);
  }
  for (const auto &app : flycast_apps) {
    for (const auto &id : state_.machines_of_app(app)) {
      names.insert(state_.machine(id)->interface_name);
    }
  }
  for (const auto &[name, change] : delta.apps) {
    for (const auto &id : state_.machines_of_app(name)) {
      names.insert(state_.machine(id)->interface_name);
    }
    for (const auto &address : state_.flycast_of_app(name)) keys.flycast.insert(address);
  }
  for (const auto &[id, change] : delta.networks) keys.networks.insert(id);
  keys.config = !delta.networks.empty();  // SG_CFG_NET_AUDIT_ANY follows the audit networks
  // New names are resolved now, so that both sides see the same interfaces; the maps hold
  // the image of the state before with the names cached before, unchanged since. The
  // state before is seen through the delta (state_before.h), not restored.
  for (const auto &name : names) {
    if (const auto ifindex = resolve(name)) keys.ifindexes.insert(*ifindex);
  }

  const MapImage before = partial_image(StateBefore(state_, delta), config_, ifindex_cache_, keys);
  const MapImage after = partial_image(state_, config_, ifindex_cache_, keys);
  for (const auto &name : names) {
    if (!state_.machine_by_interface(name)) ifindex_cache_.erase(name);
  }
  auto summary = write_difference(maps_, before, after);
  if (!summary) return summary.error();
  return {};
}

// After a failed write the maps may differ from any image: read them and write everything
// that differs from the image of the state.
Status ControlPlane::repair_maps() {
  auto current = read_image(maps_);
  std::vector<std::string> unused;
  for (const auto &[name, ifindex] : ifindex_cache_.entries()) {
    if (!state_.machine_by_interface(name)) unused.push_back(name);
  }
  for (const auto &name : unused) ifindex_cache_.erase(name);
  if (!current) return make_error("reading the maps: " + current.error().describe());
  auto summary = write_difference(maps_, *current, image_of(state_));
  if (!summary) return summary.error();
  return {};
}

Status ControlPlane::interface_changed(const std::string &name, std::optional<uint32_t> ifindex) {
  std::lock_guard lock(mutex_);
  Status status = interface_changed_locked(name, ifindex);
  publish_locked();
  return status;
}

Status ControlPlane::interface_changed_locked(const std::string &name,
                                              std::optional<uint32_t> ifindex) {
  ++maps_generation_;
  if (ifindex && *ifindex == 0) ifindex.reset();
  if (!maps_in_sync_) {
    ifindex_cache_.set(name, ifindex);
    // reconcile_locked clears the cache and re-resolves every interface, this one included.
    return reconcile_locked();
  }
  if (!state_.machine_by_interface(name)) return {};  // not a machine interface we know
  // Only the ifindexes the name leaves and takes can change their entries.
  MapKeys keys;
  if (const auto old = resolve(name)) keys.ifindexes.insert(*old);
  if (ifindex) keys.ifindexes.insert(*ifindex);
  const MapImage before = partial_image(state_, config_, ifindex_cache_, keys);
  ifindex_cache_.set(name, ifindex);
  const MapImage after = partial_image(state_, config_, ifindex_cache_, keys);
  auto written = write_difference(maps_, before, after);
  maps_in_sync_ = written.ok();
  observer_.reconciled(written.ok());
  if (!written) {
    return make_error("interface " + name + ": " + written.error().message, written.error().code);
  }
  return {};
}

ControlPlane::ImageSnapshot ControlPlane::snapshot_image() {
  ImageSnapshot snapshot;
  std::lock_guard lock(mutex_);
  const Stopwatch held;
  snapshot.generation = maps_generation_;
  snapshot.in_sync = maps_in_sync_;
  snapshot.image = image_of(state_);
  snapshot.lock_seconds = held.seconds();
  return snapshot;
}

ControlPlane::DriftRepair ControlPlane::repair_drift(uint64_t generation, const MapDrift &drift) {
  DriftRepair repair;
  std::lock_guard lock(mutex_);
  const Stopwatch held;
  const bool unwritten_since = generation == maps_generation_;
  if (unwritten_since) {
    repair.repaired = drift;
  } else if (!drift.empty()) {
    // The maps were written since the snapshot. Every machine's interface is in the cache
    // (resolved by the snapshot, or by the batch since), as partial_image needs.
    const MapKeys keys = keys_of(drift);
    const MapDrift still =
        still_wanted(drift, partial_image(state_, config_, ifindex_cache_, keys));
    repair.deferred = drift.differences.size() - still.differences.size();
    // What the kernel holds now at those keys: a batch may have written the very value the
    // image wants (a key changed and changed back), which is no drift to repair or count.
    if (auto now = read_at(maps_, still); now) {
      repair.repaired = compare_maps(*now, still.wanted);
    } else {
      repair.status =
          make_error("re-reading the maps: " + now.error().describe(), now.error().code);
    }
  }
  if (repair.status && !repair.repaired.empty()) {
    ++maps_generation_;
    auto written = write_difference(maps_, repair.repaired.held, repair.repaired.wanted);
    if (!written) {
      repair.status =
          make_error("repairing drift: " + written.error().message, written.error().code);
    }
  }
  // Unwritten since the snapshot, the comparison covered every key of every map: once
  // repaired, the maps are the image of the state (also after an earlier failed write). A
  // failed repair says so until a reconcile or the next check repairs them.
  // Otherwise the batches since keep maps_in_sync_ as they always do.
  if (!repair.status) {
    maps_in_sync_ = false;
  } else if (unwritten_since) {
    maps_in_sync_ = true;
  }
  publish_locked();
  repair.lock_seconds = held.seconds();
  return repair;
}

void ControlPlane::set_machines_listener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  machines_listener_ = std::move(listener);
}

nlohmann::json ControlPlane::apps_json(const std::optional<std::string> &org) const {
  std::lock_guard lock(mutex_);
  nlohmann::json apps = nlohmann::json::array();
  for (const auto &[name, app] : state_.apps()) {
    if (app.destroyed || (org && app.org != *org)) continue;
    const NetworkRecord *network = state_.network_by_id(app.network_id);
    apps.push_back({{"id", app_public_id(app.app_id)},
                    {"name", name},
                    {"machine_count", state_.machines_of_app(name).size()},
                    {"network", network ? network->name : std::string()},
                    {"org", app.org}});
  }
  const std::size_t total = apps.size();
  return {{"total_apps", total}, {"apps", std::move(apps)}};
}

nlohmann::json ControlPlane::networks_json() const {
  std::lock_guard lock(mutex_);
  std::map<uint32_t, std::size_t> app_counts;
  for (const auto &[name, app] : state_.apps()) {
    if (!app.destroyed) ++app_counts[app.network_id];
  }
  nlohmann::json networks = nlohmann::json::array();
  for (const auto &[id, network] : state_.networks()) {
    const auto count = app_counts.find(id);
    networks.push_back({{"org", network.org},
                        {"name", network.name},
                        {"id", id},
                        {"id_text", format_network_id(id)},
                        {"mode", network.audit ? "audit" : "enforce"},
                        {"app_count", count == app_counts.end() ? 0 : count->second}});
  }
  const std::size_t total = networks.size();
  return {{"total_networks", total}, {"networks", std::move(networks)}};
}

MachineInfo ControlPlane::info_of(const MachineRecord &machine) const {
  const AppRecord *app = state_.live_app(machine.app);
  MachineInfo info;
  info.machine = machine.machine;
  info.app = machine.app;
  info.app_id = app ? app->app_id : 0;
  info.network_id = network_id(machine.address);
  info.address = machine.address;
  info.prefix = machine_prefix(machine.address);
  info.interface_name = machine.interface_name;
  if (const auto cached = ifindex_cache_.find(machine.interface_name)) info.ifindex = *cached;
  return info;
}

AddressNames ControlPlane::names_of(const Ipv6 &address) const {
  AddressNames names;
  if (!is_6pn(address)) return names;
  std::lock_guard lock(mutex_);
  uint32_t net_id = network_id(address);
  if (const MachineRecord *machine = state_.machine_by_prefix(machine_prefix(address))) {
    names.machine = machine->machine;
    names.app = machine->app;
  } else if (const FlycastRecord *flycast = state_.flycast(address)) {
    names.app = flycast->app;
    net_id = flycast->network_id;
  }
  if (const NetworkRecord *network = state_.network_by_id(net_id)) {
    names.network = network->name;
    names.org = network->org;
    names.network_id = net_id;
    names.network_known = true;
  }
  return names;
}

Result<uint32_t> ControlPlane::find_network(std::string_view text) const {
  const std::string wanted(text);
  std::lock_guard lock(mutex_);
  if (const auto slash = wanted.find('/'); slash != std::string::npos) {
    if (const NetworkRecord *network =
            state_.network_by_name(wanted.substr(0, slash), wanted.substr(slash + 1))) {
      return network->id;
    }
    return make_error("unknown network '" + wanted + "'", EINVAL);
  }
  if (text.find(':') != std::string_view::npos) {
    auto id = parse_network_id(text);
    if (id && state_.network_by_id(*id) != nullptr) return *id;
    return make_error("unknown network id '" + wanted + "'", EINVAL);
  }
  std::optional<uint32_t> found;
  for (const auto &[id, network] : state_.networks()) {
    if (network.name != wanted) continue;
    if (found) {
      return make_error("network name '" + wanted + "' is used by several orgs: give ORG/" + wanted,
                        EINVAL);
    }
    found = id;
  }
  if (!found) return make_error("unknown network '" + wanted + "'", EINVAL);
  return *found;
}

std::vector<MachineInfo> ControlPlane::machines() const {
  std::lock_guard lock(mutex_);
  std::vector<MachineInfo> out;
  out.reserve(state_.machines().size());
  for (const auto &[id, machine] : state_.machines()) out.push_back(info_of(machine));
  return out;
}

std::optional<MachineInfo> ControlPlane::machine_on(const std::string &interface_name) const {
  std::lock_guard lock(mutex_);
  const MachineRecord *machine = state_.machine_by_interface(interface_name);
  if (!machine) return std::nullopt;
  return info_of(*machine);
}

std::vector<std::string> ControlPlane::take_changed_interfaces() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names(changed_interfaces_.begin(), changed_interfaces_.end());
  changed_interfaces_.clear();
  return names;
}

StateCounts ControlPlane::counts() const {
  std::lock_guard lock(published_mutex_);
  return published_counts_;
}

bool ControlPlane::maps_in_sync() const {
  std::lock_guard lock(published_mutex_);
  return published_in_sync_;
}

uint64_t ControlPlane::table_reads() const {
  std::lock_guard lock(mutex_);
  return state_.table_reads();
}

}  // namespace sixguard
