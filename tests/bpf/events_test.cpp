// Test that drop and audit verdicts reach the sg_events ring buffer with the fields the monitor
// shows, that passes send nothing, and that the per-CPU token bucket holds its rate and burst.
#include <gtest/gtest.h>
#include <sched.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include "tests/bpf/host_fixture.h"
#include "agent/core/packet_builder.h"
#include "tests/common/clock.h"

namespace sixguard::bpftest {
namespace {

// Pins the calling thread to one CPU for its scope: the token bucket is per CPU, and a test
// run executes on the CPU of the thread that asks for it.
class CpuPin {
 public:
  CpuPin() {
    ::sched_getaffinity(0, sizeof(saved_), &saved_);
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &saved_)) {
        CPU_SET(cpu, &one);
        break;
      }
    }
    ok_ = ::sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  ~CpuPin() { ::sched_setaffinity(0, sizeof(saved_), &saved_); }
  bool ok() const { return ok_; }

 private:
  cpu_set_t saved_{};
  bool ok_ = false;
};

void expect_addresses(const sg_drop_event &event, const Ipv6 &src, const Ipv6 &dst) {
  EXPECT_EQ(Ipv6::from(event.src).str(), src.str());
  EXPECT_EQ(Ipv6::from(event.dst).str(), dst.str());
}

class DropEvents : public HostTest {
 protected:
  void SetUp() override {
    HostTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    configure(1000, 1000);
  }
  void configure(uint32_t per_sec, uint32_t burst, uint32_t flags = 0) {
    sg_config config = base_config();
    config.events_per_sec = per_sec;
    config.events_burst = burst;
    config.flags |= flags;
    ASSERT_TRUE(host_->reset_policy(config).ok());
    // Earlier tests of this binary left records behind.
    ASSERT_TRUE(host_->datapath().drain_events().ok());
  }
  // Runs a machine_egress test run on M1 `repeat` times.
  void run_egress(const std::vector<uint8_t> &frame, uint32_t repeat = 1) {
    Datapath &dp = host_->datapath();
    const uint32_t ifindex = host_->if_m1;
    auto run =
        in_host_ns(*host_, [&] { return dp.run(dp.machine_egress(), frame, ifindex, repeat); });
    ASSERT_TRUE(run.ok()) << run.error().describe();
    ASSERT_TRUE(run->ok()) << run->error().describe();
  }
  std::vector<sg_drop_event> events() {
    auto drained = host_->datapath().drain_events();
    EXPECT_TRUE(drained.ok()) << drained.error().describe();
    return drained.ok() ? *drained : std::vector<sg_drop_event>{};
  }
  // Exactly one event was sent, with this reason, these addresses and (when given) verdict.
  void expect_one_event(sg_reason reason, const Ipv6 &src, const Ipv6 &dst,
                        std::optional<sg_verdict> verdict = std::nullopt) {
    const auto got = events();
    ASSERT_EQ(got.size(), 1u);
    if (verdict) {
      EXPECT_EQ(got[0].verdict, *verdict);
    }
    EXPECT_EQ(got[0].reason, reason);
    expect_addresses(got[0], src, dst);
  }
  EventStats stats() {
    auto read = host_->datapath().event_stats();
    EXPECT_TRUE(read.ok()) << read.error().describe();
    return read.ok() ? *read : EventStats{};
  }
  // `repeat` runs of frame send no event and move no event statistic.
  void expect_no_event(const std::vector<uint8_t> &frame, uint32_t repeat) {
    const EventStats before = stats();
    ASSERT_NO_FATAL_FAILURE(run_egress(frame, repeat));
    EXPECT_TRUE(events().empty());
    EXPECT_EQ(stats(), before);
  }
};

