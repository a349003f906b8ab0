// The differential fuzzer as a test: every generated frame through every program of the real
// datapath and through the reference model (tests/model/model.h); any difference fails. Needs
// root and BPF (skips otherwise; fails under SIXGUARD_REQUIRE_KERNEL_TESTS=1).
//
//   SIXGUARD_FUZZ_FRAMES  frames (each through every program); default 20000, ctest sets more
//   SIXGUARD_FUZZ_SEED    the seed; default fixed, so a CI failure replays as it is
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/model/differential.h"
#include "tests/bpf/host_fixture.h"

namespace sixguard::model {
namespace {

uint64_t env_number(const char *name, uint64_t fallback) {
  const char *text = std::getenv(name);
  if (!text || !*text) return fallback;
  return std::strtoull(text, nullptr, 0);
}

constexpr uint64_t kDefaultFrames = 20000;
constexpr uint64_t kDefaultSeed = 0x5136a4d;

class DifferentialFuzz : public bpftest::HostTest {};

// Test that every program answers every frame as the model does: verdict, reason, counter slot
// and bytes (return codes too where the test run shows them).
TEST_F(DifferentialFuzz, EveryProgramAgreesWithTheModel) {
  FuzzOptions options;
  options.frames = env_number("SIXGUARD_FUZZ_FRAMES", kDefaultFrames);
  options.seed = env_number("SIXGUARD_FUZZ_SEED", kDefaultSeed);
  options.log = [](const std::string &report) { std::fprintf(stderr, "%s", report.c_str()); };
  auto stats = run_differential(*host_, options);
  ASSERT_TRUE(stats.ok()) << stats.error().describe();
  std::printf("seed %llu\n%s", static_cast<unsigned long long>(options.seed),
              summarize(*stats).c_str());
  EXPECT_EQ(stats->disagreements, 0u) << "see the DISAGREEMENT reports above";
  EXPECT_EQ(stats->frames, options.frames);
  // The frames must reach the rules, not only the parser: every hook saw passes, drops for
  // policy and malformed drops (a generator that only built garbage would agree trivially).
  if (options.frames >= 5000) {
    for (uint8_t hook = 0; hook < SG_HOOK_COUNT; ++hook) {
      for (auto [verdict, reason] : {std::pair{SG_VERDICT_PASS, SG_REASON_SAME_NETWORK},
                                     std::pair{SG_VERDICT_PASS, SG_REASON_NOT_6PN},
                                     std::pair{SG_VERDICT_PASS, SG_REASON_INFRA},
                                     std::pair{SG_VERDICT_PASS, SG_REASON_FLYCAST},
                                     std::pair{SG_VERDICT_DROP, SG_REASON_MALFORMED},
                                     std::pair{SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK},
                                     std::pair{SG_VERDICT_AUDIT, SG_REASON_CROSS_NETWORK}}) {
        EXPECT_GT(stats->model_slots[SG_COUNTER_INDEX(hook, verdict, reason)], 0u)
            << slot_name(SG_COUNTER_INDEX(hook, verdict, reason)) << " never reached";
      }
    }
  }
}

// Test that the comparison can fail: a model with one rule flipped (machine_egress same-network
// answered as cross_network) must disagree with the datapath.
TEST_F(DifferentialFuzz, CatchesAPlantedModelBug) {
  FuzzOptions options;
  options.frames = 2000;
  options.seed = kDefaultSeed;
  options.bug = PlantedBug::kEgressSameNetworkIsCross;
  options.max_reports = 0;
  auto stats = run_differential(*host_, options);
  ASSERT_TRUE(stats.ok()) << stats.error().describe();
  // The planted rule shows as its own kind (other, real, disagreements may be there too).
  uint64_t planted = 0;
  for (const auto &[kind, count] : stats->kinds) {
    if (kind.find(
            "model machine_egress/drop/cross_network / bpf machine_egress/pass/same_network") !=
        std::string::npos) {
      planted += count;
    }
  }
  std::printf("planted bug: %llu disagreement(s) of its kind in %llu frames\n",
              static_cast<unsigned long long>(planted),
              static_cast<unsigned long long>(stats->frames));
  EXPECT_GT(planted, 0u) << summarize(*stats);
}

// Test that a count no run accounts for (as from a program counting a packet twice) is found:
// by the periodic check of every slot, which names the window, or, when a disagreement in the
// window re-reads every slot first, in that disagreement's report. uplink/drop/infra is a slot
// no verdict uses (infra passes), so a report naming it names the planted count.
TEST_F(DifferentialFuzz, CatchesACountNoRunExplains) {
  FuzzOptions options;
  options.frames = 300;
  options.seed = kDefaultSeed;
  options.full_check_every = 100;
  options.plant_count_before_frame = 150;
  options.device_every = uint64_t{1} << 40;  // no tap frames but the refused ones
  options.max_reports = 1000;
  auto stats = run_differential(*host_, options);
  ASSERT_TRUE(stats.ok()) << stats.error().describe();
  bool named = false;
  for (const auto &report : stats->reports) {
    if (report.find("uplink/drop/infra") == std::string::npos) continue;
    named = true;
    if (report.find("COUNTER DRIFT") != std::string::npos) {
      EXPECT_NE(report.find("frames [100, 200)"), std::string::npos) << report;
    }
  }
  EXPECT_TRUE(named) << summarize(*stats);
}

}  // namespace
}  // namespace sixguard::model
