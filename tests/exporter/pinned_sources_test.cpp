// The real sources against real maps: creates maps shaped like the datapath's (same names,
// types, sizes) with bpf_map_create, pins them in a unique bpffs directory, writes per-CPU
// values and checks what the exporter reads. Needs root and bpffs: skips without them, fails
// instead when SIXGUARD_REQUIRE_KERNEL_TESTS=1.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exporter/exporter.h"
#include "tests/exporter/exposition.h"
#include "agent/core/fd.h"
#include "exporter/labels.h"
#include "exporter/pinned_sources.h"
#include "tests/common/kernel_test.h"

namespace sixguard::exporter {
namespace {

// Creates a map and pins it as <dir>/<name>. The fd is invalid (errno set) when either step
// fails: a map the exporter cannot find by its pin proves nothing.
Fd create_pinned(const std::string &dir, bpf_map_type type, const char *name, uint32_t key_size,
                 uint32_t value_size, uint32_t max_entries, uint32_t flags = 0) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  Fd fd(bpf_map_create(type, name, key_size, value_size, max_entries, &opts));
  if (!fd.valid()) return fd;
  const std::string pin = dir + "/" + name;
  if (bpf_obj_pin(fd.get(), pin.c_str()) != 0) return Fd();
  return fd;
}

class PinnedSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SG_REQUIRE_KERNEL();
    // A unique pin directory holding only this test's pins, removed with them however the
    // test ends.
    auto pins = sixguard::test::PinDir::create("sixguard-test-h5");
    ASSERT_TRUE(pins) << pins.error().message;
    pins_.emplace(std::move(*pins));
    cpus_ = libbpf_num_possible_cpus();
    ASSERT_GT(cpus_, 0);
    const uint32_t no_prealloc = BPF_F_NO_PREALLOC;
    machines_ = create_pinned(pins_->path(), BPF_MAP_TYPE_HASH, SG_MAP_MACHINES, 4,
                              sizeof(sg_machine), 64, no_prealloc);
    flycast_ = create_pinned(pins_->path(), BPF_MAP_TYPE_HASH, SG_MAP_FLYCAST, sizeof(sg_in6),
                             sizeof(sg_flycast), 128, no_prealloc);
    infra_ = create_pinned(pins_->path(), BPF_MAP_TYPE_LPM_TRIE, SG_MAP_INFRA, sizeof(sg_lpm_key),
                           4, 16, no_prealloc);
    net_flags_ =
        create_pinned(pins_->path(), BPF_MAP_TYPE_HASH, SG_MAP_NET_FLAGS, 4, 4, 32, no_prealloc);
    config_ =
        create_pinned(pins_->path(), BPF_MAP_TYPE_ARRAY, SG_MAP_CONFIG, 4, sizeof(sg_config), 1);
    counters_ = create_pinned(pins_->path(), BPF_MAP_TYPE_PERCPU_ARRAY, SG_MAP_COUNTERS, 4,
                              sizeof(sg_counter), kCounterSlots);
    event_stats_ = create_pinned(pins_->path(), BPF_MAP_TYPE_PERCPU_ARRAY, SG_MAP_EVENT_STATS, 4, 8,
                                 SG_EVSTAT_COUNT);
    ratelimit_ = create_pinned(pins_->path(), BPF_MAP_TYPE_PERCPU_ARRAY, SG_MAP_RATELIMIT, 4,
                               sizeof(sg_ratelimit), 1);
    for (const Fd *fd : {&machines_, &flycast_, &infra_, &net_flags_, &config_, &counters_,
                         &event_stats_, &ratelimit_}) {
      ASSERT_TRUE(fd->valid()) << "bpf_map_create: " << std::strerror(errno);
    }
  }

  // Sets slot on every CPU: CPU c holds (c + 1) * packets, so the sum is packets * n(n+1)/2.
  void write_counter(uint32_t slot, uint64_t packets, uint64_t bytes) {
    std::vector<sg_counter> values(cpus_);
    for (int cpu = 0; cpu < cpus_; ++cpu) {
      values[cpu] = sg_counter{packets * (cpu + 1), bytes * (cpu + 1)};
    }
    ASSERT_EQ(bpf_map_update_elem(counters_.get(), &slot, values.data(), BPF_ANY), 0);
  }
  uint64_t cpu_sum(uint64_t per_cpu_unit) const {
    return per_cpu_unit * static_cast<uint64_t>(cpus_) * (cpus_ + 1) / 2;
  }

  std::optional<sixguard::test::PinDir> pins_;
  int cpus_ = 0;
  Fd machines_, flycast_, infra_, net_flags_, config_, counters_, event_stats_, ratelimit_;
};

