// Test that an event's cost follows what it changes (DESIGN §3): app.destroyed walks the
// app's own machines and Flycast addresses through the per-app indexes, never the whole
// registry (it used to scan every machine and every Flycast address per event: 1,900 of
// them against 100k machines held the lock for 41 s). The evidence is State's count of
// whole-table reads and the exact writes, not a timing.
#include "tests/control/control_fixture.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

class BatchCost : public ControlFixture {
 protected:
  static constexpr int kOthers = 2000;  // machines and Flycast addresses of another app

  void SetUp() override {
    ControlFixture::SetUp();
    maps.machines_capacity = maps.flycast_capacity = 3 * kOthers;
    apply_platform();
    nlohmann::json batch = nlohmann::json::array();
    for (int i = 0; i < kOthers; ++i) {
      const std::string n = std::to_string(i);
      batch.push_back(test::machine_started("tenant-a", "m-t" + n,
                                            "fdaa:9:d844:a7b:1:" + hex(i) + ":0:2", "t" + n));
      batch.push_back(
          test::flycast_allocated("tenant-a", "fdaa:9:d844:0:2:" + hex(i) + "::1", "cust-a"));
    }
    // web's own: two machines whose interfaces exist, one whose interface does not, and
    // two Flycast addresses.
    const char *interfaces[] = {"tap-web", "tap-spare", "tap-absent"};
    for (int i = 0; i < 3; ++i) {
      batch.push_back(test::machine_started("web", "m-web" + std::to_string(i),
                                            "fdaa:2:45b:a7b:174:db43:" + hex(i + 1) + ":2",
                                            interfaces[i]));
    }
    for (int i = 0; i < 2; ++i) {
      batch.push_back(
          test::flycast_allocated("web", "fdaa:2:45b:0:9:" + hex(i + 1) + "::1", "default"));
    }
    apply_ok(batch.dump());
    maps.clear_log();
  }

  static std::string hex(int value) {
    char text[16];
    std::snprintf(text, sizeof(text), "%x", value);
    return text;
  }
};

TEST_F(BatchCost, AppDestroyedWalksOnlyTheAppsOwnEntries) {
  const StateCounts before = control->counts();
  ASSERT_EQ(before.machines, kOthers + 3u);
  ASSERT_EQ(before.flycast, kOthers + 2u);
  const uint64_t reads_before = control->table_reads();

  const auto result = apply_ok(R"({"type":"app.destroyed","app":"web"})");
  EXPECT_EQ(result.applied, 1u);

  // No whole table was read: not the machines, not the Flycast addresses, not the apps.
  EXPECT_EQ(control->table_reads(), reads_before);
  // Exactly the app's own entries went, from the state and from the maps.
  const StateCounts after = control->counts();
  EXPECT_EQ(after.machines, before.machines - 3);
  EXPECT_EQ(after.flycast, before.flycast - 2);
  std::vector<std::string> writes = maps.writes;
  std::sort(writes.begin(), writes.end());
  EXPECT_EQ(writes, (std::vector<std::string>{"delete_flycast fdaa:2:45b:0:9:1:0:1",
                                              "delete_flycast fdaa:2:45b:0:9:2:0:1",
                                              "delete_machine 11", "delete_machine 13"}));
}

// A machine's entry carries whether its app is a Flycast target: only an app's first address
// and its last can change it, so only those recompute the app's machines.
TEST_F(BatchCost, FlycastEventsRecomputeMachinesOnlyWhenTheAppsTargetFlagTurns) {
  // tenant-a, a target already (2000 machines, 2000 addresses): one more, then one fewer.
  const uint64_t before = control->machines_recomputed();
  apply_ok(test::flycast_allocated("tenant-a", "fdaa:9:d844:0:3::1", "cust-a").dump());
  apply_ok(R"({"type":"flycast.released","address":"fdaa:9:d844:0:3::1"})");
  EXPECT_EQ(control->machines_recomputed(), before);
  EXPECT_TRUE(std::none_of(maps.writes.begin(), maps.writes.end(),
                           [](const std::string &w) { return w.starts_with("put_machine"); }));

  // An address moving within tenant-a, in one batch: its count never reaches zero.
  apply_ok(R"([{"type":"flycast.released","address":"fdaa:9:d844:0:2:0::1"},
               {"type":"flycast.allocated","app":"tenant-a","address":"fdaa:9:d844:0:4::1",
                "network":"cust-a"}])");
  EXPECT_EQ(control->machines_recomputed(), before);

  // web loses its last two addresses: its three machines are recomputed, and the two whose
  // interfaces exist are written without the flag; then its first address brings it back.
  maps.clear_log();
  apply_ok(R"([{"type":"flycast.released","address":"fdaa:2:45b:0:9:1::1"},
               {"type":"flycast.released","address":"fdaa:2:45b:0:9:2::1"}])");
  EXPECT_EQ(control->machines_recomputed(), before + 3);
  const auto machine_writes = [&] {
    return std::count_if(maps.writes.begin(), maps.writes.end(),
                         [](const std::string &w) { return w.starts_with("put_machine"); });
  };
  EXPECT_EQ(machine_writes(), 2);
  maps.clear_log();
  apply_ok(test::flycast_allocated("web", "fdaa:2:45b:0:9:3::1", "default").dump());
  EXPECT_EQ(control->machines_recomputed(), before + 6);
  EXPECT_EQ(machine_writes(), 2);
}

TEST_F(BatchCost, EveryEventTypeReadsNoWholeTable) {
  const uint64_t reads_before = control->table_reads();
  apply_ok(R"([
    {"type":"network.created","org":"acme","network":"n2","id":99},
    {"type":"network.mode","org":"acme","network":"n2","mode":"audit"},
    {"type":"app.created","org":"acme","app":"fresh","network":"n2"},
    {"type":"machine.started","app":"fresh","machine":"m-fresh","address":"fdaa:0:63:a7b::2",
     "interface":"tap-fresh"},
    {"type":"flycast.allocated","app":"fresh","address":"fdaa:0:63:0:2::1","network":"n2"},
    {"type":"flycast.released","address":"fdaa:0:63:0:2::1"},
    {"type":"machine.stopped","machine":"m-fresh"},
    {"type":"app.destroyed","app":"fresh"}
  ])");
  // A refused batch is undone from its journal, not by a copy or a scan either.
  EXPECT_EQ(apply(R"([{"type":"app.created","org":"acme","app":"fresh2","network":"n2"},
                      {"type":"app.destroyed","app":"ghost"}])")
                .status,
            422);
  EXPECT_EQ(control->table_reads(), reads_before);
}

}  // namespace
}  // namespace sixguard::testing
