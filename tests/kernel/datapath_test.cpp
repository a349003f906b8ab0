// Test that the Datapath loads the real BPF object with its maps pinned and sized as asked,
// reuses pins across loads (the restarted-agent case), refuses an incompatible pin with a
// clear error, explains through the loaded program, reads counters, and that the
// PinnedMapBackend reports a full map by name.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>

#include "agent/core/address.h"
#include "agent/datapath/datapath.h"
#include "agent/core/fd.h"
#include "tests/kernel/frame.h"
#include "tests/common/kernel_test.h"
#include "maps/map_handle.h"
#include "agent/datapath/names.h"
#include "agent/datapath/pinned_map_backend.h"
#include "agent/datapath/stats.h"

namespace sixguard {
namespace {

using test::PinDir;

// SG_COUNTER_SLOTS multiplies enumerators of different enums, which C++20 warns about.
constexpr uint32_t kCounterSlots = uint32_t{SG_HOOK_COUNT} * SG_VERDICT_COUNT * SG_REASON_COUNT;

DatapathOptions options_in(const PinDir &pins, MapSizes sizes = {}) {
  DatapathOptions options;
  options.bpffs = pins.path();
  options.sizes = sizes;
  return options;
}

Ipv6 ip(const char *text) {
  return *parse_ipv6(text);
}

// Each test loads from a pin directory of its own on bpffs, removed with it.
class DatapathKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    SG_REQUIRE_KERNEL();
    auto created = PinDir::create("sixguard-h2test");
    ASSERT_TRUE(created) << created.error().describe();
    pins.emplace(std::move(*created));
  }

  // The load most tests start from; ASSERT_NO_FATAL_FAILURE(load()) stops the test when it fails.
  void load(MapSizes sizes = {}) {
    auto loaded = Datapath::load(options_in(*pins, sizes));
    ASSERT_TRUE(loaded) << loaded.error().describe();
    datapath = std::move(*loaded);
  }

  // Loads once, writes Flycast entries fdaa:0:1::1 .. ::count (target app 1, network 2) and
  // unloads again, as an agent that stops: the pins stay. Returns the Flycast map's id in
  // `map_id`.
  void seed_flycast(int count, uint32_t &map_id) {
    auto first = Datapath::load(options_in(*pins));
    ASSERT_TRUE(first) << first.error().describe();
    map_id = (*first)->maps().flycast.handle().id();
    for (int i = 1; i <= count; ++i) {
      auto address = ip(("fdaa:0:1::" + std::to_string(i)).c_str());
      ASSERT_TRUE((*first)->maps().flycast.update(address.raw(), sg_flycast{1, 2}));
    }
  }

  std::optional<PinDir> pins;
  std::unique_ptr<Datapath> datapath;
};

TEST_F(DatapathKernel, LoadsWithDefaultSizesAndPinsEveryMap) {
  ASSERT_NO_FATAL_FAILURE(load());
  auto &maps = datapath->maps();
  EXPECT_EQ(maps.machines.max_entries(), SG_DEFAULT_MACHINES);
  EXPECT_EQ(maps.flycast.max_entries(), SG_DEFAULT_FLYCAST);
  EXPECT_EQ(maps.infra.max_entries(), SG_DEFAULT_INFRA);
  EXPECT_EQ(maps.net_flags.max_entries(), SG_DEFAULT_NET_FLAGS);
  EXPECT_EQ(maps.events.max_entries(), SG_DEFAULT_EVENTS_BYTES);
  EXPECT_EQ(maps.counters.size(), kCounterSlots);
  for (const char *name :
       {SG_MAP_MACHINES, SG_MAP_FLYCAST, SG_MAP_INFRA, SG_MAP_NET_FLAGS, SG_MAP_CONFIG,
        SG_MAP_COUNTERS, SG_MAP_EVENTS, SG_MAP_EVENT_STATS, SG_MAP_RATELIMIT, SG_MAP_META}) {
    struct stat st {};
    EXPECT_EQ(::stat((datapath->pin_dir() + "/" + name).c_str(), &st), 0) << name;
  }
  EXPECT_EQ(datapath->pin_dir(), pins->path() + "/sixguard");
  for (auto name : {"sg_machine_ingress", "sg_uplink", "sg_uplink_l3", "sg_explain"}) {
    EXPECT_GE(datapath->program_fd(name), 0) << name;
  }
}

