// Test that the typed map layer (maps/) reports and behaves as its header promises, on real
// kernel maps created for the test: lookups, update flags, ENOENT on remove, walking,
// capacity errors naming the map, per-CPU sums, type checks, ring-buffer records.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <vector>

#include "maps/array_map.h"
#include "agent/core/fd.h"
#include "maps/hash_map.h"
#include "tests/common/kernel_test.h"
#include "maps/map_handle.h"
#include "maps/owner_slots.h"
#include "maps/ring_buffer.h"

namespace sixguard::maps {
namespace {

using test::PinDir;

Result<MapHandle> create_map(bpf_map_type type, const char *name, uint32_t key_size,
                             uint32_t value_size, uint32_t max_entries, uint32_t flags = 0) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  int fd = bpf_map_create(type, name, key_size, value_size, max_entries, &opts);
  if (fd < 0) return make_error(std::string("bpf_map_create ") + name, errno);
  return MapHandle::adopt(Fd(fd));
}

TEST(MapsKernel, HashMapLookupUpdateRemove) {
  SG_REQUIRE_KERNEL();
  auto handle =
      create_map(BPF_MAP_TYPE_HASH, "sg_t_hash", 4, sizeof(sg_machine), 8, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle) << handle.error().describe();
  EXPECT_EQ(handle->name(), "sg_t_hash");
  EXPECT_EQ(handle->max_entries(), 8u);
  auto map = HashMap<uint32_t, sg_machine>::open(std::move(*handle));
  ASSERT_TRUE(map) << map.error().describe();

  auto missing = map->lookup(1);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  sg_machine machine{};
  machine.app_id = 7;
  machine.network_id = 0x2045b;
  ASSERT_TRUE(map->update(1, machine));
  auto found = map->lookup(1);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->app_id, 7u);
  EXPECT_EQ((*found)->network_id, 0x2045bu);

  auto again = map->update(1, machine, UpdateFlag::kNoExist);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EEXIST);
  auto absent = map->update(2, machine, UpdateFlag::kExist);
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, ENOENT);

  ASSERT_TRUE(map->remove(1));
  auto gone = map->remove(1);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ENOENT);
  EXPECT_EQ(gone.error().describe(), "sg_t_hash: delete: No such file or directory");
}

TEST(MapsKernel, HashMapWalkAndCount) {
  SG_REQUIRE_KERNEL();
  auto handle = create_map(BPF_MAP_TYPE_HASH, "sg_t_walk", 4, 4, 64, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle);
  auto map = HashMap<uint32_t, uint32_t>::open(std::move(*handle));
  ASSERT_TRUE(map);
  for (uint32_t key = 10; key < 30; ++key) ASSERT_TRUE(map->update(key, key * 2));
  auto count = map->count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 20u);
  auto entries = map->dump();
  ASSERT_TRUE(entries);
  std::set<uint32_t> keys;
  for (const auto &[key, value] : *entries) {
    EXPECT_EQ(value, key * 2);
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 20u);
  EXPECT_EQ(*keys.begin(), 10u);
  EXPECT_EQ(*keys.rbegin(), 29u);
}

TEST(MapsKernel, HashMapWalkSpansManyBatches) {
  SG_REQUIRE_KERNEL();
  constexpr uint32_t kEntries = 10000;  // more than one 4096-entry batch
  auto handle = create_map(BPF_MAP_TYPE_HASH, "sg_t_batches", 4, 4, kEntries, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle);
  auto map = HashMap<uint32_t, uint32_t>::open(std::move(*handle));
  ASSERT_TRUE(map);
  for (uint32_t key = 0; key < kEntries; ++key) ASSERT_TRUE(map->update(key, key + 1));
  auto count = map->count();
  ASSERT_TRUE(count) << count.error().describe();
  EXPECT_EQ(*count, kEntries);
  std::set<uint32_t> seen;
  ASSERT_TRUE(map->for_each([&](const uint32_t &key, const uint32_t &value) {
    EXPECT_EQ(value, key + 1);
    seen.insert(key);
  }));
  EXPECT_EQ(seen.size(), kEntries);
}

