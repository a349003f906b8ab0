// A desired state applied by difference (DESIGN §6): only what differs becomes an event,
// what is gone is removed, refused objects are dropped while the rest applies, and the
// source's revision is committed with the batch and survives a restart.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/control/control_fixture.h"
#include "agent/control/desired_state.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

Event event_of(const nlohmann::json &object) {
  ParsedEvents parsed = parse_events(object.dump());
  EXPECT_FALSE(parsed.error) << object.dump();
  return parsed.events.front();
}

DesiredState platform() {
  DesiredState desired;
  const nlohmann::json objects[] = {
      {{"type", "network.created"}, {"org", "acme"}, {"network", "default"}, {"id", "2:45b"}},
      {{"type", "network.created"}, {"org", "acme"}, {"network", "cust-a"}, {"id", 645188}},
      {{"type", "app.created"}, {"org", "acme"}, {"app", "web"}},
      {{"type", "app.created"}, {"org", "acme"}, {"app", "tenant-a"}, {"network", "cust-a"}},
      test::machine_started("web", "m-web", kWebAddress, "tap-web"),
      test::flycast_allocated("web", "fdaa:2:45b::f1", "default"),
      {{"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}},
  };
  for (const auto &object : objects) {
    EXPECT_TRUE(desired.add({event_of(object), "key:" + object.dump()}));
  }
  return desired;
}

class DesiredStateTest : public ControlFixture {
 protected:
  SourceApplyResult reach(const DesiredState &desired, int64_t revision) {
    return control->apply_from_source(
        [&](const State &state) { return plan_difference(state, desired); },
        SourceMark{revision, 42});
  }
};

TEST_F(DesiredStateTest, ReachesTheDesiredStateThenPlansNothing) {
  const DesiredState desired = platform();
  auto first = reach(desired, 10);
  ASSERT_FALSE(first.failure) << first.error;
  EXPECT_TRUE(first.refused.empty());
  EXPECT_EQ(first.applied, 7u);
  EXPECT_EQ(control->counts().machines, 1u);
  EXPECT_EQ(control->counts().flycast, 1u);
  EXPECT_EQ(control->counts().audit_networks, 1u);
  EXPECT_EQ(maps.machines.size(), 1u);
  EXPECT_EQ(maps.flycast.size(), 1u);
  // Nothing differs: the plan is empty, only the revision moves.
  auto second = reach(desired, 11);
  EXPECT_EQ(second.applied + second.unchanged, 0u);
  EXPECT_EQ(control->source_mark().revision, 11);
}

TEST_F(DesiredStateTest, WhatIsGoneIsRemovedNetworksStay) {
  ASSERT_FALSE(reach(platform(), 10).failure);
  DesiredState less = platform();
  less.machines.clear();
  less.flycast.clear();
  less.modes.clear();
  less.apps.erase("tenant-a");
  less.networks.clear();  // networks are never deleted
  auto result = reach(less, 12);
  ASSERT_FALSE(result.failure) << result.error;
  EXPECT_TRUE(result.refused.empty());
  EXPECT_EQ(control->counts().machines, 0u);
  EXPECT_EQ(control->counts().flycast, 0u);
  EXPECT_EQ(control->counts().audit_networks, 0u);
  EXPECT_EQ(control->counts().apps, 1u);
  EXPECT_EQ(control->counts().networks, 2u);
  EXPECT_TRUE(maps.machines.empty());
  EXPECT_TRUE(maps.flycast.empty());
  EXPECT_TRUE(maps.net_flags.empty());
}

TEST_F(DesiredStateTest, AChangedMachineIsStoppedAndStartedAgain) {
  ASSERT_FALSE(reach(platform(), 10).failure);
  DesiredState moved = platform();
  auto &machine = moved.machines.at("m-web").event;
  machine.address = "fdaa:2:45b:a7b:174:db43:d3c7:2";  // another /112
  machine.interface_name = "tap-spare";
  auto result = reach(moved, 11);
  ASSERT_FALSE(result.failure) << result.error;
  EXPECT_TRUE(result.refused.empty());
  ASSERT_EQ(control->machines().size(), 1u);
  EXPECT_EQ(control->machines()[0].interface_name, "tap-spare");
  EXPECT_EQ(control->machines()[0].address, *parse_ipv6("fdaa:2:45b:a7b:174:db43:d3c7:2"));
  EXPECT_EQ(maps.machines.size(), 1u);
  EXPECT_TRUE(maps.machines.contains(13));
}

TEST_F(DesiredStateTest, RefusedObjectsAreDroppedTheRestApplies) {
  DesiredState desired = platform();
  // Wrong network for the address (422), an app on a network never created (422), an ID
  // bound to a second name (409): each refused alone, named by its origin.
  desired.add({event_of(test::machine_started("tenant-a", "m-bad", kWebAddress, "tap-spare")),
               "bad-machine"});
  desired.add(
      {event_of({{"type", "app.created"}, {"org", "acme"}, {"app", "lost"}, {"network", "nope"}}),
       "bad-app"});
  desired.add(
      {event_of(
           {{"type", "network.created"}, {"org", "acme"}, {"network", "thief"}, {"id", "2:45b"}}),
       "bad-network"});
  auto result = reach(desired, 20);
  ASSERT_FALSE(result.failure) << result.error;
  std::set<std::string> refused;
  for (const auto &[event, error] : result.refused) refused.insert(event.origin);
  EXPECT_EQ(refused, (std::set<std::string>{"bad-machine", "bad-app", "bad-network"}));
  EXPECT_EQ(control->counts().machines, 1u);
  EXPECT_EQ(control->counts().apps, 2u);
  EXPECT_EQ(control->counts().networks, 2u);
  EXPECT_EQ(control->source_mark().revision, 20);
}

TEST_F(DesiredStateTest, KeysBeyondAMapsCapacityAreRefusedInOnePass) {
  // 1 + 200 Flycast addresses against a map of 16: the first 16 (in the plan's order) fit,
  // the other 185 are refused with 507 and the rest of the batch applies. One pass over the
  // batch (one apply duration), not the batch again per refused key; each refusal is
  // numbered among the events kept, as if the refused before it had never been sent.
  DesiredState desired = platform();
  for (unsigned i = 0; i < 200; ++i) {
    char address[64];
    std::snprintf(address, sizeof address, "fdaa:2:45b::1:%x", i);
    desired.add({event_of(test::flycast_allocated("web", address, "default")),
                 "flycast-" + std::to_string(i)});
  }
  const int durations_before = observer.durations;
  auto result = reach(desired, 30);
  ASSERT_FALSE(result.failure) << result.error;
  EXPECT_EQ(observer.durations - durations_before, 1);
  ASSERT_EQ(result.refused.size(), 185u);
  const std::size_t first_refused_index = 7 - 1 + 16;  // the platform's 7 events, 16 Flycast
  for (const auto &[event, error] : result.refused) {
    EXPECT_EQ(error.kind, ControlErrorKind::kCapacity) << error.message;
    ASSERT_TRUE(error.index.has_value());
    EXPECT_EQ(*error.index, first_refused_index) << error.message;
  }
  EXPECT_EQ(control->counts().flycast, 16u);
  EXPECT_EQ(maps.flycast.size(), 16u);
  EXPECT_EQ(control->counts().machines, 1u);
  EXPECT_EQ(control->counts().audit_networks, 1u);
  // Applied again, the same 185 are refused and nothing else changes.
  auto again = reach(desired, 31);
  ASSERT_FALSE(again.failure) << again.error;
  EXPECT_EQ(again.refused.size(), 185u);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(maps.flycast.size(), 16u);
}

TEST_F(DesiredStateTest, RevisionIsPersistedWithTheStateAndClearedByTheLocalApi) {
  ASSERT_FALSE(reach(platform(), 77).failure);
  open();  // a restarted agent
  EXPECT_EQ(control->source_mark(), (SourceMark{77, 42}));
  // An empty batch still persists a new revision.
  ASSERT_FALSE(reach(platform(), 78).failure);
  open();
  EXPECT_EQ(control->source_mark().revision, 78);
  // A local API batch that changes something clears it: nothing to resume from.
  apply_ok(event({{"type", "machine.stopped"}, {"machine", "m-web"}}));
  EXPECT_EQ(control->source_mark(), SourceMark{});
  open();
  EXPECT_EQ(control->source_mark(), SourceMark{});
}

}  // namespace
}  // namespace sixguard::testing