TEST_F(DatapathKernel, LoadsWithLargeSizes) {
  MapSizes sizes;
  sizes.flycast = 1u << 20;
  sizes.machines = 256u << 10;
  sizes.events_bytes = 4u << 20;
  ASSERT_NO_FATAL_FAILURE(load(sizes));
  EXPECT_EQ(datapath->maps().flycast.max_entries(), 1u << 20);
  EXPECT_EQ(datapath->maps().machines.max_entries(), 256u << 10);
  EXPECT_EQ(datapath->maps().events.max_entries(), 4u << 20);
}

TEST_F(DatapathKernel, InvalidSizesAreRefusedBeforeAnythingIsCreated) {
  MapSizes sizes;
  sizes.events_bytes = 5000;
  auto refused = Datapath::load(options_in(*pins, sizes));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("map_sizes.events_bytes"), std::string::npos);
  struct stat st {};
  EXPECT_NE(::stat((pins->path() + "/sixguard").c_str(), &st), 0);
}

TEST_F(DatapathKernel, SecondLoadReusesThePinnedMaps) {
  auto first = Datapath::load(options_in(*pins));
  ASSERT_TRUE(first) << first.error().describe();
  auto second = Datapath::load(options_in(*pins));
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ((*first)->maps().machines.handle().id(), (*second)->maps().machines.handle().id());
  EXPECT_EQ((*first)->maps().flycast.handle().id(), (*second)->maps().flycast.handle().id());
  EXPECT_EQ((*first)->maps().counters.handle().id(), (*second)->maps().counters.handle().id());

  sg_flycast target{7, 0x2045b};
  ASSERT_TRUE((*first)->maps().flycast.update(ip("fdaa:0:1::9").raw(), target));
  auto seen = (*second)->maps().flycast.lookup(ip("fdaa:0:1::9").raw());
  ASSERT_TRUE(seen && seen->has_value());
  EXPECT_EQ((*seen)->target_app_id, 7u);

  // A third process-like view: the maps opened from their pins alone.
  auto opened = PinnedMaps::open((*first)->pin_dir());
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->flycast.handle().id(), (*first)->maps().flycast.handle().id());
}

