// Test the parts of maps/ and agent/datapath/ that need no kernel: the contract's names, map
// size validation, error formatting, program-name matching, counter addition.
#include <gtest/gtest.h>

#include <cerrno>

#include "maps/array_map.h"
#include "agent/datapath/bpf_logging.h"
#include "maps/map_error.h"
#include "agent/datapath/map_sizes.h"
#include "agent/datapath/names.h"
#include "agent/datapath/program_names.h"

namespace sixguard {
namespace {

TEST(DatapathNames, EveryEnumValueHasTheContractName) {
  EXPECT_EQ(hook_name(SG_HOOK_MACHINE_EGRESS), "machine_egress");
  EXPECT_EQ(hook_name(SG_HOOK_MACHINE_INGRESS), "machine_ingress");
  EXPECT_EQ(hook_name(SG_HOOK_UPLINK), "uplink");
  EXPECT_EQ(verdict_name(SG_VERDICT_PASS), "pass");
  EXPECT_EQ(verdict_name(SG_VERDICT_DROP), "drop");
  EXPECT_EQ(verdict_name(SG_VERDICT_AUDIT), "audit");
  EXPECT_EQ(reason_name(SG_REASON_NOT_6PN), "not_6pn");
  EXPECT_EQ(reason_name(SG_REASON_MALFORMED), "malformed");
  EXPECT_EQ(reason_name(SG_REASON_SPOOFED_SOURCE), "spoofed_source");
  EXPECT_EQ(reason_name(SG_REASON_NOT_FOR_MACHINE), "not_for_machine");
  EXPECT_EQ(reason_name(SG_REASON_INFRA), "infra");
  EXPECT_EQ(reason_name(SG_REASON_FLYCAST), "flycast");
  EXPECT_EQ(reason_name(SG_REASON_SAME_NETWORK), "same_network");
  EXPECT_EQ(reason_name(SG_REASON_CROSS_NETWORK), "cross_network");
  EXPECT_EQ(reason_name(SG_REASON_COUNT), "unknown");
}

TEST(DatapathNames, ParsingIsTheInverseOfNaming) {
  for (uint32_t reason = 0; reason < SG_REASON_COUNT; ++reason) {
    auto parsed = parse_reason(reason_name(reason));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, reason);
  }
  EXPECT_EQ(parse_hook("uplink"), SG_HOOK_UPLINK);
  EXPECT_EQ(parse_verdict("audit"), SG_VERDICT_AUDIT);
  EXPECT_FALSE(parse_hook("Uplink"));
  EXPECT_FALSE(parse_reason(""));
}

TEST(MapSizesValidate, DefaultsAreValid) {
  EXPECT_TRUE(MapSizes{}.validate());
}

TEST(MapSizesValidate, ZeroAndBadRingSizesAreRefusedByName) {
  MapSizes zero;
  zero.flycast = 0;
  auto status = zero.validate();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "map_sizes.flycast must be > 0");
  MapSizes ring;
  ring.events_bytes = 3u << 20;
  status = ring.validate();
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("map_sizes.events_bytes must be a power of two"),
            std::string::npos);
  ring.events_bytes = 1024;
  EXPECT_FALSE(ring.validate());
}

TEST(MapError, NamesMapOperationAndErrno) {
  auto error = maps::map_error("sg_flycast", "update", ENOSPC);
  EXPECT_EQ(error.describe(), "sg_flycast: update: No space left on device");
  EXPECT_EQ(maps::map_error("sg_infra", "delete", -ENOENT).code, ENOENT);
}

TEST(ProgramNames, KernelTruncatedNamesMatch) {
  EXPECT_TRUE(kernel_name_matches("sg_machine_egre", kProgMachineEgress));
  EXPECT_TRUE(kernel_name_matches("sg_machine_egress", kProgMachineEgress));
  EXPECT_FALSE(kernel_name_matches("sg_machine_ingr", kProgMachineEgress));
  EXPECT_TRUE(kernel_name_matches("sg_uplink", kProgUplink));
  EXPECT_FALSE(kernel_name_matches("sg_uplink_l3", kProgUplink));
  EXPECT_FALSE(kernel_name_matches("", kProgUplink));
}

TEST(CounterSum, AddsPacketsAndBytes) {
  sg_counter total = sg_counter{1, 10} + sg_counter{2, 20};
  EXPECT_EQ(total.packets, 3u);
  EXPECT_EQ(total.bytes, 30u);
}

}  // namespace
}  // namespace sixguard

namespace sixguard {
namespace {

TEST(BpfLogging, HandledConditionsAreRecognisedAndRealErrorsAreNot) {
  EXPECT_TRUE(is_expected_bpf_library_warning("Kernel error message: Parent Qdisc doesn't exists"));
  EXPECT_TRUE(
      is_expected_bpf_library_warning("Falling back to loading single prog without dispatcher"));
  EXPECT_FALSE(is_expected_bpf_library_warning(
      "prog 'sg_machine_ingress': BPF program load failed: Invalid argument"));
  EXPECT_FALSE(is_expected_bpf_library_warning("map 'sg_flycast': failed to create"));
}

}  // namespace
}  // namespace sixguard
