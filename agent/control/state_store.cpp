#include "agent/control/state_store.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>

namespace sixguard {

namespace {

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS networks (
  id INTEGER PRIMARY KEY, org TEXT NOT NULL, name TEXT NOT NULL, audit INTEGER NOT NULL,
  UNIQUE (org, name));
CREATE TABLE IF NOT EXISTS apps (
  name TEXT PRIMARY KEY, app_id INTEGER NOT NULL UNIQUE, org TEXT NOT NULL,
  network_id INTEGER NOT NULL, destroyed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS machines (
  machine TEXT PRIMARY KEY, app TEXT NOT NULL, address TEXT NOT NULL, interface TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flycast (
  address TEXT PRIMARY KEY, app TEXT NOT NULL, network_id INTEGER NOT NULL);
)sql";

Status make_state_dir(const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create state directory " + dir, ec.value());
  ::chmod(dir.c_str(), 0700);
  return {};
}

// Deletes the rows of keys gone, then upserts the changed and new ones.
template <typename Changes, typename Upsert, typename Delete>
Status write_table(const Changes &changes, Upsert upsert, Delete erase) {
  for (const auto &[key, change] : changes) {
    if (!change.second) {
      if (auto status = erase(key); !status) return status;
    }
  }
  for (const auto &[key, change] : changes) {
    if (change.second) {
      if (auto status = upsert(*change.second); !status) return status;
    }
  }
  return {};
}

}  // namespace

Result<StateStore> StateStore::open(const std::string &state_dir) {
  if (auto status = make_state_dir(state_dir); !status) return status.error();
  const std::string path = state_dir + "/state.db";
  auto db = sqlite::Database::open(path);
  if (!db) return db.error();
  StateStore store(std::move(*db), path);
  // WAL: readers never block the writer; FULL: a commit is on disk when acknowledged.
  if (auto status = store.db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !status) {
    return status.error();
  }
  if (auto status = store.migrate(); !status) return status.error();
  store.remember_files();
  return store;
}

namespace {

std::optional<std::pair<dev_t, ino_t>> file_id(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

constexpr const char *kRecover =
    "; the agent refuses events until it is restarted (restore state.db first: a restart with "
    "an empty state and populated maps is refused)";

}  // namespace

void StateStore::remember_files() {
  // After migrate() SQLite has read the database in WAL mode, so both files exist and are open.
  if (const auto id = file_id(path_)) db_file_ = FileId{id->first, id->second};
  if (const auto id = file_id(path_ + "-wal")) wal_file_ = FileId{id->first, id->second};
}

Status StateStore::same_files() const {
  const std::pair<const std::optional<FileId> *, std::string> files[] = {
      {&db_file_, path_}, {&wal_file_, path_ + "-wal"}};
  for (const auto &[opened, path] : files) {
    if (!*opened) continue;
    const auto now = file_id(path);
    if (!now) return make_error(path + " was deleted under the running agent", ENOENT);
    if (now->first != (*opened)->dev || now->second != (*opened)->ino) {
      return make_error(path + " was replaced under the running agent (opened inode " +
                            std::to_string((*opened)->ino) + ", the path now names inode " +
                            std::to_string(now->second) + ")",
                        ESTALE);
    }
  }
  return {};
}

void StateStore::set_fault(bool sticky, std::string reason) {
  // A sticky fault is never downgraded to a write fault.
  if (health_.sticky) return;
  health_ = Health{false, sticky, std::move(reason)};
}

void StateStore::note_gone(const Error &error) {
  if (health_.sticky) return;
  // Our connection still has the unlinked files open, and sees every commit ever acknowledged
  // (some may live only in the deleted -wal): save them where the operator can take them back.
  const std::string copy =
      path_ + ".recovered-" + std::to_string(static_cast<long long>(::time(nullptr)));
  Status saved = make_error("cannot quote the path " + copy);
  if (copy.find('\'') == std::string::npos) saved = db_.exec("VACUUM INTO '" + copy + "'");
  const std::string recovery = saved ? "; the state this agent holds was saved to " + copy +
                                           ": move it to " + path_ + " and restart the agent"
                                     : "; saving the state this agent holds failed (" +
                                           saved.error().describe() + ")" + kRecover;
  set_fault(true, "state database " + error.message + recovery);
}

void StateStore::note_failure(const Error &error) {
  if (error.code == EUCLEAN) {
    set_fault(true, "state database " + path_ + " is corrupt: " + error.describe() + kRecover);
  } else {
    set_fault(false, "state database " + path_ + " cannot be written: " + error.describe() +
                         "; events are answered 503 until a commit succeeds again");
  }
}

StateStore::Health StateStore::check(bool integrity) {
  if (health_.sticky) return health_;
  if (auto same = same_files(); !same) {
    note_gone(same.error());
    return health_;
  }
  if (integrity) {
    // What is on disk, not our page cache: a file damaged underneath us reads back as such.
    sqlite3_db_release_memory(db_.handle());
    std::string findings;  // quick_check answers "ok", or rows naming what is wrong
    {
      auto check = db_.prepare("PRAGMA quick_check(3)");
      if (!check) {
        note_failure(check.error());
        return health_;
      }
      for (;;) {
        auto row = check->step();
        if (!row) {
          note_failure(row.error());
          return health_;
        }
        if (!*row) break;
        std::string text = check->text(0);
        std::replace(text.begin(), text.end(), '\n', ' ');  // one log line per event
        findings += (findings.empty() ? "" : "; ") + text;
      }
    }  // the statement, and its read transaction, end here
    if (findings != "ok") {
      set_fault(true,
                "state database " + path_ + " is corrupt: quick_check: " + findings + kRecover);
      return health_;
    }
  }
  if (!health_.ok) {
    // A write fault: does a commit go through now, with room left to grow?
    auto transaction = db_.begin();
    Status probe = transaction ? db_.exec("UPDATE meta SET value = value WHERE key = 'next_app_id'")
                               : Status(transaction.error());
    if (probe) probe = (*transaction)->commit();
    struct statvfs fs {};
    if (!probe) {
      note_failure(probe.error());
    } else if (::statvfs(path_.c_str(), &fs) == 0 && fs.f_bfree == 0) {
      // Still full: the probe fitted in the space the WAL already had.
    } else {
      health_ = Health{};
    }
  }
  return health_;
}

Status StateStore::commit(const StateDelta &delta) {
  if (health_.sticky) return make_error(health_.reason, EIO);
  if (auto same = same_files(); !same) {
    note_gone(same.error());
    return make_error(health_.reason, same.error().code);
  }
  if (auto written = write(delta); !written) {
    note_failure(written.error());
    return written;
  }
  if (!health_.ok) health_ = Health{};  // a write fault is over once a commit succeeds
  return {};
}

Status StateStore::migrate() {
  auto version_query = db_.prepare("PRAGMA user_version");
  if (!version_query) return version_query.error();
  auto row = version_query->step();
  if (!row) return row.error();
  const int64_t version = *row ? version_query->integer(0) : 0;
  if (version > kStateSchemaVersion) {
    return make_error(path_ + " has schema version " + std::to_string(version) +
                      ", newer than this agent's " + std::to_string(kStateSchemaVersion));
  }
  if (version == kStateSchemaVersion) return {};
  auto transaction = db_.begin();
  if (!transaction) return transaction.error();
  if (auto status = db_.exec(kSchema); !status) return status;
  if (auto status = db_.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('next_app_id', 1)");
      !status) {
    return status;
  }
  if (auto status = db_.exec("PRAGMA user_version = " + std::to_string(kStateSchemaVersion));
      !status) {
    return status;
  }
  return (*transaction)->commit();
}

Result<State> StateStore::load() {
  State state;
  auto put_network = [&](const sqlite::Statement &row) -> Status {
    state.put_network(NetworkRecord{static_cast<uint32_t>(row.integer(0)), row.text(1), row.text(2),
                                    row.integer(3) != 0});
    return {};
  };
  auto put_app = [&](const sqlite::Statement &row) -> Status {
    state.put_app(AppRecord{static_cast<uint32_t>(row.integer(1)), row.text(0), row.text(2),
                            static_cast<uint32_t>(row.integer(3)), row.integer(4) != 0});
    return {};
  };
  auto put_machine = [&](const sqlite::Statement &row) -> Status {
    auto address = parse_ipv6(row.text(2));
    if (!address) {
      return make_error(path_ + ": machine " + row.text(0) + ": " + address.error().message);
    }
    state.put_machine(MachineRecord{row.text(0), row.text(1), *address, row.text(3)});
    return {};
  };
  auto put_flycast = [&](const sqlite::Statement &row) -> Status {
    auto address = parse_ipv6(row.text(0));
    if (!address) return make_error(path_ + ": flycast: " + address.error().message);
    state.put_flycast(FlycastRecord{*address, row.text(1), static_cast<uint32_t>(row.integer(2))});
    return {};
  };
  Status loaded = db_.each_row("SELECT id, org, name, audit FROM networks", put_network);
  if (loaded) {
    loaded = db_.each_row("SELECT name, app_id, org, network_id, destroyed FROM apps", put_app);
  }
  if (loaded) {
    loaded = db_.each_row("SELECT machine, app, address, interface FROM machines", put_machine);
  }
  if (loaded) loaded = db_.each_row("SELECT address, app, network_id FROM flycast", put_flycast);
  if (!loaded) return loaded.error();
  auto meta = db_.prepare("SELECT value FROM meta WHERE key = 'next_app_id'");
  if (!meta) return meta.error();
  auto row = meta->step();
  if (!row) return row.error();
  // put_app already moved next_app_id past every stored app; never go back.
  if (*row && static_cast<uint32_t>(meta->integer(0)) > state.next_app_id()) {
    state.set_next_app_id(static_cast<uint32_t>(meta->integer(0)));
  }
  // Rows added by the etcd source (DESIGN §6) in the same schema: absent means no source.
  SourceMark source_mark;
  if (auto status = db_.each_row(
          "SELECT key, value FROM meta WHERE key IN ('source_revision', 'source_id')",
          [&](const sqlite::Statement &row) -> Status {
            (row.text(0) == "source_revision" ? source_mark.revision : source_mark.source_id) =
                row.integer(1);
            return {};
          });
      !status) {
    return status.error();
  }
  state.set_source_mark(source_mark);
  return state;
}

Status StateStore::write(const StateDelta &delta) {
  auto transaction = db_.begin();
  if (!transaction) return transaction.error();

  // Upserts on the primary key, never INSERT OR REPLACE: REPLACE silently deletes any other
  // row that collides on a UNIQUE column (another app with the same app_id, another network
  // id for the same org and name), which is how a second writer used to erase an app it had
  // never seen. A collision is an error now: the batch is refused, nothing is acknowledged.
  auto put_network = db_.prepare(
      "INSERT INTO networks (id, org, name, audit) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (id) DO UPDATE SET org = excluded.org, name = excluded.name, "
      "audit = excluded.audit");
  auto put_app = db_.prepare(
      "INSERT INTO apps (name, app_id, org, network_id, destroyed) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (name) DO UPDATE SET app_id = excluded.app_id, org = excluded.org, "
      "network_id = excluded.network_id, destroyed = excluded.destroyed");
  auto put_machine = db_.prepare(
      "INSERT OR REPLACE INTO machines (machine, app, address, interface) "
      "VALUES (?1, ?2, ?3, ?4)");
  auto delete_machine = db_.prepare("DELETE FROM machines WHERE machine = ?1");
  auto put_flycast =
      db_.prepare("INSERT OR REPLACE INTO flycast (address, app, network_id) VALUES (?1, ?2, ?3)");
  auto delete_flycast = db_.prepare("DELETE FROM flycast WHERE address = ?1");
  auto put_meta = db_.prepare("UPDATE meta SET value = ?1 WHERE key = 'next_app_id'");
  auto put_mark = db_.prepare(
      "INSERT INTO meta (key, value) VALUES ('source_revision', ?1), ('source_id', ?2) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  for (const auto *statement : {&put_network, &put_app, &put_machine, &delete_machine, &put_flycast,
                                &delete_flycast, &put_meta, &put_mark}) {
    if (!*statement) return statement->error();
  }