// Test that an sg_config pinned by an older build (its 48-byte layout, before
// encap_udp_ports) is replaced rather than refused: it holds only what the agent writes from
// its configuration at every start. The old map lives on for as long as something holds it
// (here an fd, in production the older build's attached programs) until the new programs
// replace them atomically.
TEST_F(DatapathKernel, AnOlderBuildsConfigLayoutIsMigratedWhileTheOldMapLivesOn) {
  const std::string dir = pins->path() + "/sixguard";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string path = dir + "/" + SG_MAP_CONFIG;
  Fd old_config(bpf_map_create(BPF_MAP_TYPE_ARRAY, SG_MAP_CONFIG, 4, 48, 1, nullptr));
  ASSERT_TRUE(old_config.valid()) << errno;
  ASSERT_EQ(bpf_obj_pin(old_config.get(), path.c_str()), 0) << errno;
  bpf_map_info old_info{};
  uint32_t length = sizeof(old_info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(old_config.get(), &old_info, &length), 0);

  ASSERT_NO_FATAL_FAILURE(load());
  ASSERT_EQ(datapath->migration_notes().size(), 1u);
  EXPECT_NE(datapath->migration_notes()[0].find(SG_MAP_CONFIG), std::string::npos);
  EXPECT_NE(datapath->migration_notes()[0].find("value size 48 -> "), std::string::npos)
      << datapath->migration_notes()[0];
  // Until the new programs are attached the old pin stays: its map is what enforces.
  auto before = maps::MapHandle::open_pinned(path);
  ASSERT_TRUE(before) << before.error().describe();
  EXPECT_EQ(before->id(), old_info.id);
  EXPECT_NE(datapath->maps().config.handle().id(), old_info.id);
  auto committed = datapath->commit_migration();
  ASSERT_TRUE(committed) << committed.error().describe();
  auto pinned = maps::MapHandle::open_pinned(path);
  ASSERT_TRUE(pinned) << pinned.error().describe();
  EXPECT_EQ(pinned->info().value_size, sizeof(sg_config));
  EXPECT_EQ(pinned->id(), datapath->maps().config.handle().id());
  struct stat st {};
  EXPECT_NE(::stat((path + "_next").c_str(), &st), 0) << "the staging pin was renamed";
  // The older build's programs would still read their map: it was unpinned, not destroyed.
  bpf_map_info still{};
  length = sizeof(still);
  ASSERT_EQ(bpf_obj_get_info_by_fd(old_config.get(), &still, &length), 0);
  EXPECT_EQ(still.id, old_info.id);

  // A restart on the new layout migrates nothing.
  datapath.reset();
  ASSERT_NO_FATAL_FAILURE(load());
  EXPECT_TRUE(datapath->migration_notes().empty());
}

TEST_F(DatapathKernel, ALargerSizeMigratesWithEveryEntryCopied) {
  uint32_t old_id = 0;
  ASSERT_NO_FATAL_FAILURE(seed_flycast(1, old_id));
  MapSizes bigger;
  bigger.flycast = SG_DEFAULT_FLYCAST * 2;
  auto second = Datapath::load(options_in(*pins, bigger));
  ASSERT_TRUE(second) << second.error().describe();
  ASSERT_TRUE((*second)->migration_pending());
  std::string notes;
  for (const auto &note : (*second)->migration_notes()) notes += note + "\n";
  EXPECT_NE(notes.find("sg_flycast (max_entries 65536 -> 131072; entries copied)"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("sg_flycast: 1 entries copied"), std::string::npos) << notes;
  // Not committed yet: the pin still names the old map.
  auto opened = PinnedMaps::open(pins->path() + "/sixguard");
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->flycast.handle().id(), old_id);
  ASSERT_TRUE((*second)->commit_migration());
  auto after = PinnedMaps::open(pins->path() + "/sixguard");
  ASSERT_TRUE(after) << after.error().describe();
  EXPECT_NE(after->flycast.handle().id(), old_id);
  EXPECT_EQ(after->flycast.handle().max_entries(), SG_DEFAULT_FLYCAST * 2);
  auto kept = after->flycast.lookup(ip("fdaa:0:1::1").raw());
  ASSERT_TRUE(kept && kept->has_value());
  EXPECT_EQ((*kept)->target_network_id, 2u);
}

TEST_F(DatapathKernel, AShrinkBelowTheLiveEntriesIsRefusedAndThePinIsKept) {
  uint32_t old_id = 0;
  ASSERT_NO_FATAL_FAILURE(seed_flycast(3, old_id));
  MapSizes smaller;
  smaller.flycast = 2;
  auto second = Datapath::load(options_in(*pins, smaller));
  ASSERT_FALSE(second);
  const std::string message = second.error().message;
  EXPECT_NE(message.find("pinned map sg_flycast holds 3 entries"), std::string::npos) << message;
  EXPECT_NE(message.find("map_sizes.flycast"), std::string::npos) << message;
  EXPECT_NE(message.find("at least 3"), std::string::npos) << message;

  // The pinned map is untouched: same object, same content. A shrink that fits migrates.
  auto opened = PinnedMaps::open(pins->path() + "/sixguard");
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->flycast.handle().id(), old_id);
  smaller.flycast = 3;
  auto fits = Datapath::load(options_in(*pins, smaller));
  ASSERT_TRUE(fits) << fits.error().describe();
  EXPECT_TRUE((*fits)->migration_pending());
}

