// Test that the shared structures keep the layout the BPF programs were compiled with. The
// static_asserts fail the build; these tests name the fields when a layout drifts.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "agent/core/layout_asserts.h"

TEST(Layout, CounterIndexCoversEverySlotOnce) {
  std::vector<int> seen(SG_COUNTER_SLOTS, 0);
  for (unsigned hook = 0; hook < SG_HOOK_COUNT; ++hook)
    for (unsigned verdict = 0; verdict < SG_VERDICT_COUNT; ++verdict)
      for (unsigned reason = 0; reason < SG_REASON_COUNT; ++reason) {
        const unsigned index = SG_COUNTER_INDEX(hook, verdict, reason);
        ASSERT_LT(index, static_cast<unsigned>(SG_COUNTER_SLOTS));
        ++seen[index];
      }
  for (int count : seen) EXPECT_EQ(count, 1);
}

TEST(Layout, ExplainEncodingRoundTrips) {
  for (unsigned verdict = 0; verdict < SG_VERDICT_COUNT; ++verdict)
    for (unsigned reason = 0; reason < SG_REASON_COUNT; ++reason) {
      const int encoded = SG_EXPLAIN_ENCODE(verdict, reason);
      EXPECT_EQ(SG_EXPLAIN_VERDICT(encoded), verdict);
      EXPECT_EQ(SG_EXPLAIN_REASON(encoded), reason);
    }
}

TEST(Layout, MapNamesFitTheKernelLimit) {
  for (const char *name :
       {SG_MAP_MACHINES, SG_MAP_FLYCAST, SG_MAP_INFRA, SG_MAP_NET_FLAGS, SG_MAP_CONFIG,
        SG_MAP_COUNTERS, SG_MAP_EVENTS, SG_MAP_EVENT_STATS, SG_MAP_RATELIMIT, SG_MAP_META}) {
    EXPECT_LE(std::strlen(name), 15u) << name;
  }
}
