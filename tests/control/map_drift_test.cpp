// Test the drift comparison (DESIGN §5): every missing, extra and different entry of every
// policy map against the image of the state is found, named and repaired at its key only;
// and the control plane's two short lock holds around it: a repair is written only when no
// batch wrote the maps since the snapshot, and maps_in_sync() follows the outcome.
#include <algorithm>

#include "tests/control/control_fixture.h"
#include "agent/control/map_drift.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

Ipv6 ip(const char *text) {
  return *parse_ipv6(text);
}

sg_machine machine(const char *address, uint32_t app_id, uint32_t network) {
  sg_machine value{};
  value.prefix = machine_prefix(ip(address)).raw();
  value.app_id = app_id;
  value.network_id = network;
  return value;
}

MapImage sample_image() {
  MapImage image;
  image.machines[7] = machine("fdaa:a:1::1:0:1:2", 1, 0x000a0001);
  image.machines[8] = machine("fdaa:b:1::1:0:3:2", 2, 0x000b0001);
  image.flycast[ip("fdaa:b:1::f1")] = sg_flycast{1, 0x000a0001};
  image.infra.insert(*parse_ipv6_prefix("fdaa::3/128"));
  image.net_flags[0x000b0001] = SG_NET_AUDIT;
  image.config.flags = SG_CFG_NET_AUDIT_ANY;
  image.config.events_per_sec = 100;
  return image;
}

