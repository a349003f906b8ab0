// The control plane: the registry of DESIGN §3, its durable copy (state_store.h) and the
// datapath maps kept in step with it (desired_maps.h). Thread-safe: the API server and the
// daemon's netlink thread call in concurrently; one mutex serialises everything.
//
// Lifecycle for the daemon:
//   auto control = ControlPlane::open(config, maps, resolver, observer);  // loads state.db
//   control->reconcile();              // start: maps <- state, by difference
//   control->interface_changed(...);   // from netlink: an interface appeared/went/changed
//   control->apply(body);              // POST /v1/events (the API routes call this)
//
// A batch that would need more entries in sg_machines, sg_flycast or sg_net_flags than
// MapBackend::capacity() is refused whole (kCapacity) before anything changes; every machine
// counts, also one whose interface does not exist yet (it will need its entry). The body is
// parsed and shape-checked (events.h) before the lock is taken. A map write
// that fails after the commit is a kInternal error (the state stays committed), reports
// reconciled(false), and makes the next batch or interface change a full reconcile that
// repairs the maps from what they really hold. ControlObserver::event_result is called per
// event of an accepted batch ("applied"/"unchanged", or "internal" when state.db failed),
// and once, for the offending event only, when a batch is refused.
#pragma once

#include <chrono>
#include <map>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/control/control_config.h"
#include "agent/control/desired_maps.h"
#include "agent/control/desired_state.h"
#include "agent/control/interface_resolver.h"
#include "agent/control/map_backend.h"
#include "agent/control/map_delta.h"
#include "agent/control/map_drift.h"
#include "agent/control/observer.h"
#include "agent/control/state.h"
#include "agent/control/state_journal.h"
#include "agent/control/state_rules.h"
#include "agent/control/state_store.h"

namespace sixguard {

// What one batch (POST /v1/events) did. The API renders it (agent/api/control_answer.h).
struct ApplyResult {
  std::size_t applied = 0;
  std::size_t unchanged = 0;
  // For the agent's log (ControlObserver::batch_finished): events applied per type.
  std::map<std::string, std::size_t> applied_by_type;
  // Unset: applied. kInternal: committed to state.db (the counts stand) but writing the maps
  // failed. Any other kind: refused, nothing applied (a refusal of the rules names the
  // offending event: index, type, field).
  std::optional<EventError> error;

  // The refusal's class for the log ("malformed", "conflict", "invalid", "map_full",
  // "internal", "unavailable"); empty when applied.
  std::string_view code() const { return error ? error->result_class() : std::string_view(); }
};

// The names this agent's state gives an address (the monitor's src_/dst_ fields). Empty: not
// known. A machine's /112 gives machine, app, network, org; a Flycast address gives its target
// app and the network it was allocated into; otherwise a known network id gives network, org.
struct AddressNames {
  std::string machine;
  std::string app;
  std::string network;
  std::string org;
  uint32_t network_id = 0;
  bool network_known = false;
};

// A machine this host runs, for the daemon to attach its interface.
struct MachineInfo {
  std::string machine;
  std::string app;
  uint32_t app_id = 0;
  uint32_t network_id = 0;
  Ipv6 address;
  Ipv6 prefix;  // the /112
  std::string interface_name;
  std::optional<uint32_t> ifindex;  // as last resolved; nullopt: the interface is absent
};

// What an outside source's batch did (apply_from_source).
struct SourceApplyResult {
  // Unset: applied. kUnavailable: state.db cannot commit, nothing applied. kInternal:
  // committed, but writing the maps failed.
  std::optional<ControlErrorKind> failure;
  std::string error;  // when failure is set
  std::size_t applied = 0;
  std::size_t unchanged = 0;
  // The planned events the rules refused, each with its error; dropped from the batch.
  std::vector<std::pair<PlannedEvent, EventError>> refused;
  // In step with refused: the index of the planner (segment) each came from.
  std::vector<std::size_t> refused_segment;
};

// Measures a batch for sixguard_event_apply_duration_seconds.
struct Stopwatch {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

struct StateCounts {
  std::size_t networks = 0;
  std::size_t apps = 0;  // live apps
  std::size_t machines = 0;
  std::size_t machines_attached = 0;  // machines whose interface resolved (in sg_machines)
  std::size_t flycast = 0;
  std::size_t audit_networks = 0;
};

class ControlPlane {
 public:
  // Opens <config.state_dir>/state.db and loads it; the maps are untouched until reconcile().
  // maps, resolver and observer must outlive the control plane.
  static Result<std::unique_ptr<ControlPlane>> open(ControlConfig config, MapBackend &maps,
                                                    InterfaceResolver &resolver,
                                                    ControlObserver &observer);