TEST(MapsKernel, FullHashMapIsAClearErrorNamingTheMap) {
  SG_REQUIRE_KERNEL();
  auto handle = create_map(BPF_MAP_TYPE_HASH, "sg_flycast", sizeof(sg_in6), sizeof(sg_flycast), 4,
                           BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle);
  auto map = HashMap<sg_in6, sg_flycast>::open(std::move(*handle));
  ASSERT_TRUE(map);
  for (uint8_t i = 0; i < 4; ++i) {
    sg_in6 key{};
    key.octets[15] = i;
    ASSERT_TRUE(map->update(key, sg_flycast{i, i}));
  }
  sg_in6 fifth{};
  fifth.octets[15] = 9;
  auto full = map->update(fifth, sg_flycast{1, 1});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ENOSPC);
  EXPECT_EQ(full.error().describe(),
            "sg_flycast: update: map full (4 entries): No space left on device");
  // Replacing an existing entry still works when full.
  sg_in6 first{};
  EXPECT_TRUE(map->update(first, sg_flycast{5, 5}));
}

TEST(MapsKernel, LpmTrieLongestMatchAndFull) {
  SG_REQUIRE_KERNEL();
  auto handle =
      create_map(BPF_MAP_TYPE_LPM_TRIE, "sg_infra", sizeof(sg_lpm_key), 4, 2, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle) << handle.error().describe();
  auto trie = LpmTrie<uint32_t>::open(std::move(*handle));
  ASSERT_TRUE(trie) << trie.error().describe();
  sg_lpm_key wide{};
  wide.prefixlen = 16;
  wide.addr.octets[0] = 0xfd;
  wide.addr.octets[1] = 0xaa;
  sg_lpm_key dns = wide;
  dns.prefixlen = 128;
  dns.addr.octets[15] = 3;
  ASSERT_TRUE(trie->update(wide, 16));
  ASSERT_TRUE(trie->update(dns, 128));

  auto exact = trie->longest_match(dns.addr);
  ASSERT_TRUE(exact && exact->has_value());
  EXPECT_EQ(**exact, 128u);
  sg_in6 other = dns.addr;
  other.octets[15] = 4;
  auto covering = trie->longest_match(other);
  ASSERT_TRUE(covering && covering->has_value());
  EXPECT_EQ(**covering, 16u);
  sg_in6 outside{};
  auto none = trie->longest_match(outside);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  auto count = trie->count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2u);

  sg_lpm_key third = wide;
  third.prefixlen = 32;
  auto full = trie->update(third, 32);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ENOSPC);
  EXPECT_NE(full.error().describe().find("sg_infra: update: map full (2 entries)"),
            std::string::npos);
}

