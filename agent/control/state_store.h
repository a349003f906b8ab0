// Durable registry: SQLite in WAL mode at <state_dir>/state.db. A batch is written as its
// net change (the rows it changed, nothing else), in one transaction, and committed before
// it is acknowledged or reaches the maps (DESIGN §5).
//
// Schema version 1 (PRAGMA user_version):
//   meta(key PRIMARY KEY, value)            next_app_id, source_revision, source_id
//   networks(id PRIMARY KEY, org, name, audit)      UNIQUE(org, name)
//   apps(name PRIMARY KEY, app_id UNIQUE, org, network_id, destroyed)
//   machines(machine PRIMARY KEY, app, address, interface)
//   flycast(address PRIMARY KEY, app, network_id)
//
// Health (DESIGN §4, §5: never acknowledge into the void). The store remembers the device and
// inode of state.db and of its -wal as opened; SQLite keeps both open, so their inodes cannot
// be reused while we run, and a path that names another inode (or nothing) means the file was
// deleted or replaced under us: our commits would go to a file nobody will read again.
// Faults:
//   gone     state.db or its -wal deleted or replaced: sticky (until a restart); commits are
//            refused without being attempted. What the store holds (every acknowledged
//            commit, some perhaps only in the deleted -wal) is saved first with VACUUM INTO
//            to <state.db>.recovered-<unix time>, and the reason says so.
//   corrupt  SQLITE_CORRUPT / SQLITE_NOTADB (a commit, or check(integrity)): sticky, refused.
//   write    any other failed commit (SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, ...):
//            commits are still attempted, and the fault clears on the next one that succeeds
//            or on a check() whose probe commit succeeds on a filesystem with free blocks.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "agent/control/sqlite.h"
#include "agent/control/state.h"
#include "agent/control/state_journal.h"

namespace sixguard {

inline constexpr int kStateSchemaVersion = 1;

class StateStore {
 public:
  // Creates state_dir (0700) and the database as needed; refuses a newer schema.
  static Result<StateStore> open(const std::string &state_dir);

  Result<State> load();
  // Writes the rows a batch changed, atomically; first checks that state.db is still the file
  // we opened. A failure sets the fault (see above).
  Status commit(const StateDelta &delta);

  struct Health {
    bool ok = true;
    bool sticky = false;  // gone or corrupt: only a restart clears it
    std::string reason;   // what is wrong and what to do, when !ok
    bool operator==(const Health &) const = default;
  };
  Health health() const { return health_; }
  // Periodic check: identity of state.db and -wal; with integrity, also PRAGMA quick_check
  // on what is on disk (the page cache dropped first); while a write fault stands, a probe
  // commit. Returns the health after it.
  Health check(bool integrity);

  const std::string &path() const { return path_; }

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
  };
  StateStore(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  Status migrate();
  Status write(const StateDelta &delta);
  void remember_files();
  Status same_files() const;  // the paths still name the files we opened
  void note_failure(const Error &error);
  void note_gone(const Error &error);  // sticky, after saving what we hold (VACUUM INTO)
  void set_fault(bool sticky, std::string reason);

  sqlite::Database db_;
  std::string path_;
  std::optional<FileId> db_file_, wal_file_;
  Health health_;
};

}  // namespace sixguard