TEST_F(DropEvents, ADropSendsOneEventWithItsFields) {
  const auto &a = addrs();
  const auto frame = PacketBuilder().ethernet().ipv6(a.m1, a.b).udp(1, 2).payload(10).build();
  const EventStats before = stats();
  const uint64_t start = test::monotonic_ns();
  run_egress(frame);
  const uint64_t end = test::monotonic_ns();
  const auto got = events();
  ASSERT_EQ(got.size(), 1u);
  const sg_drop_event &event = got[0];
  EXPECT_GE(event.timestamp_ns, start);
  EXPECT_LE(event.timestamp_ns, end);
  expect_addresses(event, a.m1, a.b);
  EXPECT_EQ(event.ifindex, host_->if_m1);
  EXPECT_EQ(event.packet_len, frame.size());
  EXPECT_EQ(event.hook, SG_HOOK_MACHINE_EGRESS);
  EXPECT_EQ(event.verdict, SG_VERDICT_DROP);
  EXPECT_EQ(event.reason, SG_REASON_CROSS_NETWORK);
  EXPECT_EQ(stats()[SG_EVSTAT_SENT] - before[SG_EVSTAT_SENT], 1u);
}

TEST_F(DropEvents, ATunnelledDropNamesTheInnerAddresses) {
  const auto &a = addrs();
  run_egress(PacketBuilder().ethernet().ipv6(a.m1, a.a_peer).ipv6(a.m1, a.c).udp(1, 2).build());
  expect_one_event(SG_REASON_CROSS_NETWORK, a.m1, a.c);
}

// Test that a malformed inner level whose version nibble is not 6 reports the addresses of
// the last header read with version 6 (the outer), never the bytes of the bad header.
TEST_F(DropEvents, AVersion5InnerHeaderReportsTheOuterAddresses) {
  const auto &a = addrs();
  run_egress(PacketBuilder()
                 .ethernet()
                 .ipv6(a.m1, a.a_peer)
                 .ipv6(a.b, a.c)
                 .ipv6_version(5)
                 .udp(1, 2)
                 .build());
  expect_one_event(SG_REASON_MALFORMED, a.m1, a.a_peer);
}

// Test that a malformed outer header (version 5 under the IPv6 ethertype) reports no
// addresses at all.
TEST_F(DropEvents, AVersion5OuterHeaderReportsNoAddresses) {
  const auto &a = addrs();
  run_egress(PacketBuilder().ethernet().ipv6(a.b, a.c).ipv6_version(5).udp(1, 2).build());
  expect_one_event(SG_REASON_MALFORMED, addr("::"), addr("::"));
}

// Test that when an outer drop is audited and an inner level's drop is enforcing (uplink:
// different destination networks), the event is the inner level's drop with its addresses.
TEST_F(DropEvents, AnEnforcingInnerDropAfterAnAuditedOuterReportsTheInnerLevel) {
  configure(1000, 1000, SG_CFG_NET_AUDIT_ANY);
  ASSERT_TRUE(host_->datapath().put_net_flags(kNetA, SG_NET_AUDIT).ok());
  const auto &a = addrs();
  Datapath &dp = host_->datapath();
  const uint32_t ifindex = host_->if_uplink;
  const auto frame =
      PacketBuilder().ethernet().ipv6(a.b, a.m1).ipv6(a.a_peer, a.c).udp(1, 2).build();
  auto run = in_host_ns(*host_, [&] { return dp.run(Program::kUplink, frame, ifindex); });
  ASSERT_TRUE(run.ok()) << run.error().describe();
  ASSERT_TRUE(run->ok()) << run->error().describe();
  expect_one_event(SG_REASON_CROSS_NETWORK, a.a_peer, a.c, SG_VERDICT_DROP);
}

TEST_F(DropEvents, AnAuditVerdictIsSentAsAudit) {
  configure(1000, 1000, SG_CFG_AUDIT);
  const auto &a = addrs();
  run_egress(PacketBuilder().ethernet().ipv6(a.b, a.a_peer).udp(1, 2).build());
  expect_one_event(SG_REASON_SPOOFED_SOURCE, a.b, a.a_peer, SG_VERDICT_AUDIT);
}

TEST_F(DropEvents, AMalformedFrameWithoutAnIpv6HeaderHasNoAddresses) {
  const auto &a = addrs();
  run_egress(PacketBuilder()
                 .ethernet()
                 .vlan(1, PacketBuilder::kTpid8021AD)
                 .vlan(2)
                 .vlan(3)
                 .ipv6(a.m1, a.b)
                 .build());
  expect_one_event(SG_REASON_MALFORMED, Ipv6{}, Ipv6{});
}

