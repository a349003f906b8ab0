// Test that state.db is the durable registry: a restarted control plane restores everything
// from the same state_dir, a batch is committed before any map changes, and the schema is
// versioned and in WAL mode.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tests/control/control_fixture.h"
#include "agent/api/state_views.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

class Persistence : public ControlFixture {
 protected:
  std::string db_path() const { return dir / "state/state.db"; }
  std::string machine_m1() const {
    return test::machine_started("web", "m1", kWebAddress, "tap-web").dump();
  }
  // Records every health change the control plane reports.
  void listen_to_store() {
    control->set_store_listener(
        [this](const StateStore::Health &health) { reported.push_back(health); });
  }
  std::vector<StateStore::Health> reported;

  int64_t query_integer(const std::string &sql) {
    sqlite3 *db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir / "state/state.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt *stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }
};

TEST_F(Persistence, RestartRestoresEverything) {
  apply_platform();
  apply_ok(
      nlohmann::json::array(
          {
              test::machine_started("web", "m1", kWebAddress, "tap-web"),
              test::flycast_allocated("web", "fdaa:9:d844::f1", "cust-a"),
              {{"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}},
              {{"type", "app.created"}, {"org", "acme"}, {"app", "gone"}},
              {{"type", "app.destroyed"}, {"app", "gone"}},
          })
          .dump());
  const auto apps = apps_json(*control, std::nullopt);
  const auto networks = networks_json(*control);
  const FakeMapBackend maps_before = maps;

  // A new agent on the same state_dir, with maps that survived (pinned): nothing to write.
  maps.clear_log();
  open();
  EXPECT_EQ(apps_json(*control, std::nullopt), apps);
  EXPECT_EQ(networks_json(*control), networks);
  EXPECT_TRUE(maps.writes.empty()) << maps.writes.front();
  ASSERT_EQ(control->machines().size(), 1u);
  EXPECT_EQ(control->machines()[0].interface_name, "tap-web");
  EXPECT_EQ(control->machines()[0].address, *parse_ipv6(kWebAddress));

  // A new agent with empty maps (reboot): everything is rebuilt from state.db alone.
  maps = FakeMapBackend{};
  open();
  EXPECT_EQ(maps.machines.size(), 1u);
  EXPECT_TRUE(same_machine(maps.machines.at(11), maps_before.machines.at(11)));
  EXPECT_EQ(maps.flycast.size(), 1u);
  EXPECT_EQ(maps.net_flags, maps_before.net_flags);

  // Repeated events are still recognised as in effect after the restart.
  EXPECT_EQ(apply_ok(kPlatform).unchanged, 4u);
  EXPECT_EQ(apply_ok(R"({"type":"app.destroyed","app":"gone"})").unchanged, 1u);
}

TEST_F(Persistence, AppIdsAreNeverReusedAcrossRestarts) {
  apply_platform();
  apply_ok(R"({"type":"app.created","org":"acme","app":"last"})");
  std::string last_id;
  const auto before = apps_json(*control, std::nullopt);
  for (const auto &app : before["apps"]) {
    if (app["name"] == "last") last_id = app["id"];
  }
  apply_ok(R"({"type":"app.destroyed","app":"last"})");
  open();
  apply_ok(R"({"type":"app.created","org":"acme","app":"next"})");
  std::set<std::string> ids;
  const auto after = apps_json(*control, std::nullopt);
  for (const auto &app : after["apps"]) ids.insert(app["id"]);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids.contains(last_id));
}

TEST_F(Persistence, BatchIsCommittedBeforeTheMapsChange) {
  apply_platform();
  int64_t rows_seen_at_first_write = -1;
  maps.before_write = [&] {
    if (rows_seen_at_first_write < 0) {
      rows_seen_at_first_write = query_integer("SELECT COUNT(*) FROM machines");
    }
  };
  apply_ok(machine_m1());
  EXPECT_EQ(rows_seen_at_first_write, 1);
}

TEST_F(Persistence, SchemaIsVersionedAndInWalMode) {
  EXPECT_EQ(query_integer("PRAGMA user_version"), kStateSchemaVersion);
  sqlite3 *db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "state/state.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt *stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(Persistence, NewerSchemaIsRefused) {
  control.reset();
  sqlite3 *db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "state/state.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto opened = ControlPlane::open(config, maps, resolver, observer);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("schema version 99"), std::string::npos);
}

// DESIGN §5: a state database deleted under a running agent: never acknowledge into the void.
TEST_F(Persistence, DeletedDatabaseRefusesTheBatchAndSavesWhatItHolds) {
  apply_platform();
  listen_to_store();
  const std::size_t apps_before = control->counts().apps;
  for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path() + suffix);
  maps.clear_log();

  auto result = apply(machine_m1());
  EXPECT_EQ(result.status, 503) << result.body.dump();
  const std::string message = result.body.value("error", "");
  EXPECT_NE(message.find("was deleted under the running agent"), std::string::npos) << message;
  EXPECT_NE(message.find("nothing was applied"), std::string::npos) << message;
  EXPECT_TRUE(control->machines().empty());  // undone in memory too
  EXPECT_TRUE(maps.writes.empty());
  EXPECT_FALSE(std::filesystem::exists(db_path()));  // not re-created behind anyone's back
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_FALSE(reported[0].ok);
  EXPECT_TRUE(reported[0].sticky);
  // What was acknowledged is saved where the operator can take it back.
  const std::string &reason = reported[0].reason;
  const auto at = reason.find("saved to ");
  ASSERT_NE(at, std::string::npos) << reason;
  const std::string copy = reason.substr(at + 9, reason.find(':', at) - at - 9);
  ASSERT_TRUE(std::filesystem::exists(copy)) << copy;
  control.reset();
  std::filesystem::rename(copy, db_path());
  open();
  EXPECT_EQ(control->counts().apps, apps_before);
  EXPECT_TRUE(control->machines().empty());
  EXPECT_EQ(apply(machine_m1()).status, 200);
}

TEST_F(Persistence, DeletedDatabaseStaysRefusedAfterwards) {
  apply_platform();
  listen_to_store();
  const std::size_t apps_before = control->counts().apps;
  for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path() + suffix);
  EXPECT_EQ(apply(machine_m1()).status, 503);

