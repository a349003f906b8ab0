// Test that the datapath object passes the verifier, every program of it, with the default
// map sizes and with large ones (the sizes a big host configures).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include <iostream>

#include "tests/bpf/datapath_harness.h"
#include "agent/datapath/egress_hook.h"
#include "tests/common/kernel_test.h"

namespace sixguard::bpftest {
namespace {

// Every program loads, but the XDP one only where the kernel's XDP programs have
// bpf_xdp_load_bytes (the agent's decision, agent/datapath/egress_hook.h).
void expect_all_programs_loaded(const Datapath &dp) {
  for (Program program : {Program::kMachineEgressTc, Program::kMachineIngress, Program::kUplink,
                          Program::kUplinkL3, Program::kExplain}) {
    EXPECT_GE(dp.program_fd(program), 0) << "program " << static_cast<int>(program);
  }
  auto has_helper = kernel_has_xdp_load_bytes();
  ASSERT_TRUE(has_helper) << has_helper.error().describe();
  EXPECT_EQ(dp.xdp_egress_loaded(), *has_helper);
}

// A load through the verifier is ~15 s under TCG (the VM suite): the tests that need an
// untouched object with the default sizes share one load. They read it, and the one write
// (ZeroedConfigTreatsNothingAsInfra's infra entry) touches nothing the others read.
class DatapathLoad : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { default_load_.reset(); }

  // The shared load with the default sizes; ASSERT_NO_FATAL_FAILURE around the call.
  static void default_load(Datapath *&dp) {
    if (!default_load_) {
      auto loaded = Datapath::load();
      ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
      default_load_ = std::move(*loaded);
    }
    dp = default_load_.get();
  }

 private:
  static inline std::unique_ptr<Datapath> default_load_;
};

TEST_F(DatapathLoad, EveryProgramLoadsWithDefaultMapSizes) {
  SG_REQUIRE_KERNEL();
  Datapath *dp = nullptr;
  ASSERT_NO_FATAL_FAILURE(default_load(dp));
  expect_all_programs_loaded(*dp);
  EXPECT_EQ(dp->map_max_entries(SG_MAP_MACHINES), SG_DEFAULT_MACHINES);
  EXPECT_EQ(dp->map_max_entries(SG_MAP_FLYCAST), SG_DEFAULT_FLYCAST);
}

TEST_F(DatapathLoad, EveryProgramLoadsWithLargeMapSizes) {
  SG_REQUIRE_KERNEL();
  MapSizes sizes;
  sizes.machines = 256 * 1024;
  sizes.flycast = 1024 * 1024;
  sizes.infra = 64 * 1024;
  sizes.net_flags = 1024 * 1024;
  auto dp = Datapath::load(sizes);
  ASSERT_TRUE(dp.ok()) << dp.error().describe();
  expect_all_programs_loaded(**dp);
  EXPECT_EQ((*dp)->map_max_entries(SG_MAP_MACHINES), sizes.machines);
  EXPECT_EQ((*dp)->map_max_entries(SG_MAP_FLYCAST), sizes.flycast);
  EXPECT_EQ((*dp)->map_max_entries(SG_MAP_INFRA), sizes.infra);
  EXPECT_EQ((*dp)->map_max_entries(SG_MAP_NET_FLAGS), sizes.net_flags);
}

// Test that the loaded programs read the coarse clock exactly where the kernel has
// bpf_ktime_get_coarse_ns: the constant is set before load (set_kernel_constants), and a 5.10
// kernel, which lacks the helper, still loads every program (the branch is never walked).
TEST_F(DatapathLoad, TheRateLimiterReadsTheCoarseClockExactlyWhereTheKernelHasIt) {
  SG_REQUIRE_KERNEL();
  Datapath *dp = nullptr;
  ASSERT_NO_FATAL_FAILURE(default_load(dp));
  const int fd = bpf_map__fd(bpf_object__find_map_by_name(dp->object(), SG_RODATA_CLOCK));
  ASSERT_GE(fd, 0);
  uint32_t zero = 0;
  uint32_t coarse = 2;
  ASSERT_EQ(bpf_map_lookup_elem(fd, &zero, &coarse), 0) << std::strerror(errno);
  const int probe =
      libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_ktime_get_coarse_ns, nullptr);
  ASSERT_GE(probe, 0);
  std::cout << "rate limiter clock on this kernel: " << (coarse ? "coarse" : "precise")
            << std::endl;
  EXPECT_EQ(coarse, probe == 1 ? 1u : 0u);
}

// Test that the XDP program loads exactly where the agent expects it to: a kernel the agent
// falls back to TC on really refuses it (so the fallback is needed, not just chosen).
TEST_F(DatapathLoad, TheXdpProgramLoadsExactlyWhereTheKernelHasXdpLoadBytes) {
  SG_REQUIRE_KERNEL();
  auto has_helper = kernel_has_xdp_load_bytes();
  ASSERT_TRUE(has_helper) << has_helper.error().describe();
  auto forced = Datapath::load({}, XdpEgress::kAlways);
  std::cout << "XDP program on this kernel: " << (forced.ok() ? "loads" : "refused") << std::endl;
  EXPECT_EQ(forced.ok(), *has_helper) << (forced.ok() ? "" : forced.error().describe());
}

// Test that a zeroed configuration (what a map holds before the agent writes it) fails
// closed on the infrastructure fast path: no address is infrastructure.
TEST_F(DatapathLoad, ZeroedConfigTreatsNothingAsInfra) {
  SG_REQUIRE_KERNEL();
  Datapath *dp = nullptr;
  ASSERT_NO_FATAL_FAILURE(default_load(dp));
  ASSERT_TRUE(dp->put_infra(Ipv6Prefix{*parse_ipv6("fdaa::3"), 128}).ok());
  // uplink, fdaa::3 -> network 2:45b: infra only if the lookup happened.
  const std::vector<uint8_t> frame = {
      0x02, 0,    0, 0, 0, 2,    0x02, 0,  0, 0, 0, 1, 0x86, 0xdd,        // Ethernet
      0x60, 0,    0, 0, 0, 8,    59,   64,                                // IPv6, no next header
      0xfd, 0xaa, 0, 0, 0, 0,    0,    0,  0, 0, 0, 0, 0,    0,    0, 3,  // fdaa::3
      0xfd, 0xaa, 0, 2, 4, 0x5b, 0,    0,  0, 0, 0, 0, 0,    0,    0, 2,
      0,    0,    0, 0, 0, 0,    0,    0};  // 8 octets after 59 (an empty payload is malformed)
  auto run = dp->run(Program::kExplain, frame, 0, 1, std::array<uint32_t, 2>{SG_HOOK_UPLINK, 0});
  ASSERT_TRUE(run.ok()) << run.error().describe();
  EXPECT_EQ(SG_EXPLAIN_REASON(run->retval), SG_REASON_CROSS_NETWORK);
}

}  // namespace
}  // namespace sixguard::bpftest