  // Reads every map and writes only what differs from the state (inserts missing entries,
  // updates changed ones, deletes stale ones). Re-resolves every machine interface.
  Status reconcile();
  // The persisted state against the configuration (state_rules.h check_infra_prefixes): an
  // error means the agent must not start (the daemon exits 2).
  Status check_configuration() const;

  // Validates the whole batch against the state, commits it to state.db, then writes the
  // keys it changed into the maps. All or nothing up to the commit.
  ApplyResult apply(std::string_view body);

  // An outside source (DESIGN §6, etcd) applies what it read: plan is called under the lock
  // with the registry, and its events are applied as one batch together with mark (same
  // state.db commit). An event the rules refuse (malformed, conflict, invalid, capacity) is dropped
  // and reported in refused, and the rest applied without it, so one bad key never holds the others
  // back. A batch from the local API that changes anything clears a persisted mark (the registry no
  // longer reflects the source alone).
  using SourcePlanner = std::function<std::vector<PlannedEvent>(const State &)>;
  // An empty plan commits the mark only when persist_unchanged (a list; a watched
  // transaction that changes nothing here costs no commit).
  SourceApplyResult apply_from_source(const SourcePlanner &plan, const SourceMark &mark,
                                      bool persist_unchanged = true);
  // Several planners (the source's transactions, in order) applied and committed as one
  // batch with mark: each is called once the events of those before it are applied (on the
  // journalled, uncommitted registry), so the outcome is that of applying them one by one,
  // for one state.db commit and one map write.
  SourceApplyResult apply_from_source(const std::vector<SourcePlanner> &segments,
                                      const SourceMark &mark, bool persist_unchanged = true);
  SourceMark source_mark() const;

  // The daemon reports an interface that appeared (ifindex), disappeared (nullopt) or came
  // back with another ifindex. Updates sg_machines for the machine on it, if any.
  Status interface_changed(const std::string &name, std::optional<uint32_t> ifindex);

  // Called (without the lock held) after a batch changed the set of machines, so the daemon
  // can attach new interfaces and detach those of stopped machines; which interfaces, it
  // asks take_changed_interfaces(). Set it before serving requests.
  void set_machines_listener(std::function<void()> listener);

  // The health of state.db (state_store.h). While it is gone or corrupt every batch is
  // refused unread (kUnavailable); a batch whose commit fails is refused the same way and
  // nothing is applied.
  // The listener is called (without the lock held) whenever the health changes, from the
  // thread that noticed it. Set it before serving requests.
  StateStore::Health store_health() const;
  StateStore::Health check_store(bool integrity);
  void set_store_listener(std::function<void(const StateStore::Health &)> listener);

  // Queries for the API and the daemon.
  // Calls read with the registry under the lock (between batches): the API renders its views
  // from it (agent/api/state_views.h). read must not call back into the control plane.
  void read_state(const std::function<void(const State &)> &read) const;
  std::vector<MachineInfo> machines() const;
  std::optional<MachineInfo> machine_on(const std::string &interface_name) const;
  AddressNames names_of(const Ipv6 &address) const;
  // A network as an operator names it: "NAME", "ORG/NAME" or its id in address notation
  // ("2:45b"). An error (EINVAL) names what is wrong: unknown, or a NAME two orgs use.
  Result<uint32_t> find_network(std::string_view text) const;
  // The interfaces of the machines that batches started, stopped or moved since the last
  // call (names before and after), so that the machines listener looks at those only.
  std::vector<std::string> take_changed_interfaces();
  // counts() and maps_in_sync() never wait for a batch: they read what the last batch,
  // reconcile or interface change published when it finished (GET /v1/status and the
  // daemon's readiness must answer while a large batch holds the lock).
  StateCounts counts() const;
  bool maps_in_sync() const;  // false after a failed map write, until a reconcile repairs it
  // How many times the whole registry tables were read (State::table_reads): evidence that
  // an event's cost follows what it changes.
  uint64_t table_reads() const;
  // How many machine entries batches have recomputed (MapDelta::machines_recomputed).
  uint64_t machines_recomputed() const;