  // Sticky: later batches are refused unread, whatever they are, and a check keeps it.
  const auto result = apply(R"({"type":"app.created","org":"acme","app":"later"})");
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(control->counts().apps, apps_before);
  EXPECT_FALSE(control->check_store(true).ok);
  EXPECT_EQ(reported.size(), 1u);  // reported once, on the change
}

TEST_F(Persistence, ReplacedDatabaseIsNoticedByThePeriodicCheck) {
  apply_platform();
  listen_to_store();
  EXPECT_TRUE(control->check_store(false).ok);
  EXPECT_TRUE(reported.empty());
  // Another file moved over state.db (a restore from a backup while the agent runs).
  std::filesystem::copy_file(db_path(), db_path() + ".copy");
  std::filesystem::rename(db_path() + ".copy", db_path());
  const auto health = control->check_store(false);
  EXPECT_FALSE(health.ok);
  EXPECT_NE(health.reason.find("was replaced under the running agent"), std::string::npos)
      << health.reason;
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(apply(machine_m1()).status, 503);
  EXPECT_TRUE(control->machines().empty());
}

TEST_F(Persistence, CorruptDatabaseIsFoundByTheIntegrityCheck) {
  apply_platform();
  open();  // a clean close checkpoints the WAL: every page is read from state.db now
  listen_to_store();
  EXPECT_TRUE(control->check_store(true).ok);
  const auto size = std::filesystem::file_size(db_path());
  ASSERT_GT(size, 4096u);
  {
    // Every page but the header overwritten with garbage, in place.
    std::fstream file(db_path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    std::mt19937 random(7);
    for (std::uintmax_t i = 4096; i < size; ++i) file.put(static_cast<char>(random()));
  }
  EXPECT_TRUE(control->check_store(false).ok);  // identity only: the same file
  const auto health = control->check_store(true);
  EXPECT_FALSE(health.ok);
  EXPECT_TRUE(health.sticky);
  EXPECT_NE(health.reason.find("is corrupt"), std::string::npos) << health.reason;
  ASSERT_EQ(reported.size(), 1u);
  const auto result = apply(machine_m1());
  EXPECT_EQ(result.status, 503) << result.body.dump();
  EXPECT_TRUE(control->machines().empty());
}

// Issue 11: a second writer on the same state.db took the app ID this control plane hands out
// next. INSERT OR REPLACE used to delete the other writer's app; now the batch is refused.
TEST_F(Persistence, AppIdCollisionIsRefusedNotReplaced) {
  apply_platform();
  const int64_t next = query_integer("SELECT value FROM meta WHERE key = 'next_app_id'");
  ASSERT_GT(next, 0);
  sqlite3 *db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  const std::string insert =
      "INSERT INTO apps (name, app_id, org, network_id, destroyed) VALUES ('theirs', " +
      std::to_string(next) + ", 'acme', 1, 0)";
  ASSERT_EQ(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  const auto result = apply(R"({"type":"app.created","org":"acme","app":"ours"})");
  EXPECT_EQ(result.status, 503) << result.body.dump();
  EXPECT_EQ(query_integer("SELECT COUNT(*) FROM apps WHERE name = 'theirs'"), 1);
  EXPECT_EQ(query_integer("SELECT COUNT(*) FROM apps WHERE name = 'ours'"), 0);
  EXPECT_FALSE(control->store_health().ok);
}

TEST_F(Persistence, HealthyDatabaseStaysHealthy) {
  apply_platform();
  listen_to_store();
  apply_ok(machine_m1());
  EXPECT_TRUE(control->check_store(true).ok);
  EXPECT_TRUE(control->store_health().ok);
  EXPECT_TRUE(reported.empty());
}

TEST_F(Persistence, UnwritableStateDirIsAnError) {
  ControlConfig bad = config;
  bad.state_dir = "/proc/sixguard-cannot-exist";
  auto opened = ControlPlane::open(bad, maps, resolver, observer);
  EXPECT_FALSE(opened);
}

}  // namespace
}  // namespace sixguard::testing
