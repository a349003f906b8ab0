#include "agent/control/control_plane.h"

#include <chrono>

namespace sixguard {

namespace {

std::string batch_type_label(const EventError &error) {
  // Metric labels stay bounded: only the eight known types, else "unknown".
  return parse_event_type(error.type) ? error.type : std::string("unknown");
}

ApplyResult refused(EventError error) {
  ApplyResult result;
  result.error = std::move(error);
  return result;
}

EventError unavailable(std::string message) {
  return EventError{ControlErrorKind::kUnavailable, std::move(message), std::nullopt, "", ""};
}

}  // namespace

ControlPlane::ControlPlane(ControlConfig config, StateStore store, State state, MapBackend &maps,
                           InterfaceResolver &resolver, ControlObserver &observer)
    : config_(std::move(config)),
      rules_{config_.uplinks, config_.infra_prefixes},
      maps_(maps),
      observer_(observer),
      map_delta_(config_, maps, resolver),
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
  counts.machines_attached = map_delta_.resolved_count();
  counts.flycast = state_.flycast_count();
  counts.audit_networks = state_.audit_network_count();
  std::lock_guard lock(published_mutex_);
  published_counts_ = counts;
  published_in_sync_ = maps_in_sync_;
}

Status ControlPlane::reconcile_locked() {
  ++maps_generation_;
  const Status status = map_delta_.reconcile(state_);
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
      return event_error(ControlErrorKind::kCapacity, index, event, check.field,
                         std::string("map ") + check.name + " is full (capacity " +
                             std::to_string(capacity) + ", the batch needs " +
                             std::to_string(check.after) +
                             " entries); nothing was applied — raise map_sizes");
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
  ApplyResult result;
  BatchNotice notice;
  {
    std::lock_guard lock(mutex_);
    notice.before = store_.health();
    if (notice.before.sticky) return refusal_for(notice.before);
    result = apply_locked(parsed, stopwatch, notice.machines_changed, std::nullopt);
    finish_locked(notice);
  }
  notify(notice);
  return result;
}

void ControlPlane::finish_locked(BatchNotice &notice) {
  publish_locked();
  notice.machines_listener = machines_listener_;
  notice.after = store_.health();
}

void ControlPlane::notify(const BatchNotice &notice) {
  if (!(notice.after == notice.before) && store_listener_) store_listener_(notice.after);
  if (notice.machines_changed && notice.machines_listener) notice.machines_listener();
}

ApplyResult ControlPlane::refusal_for(const StateStore::Health &health) {
  // Counted once per batch, unread (its types are unknown).
  observer_.event_result("unknown", "internal");
  return refused(unavailable("the state cannot be committed: " + health.reason));
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
  return apply_from_source(std::vector<SourcePlanner>{plan}, mark, persist_unchanged);
}

SourceApplyResult ControlPlane::apply_from_source(const std::vector<SourcePlanner> &segments,
                                                  const SourceMark &mark, bool persist_unchanged) {
  SourceApplyResult outcome;
  BatchNotice notice;
  {
    std::lock_guard lock(mutex_);
    notice.before = store_.health();
    if (notice.before.sticky) {
      outcome.failure = ControlErrorKind::kUnavailable;
      outcome.error = "the state cannot be committed: " + notice.before.reason;
      return outcome;
    }
    // Every planned event in batch order, with the segment it came from: a refused event's
    // index in the batch finds its origin.
    std::vector<PlannedEvent> planned;
    std::vector<std::size_t> segment_of;
    std::deque<Event> events;  // the current segment's, as apply_locked reads them
    std::size_t next_segment = 0;
    const NextSegment next = [&](const State &state) -> const std::deque<Event> * {
      if (next_segment == segments.size()) return nullptr;
      const std::size_t segment = next_segment++;
      std::vector<PlannedEvent> plan = segments[segment](state);
      events.clear();
      for (auto &event : plan) {
        events.push_back(event.event);
        planned.push_back(std::move(event));
        segment_of.push_back(segment);
      }
      return &events;
    };
    // One pass: a refused event is undone alone and the rest goes on, so the cost follows
    // the batch however many keys are refused (a list over a map's capacity refuses many).
    const Stopwatch stopwatch;
    std::vector<std::pair<std::size_t, EventError>> skipped;
    ApplyResult result = apply_segments_locked(next, stopwatch, notice.machines_changed, mark,
                                               &skipped, !persist_unchanged);
    for (auto &[index, error] : skipped) {
      outcome.refused.emplace_back(std::move(planned[index]), std::move(error));
      outcome.refused_segment.push_back(segment_of[index]);
    }
    outcome.applied = result.applied;
    outcome.unchanged = result.unchanged;
    if (result.error) {
      outcome.failure = result.error->kind;
      outcome.error = result.error->message;
    }
    finish_locked(notice);
  }
  notify(notice);
  return outcome;
}

