// Issue 14: sg_owner_slots, the cache of sg_machines the machine hooks read first, kept in step
// by the control plane. Test the write order that keeps a slot from ever saying more than the
// hash (a new or changed owner: hash, then slot; a removed one: slot cleared, then hash), that
// a reconcile fills the slots of a fresh map and clears wrong ones, and that the drift check
// finds and repairs a slot that contradicts the state. (The programs' side of it, the read and
// the fallback, is tests/bpf: OwnerSlotTable, OwnerSlotRace.)
#include <algorithm>

#include "agent/control/map_drift.h"
#include "tests/control/control_fixture.h"

namespace sixguard::testing {
namespace {

class OwnerSlots : public ControlFixture {
 protected:
  // The slot of ifindex, if it holds ifindex.
  std::optional<sg_machine> slot_of(uint32_t ifindex) const {
    const auto it = maps.owner_slots.find(owner_slot_index(ifindex, maps.slot_count));
    if (it == maps.owner_slots.end() || it->second.ifindex != ifindex) return std::nullopt;
    return it->second.machine;
  }
  // Whether write a comes before write b in the backend's order (both present).
  bool before(const std::string &a, const std::string &b) const {
    const auto ia = std::find(maps.ordered.begin(), maps.ordered.end(), a);
    const auto ib = std::find(maps.ordered.begin(), maps.ordered.end(), b);
    return ia != maps.ordered.end() && ib != maps.ordered.end() && ia < ib;
  }
  void TearDown() override {
    EXPECT_TRUE(maps.slot_violations.empty()) << maps.slot_violations.front();
  }
};

TEST_F(OwnerSlots, NewOwnerGoesToTheHashThenTheSlot) {
  apply_platform();
  maps.clear_log();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(maps.ordered, (std::vector<std::string>{"put_machine 11", "put_slot 11"}));
  ASSERT_TRUE(slot_of(11));
  EXPECT_TRUE(same_machine(*slot_of(11), maps.machines.at(11)));
}

TEST_F(OwnerSlots, ChangedOwnerGoesToTheHashThenTheSlot) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  ASSERT_EQ(slot_of(11)->flags, 0u);
  maps.clear_log();
  // web becomes a Flycast target: its machine's entry gains SG_MACHINE_FLYCAST_TARGET.
  apply_ok(event(test::flycast_allocated("web", kWebFlycast, "cust-a")));
  EXPECT_TRUE(before("put_machine 11", "put_slot 11"));
  ASSERT_TRUE(slot_of(11));
  EXPECT_EQ(slot_of(11)->flags, SG_MACHINE_FLYCAST_TARGET);
  EXPECT_TRUE(same_machine(*slot_of(11), maps.machines.at(11)));
}

TEST_F(OwnerSlots, RemovedOwnerLeavesTheSlotBeforeTheHash) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  maps.clear_log();
  apply_ok(nlohmann::json::array({{{"type", "machine.stopped"}, {"machine", "m1"}}}).dump());
  EXPECT_EQ(maps.ordered, (std::vector<std::string>{"clear_slot 11", "delete_machine 11"}));
  EXPECT_FALSE(slot_of(11));
  EXPECT_TRUE(maps.owner_slots.empty());
}

TEST_F(OwnerSlots, InterfaceRecreatedWithANewIfindexMovesTheSlot) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  maps.clear_log();
  ASSERT_TRUE(control->interface_changed("tap-web", 21));  // the machine restarted
  EXPECT_EQ(maps.ordered, (std::vector<std::string>{"clear_slot 11", "delete_machine 11",
                                                    "put_machine 21", "put_slot 21"}));
  EXPECT_FALSE(slot_of(11));
  ASSERT_TRUE(slot_of(21));
  EXPECT_TRUE(same_machine(*slot_of(21), maps.machines.at(21)));
  maps.clear_log();
  ASSERT_TRUE(control->interface_changed("tap-web", std::nullopt));  // gone
  EXPECT_EQ(maps.ordered, (std::vector<std::string>{"clear_slot 21", "delete_machine 21"}));
  EXPECT_TRUE(maps.owner_slots.empty());
}

// A slot that could not be cleared keeps the hash entry: deleting it would leave the slot
// naming an interface the hash has dropped.
TEST_F(OwnerSlots, FailedSlotClearKeepsTheHashEntry) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  maps.clear_log();
  maps.fail_writes = true;
  apply(nlohmann::json::array({{{"type", "machine.stopped"}, {"machine", "m1"}}}).dump());
  EXPECT_EQ(maps.ordered, std::vector<std::string>{"clear_slot 11"});
  EXPECT_TRUE(maps.machines.contains(11));
  maps.fail_writes = false;
  ASSERT_TRUE(control->reconcile());
  EXPECT_FALSE(maps.machines.contains(11));
  EXPECT_FALSE(slot_of(11));
}