// sg_meta records each map's layout: a pin of another layout version is migrated even at the
// same sizes, and its entries are not copied (they would be misread): the new map starts empty
// for the control plane to fill from the state.
TEST_F(DatapathKernel, AnotherLayoutVersionInSgMetaMigratesWithoutCopying) {
  const std::string dir = pins->path() + "/sixguard";
  uint32_t old_id = 0;
  {
    auto first = Datapath::load(options_in(*pins));
    ASSERT_TRUE(first) << first.error().describe();
    old_id = (*first)->maps().machines.handle().id();
    ASSERT_TRUE((*first)->maps().machines.update(7, sg_machine{}));
  }
  {
    auto meta = maps::MapHandle::open_pinned(dir + "/" + SG_MAP_META);
    ASSERT_TRUE(meta) << meta.error().describe();
    uint32_t slot = SG_META_MACHINES, version = 0;
    ASSERT_EQ(bpf_map_update_elem(meta->fd(), &slot, &version, BPF_ANY), 0);
  }
  auto second = Datapath::load(options_in(*pins));
  ASSERT_TRUE(second) << second.error().describe();
  ASSERT_EQ((*second)->migration_notes().size(), 1u);
  EXPECT_EQ((*second)->migration_notes()[0], "sg_machines (layout 0 -> " +
                                                 std::to_string(SG_LAYOUT_MACHINES) +
                                                 "; another layout: filled from the state)");
  EXPECT_NE((*second)->maps().machines.handle().id(), old_id);
  auto copied = (*second)->maps().machines.lookup(7);
  ASSERT_TRUE(copied);
  EXPECT_FALSE(copied->has_value()) << "an entry of another layout was copied";
  ASSERT_TRUE((*second)->commit_migration());
  auto meta = maps::MapHandle::open_pinned(dir + "/" + SG_MAP_META);
  ASSERT_TRUE(meta);
  uint32_t slot = SG_META_MACHINES, version = 0;
  ASSERT_EQ(bpf_map_lookup_elem(meta->fd(), &slot, &version), 0);
  EXPECT_EQ(version, static_cast<uint32_t>(SG_LAYOUT_MACHINES));
}

TEST_F(DatapathKernel, FullMapThroughTheBackendNamesTheMap) {
  MapSizes sizes;
  sizes.flycast = 4;
  ASSERT_NO_FATAL_FAILURE(load(sizes));
  PinnedMapBackend backend(datapath->maps());
  EXPECT_EQ(backend.capacity(PolicyMap::kFlycast), 4u);
  EXPECT_EQ(backend.capacity(PolicyMap::kMachines), SG_DEFAULT_MACHINES);
  for (int i = 1; i <= 4; ++i) {
    auto address = ip(("fdaa:0:1::" + std::to_string(i)).c_str());
    ASSERT_TRUE(backend.put_flycast(address, sg_flycast{1, 1}));
  }
  auto full = backend.put_flycast(ip("fdaa:0:1::99"), sg_flycast{1, 1});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ENOSPC);
  EXPECT_EQ(full.error().describe(),
            "sg_flycast: update: map full (4 entries): No space left on device");
  auto dumped = backend.dump_flycast();
  ASSERT_TRUE(dumped);
  EXPECT_EQ(dumped->size(), 4u);
}