TEST_F(DropEvents, PassesSendNothing) {
  const auto &a = addrs();
  expect_no_event(PacketBuilder().ethernet().ipv6(a.m1, a.a_peer).udp(1, 2).build(), 20);
}

TEST_F(DropEvents, ZeroEventsPerSecondTurnsEventsOff) {
  configure(0, 100);
  const auto &a = addrs();
  expect_no_event(PacketBuilder().ethernet().ipv6(a.m1, a.b).udp(1, 2).build(), 10);
}

TEST_F(DropEvents, TheBurstBoundsABackToBackRun) {
  CpuPin pin;
  ASSERT_TRUE(pin.ok());
  configure(1, 5);  // one event a second, five at once
  const auto &a = addrs();
  const EventStats before = stats();
  const auto started = std::chrono::steady_clock::now();
  run_egress(PacketBuilder().ethernet().ipv6(a.m1, a.b).udp(1, 2).build(), 50);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const EventStats after = stats();
  const uint64_t sent = after[SG_EVSTAT_SENT] - before[SG_EVSTAT_SENT];
  const uint64_t limited = after[SG_EVSTAT_RATE_LIMITED] - before[SG_EVSTAT_RATE_LIMITED];
  // The full bucket, plus at most what one token a second refilled during the run.
  EXPECT_GE(sent, 5u);
  EXPECT_LE(sent, 5u + static_cast<uint64_t>(seconds) + 1u);
  EXPECT_EQ(sent + limited, 50u);
  EXPECT_EQ(after[SG_EVSTAT_RINGBUF_FULL], before[SG_EVSTAT_RINGBUF_FULL]);
  EXPECT_EQ(events().size(), sent);
}

TEST_F(DropEvents, TheBucketRefillsAtTheRateUpToTheBurst) {
  CpuPin pin;
  ASSERT_TRUE(pin.ok());
  configure(100, 3);  // 100 a second, at most 3 stored
  const auto &a = addrs();
  const auto frame = PacketBuilder().ethernet().ipv6(a.m1, a.b).udp(1, 2).build();
  EventStats before = stats();
  run_egress(frame, 10);
  EXPECT_EQ(stats()[SG_EVSTAT_SENT] - before[SG_EVSTAT_SENT], 3u);
  // 100 ms refill 10 tokens; the bucket keeps 3.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  before = stats();
  run_egress(frame, 10);
  EXPECT_EQ(stats()[SG_EVSTAT_SENT] - before[SG_EVSTAT_SENT], 3u);
  // 25 ms refill 2.5 tokens: two more events, the half token kept.
  std::this_thread::sleep_for(std::chrono::milliseconds(25));
  before = stats();
  run_egress(frame, 10);
  const uint64_t refilled = stats()[SG_EVSTAT_SENT] - before[SG_EVSTAT_SENT];
  EXPECT_GE(refilled, 2u);
  EXPECT_LE(refilled, 3u);  // a slow scheduler may have slept longer
  EXPECT_EQ(events().size(), 6u + refilled);
}

TEST_F(DropEvents, AFullRingIsCountedNotBlocking) {
  CpuPin pin;
  ASSERT_TRUE(pin.ok());
  configure(1000000000u, 1000000u);
  const auto &a = addrs();
  const EventStats before = stats();
  // The ring (SG_DEFAULT_EVENTS_BYTES) holds fewer records than this many drops.
  const uint32_t drops = SG_DEFAULT_EVENTS_BYTES / sizeof(sg_drop_event) + 1000;
  run_egress(PacketBuilder().ethernet().ipv6(a.m1, a.b).udp(1, 2).build(), drops);
  const EventStats after = stats();
  const uint64_t sent = after[SG_EVSTAT_SENT] - before[SG_EVSTAT_SENT];
  const uint64_t full = after[SG_EVSTAT_RINGBUF_FULL] - before[SG_EVSTAT_RINGBUF_FULL];
  EXPECT_GT(full, 0u);
  EXPECT_EQ(sent + full, drops);
  EXPECT_EQ(events().size(), sent);
}

}  // namespace
}  // namespace sixguard::bpftest