  // Networks and apps are never deleted (ids are never reused).
  auto never = [](const auto &) -> Status { return make_error("never deleted"); };
  auto put_networks = [&] {
    return write_table(
        delta.networks,
        [&](const NetworkRecord &n) {
          return put_network->run_with(int64_t{n.id}, n.org, n.name, int64_t{n.audit});
        },
        never);
  };
  auto put_apps = [&] {
    return write_table(
        delta.apps,
        [&](const AppRecord &a) {
          return put_app->run_with(a.name, int64_t{a.app_id}, a.org, int64_t{a.network_id},
                                   int64_t{a.destroyed});
        },
        never);
  };
  auto put_machines = [&] {
    return write_table(
        delta.machines,
        [&](const MachineRecord &m) {
          return put_machine->run_with(m.machine, m.app, m.address.str(), m.interface_name);
        },
        [&](const std::string &id) { return delete_machine->run_with(id); });
  };
  auto put_flycasts = [&] {
    return write_table(
        delta.flycast,
        [&](const FlycastRecord &f) {
          return put_flycast->run_with(f.address.str(), f.app, int64_t{f.network_id});
        },
        [&](const Ipv6 &address) { return delete_flycast->run_with(address.str()); });
  };
  // In this order, stopping at the first failure (the transaction then rolls back).
  if (auto status = put_networks(); !status) return status;
  if (auto status = put_apps(); !status) return status;
  if (auto status = put_machines(); !status) return status;
  if (auto status = put_flycasts(); !status) return status;
  if (delta.next_app_id) {
    if (auto status = put_meta->run_with(int64_t{*delta.next_app_id}); !status) return status;
  }
  if (delta.source_mark) {
    if (auto status = put_mark->run_with(delta.source_mark->revision, delta.source_mark->source_id);
        !status) {
      return status;
    }
  }
  return (*transaction)->commit();
}

}  // namespace sixguard