TEST_F(DatapathKernel, BackendRoundTripsEveryPolicyMap) {
  ASSERT_NO_FATAL_FAILURE(load());
  PinnedMapBackend backend(datapath->maps());

  sg_machine machine{};
  machine.prefix = ip("fdaa:0:1:a:b:c:d:0").raw();
  machine.app_id = 3;
  machine.network_id = 1;
  ASSERT_TRUE(backend.put_machine(12, machine));
  auto machines = backend.dump_machines();
  ASSERT_TRUE(machines);
  ASSERT_EQ(machines->size(), 1u);
  EXPECT_EQ(machines->at(12).app_id, 3u);
  ASSERT_TRUE(backend.delete_machine(12));
  EXPECT_TRUE(backend.delete_machine(12));  // already gone: reconciliation's no-op

  auto dns = parse_ipv6_prefix("fdaa::3/128");
  auto admin = parse_ipv6_prefix("fdaa:0:ff::/48");
  ASSERT_TRUE(dns && admin);
  ASSERT_TRUE(backend.put_infra(*dns));
  ASSERT_TRUE(backend.put_infra(*admin));
  auto infra = backend.dump_infra();
  ASSERT_TRUE(infra);
  EXPECT_EQ(*infra, (std::set<Ipv6Prefix>{*dns, *admin}));
  ASSERT_TRUE(backend.delete_infra(*admin));
  infra = backend.dump_infra();
  ASSERT_TRUE(infra);
  EXPECT_EQ(*infra, (std::set<Ipv6Prefix>{*dns}));

  ASSERT_TRUE(backend.put_net_flags(0x2045b, SG_NET_AUDIT));
  auto flags = backend.dump_net_flags();
  ASSERT_TRUE(flags);
  EXPECT_EQ(flags->at(0x2045b), SG_NET_AUDIT);
  ASSERT_TRUE(backend.delete_net_flags(0x2045b));

  sg_config config{};
  config.flags = SG_CFG_AUDIT;
  config.infra_net_count = 1;
  config.infra_nets[0] = 0;
  ASSERT_TRUE(backend.write_config(config));
  auto read = backend.read_config();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->flags, SG_CFG_AUDIT);
  EXPECT_EQ(read->infra_net_count, 1u);
}

// Machine 10 of app 7 on network 1, interface 42 (the interface need not exist for explain).
void add_machine(PinnedMapBackend &backend) {
  sg_machine machine{};
  machine.prefix = ip("fdaa:0:1:a:b:c:d:0").raw();
  machine.app_id = 7;
  machine.network_id = 1;
  ASSERT_TRUE(backend.put_machine(42, machine));
}

TEST_F(DatapathKernel, ExplainClassifiesCrossNetworkAsDrop) {
  ASSERT_NO_FATAL_FAILURE(load());
  PinnedMapBackend backend(datapath->maps());
  add_machine(backend);

  auto cross = test::ipv6_udp_frame("fdaa:0:1:a:b:c:d:2", "fdaa:0:2::5");
  auto egress = datapath->explain(SG_HOOK_MACHINE_EGRESS, 42, cross);
  ASSERT_TRUE(egress) << egress.error().describe();
  EXPECT_EQ(hook_name(egress->hook), "machine_egress");
  EXPECT_EQ(verdict_name(egress->verdict), "drop");
  EXPECT_EQ(reason_name(egress->reason), "cross_network");

  auto same = test::ipv6_udp_frame("fdaa:0:1:a:b:c:d:2", "fdaa:0:1:99::5");
  auto allowed = datapath->explain(SG_HOOK_MACHINE_EGRESS, 42, same);
  ASSERT_TRUE(allowed) << allowed.error().describe();
  EXPECT_EQ(verdict_name(allowed->verdict), "pass");
  EXPECT_EQ(reason_name(allowed->reason), "same_network");

  auto uplink = datapath->explain(SG_HOOK_UPLINK, 0, cross);
  ASSERT_TRUE(uplink) << uplink.error().describe();
  EXPECT_EQ(verdict_name(uplink->verdict), "drop");
  EXPECT_EQ(reason_name(uplink->reason), "cross_network");

  // Explain counts nothing.
  auto counters = read_counters(datapath->maps());
  ASSERT_TRUE(counters) << counters.error().describe();
  for (const auto &sample : *counters) EXPECT_EQ(sample.packets, 0u);
}