TEST_F(PinnedSourcesTest, CountersAreSummedOverCpusAtEachRead) {
  auto source = PinnedCounterSource::open(pins_->path());
  ASSERT_TRUE(source.ok()) << source.error().describe();
  const uint32_t slot = SG_COUNTER_INDEX(static_cast<unsigned>(SG_HOOK_MACHINE_EGRESS),
                                         static_cast<unsigned>(SG_VERDICT_DROP),
                                         static_cast<unsigned>(SG_REASON_CROSS_NETWORK));
  write_counter(slot, 2, 200);
  auto first = (*source)->verdict_counters();
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ((*first)[slot].packets, cpu_sum(2));
  EXPECT_EQ((*first)[slot].bytes, cpu_sum(200));
  EXPECT_EQ((*first)[0].packets, 0u);

  write_counter(slot, 5, 500);
  auto second = (*source)->verdict_counters();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)[slot].packets, cpu_sum(5));

  const uint32_t lost = SG_EVSTAT_RINGBUF_FULL;
  std::vector<uint64_t> per_cpu(cpus_, 3);
  ASSERT_EQ(bpf_map_update_elem(event_stats_.get(), &lost, per_cpu.data(), BPF_ANY), 0);
  auto monitor = (*source)->monitor_event_stats();
  ASSERT_TRUE(monitor.ok()) << monitor.error().describe();
  EXPECT_EQ((*monitor)[SG_EVSTAT_RINGBUF_FULL], 3u * cpus_);
  EXPECT_EQ((*monitor)[SG_EVSTAT_SENT], 0u);
}

TEST_F(PinnedSourcesTest, MapUsageCountsEntriesOfEveryMap) {
  auto source = PinnedMapStatsSource::open(pins_->path());
  ASSERT_TRUE(source.ok()) << source.error().describe();
  for (uint32_t ifindex = 1; ifindex <= 5; ++ifindex) {
    sg_machine machine{};
    machine.network_id = ifindex;
    ASSERT_EQ(bpf_map_update_elem(machines_.get(), &ifindex, &machine, BPF_ANY), 0);
  }
  sg_lpm_key infra{};
  infra.prefixlen = 128;
  infra.addr.octets[0] = 0xfd;
  infra.addr.octets[1] = 0xaa;
  infra.addr.octets[15] = 3;
  const uint32_t one = 1;
  ASSERT_EQ(bpf_map_update_elem(infra_.get(), &infra, &one, BPF_ANY), 0);

  auto usage = (*source)->map_usage();
  ASSERT_TRUE(usage.ok()) << usage.error().describe();
  std::map<std::string, MapUsage> by_name;
  for (const auto &map : *usage) by_name[map.map] = map;
  ASSERT_EQ(by_name.size(), kMapLabels.size());
  EXPECT_EQ(by_name["machines"].entries, 5u);
  EXPECT_EQ(by_name["machines"].capacity, 64u);
  EXPECT_EQ(by_name["flycast"].entries, 0u);
  EXPECT_EQ(by_name["flycast"].capacity, 128u);
  EXPECT_EQ(by_name["infra"].entries, 1u);
  EXPECT_EQ(by_name["net_flags"].entries, 0u);
  EXPECT_EQ(by_name["net_flags"].capacity, 32u);
  EXPECT_EQ(by_name.count("counters"), 0u) << "arrays cannot fill";

  const uint32_t gone = 2;
  ASSERT_EQ(bpf_map_delete_elem(machines_.get(), &gone), 0);
  usage = (*source)->map_usage();
  ASSERT_TRUE(usage.ok());
  for (const auto &map : *usage) {
    if (map.map == "machines") {
      EXPECT_EQ(map.entries, 4u);
    }
  }
}

TEST_F(PinnedSourcesTest, ExporterScrapesThePinnedMaps) {
  auto counters = PinnedCounterSource::open(pins_->path());
  auto maps = PinnedMapStatsSource::open(pins_->path());
  ASSERT_TRUE(counters.ok() && maps.ok());
  Exporter exporter(BuildInfo{"t", "k"});
  exporter.set_counter_source(*counters);
  exporter.set_map_stats_source(*maps);
  exporter.set_attachment_source(std::make_shared<FunctionAttachmentSource>([] {
    return AttachedInterfaces{2, 2, 0};
  }));
  const uint32_t slot = SG_COUNTER_INDEX(static_cast<unsigned>(SG_HOOK_UPLINK),
                                         static_cast<unsigned>(SG_VERDICT_PASS),
                                         static_cast<unsigned>(SG_REASON_SAME_NETWORK));
  write_counter(slot, 1, 100);
  auto samples = test::parse_exposition(exporter.scrape());
  EXPECT_EQ(
      test::find_sample(samples, "sixguard_packets_total",
                        {{"hook", "uplink"}, {"verdict", "pass"}, {"reason", "same_network"}}),
      static_cast<double>(cpu_sum(1)));
  EXPECT_EQ(test::find_sample(samples, "sixguard_map_capacity", {{"map", "machines"}}), 64.0);
  EXPECT_EQ(test::find_sample(samples, "sixguard_attached_interfaces", {{"hook", "uplink"}}), 0.0);
  EXPECT_EQ(test::count_samples(samples, "sixguard_packets_total"), kCounterSlots);
}

TEST(PinnedSourcesOpen, MissingPinsAreAnErrorNamingTheMap) {
  auto source = PinnedCounterSource::open("/nonexistent-sixguard-h5");
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().describe().find("sg_counters"), std::string::npos)
      << source.error().describe();
}

}  // namespace
}  // namespace sixguard::exporter
