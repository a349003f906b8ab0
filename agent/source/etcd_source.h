// The agent's etcd source (DESIGN §6): on its own thread it lists the global keys and this
// host's keys at one revision (paginated), reconciles the control plane to them by difference
// (ControlPlane::apply_from_source: same validation, persistence and incremental map writes as
// the API), then watches the prefix from the next revision and applies each etcd transaction
// as one batch. The applied revision is committed with each batch (SourceMark), so a
// restarted agent resumes its watch from it. Transactions that arrived together (the agent
// is behind) are applied one after the other and committed together, with the last revision.
//
// Faults: a compacted revision (or a persisted mark from another prefix or host) means list
// again and reconcile by difference, removing what is gone (counted in resyncs). An
// unreachable etcd changes nothing in the state or the maps (fail static): the source reports
// itself disconnected and retries every endpoint with backoff and jitter. A key that breaks
// the §3 rules or the §6 layout is skipped, logged, counted and listed in status; the rest is
// applied.
//
// Decisions where the contract is silent:
// - One watch on the whole prefix, other hosts' machine keys ignored: a transaction that
//   writes an app and its machines arrives as one batch, never split across two watches.
// - A key whose value became invalid removes its object (fail closed), as a relist would.
// - A transaction that changes nothing here (another host's machines) advances the reported
//   revision without a state.db commit; the next commit carries it. Resuming from the older
//   persisted revision replays only such no-op changes.
// - The first list of a fresh agent is not a resync; every later list is.
// Known limit: keys written around publish can leave the state and etcd apart until the next
// list: an app key deleted (app.destroyed cascades to its machines and Flycast addresses) and
// put again does not bring back the machine keys that stayed in etcd (publish deletes them
// with the app, so it never happens through publish).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/source/etcd/client.h"
#include "agent/control/control_plane.h"
#include "agent/source/etcd_keys.h"

namespace sixguard {

struct EtcdSourceSettings {
  std::vector<std::string> endpoints;
  std::string prefix{kDefaultEtcdPrefix};
  std::string host;
  std::optional<etcd::TlsFiles> tls;
  etcd::Backoff backoff;     // between failed attempts of the source loop
  int64_t page_size = 1000;  // keys per range request when listing
  // Transactions already read from the watch are applied together, up to this many events
  // per commit (bounds the control-plane lock's hold while the agent catches up).
  std::size_t max_gathered_events = 5000;
  std::size_t invalid_keys_listed = 100;  // status lists at most this many invalid keys
};

struct EtcdSourceStatus {
  std::vector<std::string> endpoints;
  std::string prefix;
  std::string host;
  int64_t revision = 0;  // the etcd revision the state (and so the maps) reflects
  bool connected = false;
  bool synced = false;  // a list has been applied (or a persisted revision resumed)
  std::string last_error;
  uint64_t resyncs = 0;
  uint64_t invalid_keys_total = 0;                  // keys found invalid, each time one became so
  std::map<std::string, std::string> invalid_keys;  // currently invalid: key -> reason
};

using SourceLog = std::function<void(bool warning, const std::string &message)>;

class EtcdSource {
 public:
  static Result<std::unique_ptr<EtcdSource>> create(EtcdSourceSettings settings,
                                                    ControlPlane &control, SourceLog log);
  ~EtcdSource();  // stops the thread
  EtcdSource(const EtcdSource &) = delete;
  EtcdSource &operator=(const EtcdSource &) = delete;

  void start();
  void stop();

  EtcdSourceStatus status() const;
  // GET /v1/status "source": {kind, endpoints, prefix, host, revision, connected, synced,
  // last_error, resyncs, invalid_keys: {count, total, keys: [{key, reason}]}}.
  nlohmann::json status_json() const;

  // The identity persisted with the revision: a mark from another prefix or host is not
  // resumed.
  static int64_t identity(const std::string &prefix, const std::string &host);

 private:
  EtcdSource(EtcdSourceSettings settings, std::unique_ptr<etcd::Client> client,
             ControlPlane &control, SourceLog log);
  void run(std::stop_token stop);
  // Lists and reconciles; the revision reached, or an error (nothing changed then).
  Result<int64_t> relist();
  // Watches from revision + 1 until an error; returns it (kCompacted: relist).
  Status watch_from(int64_t revision, std::stop_token stop);
  // What a transaction said of its keys: valid, or invalid and why (status's list).
  struct KeyOutcomes {
    std::vector<std::string> valid;
    std::vector<std::pair<std::string, std::string>> invalid;
  };
  // The events that apply one transaction's changes of followed keys to state.
  std::vector<PlannedEvent> plan_revision(const State &state, const etcd::RevisionBatch &batch,
                                          KeyOutcomes &outcomes) const;
  // Applies transactions in order as one batch (one commit, the last revision its mark).
  Status apply_revisions(const std::vector<etcd::RevisionBatch> &batches);
  // Is the key one this agent follows (global, or this host's machines)?
  bool followed(const std::string &key) const;

  void note_invalid(const std::string &key, const std::string &reason);
  void note_valid(const std::string &key);
  void set_connected(bool connected, const std::string &error = {});
  void set_revision(int64_t revision);

  const EtcdSourceSettings settings_;
  const int64_t identity_;
  const std::string host_prefix_;   // <prefix>/hosts/<host>/machines/
  const std::string hosts_prefix_;  // <prefix>/hosts/
  std::unique_ptr<etcd::Client> client_;
  ControlPlane &control_;
  SourceLog log_;

  mutable std::mutex mutex_;
  EtcdSourceStatus status_;
  int64_t applied_revision_ = 0;  // what the loop resumes from (only the source thread)

  std::jthread thread_;
};

}  // namespace sixguard