// Issue 14: sg_owner_slots is sized with the machines map (a power of two at or above it),
// the programs' mask follows that size, and what the agent writes through its mapping is what
// the kernel map holds and the loaded programs read. The slot's interface is chosen past the
// map's size: only the right mask finds it (a default mask would index past the end and the
// program would ask the hash, which says otherwise).
TEST_F(DatapathKernel, OwnerSlotsFollowTheMachinesSizeAndAreWhatTheProgramsRead) {
  MapSizes sizes;
  sizes.machines = 1000;
  ASSERT_NO_FATAL_FAILURE(load(sizes));
  ASSERT_EQ(datapath->maps().owner_slots.size(), 1024u);
  PinnedMapBackend backend(datapath->maps());
  ASSERT_EQ(backend.owner_slot_count(), 1024u);
  const uint32_t ifindex = 1024 + 42;
  sg_machine hash_owner{};
  hash_owner.prefix = ip("fdaa:0:1:a:b:c:d:0").raw();
  hash_owner.app_id = 7;
  hash_owner.network_id = 1;
  sg_machine slot_owner = hash_owner;
  slot_owner.network_id = 2;  // contradicts the hash: whichever is read shows in the verdict
  ASSERT_TRUE(backend.put_machine(ifindex, hash_owner));
  ASSERT_TRUE(backend.put_owner_slot(ifindex, slot_owner));

  // The kernel map holds the write (read back with a syscall, not through the mapping).
  auto opened = PinnedMaps::open(datapath->pin_dir());
  ASSERT_TRUE(opened) << opened.error().describe();
  sg_owner_slot raw{};
  const uint32_t index = 42;
  ASSERT_EQ(bpf_map_lookup_elem(opened->owner_slots.handle().fd(), &index, &raw), 0);
  EXPECT_EQ(raw.seq % 2, 0u);
  EXPECT_GT(raw.seq, 0u);
  EXPECT_EQ(raw.ifindex, ifindex);
  EXPECT_EQ(raw.machine.network_id, 2u);

  auto frame = test::ipv6_udp_frame("fdaa:0:1:a:b:c:d:2", "fdaa:0:2::5");
  auto from_slot = datapath->explain(SG_HOOK_MACHINE_EGRESS, ifindex, frame);
  ASSERT_TRUE(from_slot) << from_slot.error().describe();
  EXPECT_EQ(reason_name(from_slot->reason), "same_network") << "the slot's owner (network 2)";

  ASSERT_TRUE(backend.clear_owner_slot(ifindex));
  auto from_hash = datapath->explain(SG_HOOK_MACHINE_EGRESS, ifindex, frame);
  ASSERT_TRUE(from_hash) << from_hash.error().describe();
  EXPECT_EQ(reason_name(from_hash->reason), "cross_network") << "the hash's owner (network 1)";
}

