// Test that every validation rule of DESIGN §3 refuses the batch with the right status
// (409 conflict with what is bound, 422 invalid against the state), names the event and
// field, and changes nothing.
#include "tests/control/control_fixture.h"
#include "agent/api/state_views.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

class Validation : public ControlFixture {
 protected:
  void SetUp() override {
    ControlFixture::SetUp();
    apply_populated("m-web");
    maps.clear_log();
    apps_before = apps_json(*control, std::nullopt);
    networks_before = networks_json(*control);
  }

  // Refused with status, naming field, and nothing changed anywhere.
  void expect_refused(const std::string &body, int status, const std::string &field) {
    const auto result = apply(body);
    EXPECT_EQ(result.status, status) << body << " -> " << result.body.dump();
    EXPECT_EQ(result.body.value("field", ""), field) << result.body.dump();
    EXPECT_TRUE(result.body.contains("index")) << result.body.dump();
    EXPECT_TRUE(result.body.contains("type")) << result.body.dump();
    const std::string message = result.body.value("error", "");
    EXPECT_NE(message.find("event "), std::string::npos) << message;
    EXPECT_NE(message.find("'" + field + "'"), std::string::npos) << message;
    EXPECT_TRUE(maps.writes.empty());
    EXPECT_EQ(apps_json(*control, std::nullopt), apps_before);
    EXPECT_EQ(networks_json(*control), networks_before);
  }

  nlohmann::json apps_before, networks_before;
};

// --- 409: conflicts with what is bound ---

TEST_F(Validation, NetworkIdBoundToAnotherNameIs409) {
  expect_refused(
      event({{"type", "network.created"}, {"org", "acme"}, {"network", "other"}, {"id", "2:45b"}}),
      409, "id");
}

TEST_F(Validation, NetworkIdBoundInAnotherOrgIs409) {
  expect_refused(event({{"type", "network.created"},
                        {"org", "evil"},
                        {"network", "default"},
                        {"id", kDefaultNet}}),
                 409, "id");
}

TEST_F(Validation, NetworkNameBoundToAnotherIdIs409) {
  expect_refused(
      event({{"type", "network.created"}, {"org", "acme"}, {"network", "cust-a"}, {"id", 77}}), 409,
      "network");
}

TEST_F(Validation, AppAskedToChangeNetworkIs409) {
  expect_refused(
      event({{"type", "app.created"}, {"org", "acme"}, {"app", "web"}, {"network", "cust-a"}}), 409,
      "network");
}

TEST_F(Validation, AppNameInAnotherOrgIs409) {
  apply_ok(
      event({{"type", "network.created"}, {"org", "other"}, {"network", "default"}, {"id", 9}}));
  maps.clear_log();
  networks_before = networks_json(*control);
  expect_refused(event({{"type", "app.created"}, {"org", "other"}, {"app", "web"}}), 409, "app");
}

TEST_F(Validation, MachineReusedWithAnotherAddressIs409) {
  expect_refused(
      event(test::machine_started("web", "m-web", "fdaa:2:45b:a7b:174:db43:aaaa:2", "tap-web")),
      409, "address");
}

TEST_F(Validation, MachineReusedWithAnotherAppIs409) {
  apply_ok(event({{"type", "app.created"}, {"org", "acme"}, {"app", "api"}}));
  maps.clear_log();
  apps_before = apps_json(*control, std::nullopt);
  networks_before = networks_json(*control);
  expect_refused(event(test::machine_started("api", "m-web", kWebAddress, "tap-web")), 409, "app");
}

TEST_F(Validation, SlashOneTwelveOfAnotherMachineIs409) {
  expect_refused(
      event(test::machine_started("web", "m-two", "fdaa:2:45b:a7b:174:db43:d3c6:9", "tap-spare")),
      409, "address");
}

TEST_F(Validation, InterfaceOfAnotherMachineIs409) {
  expect_refused(
      event(test::machine_started("web", "m-two", "fdaa:2:45b:a7b:174:1:1:2", "tap-web")), 409,
      "interface");
}

TEST_F(Validation, FlycastAllocatedForAnotherAppIs409) {
  expect_refused(event(test::flycast_allocated("tenant-a", "fdaa:9:d844::f1", "cust-a")), 409,
                 "address");
}

TEST_F(Validation, FlycastInsideAMachineSlash112Is409) {
  expect_refused(
      event(test::flycast_allocated("tenant-a", "fdaa:2:45b:a7b:174:db43:d3c6:99", "default")), 409,
      "address");
}

