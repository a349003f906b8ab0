// Test that the control plane derives the datapath maps from the registry and writes only
// what differs: at start (reconcile by difference), after a batch (only the keys it
// touched), when an interface changes, and that a full map or a failed write is reported.
#include <thread>

#include "tests/control/control_fixture.h"
#include "agent/api/state_views.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

Ipv6 ip(const char *text) {
  return *parse_ipv6(text);
}

class ControlPlaneTest : public ControlFixture {};

TEST_F(ControlPlaneTest, StartOnEmptyMapsWritesInfraAndConfig) {
  EXPECT_EQ(maps.infra, (std::set<Ipv6Prefix>{*parse_ipv6_prefix("fdaa::3/128")}));
  EXPECT_EQ(maps.config.infra_net_count, 1u);
  EXPECT_EQ(maps.config.infra_nets[0], 0u);
  EXPECT_EQ(maps.config.events_per_sec, config.events_per_sec);
  EXPECT_TRUE(maps.machines.empty());
  EXPECT_EQ(observer.reconciles, std::vector<bool>{true});
}

TEST_F(ControlPlaneTest, BatchCountsAppliedAndUnchanged) {
  auto first = apply_ok(kPlatform);
  EXPECT_EQ(first.body, (nlohmann::json{{"applied", 4}, {"unchanged", 0}}));
  maps.clear_log();
  auto second = apply_ok(kPlatform);
  EXPECT_EQ(second.body, (nlohmann::json{{"applied", 0}, {"unchanged", 4}}));
  EXPECT_TRUE(maps.writes.empty());
}

