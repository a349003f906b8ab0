// The registry: what the platform told this agent exists (DESIGN §3). A batch is tried on
// the live registry with a journal of its mutations (state_journal.h) and either kept whole
// or undone (all or nothing), so that its cost follows the batch, not the registry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "agent/core/address.h"

namespace sixguard {

struct StateJournal;

// How far the journal being recorded had got: undo_to_mark() takes the registry back there.
struct JournalMark {
  std::size_t networks = 0, apps = 0, machines = 0, flycast = 0;
  uint32_t next_app_id = 0;
};

struct NetworkRecord {
  uint32_t id = 0;
  std::string org;
  std::string name;
  bool audit = false;  // network.mode audit
  bool operator==(const NetworkRecord &) const = default;
};

// Apps are kept after app.destroyed (destroyed = true) so that app ids are never reused and
// a repeated app.destroyed is recognised as already in effect. App names are global.
struct AppRecord {
  uint32_t app_id = 0;  // the datapath's app id: assigned once, never reused
  std::string name;
  std::string org;
  uint32_t network_id = 0;
  bool destroyed = false;
  bool operator==(const AppRecord &) const = default;
};

struct MachineRecord {
  std::string machine;  // machine ids are global
  std::string app;
  Ipv6 address;
  std::string interface_name;
  bool operator==(const MachineRecord &) const = default;
};

struct FlycastRecord {
  Ipv6 address;
  std::string app;          // target app
  uint32_t network_id = 0;  // the network the address was allocated into
  bool operator==(const FlycastRecord &) const = default;
};

// Where the state came from when an outside source (DESIGN §6, etcd) wrote it: the source's
// revision the registry reflects, and an identity of the source (its cluster, prefix and
// host) so that a restarted agent resumes a watch only against the same source. Zero: the
// local API wrote last (or nothing did); nothing to resume.
struct SourceMark {
  int64_t revision = 0;
  int64_t source_id = 0;
  bool operator==(const SourceMark &) const = default;
};

class State {
 public:
  using NetworkName = std::pair<std::string, std::string>;  // (org, name)

  // Whole tables: for listings, the full image and persistence, never for one event (its
  // cost must follow what it changes, DESIGN §3). Each call is counted in table_reads().
  const std::map<uint32_t, NetworkRecord> &networks() const { return counted(networks_); }
  const std::map<std::string, AppRecord> &apps() const { return counted(apps_); }
  const std::map<std::string, MachineRecord> &machines() const { return counted(machines_); }
  const std::map<Ipv6, FlycastRecord> &flycast() const { return counted(flycast_); }
  uint64_t table_reads() const { return table_reads_; }
  uint32_t next_app_id() const { return next_app_id_; }
  // Persisted with the batch that reached it (StateDelta::source_mark); not journalled.
  const SourceMark &source_mark() const { return source_mark_; }
  void set_source_mark(const SourceMark &mark) { source_mark_ = mark; }

  std::size_t network_count() const { return networks_.size(); }
  std::size_t live_app_count() const { return live_apps_; }
  std::size_t machine_count() const { return machines_.size(); }
  std::size_t flycast_count() const { return flycast_.size(); }

  const NetworkRecord *network_by_id(uint32_t id) const;
  const NetworkRecord *network_by_name(const std::string &org, const std::string &name) const;
  const AppRecord *app(const std::string &name) const;       // live or destroyed
  const AppRecord *live_app(const std::string &name) const;  // nullptr when destroyed
  const MachineRecord *machine(const std::string &id) const;
  const MachineRecord *machine_by_prefix(const Ipv6 &prefix) const;  // the /112
  const MachineRecord *machine_by_interface(const std::string &name) const;
  const FlycastRecord *flycast(const Ipv6 &address) const;
  const FlycastRecord *flycast_in_prefix(const Ipv6 &prefix) const;  // any, inside the /112
  std::size_t audit_network_count() const { return audit_networks_; }
  // The machines of an app and the Flycast addresses targeting it (empty sets: none).
  const std::set<std::string> &machines_of_app(const std::string &app) const;
  const std::set<Ipv6> &flycast_of_app(const std::string &app) const;
  // Some Flycast address targets the app (sg_machine SG_MACHINE_FLYCAST_TARGET).
  bool is_flycast_target(const std::string &app) const { return !flycast_of_app(app).empty(); }

  // Mutations keep the lookup indexes in step, and are recorded in the journal if one is
  // being kept.
  void put_network(const NetworkRecord &network);
  void put_app(const AppRecord &app);  // also advances next_app_id past app.app_id
  uint32_t allocate_app_id() { return next_app_id_++; }
  void set_next_app_id(uint32_t next) { next_app_id_ = next; }
  void put_machine(const MachineRecord &machine);
  void erase_machine(const std::string &id);
  void put_flycast(const FlycastRecord &flycast);
  void erase_flycast(const Ipv6 &address);

  // Records every mutation into journal until end_journal(). One journal at a time.
  void begin_journal(StateJournal &journal);
  void end_journal();
  // Takes the registry back to before the journal's mutations, most recent first (a refused
  // batch, or one state.db could not take). Not recorded.
  void undo(const StateJournal &journal);
  // While recording: where the journal stands, and the registry and the journal taken back
  // there (one refused event of a batch that goes on without it).
  JournalMark journal_mark() const;
  void undo_to_mark(const JournalMark &mark);

 private:
  // The single place each kind of record changes: sets or (nullopt) removes the record at a
  // key with its indexes, unrecorded.
  void set_network(uint32_t id, const std::optional<NetworkRecord> &network);
  void set_app(const std::string &name, const std::optional<AppRecord> &app);
  void set_machine(const std::string &id, const std::optional<MachineRecord> &machine);
  void set_flycast(const Ipv6 &address, const std::optional<FlycastRecord> &flycast);

  std::map<uint32_t, NetworkRecord> networks_;
  std::map<NetworkName, uint32_t> network_ids_;
  std::map<std::string, AppRecord> apps_;
  std::map<std::string, MachineRecord> machines_;
  std::map<Ipv6, std::string> machine_by_prefix_;
  std::map<std::string, std::string> machine_by_interface_;
  std::map<std::string, std::set<std::string>> machines_by_app_;
  std::map<Ipv6, FlycastRecord> flycast_;
  std::map<std::string, std::set<Ipv6>> flycast_by_app_;
  template <typename Table>
  const Table &counted(const Table &table) const {
    ++table_reads_;
    return table;
  }

  std::size_t audit_networks_ = 0;
  std::size_t live_apps_ = 0;
  mutable uint64_t table_reads_ = 0;
  uint32_t next_app_id_ = 1;  // 0 is never an app id
  SourceMark source_mark_;
  StateJournal *journal_ = nullptr;
};

}  // namespace sixguard