TEST_F(Validation, MachineSlash112HoldingAFlycastAddressIs409) {
  // its /112 holds fdaa:9:d844::f1
  expect_refused(event(test::machine_started("tenant-a", "m-two", "fdaa:9:d844::2", "tap-spare")),
                 409, "address");
}

// --- 422: well formed but invalid against the state ---

TEST_F(Validation, AddressNotIpv6Is422) {
  expect_refused(event(test::machine_started("web", "m-two", "10.0.0.1", "tap-spare")), 422,
                 "address");
}

TEST_F(Validation, AddressOutside6pnIs422) {
  expect_refused(event(test::machine_started("web", "m-two", "2001:db8::2", "tap-spare")), 422,
                 "address");
}

TEST_F(Validation, MachineAddressOnAnotherNetworkIs422) {
  expect_refused(
      event(test::machine_started("web", "m-two", "fdaa:9:d844:a7b:e:1:1:2", "tap-spare")), 422,
      "address");
}

TEST_F(Validation, FlycastAddressNotOnItsNetworkIs422) {
  expect_refused(event(test::flycast_allocated("web", "fdaa:2:45b::f2", "cust-a")), 422, "address");
}

TEST_F(Validation, UnknownAppIs422) {
  expect_refused(event(test::machine_started("ghost", "m-two", kWebAddress, "tap-spare")), 422,
                 "app");
  expect_refused(event({{"type", "app.destroyed"}, {"app", "ghost"}}), 422, "app");
  expect_refused(event(test::flycast_allocated("ghost", "fdaa:9:d844::f2", "cust-a")), 422, "app");
}

TEST_F(Validation, UnknownNetworkIs422) {
  expect_refused(
      event({{"type", "app.created"}, {"org", "acme"}, {"app", "x"}, {"network", "nope"}}), 422,
      "network");
  expect_refused(event(test::flycast_allocated("web", "fdaa:9:d844::f2", "nope")), 422, "network");
  expect_refused(
      event({{"type", "network.mode"}, {"org", "acme"}, {"network", "nope"}, {"mode", "audit"}}),
      422, "network");
}

TEST_F(Validation, NetworkOfAnotherOrgIsUnknown) {
  apply_ok(
      event({{"type", "network.created"}, {"org", "other"}, {"network", "theirs"}, {"id", 9}}));
  maps.clear_log();
  networks_before = networks_json(*control);
  expect_refused(
      event({{"type", "app.created"}, {"org", "acme"}, {"app", "x"}, {"network", "theirs"}}), 422,
      "network");
}

TEST_F(Validation, MissingDefaultNetworkIs422) {
  expect_refused(event({{"type", "app.created"}, {"org", "neworg"}, {"app", "x"}}), 422, "network");
}

TEST_F(Validation, NetworkIdZeroIs422) {
  expect_refused(
      event({{"type", "network.created"}, {"org", "acme"}, {"network", "zero"}, {"id", 0}}), 422,
      "id");
  expect_refused(
      event({{"type", "network.created"}, {"org", "acme"}, {"network", "zero"}, {"id", "0:0"}}),
      422, "id");
}

TEST_F(Validation, NetworkIdOutOfRangeOrMalformedIs422) {
  for (const nlohmann::json &id : {nlohmann::json(-1), nlohmann::json(4294967296ull),
                                   nlohmann::json("zz:1"), nlohmann::json("1:2:3")}) {
    expect_refused(
        event({{"type", "network.created"}, {"org", "acme"}, {"network", "n"}, {"id", id}}), 422,
        "id");
  }
}

// Names and interface names are input limits (DESIGN §3): 400, checked before the state.
TEST_F(Validation, BadNetworkNameIs400) {
  for (const std::string &name : {std::string("-abc"), std::string("a b"), std::string("\u00fc"),
                                  std::string("a.b"), std::string(64, 'n')}) {
    expect_refused(
        event({{"type", "network.created"}, {"org", "acme"}, {"network", name}, {"id", 99}}), 400,
        "network");
  }
}

// DESIGN §1 on top of §3's name limits: a network name starts with a letter and has no '_',
// wherever an event names a network.
TEST_F(Validation, NetworkNameFollowsTheAddressModelRule) {
  for (const std::string &name : {std::string("1net"), std::string("net_a"), std::string("_a")}) {
    expect_refused(
        event({{"type", "network.created"}, {"org", "acme"}, {"network", name}, {"id", 99}}), 400,
        "network");
    expect_refused(
        event({{"type", "app.created"}, {"org", "acme"}, {"app", "web9"}, {"network", name}}), 400,
        "network");
  }
  // The other names keep §3's wider alphabet: this one gets past parsing to id 0's 422.
  expect_refused(
      event({{"type", "network.created"}, {"org", "9_org"}, {"network", "n9-x"}, {"id", 0}}), 422,
      "id");
}