// An older build's pins have no sg_owner_slots: the load creates it (empty: every program asks
// the hash until the reconcile fills it, tests/control/owner_slots_test.cpp) and records its
// layout; another size migrates it without copying (its index depends on the size).
TEST_F(DatapathKernel, OwnerSlotsAreCreatedOnOlderPinsAndNeverCopied) {
  ASSERT_NO_FATAL_FAILURE(load());
  {
    PinnedMapBackend backend(datapath->maps());
    ASSERT_TRUE(backend.put_owner_slot(5, sg_machine{}));
  }
  datapath.reset();
  const std::string pin = pins->path() + "/sixguard/" + SG_MAP_OWNER_SLOTS;
  ASSERT_EQ(::unlink(pin.c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(load());
  struct stat st {};
  EXPECT_EQ(::stat(pin.c_str(), &st), 0) << "pinned again";
  PinnedMapBackend backend(datapath->maps());
  auto slots = backend.dump_owner_slots();
  ASSERT_TRUE(slots) << slots.error().describe();
  EXPECT_TRUE(slots->empty());
  ASSERT_TRUE(backend.put_owner_slot(5, sg_machine{}));
  const uint32_t old_id = datapath->maps().owner_slots.handle().id();
  datapath.reset();

  MapSizes larger;
  larger.machines = SG_DEFAULT_MACHINES * 2;
  ASSERT_NO_FATAL_FAILURE(load(larger));
  EXPECT_NE(datapath->maps().owner_slots.handle().id(), old_id);
  std::string notes;
  for (const auto &note : datapath->migration_notes()) notes += note + "\n";
  EXPECT_NE(
      notes.find("sg_owner_slots (max_entries 16384 -> 32768; a cache: filled from the state)"),
      std::string::npos)
      << notes;
  EXPECT_EQ(notes.find("sg_owner_slots: "), std::string::npos) << "copied: " << notes;
  EXPECT_EQ(datapath->maps().owner_slots.size(), 2u * SG_DEFAULT_OWNER_SLOTS);
  PinnedMapBackend after(datapath->maps());
  auto moved = after.dump_owner_slots();
  ASSERT_TRUE(moved) << moved.error().describe();
  EXPECT_TRUE(moved->empty()) << "slots are never copied into a map of another size";
}

TEST_F(DatapathKernel, ExplainRefusesAFrameShorterThanEthernet) {
  ASSERT_NO_FATAL_FAILURE(load());
  std::vector<uint8_t> tiny(6, 0);
  auto result = datapath->explain(SG_HOOK_UPLINK, 0, tiny);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, EINVAL);
}

TEST_F(DatapathKernel, CountersAndUsageAreReadFromTheMaps) {
  ASSERT_NO_FATAL_FAILURE(load());
  auto &maps = datapath->maps();
  const uint32_t slot = SG_COUNTER_INDEX(uint32_t{SG_HOOK_UPLINK}, uint32_t{SG_VERDICT_DROP},
                                         uint32_t{SG_REASON_CROSS_NETWORK});
  ASSERT_TRUE(maps.counters.write_all_cpus(slot, sg_counter{1, 60}));
  ASSERT_TRUE(maps.event_stats.write_all_cpus(SG_EVSTAT_RATE_LIMITED, 2));
  const uint64_t cpus = maps.counters.possible_cpus();

  auto counters = read_counters(maps);
  ASSERT_TRUE(counters) << counters.error().describe();
  ASSERT_EQ(counters->size(), size_t{kCounterSlots});
  for (const auto &sample : *counters) {
    bool is_slot = sample.hook == SG_HOOK_UPLINK && sample.verdict == SG_VERDICT_DROP &&
                   sample.reason == SG_REASON_CROSS_NETWORK;
    EXPECT_EQ(sample.packets, is_slot ? cpus : 0u);
    EXPECT_EQ(sample.bytes, is_slot ? 60 * cpus : 0u);
  }
  auto events = read_event_stats(maps);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->rate_limited, 2 * cpus);
  EXPECT_EQ(events->sent, 0u);

  PinnedMapBackend backend(maps);
  add_machine(backend);
  auto usage = read_map_usage(maps);
  ASSERT_TRUE(usage) << usage.error().describe();
  ASSERT_EQ(usage->size(), 4u);
  EXPECT_EQ((*usage)[0].label, "machines");
  EXPECT_EQ((*usage)[0].entries, 1u);
  EXPECT_EQ((*usage)[0].capacity, SG_DEFAULT_MACHINES);
  EXPECT_EQ((*usage)[1].label, "flycast");
  EXPECT_EQ((*usage)[1].entries, 0u);
}

}  // namespace
}  // namespace sixguard