// "map kind key" of every difference, sorted: what the checker would log.
std::vector<std::string> named(const MapDrift &drift) {
  std::vector<std::string> out;
  for (const auto &difference : drift.differences) {
    out.push_back(std::string(difference.map) + " " +
                  std::string(drift_kind_name(difference.kind)) + " " + difference.key);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MapDrift, IdenticalImagesHaveNoDrift) {
  const MapImage image = sample_image();
  const MapDrift drift = compare_maps(image, image);
  EXPECT_TRUE(drift.empty());
  EXPECT_TRUE(drift.held.machines.empty() && drift.wanted.machines.empty());
  EXPECT_TRUE(same_config(drift.held.config, drift.wanted.config));
}

TEST(MapDrift, MissingMachineEntryIsFoundWithItsKey) {
  const MapImage wanted = sample_image();
  MapImage held = wanted;
  held.machines.erase(7);
  const MapDrift drift = compare_maps(held, wanted);
  EXPECT_EQ(named(drift), std::vector<std::string>{"sg_machines missing ifindex 7"});
  EXPECT_EQ(drift.differences[0].label, "machines");
  EXPECT_TRUE(drift.held.machines.empty());
  ASSERT_EQ(drift.wanted.machines.size(), 1u);
  EXPECT_TRUE(same_machine(drift.wanted.machines.at(7), wanted.machines.at(7)));
}

TEST(MapDrift, EditedNetworkIdIsDifferentAndNamesBothValues) {
  const MapImage wanted = sample_image();
  MapImage held = wanted;
  held.machines[7].network_id = 0x000b0001;  // bpftool map update: now "on" net-b
  const MapDrift drift = compare_maps(held, wanted);
  EXPECT_EQ(named(drift), std::vector<std::string>{"sg_machines different ifindex 7"});
  const std::string &detail = drift.differences[0].detail;
  EXPECT_NE(detail.find("network_id b:1"), std::string::npos) << detail;
  EXPECT_NE(detail.find("wanted"), std::string::npos) << detail;
  EXPECT_NE(detail.find("a:1"), std::string::npos) << detail;
  EXPECT_EQ(drift.held.machines.size(), 1u);
  EXPECT_EQ(drift.wanted.machines.size(), 1u);
}

TEST(MapDrift, EveryMapEveryKind) {
  const MapImage wanted = sample_image();
  MapImage held = wanted;
  held.machines[9] = machine("fdaa:c:1::1:0:4:2", 3, 0x000c0001);  // extra
  held.machines.erase(8);                                          // missing
  held.flycast[ip("fdaa:b:1::f1")].target_app_id = 2;              // different
  held.flycast[ip("fdaa:c:1::f2")] = sg_flycast{3, 0x000c0001};    // extra
  held.infra.clear();                                              // missing
  held.infra.insert(*parse_ipv6_prefix("fdaa:c:1::/48"));          // extra
  held.net_flags.erase(0x000b0001);                                // missing
  held.net_flags[0x000c0001] = SG_NET_AUDIT;                       // extra
  held.config.flags = 0;                                           // different
  const MapDrift drift = compare_maps(held, wanted);
  EXPECT_EQ(named(drift), (std::vector<std::string>{
                              "sg_config different 0",
                              "sg_flycast different fdaa:b:1::f1",
                              "sg_flycast extra fdaa:c:1::f2",
                              "sg_infra extra fdaa:c:1::/48",
                              "sg_infra missing fdaa::3/128",
                              "sg_machines extra ifindex 9",
                              "sg_machines missing ifindex 8",
                              "sg_net_flags extra network c:1",
                              "sg_net_flags missing network b:1",
                          }));
  for (const auto &difference : drift.differences) {
    EXPECT_TRUE(std::find(std::begin(kDriftMapLabels), std::end(kDriftMapLabels),
                          difference.label) != std::end(kDriftMapLabels))
        << difference.label;
  }
}

// The repair writes the differing keys only, and leaves the maps equal to the image.
TEST(MapDrift, RepairWritesOnlyTheDifferingKeys) {
  const MapImage wanted = sample_image();
  FakeMapBackend maps;
  ASSERT_TRUE(write_difference(maps, MapImage{}, wanted));
  maps.machines.erase(7);
  maps.machines[8].network_id = 0x000a0001;
  maps.flycast[ip("fdaa:c:1::f2")] = sg_flycast{3, 0x000c0001};
  maps.clear_log();
  auto held = read_image(maps);
  ASSERT_TRUE(held);
  const MapDrift drift = compare_maps(*held, wanted);
  ASSERT_EQ(drift.differences.size(), 3u);
  ASSERT_TRUE(write_difference(maps, drift.held, drift.wanted));
  std::vector<std::string> writes = maps.writes;
  std::sort(writes.begin(), writes.end());
  EXPECT_EQ(writes, (std::vector<std::string>{"delete_flycast fdaa:c:1::f2", "put_machine 7",
                                              "put_machine 8"}));
  auto after = read_image(maps);
  ASSERT_TRUE(after);
  EXPECT_TRUE(compare_maps(*after, wanted).empty());
}

class DriftRepairTest : public ControlFixture {
 protected:
  void SetUp() override {
    ControlFixture::SetUp();
    apply_populated("m1");
  }

  // One check as the daemon runs it: snapshot, read and compare (outside the lock), repair.
  struct Check {
    MapDrift drift;
    ControlPlane::DriftRepair repair;
  };
  Check check(const std::function<void()> &between = {}) {
    auto snapshot = control->snapshot_image();
    auto held = read_image(maps);
    EXPECT_TRUE(held);
    Check out;
    out.drift = compare_maps(*held, snapshot.image);
    if (between) between();
    out.repair = control->repair_drift(snapshot.generation, out.drift);
    return out;
  }
};

TEST_F(DriftRepairTest, NoDriftWritesNothing) {
  maps.clear_log();
  const Check result = check();
  EXPECT_TRUE(result.drift.empty());
  EXPECT_EQ(result.repair.deferred, 0u);
  EXPECT_TRUE(result.repair.status);
  EXPECT_TRUE(maps.writes.empty());
  EXPECT_TRUE(control->maps_in_sync());
}

TEST_F(DriftRepairTest, DeletedAndEditedEntriesAreRepaired) {
  const sg_machine good = maps.machines.at(11);
  maps.machines.at(11).network_id = kCustNet;  // the cross-network pair would pass
  maps.flycast.clear();                        // the Flycast address fails closed
  maps.clear_log();
  const Check result = check();
  EXPECT_EQ(named(result.drift), (std::vector<std::string>{"sg_flycast missing fdaa:9:d844::f1",
                                                           "sg_machines different ifindex 11"}));
  EXPECT_EQ(result.repair.deferred, 0u);
  EXPECT_TRUE(result.repair.status);
  EXPECT_TRUE(same_machine(maps.machines.at(11), good));
  EXPECT_EQ(maps.flycast.size(), 1u);
  EXPECT_EQ(maps.writes.size(), 2u);
  EXPECT_TRUE(control->maps_in_sync());
  EXPECT_TRUE(check().drift.empty());
}

// A batch that writes the maps between the snapshot and the repair, at other keys: the
// drift is still drift, and is repaired (a steady stream of batches never starves it).
TEST_F(DriftRepairTest, ABatchElsewhereSinceTheSnapshotDoesNotStopTheRepair) {
  maps.machines.erase(11);
  const Check result = check([&] {
    apply_ok(event(test::flycast_allocated("tenant-a", "fdaa:9:d844::f2", "cust-a")));
    maps.clear_log();
  });
  EXPECT_EQ(result.drift.differences.size(), 1u);
  EXPECT_EQ(result.repair.deferred, 0u);
  EXPECT_EQ(result.repair.repaired.differences.size(), 1u);
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_machine 11"});
  EXPECT_TRUE(control->maps_in_sync());
}

// A batch that changes what a differing key should hold, between the snapshot and the
// repair: what the check saw there may be that batch. The key is left alone (deferred), the
// others repaired; the next check sees the state as it is then.
TEST_F(DriftRepairTest, ABatchAtTheKeySinceTheSnapshotDefersThatKeyOnly) {
  // A second address keeps web a Flycast target once f1 is released, so that the batch does
  // not change what ifindex 11 should hold (SG_MACHINE_FLYCAST_TARGET).
  apply_ok(event({{"type", "flycast.allocated"},
                  {"app", "web"},
                  {"address", "fdaa:9:d844::f2"},
                  {"network", "cust-a"}}));
  maps.flycast.begin()->second.target_app_id = 99;  // drift at fdaa:9:d844::f1
  maps.machines.at(11).app_id = 99;                 // drift at ifindex 11
  const Check result = check([&] {
    apply_ok(event({{"type", "flycast.released"}, {"address", "fdaa:9:d844::f1"}}));
    maps.clear_log();
  });
  EXPECT_EQ(result.drift.differences.size(), 2u);
  EXPECT_EQ(result.repair.deferred, 1u);
  EXPECT_EQ(named(result.repair.repaired),
            std::vector<std::string>{"sg_machines different ifindex 11"});
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_machine 11"});
  EXPECT_FALSE(maps.flycast.contains(ip("fdaa:9:d844::f1")));  // released: not put back
  const Check again = check();
  EXPECT_TRUE(again.drift.empty());
}

// A batch that changes a differing key and changes it back before the repair: the image
// still wants what it wanted, and the batch wrote it. Re-read under the lock, the key holds
// what it should: nothing is written, nothing counted as drift.
TEST_F(DriftRepairTest, AKeyChangedAndChangedBackIsNotCountedAsDrift) {
  maps.flycast.begin()->second.target_app_id = 99;
  const Check result = check([&] {
    apply_ok(event({{"type", "flycast.released"}, {"address", "fdaa:9:d844::f1"}}));
    apply_ok(event(test::flycast_allocated("web", "fdaa:9:d844::f1", "cust-a")));
    maps.clear_log();
  });
  EXPECT_EQ(result.drift.differences.size(), 1u);
  EXPECT_EQ(result.repair.deferred, 0u);
  EXPECT_TRUE(result.repair.repaired.empty());
  EXPECT_TRUE(maps.writes.empty());
  EXPECT_TRUE(check().drift.empty());
}

TEST_F(DriftRepairTest, AFailedRepairMakesTheMapsOutOfSyncUntilOneSucceeds) {
  maps.machines.erase(11);
  maps.fail_writes = true;
  const Check failed = check();
  EXPECT_FALSE(failed.repair.status);
  EXPECT_FALSE(control->maps_in_sync());
  maps.fail_writes = false;
  const Check repaired = check();
  EXPECT_TRUE(repaired.repair.status);
  EXPECT_TRUE(control->maps_in_sync());
  EXPECT_TRUE(maps.machines.contains(11));
}

}  // namespace
}  // namespace sixguard::testing