TEST_F(Validation, BadModeIs422) {
  expect_refused(event({{"type", "network.mode"},
                        {"org", "acme"},
                        {"network", "cust-a"},
                        {"mode", "permissive"}}),
                 422, "mode");
}

TEST_F(Validation, BadInterfaceNameIs400) {
  for (const char *name : {"a/b", "sixteen-chars-xx", "has space", "..", ".", "a:b", "tab\t"}) {
    expect_refused(event(test::machine_started("web", "m-two", "fdaa:2:45b:a7b:174:1:1:2", name)),
                   400, "interface");
  }
}

TEST_F(Validation, ErrorNamesTheIndexInTheBatch) {
  const auto result =
      apply(nlohmann::json::array({{{"type", "app.created"}, {"org", "acme"}, {"app", "fine"}},
                                   {{"type", "app.created"}, {"org", "acme"}, {"app", "fine2"}},
                                   {{"type", "app.destroyed"}, {"app", "ghost"}}})
                .dump());
  EXPECT_EQ(result.status, 422);
  EXPECT_EQ(result.body["index"], 2);
  EXPECT_EQ(result.body["type"], "app.destroyed");
  EXPECT_NE(result.body["error"].get<std::string>().find("event 2"), std::string::npos);
  // All or nothing: the first two were valid but are not applied.
  EXPECT_EQ(apps_json(*control, std::nullopt), apps_before);
  EXPECT_TRUE(maps.writes.empty());
}

TEST_F(Validation, ObserverGetsTheErrorClass) {
  observer.events.clear();
  (void)apply(event({{"type", "app.destroyed"}, {"app", "ghost"}}));
  (void)apply(
      event({{"type", "app.created"}, {"org", "acme"}, {"app", "web"}, {"network", "cust-a"}}));
  (void)apply("{nope");
  (void)apply(R"({"type":"weird.thing"})");
  ASSERT_EQ(observer.events.size(), 4u);
  EXPECT_EQ(observer.events[0],
            std::make_pair(std::string("app.destroyed"), std::string("invalid")));
  EXPECT_EQ(observer.events[1],
            std::make_pair(std::string("app.created"), std::string("conflict")));
  EXPECT_EQ(observer.events[2], std::make_pair(std::string("unknown"), std::string("malformed")));
  EXPECT_EQ(observer.events[3], std::make_pair(std::string("unknown"), std::string("malformed")));
}

// --- infrastructure prefixes (DESIGN §3, §4) ---
// The agent's config refuses prefixes shorter than /48 or outside fdaa::/16 (config_test);
// the control plane checks whatever ControlConfig holds, short ones included.

class InfraValidation : public Validation {
 protected:
  // Restarts the control plane on the same state.db with these infra prefixes (the operator
  // changed the configuration), as the daemon would before its start-up check.
  void reopen_with(const std::vector<std::string> &prefixes) {
    config.infra_prefixes.clear();
    for (const auto &text : prefixes) config.infra_prefixes.push_back(*parse_ipv6_prefix(text));
    open();
    maps.clear_log();  // the reconcile of open() wrote sg_config and sg_infra
  }

  std::string message_of(const std::string &body) { return apply(body).body.value("error", ""); }
};

TEST_F(InfraValidation, NetworkIdWhoseSlash48HoldsAnInfraPrefixIs409) {
  reopen_with({"fdaa::3/128", "fdaa:0:7::/48", "fdaa:5:6:1::/64", "fdaa:8:9::1/128"});
  ASSERT_TRUE(control->check_configuration());  // none of them is in a bound network
  for (const nlohmann::json &id :
       {nlohmann::json("0:7"), nlohmann::json(7), nlohmann::json("0x7"), nlohmann::json("5:6"),
        nlohmann::json(0x00050006), nlohmann::json("8:9")}) {
    expect_refused(
        event({{"type", "network.created"}, {"org", "evil"}, {"network", "grab"}, {"id", id}}), 409,
        "id");
  }
  const std::string message = message_of(
      event({{"type", "network.created"}, {"org", "evil"}, {"network", "grab"}, {"id", "5:6"}}));
  EXPECT_NE(message.find("fdaa:5:6:1::/64"), std::string::npos) << message;
  EXPECT_NE(message.find("5:6"), std::string::npos) << message;
  // Neighbours of those networks are tenant networks like any other.
  apply_ok(event({{"type", "network.created"}, {"org", "acme"}, {"network", "n8"}, {"id", "0:8"}}));
  apply_ok(event({{"type", "network.created"}, {"org", "acme"}, {"network", "n6"}, {"id", "5:7"}}));
}