ApplyResult ControlPlane::apply_locked(const ParsedEvents &parsed, const Stopwatch &stopwatch,
                                       bool &machines_changed,
                                       const std::optional<SourceMark> &mark,
                                       std::vector<std::pair<std::size_t, EventError>> *skipped) {
  bool given = false;
  const NextSegment once = [&](const State &) -> const std::deque<Event> * {
    if (given) return nullptr;
    given = true;
    return &parsed.events;
  };
  return apply_segments_locked(once, stopwatch, machines_changed, mark, skipped);
}

ApplyResult ControlPlane::apply_segments_locked(
    const NextSegment &next, const Stopwatch &stopwatch, bool &machines_changed,
    const std::optional<SourceMark> &mark, std::vector<std::pair<std::size_t, EventError>> *skipped,
    bool mark_needs_events) {
  // Validate the whole batch on the live state, journalled: each event sees the state plus
  // the earlier events, and a refused batch is undone. No copy of the state: the cost
  // follows the batch.
  const MapSizes sizes_before = sizes_of(state_);
  StateJournal journal;
  state_.begin_journal(journal);
  std::vector<EventEffect> effects;
  std::vector<EventType> types;  // of the events kept, in step with effects
  std::size_t seen = 0;          // events read so far: the next one's index in the whole batch
  for (const std::deque<Event> *segment = next(state_); segment; segment = next(state_)) {
    for (const Event &event : *segment) {
      const std::size_t at = seen++;
      const std::size_t index = at - (skipped ? skipped->size() : 0);  // among the events kept
      const JournalMark mark_before = state_.journal_mark();
      EventOutcome outcome = apply_event(state_, event, index, rules_);
      if (!outcome.error) outcome.error = check_capacity(sizes_before, index, event);
      if (outcome.error) {
        observer_.event_result(event_type_name(event.type), outcome.error->result_class());
        if (skipped && outcome.error->index) {
          state_.undo_to_mark(mark_before);
          skipped->emplace_back(at, std::move(*outcome.error));
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
  }
  state_.end_journal();
  // A watched transaction that changes nothing here costs no commit (its revision is carried
  // by the next commit).
  if (mark_needs_events && seen == 0) return ApplyResult{};

  ApplyResult result;
  for (std::size_t i = 0; i < effects.size(); ++i) {
    if (effects[i] != EventEffect::kApplied) {
      ++result.unchanged;
      continue;
    }
    ++result.applied;
    ++result.applied_by_type[std::string(event_type_name(types[i]))];
  }
  auto report_events = [&](std::string_view failure) {
    for (std::size_t i = 0; i < effects.size(); ++i) {
      const std::string_view outcome = !failure.empty()                      ? failure
                                       : effects[i] == EventEffect::kApplied ? "applied"
                                                                             : "unchanged";
      observer_.event_result(event_type_name(types[i]), outcome);
    }
  };
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
    result.error = unavailable("cannot persist the batch (nothing was applied): " +
                               committed.error().describe());
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
  const Status written =
      maps_in_sync_ ? map_delta_.write_batch(state_, delta) : map_delta_.repair(state_);
  maps_in_sync_ = written.ok();
  observer_.reconciled(written.ok());
  report_events("");
  observer_.apply_duration(stopwatch.seconds());
  if (!written) {
    result.error = EventError{
        ControlErrorKind::kInternal,
        "the batch was committed to state.db but writing the datapath maps failed: " +
            written.error().describe() + "; the next reconciliation will repair the maps",
        std::nullopt, "", ""};
  }
  return result;
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
  // A reconcile resolves every interface again, this one included.
  if (!maps_in_sync_) return reconcile_locked();
  if (!state_.machine_by_interface(name)) return {};  // not a machine interface we know
  const Status written = map_delta_.write_interface(state_, name, ifindex);
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
  snapshot.image = map_delta_.image(state_);
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
    // (resolved by the snapshot, or by the batch since), as image_at needs.
    const MapDrift still = still_wanted(drift, map_delta_.image_at(state_, keys_of(drift)));
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

void ControlPlane::read_state(const std::function<void(const State &)> &read) const {
  std::lock_guard lock(mutex_);
  read(state_);
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
  if (const auto cached = map_delta_.cached(machine.interface_name)) info.ifindex = *cached;
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

uint64_t ControlPlane::machines_recomputed() const {
  std::lock_guard lock(mutex_);
  return map_delta_.machines_recomputed();
}

}  // namespace sixguard