TEST_F(ControlPlaneTest, EveryEventTypeIsIdempotent) {
  apply_platform();
  const std::string batch =
      nlohmann::json::array(
          {
              test::machine_started("web", "m1", kWebAddress, "tap-web"),
              test::flycast_allocated("web", "fdaa:9:d844::f1", "cust-a"),
              {{"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}},
          })
          .dump();
  EXPECT_EQ(apply_ok(batch).applied, 3u);
  EXPECT_EQ(apply_ok(batch).unchanged, 3u);
  const std::string removal =
      nlohmann::json::array({
                                {{"type", "machine.stopped"}, {"machine", "m1"}},
                                {{"type", "flycast.released"}, {"address", "fdaa:9:d844::f1"}},
                                {{"type", "app.destroyed"}, {"app", "web"}},
                            })
          .dump();
  EXPECT_EQ(apply_ok(removal).applied, 3u);
  auto again = apply_ok(removal);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(again.unchanged, 3u);
}

TEST_F(ControlPlaneTest, MachineEntryCarriesPrefixAppAndNetwork) {
  apply_platform();
  maps.clear_log();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_machine 11"});
  ASSERT_TRUE(maps.machines.contains(11));
  const sg_machine &entry = maps.machines[11];
  EXPECT_EQ(Ipv6::from(entry.prefix), ip("fdaa:2:45b:a7b:174:db43:d3c6:0"));
  EXPECT_EQ(entry.network_id, kDefaultNet);
  const auto apps = apps_json(*control, "acme");
  std::string web_id;
  for (const auto &app : apps["apps"]) {
    if (app["name"] == "web") web_id = app["id"];
  }
  EXPECT_EQ(app_public_id(entry.app_id), web_id);
}

TEST_F(ControlPlaneTest, FlycastEntryTargetsTheAppAndItsNetwork) {
  apply_platform();
  maps.clear_log();
  // web (default network) is given an address inside cust-a.
  apply_ok(test::flycast_allocated("web", "fdaa:9:d844::f1", "cust-a").dump());
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_flycast fdaa:9:d844::f1"});
  const sg_flycast entry = maps.flycast.at(ip("fdaa:9:d844::f1"));
  EXPECT_EQ(entry.target_network_id, kDefaultNet);
  EXPECT_NE(entry.target_app_id, 0u);
}

// SG_MACHINE_FLYCAST_TARGET lets the datapath skip the Flycast lookup for a machine whose app
// no Flycast address targets. A missing flag where an entry targets the app would drop
// Flycast traffic, so it must be set before the app's first entry is written and cleared only
// after its last one is deleted, and follow every way an app gains or loses its addresses.
TEST_F(ControlPlaneTest, FlycastTargetFlagLeadsTheFirstAddressAndTrailsTheLast) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(maps.machines.at(11).flags, 0u);
  const auto allocated = [](const char *address) {
    return nlohmann::json{
        {"type", "flycast.allocated"}, {"app", "web"}, {"address", address}, {"network", "cust-a"}}
        .dump();
  };
  const auto released = [](const char *address) {
    return nlohmann::json{{"type", "flycast.released"}, {"address", address}}.dump();
  };
  maps.clear_log();
  apply_ok(allocated("fdaa:9:d844::f1"));
  EXPECT_EQ(maps.writes,
            (std::vector<std::string>{"put_machine 11", "put_flycast fdaa:9:d844::f1"}));
  EXPECT_EQ(maps.machines.at(11).flags, SG_MACHINE_FLYCAST_TARGET);
  maps.clear_log();
  apply_ok(allocated("fdaa:9:d844::f2"));  // already a target: the machine is not rewritten
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_flycast fdaa:9:d844::f2"});
  // A machine of a target app gets the flag with its first write.
  maps.clear_log();
  apply_ok(
      test::machine_started("web", "m2", "fdaa:2:45b:a7b:174:db43:d3c7:2", "tap-spare").dump());
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_machine 13"});
  EXPECT_EQ(maps.machines.at(13).flags, SG_MACHINE_FLYCAST_TARGET);
  maps.clear_log();
  apply_ok(released("fdaa:9:d844::f1"));
  EXPECT_EQ(maps.writes, std::vector<std::string>{"delete_flycast fdaa:9:d844::f1"});
  maps.clear_log();
  apply_ok(released("fdaa:9:d844::f2"));  // the last one: flags cleared after the delete
  EXPECT_EQ(maps.writes, (std::vector<std::string>{"delete_flycast fdaa:9:d844::f2",
                                                   "put_machine 11", "put_machine 13"}));
  EXPECT_EQ(maps.machines.at(11).flags, 0u);
  EXPECT_EQ(maps.machines.at(13).flags, 0u);
  // Both in one batch: the image after is what counts, written in the safe order.
  maps.clear_log();
  apply_ok(nlohmann::json::array({nlohmann::json::parse(allocated("fdaa:9:d844::f3")),
                                  nlohmann::json::parse(released("fdaa:9:d844::f3")),
                                  nlohmann::json::parse(allocated("fdaa:9:d844::f4"))})
               .dump());
  EXPECT_EQ(maps.writes, (std::vector<std::string>{"put_machine 11", "put_machine 13",
                                                   "put_flycast fdaa:9:d844::f4"}));
  // A full reconcile agrees with what the incremental path wrote.
  maps.clear_log();
  ASSERT_TRUE(control->reconcile());
  EXPECT_TRUE(maps.writes.empty());
}

TEST_F(ControlPlaneTest, NetworkModeSetsAndClearsTheAuditFlag) {
  apply_platform();
  maps.clear_log();
  apply_ok(nlohmann::json{
      {"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}}
               .dump());
  EXPECT_EQ(maps.net_flags, (std::map<uint32_t, uint32_t>{{kCustNet, SG_NET_AUDIT}}));
  EXPECT_TRUE(maps.config.flags & SG_CFG_NET_AUDIT_ANY);
  apply_ok(nlohmann::json{
      {"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "enforce"}}
               .dump());
  EXPECT_TRUE(maps.net_flags.empty());
  EXPECT_FALSE(maps.config.flags & SG_CFG_NET_AUDIT_ANY);
  // sg_config (whose SG_CFG_NET_AUDIT_ANY gates the per-network lookup) is written last.
  EXPECT_EQ(maps.writes, (std::vector<std::string>{
                             "put_net_flags " + std::to_string(kCustNet), "write_config",
                             "delete_net_flags " + std::to_string(kCustNet), "write_config"}));
}

TEST_F(ControlPlaneTest, WholeBatchValidatedAgainstEarlierEventsOfTheBatch) {
  auto result = apply_ok(
      nlohmann::json::array(
          {
              {{"type", "network.created"}, {"org", "o"}, {"network", "default"}, {"id", "5:1"}},
              {{"type", "app.created"}, {"org", "o"}, {"app", "a"}},
              test::machine_started("a", "m", "fdaa:5:1:1:1:1:1:2", "tap-spare"),
          })
          .dump());
  EXPECT_EQ(result.applied, 3u);
  EXPECT_TRUE(maps.machines.contains(13));
}

TEST_F(ControlPlaneTest, FailedBatchChangesNothing) {
  apply_platform();
  maps.clear_log();
  const auto before = apps_json(*control, std::nullopt);
  auto result = apply(
      nlohmann::json::array({
                                {{"type", "app.created"}, {"org", "acme"}, {"app", "new"}},
                                test::machine_started("new", "m", kWebAddress, "tap-web"),
                                // wrong network: 422
                                test::machine_started("new", "m2", "fdaa:9:d844::2", "tap-spare"),
                            })
          .dump());
  EXPECT_EQ(result.status, 422);
  EXPECT_EQ(apps_json(*control, std::nullopt), before);
  EXPECT_TRUE(maps.writes.empty());
  EXPECT_TRUE(maps.machines.empty());
  // And after a restart, nothing of it is in state.db either.
  open();
  EXPECT_EQ(apps_json(*control, std::nullopt), before);
}

TEST_F(ControlPlaneTest, AppDestroyedCascadesToMachinesAndFlycast) {
  apply_platform();
  apply_ok(test::machine_started("tenant-a", "m-t", kTenantAddress, "tap-tenant").dump());
  apply_ok(test::flycast_allocated("tenant-a", "fdaa:2:45b::f9", "default").dump());
  ASSERT_TRUE(maps.machines.contains(12));
  ASSERT_EQ(maps.flycast.size(), 1u);
  maps.clear_log();
  auto result = apply_ok(nlohmann::json{{"type", "app.destroyed"}, {"app", "tenant-a"}}.dump());
  EXPECT_EQ(result.applied, 1u);
  // Flycast deletes come first (SG_MACHINE_FLYCAST_TARGET trails the app's last address).
  EXPECT_EQ(maps.writes,
            (std::vector<std::string>{"delete_flycast fdaa:2:45b::f9", "delete_machine 12"}));
  EXPECT_TRUE(control->machines().empty());
  // The network stays, with no app on it.
  bool found = false;
  const auto networks = networks_json(*control);
  for (const auto &network : networks["networks"]) {
    if (network["name"] == "cust-a") {
      found = true;
      EXPECT_EQ(network["app_count"], 0);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(apps_json(*control, "acme")["total_apps"], 1);
}

TEST_F(ControlPlaneTest, RecreatedAppGetsANewAppId) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  const uint32_t first_id = maps.machines.at(11).app_id;
  apply_ok(nlohmann::json{{"type", "app.destroyed"}, {"app", "web"}}.dump());
  apply_ok(nlohmann::json{{"type", "app.created"}, {"org", "acme"}, {"app", "web"}}.dump());
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_NE(maps.machines.at(11).app_id, first_id);
}

TEST_F(ControlPlaneTest, NetworkIdIsNeverReusedEvenWithoutApps) {
  apply_platform();
  apply_ok(nlohmann::json{{"type", "app.destroyed"}, {"app", "tenant-a"}}.dump());
  auto result = apply(nlohmann::json{
      {"type", "network.created"},
      {"org", "acme"},
      {"network", "recycled"},
      {"id", kCustNet}}.dump());
  EXPECT_EQ(result.status, 409);
  open();  // nor after a restart
  result = apply(nlohmann::json{
      {"type", "network.created"}, {"org", "other"}, {"network", "cust-a"}, {"id", kCustNet}}
                     .dump());
  EXPECT_EQ(result.status, 409);
}

TEST_F(ControlPlaneTest, MachineMovedToAnotherInterfaceMovesItsEntry) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  maps.clear_log();
  auto result = apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-spare").dump());
  EXPECT_EQ(result.applied, 1u);
  EXPECT_EQ(maps.writes, (std::vector<std::string>{"delete_machine 11", "put_machine 13"}));
}

TEST_F(ControlPlaneTest, ReconcileWritesOnlyTheDifference) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  apply_ok(test::flycast_allocated("web", "fdaa:9:d844::f1", "cust-a").dump());
  apply_ok(nlohmann::json{
      {"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}}
               .dump());
  const FakeMapBackend good = maps;

  // Now damage the maps the way a crashed or older agent could have left them:
  maps.machines[99] = good.machines.at(11);                // stale
  maps.machines[12].network_id = 0xdead;                   // changed
  maps.flycast.erase(ip("fdaa:9:d844::f1"));               // missing
  maps.flycast[ip("fdaa:9:d844::f7")] = sg_flycast{1, 2};  // stale
  maps.net_flags[0x77] = SG_NET_AUDIT;                     // stale
  maps.infra.insert(*parse_ipv6_prefix("fdaa:1::/32"));    // stale
  maps.config.events_burst = 1;                            // changed
  maps.clear_log();

  ASSERT_TRUE(control->reconcile());
  std::vector<std::string> writes = maps.writes;
  std::sort(writes.begin(), writes.end());
  std::vector<std::string> expected = {"delete_flycast fdaa:9:d844::f7",
                                       "delete_infra fdaa:1::/32",
                                       "delete_machine 99",
                                       "delete_net_flags 119",
                                       "put_flycast fdaa:9:d844::f1",
                                       "put_machine 12",
                                       "write_config"};
  EXPECT_EQ(writes, expected);
  EXPECT_EQ(maps.machines.size(), good.machines.size());
  EXPECT_TRUE(same_machine(maps.machines.at(12), good.machines.at(12)));
  EXPECT_TRUE(same_machine(maps.machines.at(11), good.machines.at(11)));
  EXPECT_EQ(maps.flycast.size(), 1u);
  EXPECT_EQ(maps.net_flags, good.net_flags);
  EXPECT_EQ(maps.infra, good.infra);
  EXPECT_TRUE(same_config(maps.config, good.config));

  // A second reconcile has nothing to do.
  maps.clear_log();
  ASSERT_TRUE(control->reconcile());
  EXPECT_TRUE(maps.writes.empty());
}

TEST_F(ControlPlaneTest, FullMapIs507AndNothingChanges) {
  apply_platform();
  maps.machines_capacity = 1;
  maps.clear_log();
  const auto before = apps_json(*control, std::nullopt);
  auto result = apply(nlohmann::json::array(
                          {
                              {{"type", "app.created"}, {"org", "acme"}, {"app", "extra"}},
                              test::machine_started("web", "m1", kWebAddress, "tap-web"),
                              test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant"),
                          })
                          .dump());
  EXPECT_EQ(result.status, 507) << result.body.dump();
  EXPECT_EQ(result.body["index"], 2);
  const std::string message = result.body["error"];
  EXPECT_NE(message.find("sg_machines"), std::string::npos) << message;
  EXPECT_NE(message.find("full"), std::string::npos) << message;
  EXPECT_TRUE(maps.writes.empty());
  EXPECT_EQ(apps_json(*control, std::nullopt), before);
  EXPECT_EQ(observer.events.back(),
            std::make_pair(std::string("machine.started"), std::string("map_full")));
  open();
  EXPECT_EQ(apps_json(*control, std::nullopt), before);
}

TEST_F(ControlPlaneTest, FlycastAndNetFlagsCapacityAre507) {
  apply_platform();
  maps.flycast_capacity = 0;
  maps.net_flags_capacity = 0;
  EXPECT_EQ(apply(test::flycast_allocated("web", "fdaa:9:d844::f1", "cust-a").dump()).status, 507);
  EXPECT_EQ(
      apply(nlohmann::json{
                {"type", "network.mode"}, {"org", "acme"}, {"network", "cust-a"}, {"mode", "audit"}}
                .dump())
          .status,
      507);
}

TEST_F(ControlPlaneTest, MapWriteFailureIsReportedAndRepairedLater) {
  apply_platform();
  maps.fail_writes = true;
  observer.reconciles.clear();
  auto result = apply(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(result.status, 500);
  const std::string message = result.body["error"];
  EXPECT_NE(message.find("injected failure"), std::string::npos) << message;
  EXPECT_NE(message.find("committed"), std::string::npos) << message;
  EXPECT_EQ(observer.reconciles, std::vector<bool>{false});
  EXPECT_FALSE(control->maps_in_sync());
  // The state is committed: the machine is known, and is still known after a restart.
  EXPECT_EQ(control->machines().size(), 1u);

  // The next batch, even an unrelated one, repairs the maps from what they really hold.
  maps.fail_writes = false;
  apply_ok(nlohmann::json{{"type", "app.created"}, {"org", "acme"}, {"app", "other"}}.dump());
  EXPECT_TRUE(maps.machines.contains(11));
  EXPECT_TRUE(control->maps_in_sync());
  EXPECT_EQ(observer.reconciles.back(), true);
}

TEST_F(ControlPlaneTest, FailedReconcileIsReported) {
  maps.fail_dumps = true;
  observer.reconciles.clear();
  EXPECT_FALSE(control->reconcile());
  EXPECT_EQ(observer.reconciles, std::vector<bool>{false});
}

TEST_F(ControlPlaneTest, InterfaceAppearsChangesAndDisappears) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-later").dump());
  EXPECT_TRUE(maps.machines.empty());  // the interface does not exist yet
  ASSERT_EQ(control->machines().size(), 1u);
  EXPECT_FALSE(control->machines()[0].ifindex);
  maps.clear_log();

  ASSERT_TRUE(control->interface_changed("tap-later", 40));
  EXPECT_EQ(maps.writes, std::vector<std::string>{"put_machine 40"});
  EXPECT_EQ(control->machines()[0].ifindex, 40u);
  EXPECT_EQ(control->counts().machines_attached, 1u);

  maps.clear_log();
  ASSERT_TRUE(control->interface_changed("tap-later", 41));  // machine restarted
  EXPECT_EQ(maps.writes, (std::vector<std::string>{"delete_machine 40", "put_machine 41"}));

  maps.clear_log();
  ASSERT_TRUE(control->interface_changed("tap-later", std::nullopt));
  EXPECT_EQ(maps.writes, std::vector<std::string>{"delete_machine 41"});
  EXPECT_TRUE(maps.machines.empty());

  maps.clear_log();
  ASSERT_TRUE(control->interface_changed("eth0", 2));  // not a machine interface
  EXPECT_TRUE(maps.writes.empty());
}

TEST_F(ControlPlaneTest, MachinesListenerRunsWhenMachinesChange) {
  int calls = 0;
  control->set_machines_listener([&] {
    ++calls;
    (void)control->machines();  // may call back in: the lock is not held
  });
  apply_platform();
  EXPECT_EQ(calls, 0);
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(calls, 1);
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  EXPECT_EQ(calls, 1);
}

TEST_F(ControlPlaneTest, ChangedInterfacesAreThoseOfTheMachinesBatchesTouched) {
  apply_platform();
  EXPECT_TRUE(control->take_changed_interfaces().empty());
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  apply_ok(test::machine_started("tenant-a", "m2", kTenantAddress, "tap-tenant").dump());
  EXPECT_EQ(control->take_changed_interfaces(),
            (std::vector<std::string>{"tap-tenant", "tap-web"}));
  EXPECT_TRUE(control->take_changed_interfaces().empty());
  // Moved: the interface it leaves and the one it takes.
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-spare").dump());
  EXPECT_EQ(control->take_changed_interfaces(), (std::vector<std::string>{"tap-spare", "tap-web"}));
  // Already in effect, refused, or started and stopped in one batch: nothing.
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-spare").dump());
  EXPECT_EQ(apply(test::machine_started("web", "m9", kTenantAddress, "tap-web").dump()).status,
            422);
  apply_ok(nlohmann::json::array({test::machine_started("web", "m3", "fdaa:2:45b:1::2", "t3"),
                                  {{"type", "machine.stopped"}, {"machine", "m3"}}})
               .dump());
  EXPECT_TRUE(control->take_changed_interfaces().empty());
  // The cascade of app.destroyed.
  apply_ok(nlohmann::json{{"type", "app.destroyed"}, {"app", "tenant-a"}}.dump());
  EXPECT_EQ(control->take_changed_interfaces(), std::vector<std::string>{"tap-tenant"});
  const auto on = control->machine_on("tap-spare");
  ASSERT_TRUE(on);
  EXPECT_EQ(on->machine, "m1");
  EXPECT_EQ(on->ifindex, 13u);
  EXPECT_FALSE(control->machine_on("tap-tenant"));
}

TEST_F(ControlPlaneTest, ObserverSeesEveryEventAndTheDuration) {
  observer.events.clear();
  apply_platform();
  apply_platform();
  ASSERT_EQ(observer.events.size(), 8u);
  EXPECT_EQ(observer.events[0],
            std::make_pair(std::string("network.created"), std::string("applied")));
  EXPECT_EQ(observer.events[7],
            std::make_pair(std::string("app.created"), std::string("unchanged")));
  EXPECT_EQ(observer.durations, 2);
}

TEST_F(ControlPlaneTest, QueriesHaveTheSeedShape) {
  apply_platform();
  apply_ok(test::machine_started("web", "m1", kWebAddress, "tap-web").dump());
  const auto apps = apps_json(*control, "acme");
  EXPECT_EQ(apps["total_apps"], 2);
  ASSERT_EQ(apps["apps"].size(), 2u);
  for (const auto &app : apps["apps"]) {
    for (const char *key : {"id", "name", "machine_count", "network"}) {
      EXPECT_TRUE(app.contains(key)) << key;
    }
    EXPECT_TRUE(app["id"].is_string());
    if (app["name"] == "web") {
      EXPECT_EQ(app["machine_count"], 1);
      EXPECT_EQ(app["network"], "default");
    } else {
      EXPECT_EQ(app["network"], "cust-a");
    }
  }
  EXPECT_EQ(apps_json(*control, "nobody")["total_apps"], 0);
  const auto networks = networks_json(*control);
  EXPECT_EQ(networks["total_networks"], 2);
  const auto &first = networks["networks"][0];
  EXPECT_EQ(first["id"], kDefaultNet);
  EXPECT_EQ(first["id_text"], "2:45b");
  EXPECT_EQ(first["mode"], "enforce");
  EXPECT_EQ(first["app_count"], 1);
}

TEST_F(ControlPlaneTest, ConcurrentBatchesAreSerialised) {
  apply_platform();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string name = "app-" + std::to_string(t) + "-" + std::to_string(i);
        auto result =
            apply(nlohmann::json{{"type", "app.created"}, {"org", "acme"}, {"app", name}}.dump());
        EXPECT_EQ(result.status, 200);
        (void)apps_json(*control, std::nullopt);
      }
    });
  }
  for (auto &thread : threads) thread.join();
  EXPECT_EQ(apps_json(*control, "acme")["total_apps"], 42);
}

// --- sg_config.infra_nets (see sixguard_shared.h) ---

sg_config config_for(const std::vector<std::string> &prefixes) {
  ControlConfig config;
  for (const auto &prefix : prefixes) config.infra_prefixes.push_back(*parse_ipv6_prefix(prefix));
  return desired_config(config);
}

TEST(DesiredConfig, ListsTheNetworksOfLongInfraPrefixes) {
  const auto config = config_for({"fdaa::3/128", "fdaa:0:1::/48", "fdaa:0:1:2::/64"});
  EXPECT_FALSE(config.flags & SG_CFG_INFRA_ANY_NET);
  ASSERT_EQ(config.infra_net_count, 2u);
  EXPECT_EQ(config.infra_nets[0], 0u);
  EXPECT_EQ(config.infra_nets[1], 1u);
}

TEST(DesiredConfig, ShortPrefixOverlapping6pnMeansAnyNetwork) {
  EXPECT_TRUE(config_for({"fdaa::/32"}).flags & SG_CFG_INFRA_ANY_NET);
  EXPECT_TRUE(config_for({"fdaa::/16"}).flags & SG_CFG_INFRA_ANY_NET);
  EXPECT_TRUE(config_for({"fd00::/8"}).flags & SG_CFG_INFRA_ANY_NET);
  EXPECT_TRUE(config_for({"::/0"}).flags & SG_CFG_INFRA_ANY_NET);
  EXPECT_TRUE(config_for({"fdaa:0:2::/47"}).flags & SG_CFG_INFRA_ANY_NET);
}

TEST(DesiredConfig, PrefixesOutside6pnAreIgnored) {
  const auto config = config_for({"2001:db8::/32", "fd00::/16"});
  EXPECT_FALSE(config.flags & SG_CFG_INFRA_ANY_NET);
  EXPECT_EQ(config.infra_net_count, 0u);
}

TEST(DesiredConfig, MoreNetworksThanSlotsMeansAnyNetwork) {
  std::vector<std::string> prefixes;
  for (int i = 1; i <= SG_CFG_INFRA_NETS; ++i) {
    prefixes.push_back("fdaa:0:" + std::to_string(i) + "::1/128");
  }
  EXPECT_FALSE(config_for(prefixes).flags & SG_CFG_INFRA_ANY_NET);
  EXPECT_EQ(config_for(prefixes).infra_net_count, unsigned{SG_CFG_INFRA_NETS});
  prefixes.push_back("fdaa:0:99::1/128");
  EXPECT_TRUE(config_for(prefixes).flags & SG_CFG_INFRA_ANY_NET);
}

TEST(DesiredConfig, GlobalAuditAndRateLimit) {
  ControlConfig config;
  config.global_audit = true;
  config.events_per_sec = 7;
  config.events_burst = 9;
  const auto out = desired_config(config);
  EXPECT_TRUE(out.flags & SG_CFG_AUDIT);
  EXPECT_EQ(out.events_per_sec, 7u);
  EXPECT_EQ(out.events_burst, 9u);
}

// Test that the configured encap_udp_ports reach sg_config in order, the rest zero.
TEST(DesiredConfig, CarriesTheEncapUdpPorts) {
  ControlConfig config;
  EXPECT_EQ(desired_config(config).encap_udp_port_count, 0u);
  config.encap_udp_ports = {8472, 4790};
  const auto out = desired_config(config);
  ASSERT_EQ(out.encap_udp_port_count, 2u);
  EXPECT_EQ(out.encap_udp_ports[0], 8472);
  EXPECT_EQ(out.encap_udp_ports[1], 4790);
  for (std::size_t i = 2; i < SG_CFG_ENCAP_PORTS; ++i) EXPECT_EQ(out.encap_udp_ports[i], 0);
}

}  // namespace
}  // namespace sixguard::testing
