// Test that state.db is the durable registry: a restarted control plane restores everything
// from the same state_dir, a batch is committed before any map changes, and the schema is
// versioned and in WAL mode.
#include <sqlite3.h>

#include "control_fixture.h"

namespace sixguard::testing {
namespace {

class Persistence : public ControlFixture {
 protected:
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
              {{"type", "machine.started"},
               {"app", "web"},
               {"machine", "m1"},
               {"address", kWebAddress},
               {"interface", "tap-web"}},
              {{"type", "flycast.allocated"},
               {"app", "web"},
               {"address", "fdaa:9:d844::f1"},
               {"network", "cust-a"}},
              {{"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}},
              {{"type", "app.created"}, {"org", "acme"}, {"app", "gone"}},
              {{"type", "app.destroyed"}, {"app", "gone"}},
          })
          .dump());
  const auto apps = control->apps_json(std::nullopt);
  const auto networks = control->networks_json();
  const FakeMapBackend maps_before = maps;

  // A new agent on the same state_dir, with maps that survived (pinned): nothing to write.
  maps.clear_log();
  open();
  EXPECT_EQ(control->apps_json(std::nullopt), apps);
  EXPECT_EQ(control->networks_json(), networks);
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
  const auto before = control->apps_json(std::nullopt);
  for (const auto &app : before["apps"]) {
    if (app["name"] == "last") last_id = app["id"];
  }
  apply_ok(R"({"type":"app.destroyed","app":"last"})");
  open();
  apply_ok(R"({"type":"app.created","org":"acme","app":"next"})");
  std::set<std::string> ids;
  const auto after = control->apps_json(std::nullopt);
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
  apply_ok(R"({"type":"machine.started","app":"web","machine":"m1","address":")" +
           std::string(kWebAddress) + R"(","interface":"tap-web"})");
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

TEST_F(Persistence, UnwritableStateDirIsAnError) {
  ControlConfig bad = config;
  bad.state_dir = "/proc/sixguard-cannot-exist";
  auto opened = ControlPlane::open(bad, maps, resolver, observer);
  EXPECT_FALSE(opened);
}

}  // namespace
}  // namespace sixguard::testing