// Issue 14: OwnerSlots, the seqlock writer over sg_owner_slots' mapping. What it writes is the
// kernel map's content (read back with a syscall); a clear only empties the slot of its own
// interface; a slot left mid-write reads back with its odd seq (what a check clears); and a
// map it cannot be the writer of is refused by name.
TEST(MapsKernel, OwnerSlotsWriteThroughTheMappingUnderASeqlock) {
  SG_REQUIRE_KERNEL();
  auto handle =
      create_map(BPF_MAP_TYPE_ARRAY, "sg_t_slots", 4, sizeof(sg_owner_slot), 64, BPF_F_MMAPABLE);
  ASSERT_TRUE(handle) << handle.error().describe();
  const int fd = handle->fd();
  auto slots = OwnerSlots::open(std::move(*handle));
  ASSERT_TRUE(slots) << slots.error().describe();
  ASSERT_EQ(slots->size(), 64u);
  EXPECT_EQ(slots->index_of(64 + 5), 5u);

  sg_machine owner{};
  owner.app_id = 7;
  owner.network_id = 0x2045b;
  slots->write(64 + 5, owner);
  sg_owner_slot raw{};
  const uint32_t index = 5;
  ASSERT_EQ(bpf_map_lookup_elem(fd, &index, &raw), 0);
  EXPECT_EQ(raw.seq, 2u) << "one write: odd, then even";
  EXPECT_EQ(raw.ifindex, 64u + 5);
  EXPECT_EQ(raw.machine.app_id, 7u);
  EXPECT_EQ(raw.machine.network_id, 0x2045bu);

  EXPECT_FALSE(slots->clear(5)) << "slot 5 holds ifindex 69, not 5";
  EXPECT_EQ(slots->read_slot(5).ifindex, 64u + 5);
  EXPECT_TRUE(slots->clear(64 + 5));
  const sg_owner_slot cleared = slots->read_slot(5);
  EXPECT_EQ(cleared.ifindex, 0u);
  EXPECT_EQ(cleared.seq, 4u);

  sg_owner_slot torn{};
  torn.seq = 9;
  torn.ifindex = 5;
  slots->write_raw_for_test(5, torn);
  EXPECT_EQ(slots->read_slot(5).seq, 9u) << "a seq that stays odd is reported as it is";
  slots->write(5, owner);  // a writer after one that died mid-write: even again
  const sg_owner_slot rewritten = slots->read_slot(5);
  EXPECT_EQ(rewritten.seq % 2, 0u);
  EXPECT_GT(rewritten.seq, 9u);
  EXPECT_EQ(rewritten.ifindex, 5u);

  auto plain = create_map(BPF_MAP_TYPE_ARRAY, "sg_t_plain", 4, sizeof(sg_owner_slot), 64);
  ASSERT_TRUE(plain);
  auto refused = OwnerSlots::open(std::move(*plain));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().describe().find("sg_t_plain"), std::string::npos);
  auto odd_size =
      create_map(BPF_MAP_TYPE_ARRAY, "sg_t_odd", 4, sizeof(sg_owner_slot), 48, BPF_F_MMAPABLE);
  ASSERT_TRUE(odd_size);
  EXPECT_FALSE(OwnerSlots::open(std::move(*odd_size))) << "not a power of two";
}

// What the agent does at start (DatapathService::load): every slot another writer left, whole
// or torn, is emptied; empty slots are not written (their seq does not move).
TEST(MapsKernel, OwnerSlotsClearAllEmptiesWhatAnEarlierWriterLeft) {
  SG_REQUIRE_KERNEL();
  auto handle = create_map(BPF_MAP_TYPE_ARRAY, "sg_t_slots_all", 4, sizeof(sg_owner_slot), 16,
                           BPF_F_MMAPABLE);
  ASSERT_TRUE(handle) << handle.error().describe();
  auto slots = OwnerSlots::open(std::move(*handle));
  ASSERT_TRUE(slots) << slots.error().describe();
  sg_machine owner{};
  owner.app_id = 3;
  slots->write(16 + 2, owner);
  slots->write(7, owner);
  sg_owner_slot torn{};
  torn.seq = 5;
  torn.ifindex = 11;
  slots->write_raw_for_test(11, torn);

  EXPECT_EQ(slots->clear_all(), 3u);
  for (uint32_t index = 0; index < slots->size(); ++index) {
    const sg_owner_slot held = slots->read_slot(index);
    EXPECT_EQ(held.ifindex, 0u) << "slot " << index;
    EXPECT_EQ(held.seq % 2, 0u) << "slot " << index;
    if (index != 2 && index != 7 && index != 11) {
      EXPECT_EQ(held.seq, 0u) << "slot " << index << " was empty: not written";
    }
  }
  EXPECT_EQ(slots->clear_all(), 0u) << "nothing left to empty";
}

