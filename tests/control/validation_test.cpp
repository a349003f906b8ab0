// Test that every validation rule of DESIGN §3 refuses the batch with the right status
// (409 conflict with what is bound, 422 invalid against the state), names the event and
// field, and changes nothing.
#include "control_fixture.h"

namespace sixguard::testing {
namespace {

class Validation : public ControlFixture {
 protected:
  void SetUp() override {
    ControlFixture::SetUp();
    apply_platform();
    apply_ok(event({{"type", "machine.started"},
                    {"app", "web"},
                    {"machine", "m-web"},
                    {"address", kWebAddress},
                    {"interface", "tap-web"}}));
    apply_ok(event({{"type", "flycast.allocated"},
                    {"app", "web"},
                    {"address", "fdaa:9:d844::f1"},
                    {"network", "cust-a"}}));
    maps.clear_log();
    apps_before = control->apps_json(std::nullopt);
    networks_before = control->networks_json();
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
    EXPECT_EQ(control->apps_json(std::nullopt), apps_before);
    EXPECT_EQ(control->networks_json(), networks_before);
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
  networks_before = control->networks_json();
  expect_refused(event({{"type", "app.created"}, {"org", "other"}, {"app", "web"}}), 409, "app");
}

TEST_F(Validation, MachineReusedWithAnotherAddressIs409) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "web"},
                        {"machine", "m-web"},
                        {"address", "fdaa:2:45b:a7b:174:db43:aaaa:2"},
                        {"interface", "tap-web"}}),
                 409, "address");
}

TEST_F(Validation, MachineReusedWithAnotherAppIs409) {
  apply_ok(event({{"type", "app.created"}, {"org", "acme"}, {"app", "api"}}));
  maps.clear_log();
  apps_before = control->apps_json(std::nullopt);
  networks_before = control->networks_json();
  expect_refused(event({{"type", "machine.started"},
                        {"app", "api"},
                        {"machine", "m-web"},
                        {"address", kWebAddress},
                        {"interface", "tap-web"}}),
                 409, "app");
}

TEST_F(Validation, SlashOneTwelveOfAnotherMachineIs409) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "web"},
                        {"machine", "m-two"},
                        {"address", "fdaa:2:45b:a7b:174:db43:d3c6:9"},
                        {"interface", "tap-spare"}}),
                 409, "address");
}

TEST_F(Validation, InterfaceOfAnotherMachineIs409) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "web"},
                        {"machine", "m-two"},
                        {"address", "fdaa:2:45b:a7b:174:1:1:2"},
                        {"interface", "tap-web"}}),
                 409, "interface");
}

TEST_F(Validation, FlycastAllocatedForAnotherAppIs409) {
  expect_refused(event({{"type", "flycast.allocated"},
                        {"app", "tenant-a"},
                        {"address", "fdaa:9:d844::f1"},
                        {"network", "cust-a"}}),
                 409, "address");
}

TEST_F(Validation, FlycastInsideAMachineSlash112Is409) {
  expect_refused(event({{"type", "flycast.allocated"},
                        {"app", "tenant-a"},
                        {"address", "fdaa:2:45b:a7b:174:db43:d3c6:99"},
                        {"network", "default"}}),
                 409, "address");
}

TEST_F(Validation, MachineSlash112HoldingAFlycastAddressIs409) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "tenant-a"},
                        {"machine", "m-two"},
                        {"address", "fdaa:9:d844::2"},  // its /112 holds fdaa:9:d844::f1
                        {"interface", "tap-spare"}}),
                 409, "address");
}

// --- 422: well formed but invalid against the state ---

TEST_F(Validation, AddressNotIpv6Is422) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "web"},
                        {"machine", "m-two"},
                        {"address", "10.0.0.1"},
                        {"interface", "tap-spare"}}),
                 422, "address");
}

TEST_F(Validation, AddressOutside6pnIs422) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "web"},
                        {"machine", "m-two"},
                        {"address", "2001:db8::2"},
                        {"interface", "tap-spare"}}),
                 422, "address");
}

TEST_F(Validation, MachineAddressOnAnotherNetworkIs422) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "web"},
                        {"machine", "m-two"},
                        {"address", "fdaa:9:d844:a7b:e:1:1:2"},
                        {"interface", "tap-spare"}}),
                 422, "address");
}

TEST_F(Validation, FlycastAddressNotOnItsNetworkIs422) {
  expect_refused(event({{"type", "flycast.allocated"},
                        {"app", "web"},
                        {"address", "fdaa:2:45b::f2"},
                        {"network", "cust-a"}}),
                 422, "address");
}

TEST_F(Validation, UnknownAppIs422) {
  expect_refused(event({{"type", "machine.started"},
                        {"app", "ghost"},
                        {"machine", "m-two"},
                        {"address", kWebAddress},
                        {"interface", "tap-spare"}}),
                 422, "app");
  expect_refused(event({{"type", "app.destroyed"}, {"app", "ghost"}}), 422, "app");
  expect_refused(event({{"type", "flycast.allocated"},
                        {"app", "ghost"},
                        {"address", "fdaa:9:d844::f2"},
                        {"network", "cust-a"}}),
                 422, "app");
}

TEST_F(Validation, UnknownNetworkIs422) {
  expect_refused(
      event({{"type", "app.created"}, {"org", "acme"}, {"app", "x"}, {"network", "nope"}}), 422,
      "network");
  expect_refused(event({{"type", "flycast.allocated"},
                        {"app", "web"},
                        {"address", "fdaa:9:d844::f2"},
                        {"network", "nope"}}),
                 422, "network");
  expect_refused(
      event({{"type", "network.mode"}, {"org", "acme"}, {"network", "nope"}, {"mode", "audit"}}),
      422, "network");
}

TEST_F(Validation, NetworkOfAnotherOrgIsUnknown) {
  apply_ok(
      event({{"type", "network.created"}, {"org", "other"}, {"network", "theirs"}, {"id", 9}}));
  maps.clear_log();
  networks_before = control->networks_json();
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

TEST_F(Validation, BadModeIs422) {
  expect_refused(event({{"type", "network.mode"},
                        {"org", "acme"},
                        {"network", "cust-a"},
                        {"mode", "permissive"}}),
                 422, "mode");
}

TEST_F(Validation, BadInterfaceNameIs400) {
  for (const char *name : {"a/b", "sixteen-chars-xx", "has space", "..", ".", "a:b", "tab\t"}) {
    expect_refused(event({{"type", "machine.started"},
                          {"app", "web"},
                          {"machine", "m-two"},
                          {"address", "fdaa:2:45b:a7b:174:1:1:2"},
                          {"interface", name}}),
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
  EXPECT_EQ(control->apps_json(std::nullopt), apps_before);
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

}  // namespace
}  // namespace sixguard::testing