// An agent starting on pins without sg_owner_slots creates the map empty: the reconcile fills
// it from the state, though the hash needs no write.
TEST_F(OwnerSlots, ReconcileFillsAnEmptySlotMap) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  maps.owner_slots.clear();  // a new, empty map
  maps.clear_log();
  ASSERT_TRUE(control->reconcile());
  EXPECT_TRUE(maps.writes.empty()) << "the hash was right: nothing to write there";
  EXPECT_EQ(maps.ordered, (std::vector<std::string>{"put_slot 11", "put_slot 12"}));
  ASSERT_TRUE(slot_of(11) && slot_of(12));
  EXPECT_TRUE(same_machine(*slot_of(11), maps.machines.at(11)));
  EXPECT_TRUE(same_machine(*slot_of(12), maps.machines.at(12)));
}

// Interfaces on one slot: it holds one of them, the other reads the hash.
TEST_F(OwnerSlots, CollidingInterfacesShareOneSlot) {
  resolver.interfaces["tap-tenant"] = 11 + maps.slot_count;  // same index as tap-web
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  ASSERT_EQ(maps.owner_slots.size(), 1u);
  const uint32_t holder = maps.owner_slots.begin()->second.ifindex;
  EXPECT_TRUE(same_machine(maps.owner_slots.begin()->second.machine, maps.machines.at(holder)));
  // The other one's removal leaves the holder's slot alone.
  const char *other = holder == 11 ? "m2" : "m1";
  apply_ok(nlohmann::json::array({{{"type", "machine.stopped"}, {"machine", other}}}).dump());
  ASSERT_TRUE(slot_of(holder));
}

// A slot that contradicts the state, in each way it can, is cleared (and refilled from the
// hash) by the reconcile.
TEST_F(OwnerSlots, ReconcileClearsWrongSlots) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  sg_owner_slot stale{};
  stale.ifindex = 13;  // tap-spare: no machine
  stale.machine = maps.machines.at(11);
  maps.owner_slots[owner_slot_index(13, maps.slot_count)] = stale;
  sg_owner_slot wrong = maps.owner_slots.at(owner_slot_index(11, maps.slot_count));
  wrong.machine.network_id ^= 1;
  maps.owner_slots[owner_slot_index(11, maps.slot_count)] = wrong;
  maps.owner_slots[owner_slot_index(12, maps.slot_count)].seq = 5;  // left mid-write
  ASSERT_TRUE(control->reconcile());
  EXPECT_FALSE(slot_of(13));
  ASSERT_TRUE(slot_of(11) && slot_of(12));
  EXPECT_TRUE(same_machine(*slot_of(11), maps.machines.at(11)));
  EXPECT_EQ(maps.owner_slots.at(owner_slot_index(12, maps.slot_count)).seq % 2, 0u);
}

// The drift check names a wrong slot, and its repair clears it; an empty slot is no drift.
TEST_F(OwnerSlots, DriftFindsAndRepairsAWrongSlot) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  auto snapshot = control->snapshot_image();
  {
    auto held = read_image(maps);
    ASSERT_TRUE(held);
    EXPECT_TRUE(compare_maps(*held, snapshot.image).empty());
  }
  maps.owner_slots.erase(owner_slot_index(12, maps.slot_count));  // empty: only slower
  sg_owner_slot &slot = maps.owner_slots.at(owner_slot_index(11, maps.slot_count));
  slot.machine.app_id += 1;  // another app's owner: a bypass if read
  auto held = read_image(maps);
  ASSERT_TRUE(held);
  const MapDrift drift = compare_maps(*held, snapshot.image);
  ASSERT_EQ(drift.differences.size(), 1u);
  EXPECT_EQ(drift.differences[0].map, SG_MAP_OWNER_SLOTS);
  EXPECT_EQ(drift.differences[0].label, "owner_slots");
  EXPECT_EQ(drift.differences[0].kind, DriftKind::kDifferent);
  EXPECT_EQ(drift.differences[0].key, "ifindex 11");
  maps.clear_log();
  const auto repair = control->repair_drift(snapshot.generation, drift);
  ASSERT_TRUE(repair.status) << repair.status.error().describe();
  EXPECT_FALSE(slot_of(11));
  EXPECT_TRUE(maps.writes.empty()) << "the hash was right";
  auto after = read_image(maps);
  ASSERT_TRUE(after);
  EXPECT_TRUE(compare_maps(*after, control->snapshot_image().image).empty());
}

// A batch between the check and its repair that makes the slot right again (here: the stale
// slot's interface gets that very owner) leaves it alone.
TEST_F(OwnerSlots, DriftRepairSkipsASlotABatchMadeRight) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  auto snapshot = control->snapshot_image();
  sg_owner_slot stale{};
  stale.ifindex = 12;  // tap-tenant, no machine yet
  maps.owner_slots[owner_slot_index(12, maps.slot_count)] = stale;
  auto held = read_image(maps);
  ASSERT_TRUE(held);
  const MapDrift drift = compare_maps(*held, snapshot.image);
  ASSERT_EQ(drift.differences.size(), 1u);
  EXPECT_EQ(drift.differences[0].kind, DriftKind::kExtra);
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  const auto repair = control->repair_drift(snapshot.generation, drift);
  ASSERT_TRUE(repair.status);
  ASSERT_TRUE(slot_of(12));
  EXPECT_TRUE(same_machine(*slot_of(12), maps.machines.at(12)));
}

}  // namespace
}  // namespace sixguard::testing