TEST_F(InfraValidation, NetworkIdZeroStays422WhateverTheInfraPrefixes) {
  reopen_with({"fdaa::3/128", "fdaa::/48"});
  expect_refused(
      event({{"type", "network.created"}, {"org", "acme"}, {"network", "zero"}, {"id", 0}}), 422,
      "id");
}

TEST_F(InfraValidation, ShortPrefixRefusesEveryNewNetwork) {
  // Not accepted by the agent's config, but the control plane does not rely on it.
  reopen_with({"::/0"});
  expect_refused(
      event({{"type", "network.created"}, {"org", "acme"}, {"network", "n"}, {"id", "ab:cd"}}), 409,
      "id");
}

TEST_F(InfraValidation, MachineSlash112OverlappingAnInfraPrefixIs422) {
  // Bound networks holding infra prefixes are refused at start-up; the event rule is the
  // second line, checked here on a control plane that was opened anyway.
  reopen_with({"fdaa::3/128", "fdaa:2:45b:1::/64", "fdaa:2:45b:2::1:7/128"});
  for (const char *address : {"fdaa:2:45b:1::2",                   // inside the /64
                              "fdaa:2:45b:1:ffff:ffff:ffff:ffff",  // its last address
                              "fdaa:2:45b:2::1:2"}) {              // its /112 holds the /128
    expect_refused(event(test::machine_started("web", "m-two", address, "tap-spare")), 422,
                   "address");
  }
  const std::string message =
      message_of(event(test::machine_started("web", "m-two", "fdaa:2:45b:2::1:2", "tap-spare")));
  EXPECT_NE(message.find("fdaa:2:45b:2::1:7/128"), std::string::npos) << message;
  EXPECT_NE(message.find("event 0"), std::string::npos) << message;
  // The neighbouring /112 and the address just past the /64 are fine.
  apply_ok(event(test::machine_started("web", "m-two", "fdaa:2:45b:2::2:2", "tap-spare")));
}

TEST_F(InfraValidation, FlycastAddressInsideAnInfraPrefixIs422) {
  reopen_with({"fdaa::3/128", "fdaa:9:d844:1::/64", "fdaa:9:d844::f9/128"});
  for (const char *address : {"fdaa:9:d844:1::f2", "fdaa:9:d844::f9"}) {
    expect_refused(event(test::flycast_allocated("web", address, "cust-a")), 422, "address");
  }
  apply_ok(event(test::flycast_allocated("web", "fdaa:9:d844::f8", "cust-a")));
}

TEST_F(InfraValidation, TheBatchIsRefusedAtTheEventThatHitsTheInfraPrefix) {
  reopen_with({"fdaa::3/128", "fdaa:77:1::/48"});
  const auto result = apply(
      nlohmann::json::array(
          {{{"type", "app.created"}, {"org", "acme"}, {"app", "fine"}},
           {{"type", "network.created"}, {"org", "acme"}, {"network", "grab"}, {"id", "77:1"}}})
          .dump());
  EXPECT_EQ(result.status, 409);
  EXPECT_EQ(result.body["index"], 1);
  EXPECT_EQ(result.body["field"], "id");
  EXPECT_EQ(apps_json(*control, std::nullopt), apps_before);
  EXPECT_TRUE(maps.writes.empty());
}

TEST_F(InfraValidation, StartUpCheckNamesThePrefixAndTheTenantNetworkHoldingIt) {
  ASSERT_TRUE(control->check_configuration());
  reopen_with({"fdaa::3/128", "fdaa:9:d844:1::/64"});
  auto status = control->check_configuration();
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("fdaa:9:d844:1::/64"), std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().message.find("'cust-a'"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("9:d844"), std::string::npos) << status.error().message;
  // A whole tenant /48, and a short prefix spanning it, are refused the same way.
  reopen_with({"fdaa:2:45b::/48"});
  EXPECT_FALSE(control->check_configuration());
  reopen_with({"fdaa::/16"});
  EXPECT_FALSE(control->check_configuration());
  // A prefix in a network nobody bound, or outside 6PN, is no conflict.
  reopen_with({"fdaa::3/128", "fdaa:2:45c::/48", "2001:db8::/32"});
  EXPECT_TRUE(control->check_configuration());
}

}  // namespace
}  // namespace sixguard::testing