TEST(MapsKernel, ArrayAndPerCpuSums) {
  SG_REQUIRE_KERNEL();
  auto array_handle = create_map(BPF_MAP_TYPE_ARRAY, "sg_t_array", 4, sizeof(sg_config), 1);
  ASSERT_TRUE(array_handle);
  auto array = ArrayMap<sg_config>::open(std::move(*array_handle));
  ASSERT_TRUE(array);
  sg_config config{};
  config.flags = SG_CFG_AUDIT;
  config.events_per_sec = 100;
  ASSERT_TRUE(array->set(0, config));
  auto read = array->get(0);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->flags, SG_CFG_AUDIT);
  EXPECT_EQ(read->events_per_sec, 100u);
  EXPECT_FALSE(array->get(1));  // out of range

  auto percpu_handle =
      create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "sg_t_percpu", 4, sizeof(sg_counter), 3);
  ASSERT_TRUE(percpu_handle);
  auto counters = PerCpuArray<sg_counter>::open(std::move(*percpu_handle));
  ASSERT_TRUE(counters);
  ASSERT_GT(counters->possible_cpus(), 0u);
  ASSERT_TRUE(counters->write_all_cpus(1, sg_counter{2, 100}));
  auto per_cpu = counters->read_per_cpu(1);
  ASSERT_TRUE(per_cpu);
  ASSERT_EQ(per_cpu->size(), counters->possible_cpus());
  for (const auto &value : *per_cpu) EXPECT_EQ(value.packets, 2u);
  auto sum = counters->read_sum(1);
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->packets, 2ull * counters->possible_cpus());
  EXPECT_EQ(sum->bytes, 100ull * counters->possible_cpus());
  auto all = counters->read_all_summed();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].packets, 0u);
  EXPECT_EQ((*all)[1].packets, 2ull * counters->possible_cpus());

  auto u64_handle = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "sg_t_u64", 4, 8, 1);
  ASSERT_TRUE(u64_handle);
  auto stats = PerCpuArray<uint64_t>::open(std::move(*u64_handle));
  ASSERT_TRUE(stats);
  ASSERT_TRUE(stats->write_all_cpus(0, 3));
  auto total = stats->read_sum(0);
  ASSERT_TRUE(total);
  EXPECT_EQ(*total, 3ull * stats->possible_cpus());
}

TEST(MapsKernel, WrongTypeOrSizeIsRefusedWithTheMapName) {
  SG_REQUIRE_KERNEL();
  auto handle = create_map(BPF_MAP_TYPE_HASH, "sg_machines", 4, 20, 4, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle);
  auto copy = handle->duplicate();
  ASSERT_TRUE(copy);
  auto wrong_value = HashMap<uint32_t, sg_machine>::open(std::move(*handle));
  ASSERT_FALSE(wrong_value);
  EXPECT_EQ(wrong_value.error().message,
            "sg_machines: value size is 20, expected " + std::to_string(sizeof(sg_machine)));
  auto wrong_type = ArrayMap<uint32_t>::open(std::move(*copy));
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error().message.find("sg_machines: is a hash map, expected array"),
            std::string::npos)
      << wrong_type.error().message;
}

TEST(MapsKernel, OpenPinnedSharesTheMap) {
  SG_REQUIRE_KERNEL();
  auto pins = PinDir::create("sixguard-h2test");
  ASSERT_TRUE(pins) << pins.error().describe();
  auto handle = create_map(BPF_MAP_TYPE_HASH, "sg_t_pinned", 4, 4, 4, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle);
  const std::string path = pins->path() + "/sg_t_pinned";
  ASSERT_EQ(bpf_obj_pin(handle->fd(), path.c_str()), 0);
  auto reopened = MapHandle::open_pinned(path);
  ASSERT_TRUE(reopened) << reopened.error().describe();
  EXPECT_EQ(reopened->id(), handle->id());
  auto writer = HashMap<uint32_t, uint32_t>::open(std::move(*handle));
  auto reader = HashMap<uint32_t, uint32_t>::open(std::move(*reopened));
  ASSERT_TRUE(writer && reader);
  ASSERT_TRUE(writer->update(5, 55));
  auto seen = reader->lookup(5);
  ASSERT_TRUE(seen && seen->has_value());
  EXPECT_EQ(**seen, 55u);

  auto missing = MapHandle::open_pinned(pins->path() + "/nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_NE(missing.error().message.find(pins->path() + "/nothing"), std::string::npos);
}

// A socket-filter program that writes `size` bytes of its stack (an sg_drop_event with hook
// 2, verdict 1, reason 7 when size is the full record) to the ring buffer, built from raw
// instructions so the test needs no BPF object.
Result<Fd> ringbuf_writer(int map_fd, int32_t size) {
  auto insn = [](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn value{};
    value.code = code;
    value.dst_reg = dst;
    value.src_reg = src;
    value.off = off;
    value.imm = imm;
    return value;
  };
  std::vector<bpf_insn> program;
  // Zero 56 bytes at r10-56 .. r10-1.
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0));
  for (int16_t off = -56; off < 0; off += 8) {
    program.push_back(insn(BPF_STX | BPF_MEM | BPF_DW, 10, 1, off, 0));
  }
  // hook/verdict/reason at offsets 48/49/50 of the record (record starts at r10-56).
  program.push_back(insn(BPF_ST | BPF_MEM | BPF_B, 10, 0, -56 + 48, SG_HOOK_UPLINK));
  program.push_back(insn(BPF_ST | BPF_MEM | BPF_B, 10, 0, -56 + 49, SG_VERDICT_DROP));
  program.push_back(insn(BPF_ST | BPF_MEM | BPF_B, 10, 0, -56 + 50, SG_REASON_CROSS_NETWORK));
  program.push_back(insn(BPF_ST | BPF_MEM | BPF_W, 10, 0, -56 + 40, 42));  // ifindex
  // r1 = map (ld_imm64 with BPF_PSEUDO_MAP_FD), r2 = r10 - 56, r3 = size, r4 = 0.
  program.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd));
  program.push_back(insn(0, 0, 0, 0, 0));
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0));
  program.push_back(insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -56));
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, size));
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0));
  program.push_back(insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output));
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
  program.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  static char log[8192];
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof(log), .log_buf = log);
  int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "sg_t_ringbuf", "GPL", program.data(),
                         program.size(), &opts);
  if (fd < 0) return make_error(std::string("load ringbuf writer: ") + log, errno);
  return Fd(fd);
}