  // The drift checker (DESIGN §5), in two short holds of the lock with the slow part (reading
  // the maps, comparing) between them, outside it. snapshot_image() copies the image of the
  // state with the generation of the maps: every write of the maps under the lock (batch,
  // interface change, reconcile, repair) bumps it. repair_drift() writes the repair at once
  // if the generation is unchanged (nobody wrote the maps since the snapshot: every
  // difference found is drift, not a batch in flight). Otherwise it re-checks, under the
  // lock, the image now at the differing keys only (cost: the differences, not the maps) and
  // repairs the keys whose desired entry has not moved on; the others are deferred to the
  // next check. So a steady stream of batches never starves the repair. lock_seconds: how
  // long each held the lock, for the benchmark.
  struct ImageSnapshot {
    uint64_t generation = 0;
    MapImage image;
    bool in_sync = false;  // maps_in_sync() when taken: if not, a reconcile is pending
    double lock_seconds = 0;
  };
  ImageSnapshot snapshot_image();
  struct DriftRepair {
    MapDrift repaired;         // the differences written (the caller logs and counts them)
    std::size_t deferred = 0;  // differences whose desired entry moved on: the next check
    Status status;             // the writes' outcome (maps_in_sync() follows it)
    double lock_seconds = 0;
  };
  DriftRepair repair_drift(uint64_t generation, const MapDrift &drift);

 private:
  ControlPlane(ControlConfig config, StateStore store, State state, MapBackend &maps,
               InterfaceResolver &resolver, ControlObserver &observer);

  // What the capacity check compares a batch with: the sizes before it.
  struct MapSizes {
    std::size_t machines = 0, flycast = 0, net_flags = 0;
  };
  static MapSizes sizes_of(const State &state);

  MachineInfo info_of(const MachineRecord &machine) const;
  Status reconcile_locked();
  ApplyResult apply_unreported(std::string_view body);  // apply() without batch_finished
  // skipped null: all or nothing. Else an event refused with an index is undone alone,
  // reported in skipped (its index in parsed, its error numbered as if the events skipped
  // before it had never been in the batch) and the batch goes on without it: one pass,
  // however many are refused.
  ApplyResult apply_locked(const ParsedEvents &parsed, const Stopwatch &stopwatch,
                           bool &machines_changed, const std::optional<SourceMark> &mark,
                           std::vector<std::pair<std::size_t, EventError>> *skipped = nullptr);
  // The events of a batch in segments: called with the registry as the segments before left
  // it (journalled, uncommitted); the next segment's events, or null when none is left.
  using NextSegment = std::function<const std::deque<Event> *(const State &)>;
  // apply_locked over segments; skipped indexes count across them. With mark_needs_events, a
  // batch without events commits nothing (not even the mark) and reports nothing.
  ApplyResult apply_segments_locked(const NextSegment &next, const Stopwatch &stopwatch,
                                    bool &machines_changed, const std::optional<SourceMark> &mark,
                                    std::vector<std::pair<std::size_t, EventError>> *skipped,
                                    bool mark_needs_events = false);
  // kUnavailable while state.db is gone or corrupt (StateStore::Health::sticky): never
  // acknowledged.
  ApplyResult refusal_for(const StateStore::Health &health);
  std::optional<ApplyResult> refusal_while_store_faulted();
  // What a batch's listeners are to hear once the lock is released: the store's health if it
  // changed, the machines listener if the machines did.
  struct BatchNotice {
    StateStore::Health before, after;
    bool machines_changed = false;
    std::function<void()> machines_listener;
  };
  void finish_locked(BatchNotice &notice);  // publishes the batch; fills in the rest of notice
  void notify(const BatchNotice &notice);   // without the lock
  Status interface_changed_locked(const std::string &name, std::optional<uint32_t> ifindex);
  void publish_locked();  // counts and maps_in_sync for readers that do not take mutex_
  std::optional<EventError> check_capacity(const MapSizes &before, std::size_t index,
                                           const Event &event) const;

  const ControlConfig config_;
  const EventRules rules_;
  MapBackend &maps_;
  ControlObserver &observer_;
  MapDelta map_delta_;  // what the maps must change, and the interfaces they are keyed by

  // One batch applies (under mutex_) while the next one is parsed (outside it).
  static constexpr std::ptrdiff_t kBatchesInFlight = 2;
  std::counting_semaphore<kBatchesInFlight> batches_in_flight_{kBatchesInFlight};

  mutable std::mutex mutex_;
  StateStore store_;
  State state_;
  bool maps_in_sync_ = false;     // a failed write makes the next change a full reconcile
  uint64_t maps_generation_ = 0;  // bumped by every write of the maps (snapshot_image)
  std::function<void()> machines_listener_;
  std::function<void(const StateStore::Health &)> store_listener_;
  std::set<std::string> changed_interfaces_;  // for take_changed_interfaces()

  // What counts() and maps_in_sync() answer; published_mutex_ is only ever held to copy.
  mutable std::mutex published_mutex_;
  StateCounts published_counts_;
  bool published_in_sync_ = false;
};

}  // namespace sixguard
