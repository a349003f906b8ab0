// Durable registry: SQLite in WAL mode at <state_dir>/state.db. A batch is written as its
// net change (the rows it changed, nothing else), in one transaction, and committed before
// it is acknowledged or reaches the maps (DESIGN §5).
//
// Schema version 1 (PRAGMA user_version):
//   meta(key PRIMARY KEY, value)            next_app_id
//   networks(id PRIMARY KEY, org, name, audit)      UNIQUE(org, name)
//   apps(name PRIMARY KEY, app_id UNIQUE, org, network_id, destroyed)
//   machines(machine PRIMARY KEY, app, address, interface)
//   flycast(address PRIMARY KEY, app, network_id)
#pragma once

#include <string>

#include "sqlite.h"
#include "state.h"
#include "state_journal.h"

namespace sixguard {

inline constexpr int kStateSchemaVersion = 1;

class StateStore {
 public:
  // Creates state_dir (0700) and the database as needed; refuses a newer schema.
  static Result<StateStore> open(const std::string &state_dir);

  Result<State> load();
  // Writes the rows a batch changed, atomically.
  Status commit(const StateDelta &delta);

  const std::string &path() const { return path_; }

 private:
  StateStore(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  Status migrate();

  sqlite::Database db_;
  std::string path_;
};

}  // namespace sixguard