Status run_once(const Fd &program) {
  unsigned char packet[64] = {};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
              .repeat = 1);
  if (int err = bpf_prog_test_run_opts(program.get(), &opts); err != 0) {
    return make_error("test run", -err);
  }
  return {};
}

TEST(MapsKernel, RingBufferReaderDeliversRecordsAndRejectsShortOnes) {
  SG_REQUIRE_KERNEL();
  auto handle = create_map(BPF_MAP_TYPE_RINGBUF, "sg_events", 0, 0, 4096);
  ASSERT_TRUE(handle) << handle.error().describe();
  auto full = ringbuf_writer(handle->fd(), sizeof(sg_drop_event));
  ASSERT_TRUE(full) << full.error().describe();
  auto short_writer = ringbuf_writer(handle->fd(), 8);
  ASSERT_TRUE(short_writer) << short_writer.error().describe();

  std::vector<sg_drop_event> received;
  auto reader = RingBufferReader::open(
      std::move(*handle), [&](const sg_drop_event &event) { received.push_back(event); });
  ASSERT_TRUE(reader) << reader.error().describe();

  auto nothing = reader->poll(std::chrono::milliseconds(10));
  ASSERT_TRUE(nothing);
  EXPECT_EQ(*nothing, 0);

  ASSERT_TRUE(run_once(*full));
  ASSERT_TRUE(run_once(*short_writer));
  ASSERT_TRUE(run_once(*full));
  auto delivered = reader->poll(std::chrono::milliseconds(1000));
  ASSERT_TRUE(delivered) << delivered.error().describe();
  // Drain anything that arrived after the first wake-up.
  ASSERT_TRUE(reader->consume());
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(reader->rejected_records(), 1u);
  EXPECT_EQ(received[0].hook, SG_HOOK_UPLINK);
  EXPECT_EQ(received[0].verdict, SG_VERDICT_DROP);
  EXPECT_EQ(received[0].reason, SG_REASON_CROSS_NETWORK);
  EXPECT_EQ(received[0].ifindex, 42u);
  EXPECT_GE(reader->epoll_fd(), 0);
}

TEST(MapsKernel, RingBufferReaderRefusesOtherMapTypes) {
  SG_REQUIRE_KERNEL();
  auto handle = create_map(BPF_MAP_TYPE_HASH, "sg_t_notring", 4, 4, 4, BPF_F_NO_PREALLOC);
  ASSERT_TRUE(handle);
  auto reader = RingBufferReader::open(std::move(*handle), [](const sg_drop_event &) {});
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, EINVAL);
  EXPECT_NE(reader.error().message.find("sg_t_notring"), std::string::npos);
}

}  // namespace
}  // namespace sixguard::maps
