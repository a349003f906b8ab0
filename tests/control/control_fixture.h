// A control plane over a fake map backend in a temporary state_dir, with a small platform:
// org "acme" with networks default (2:45b) and cust-a (9:d844), apps web (default) and
// tenant-a (cust-a), and two interfaces that exist.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/api/control_answer.h"
#include "agent/control/control_plane.h"
#include "tests/control/fake_map_backend.h"
#include "tests/control/temp_dir.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {

inline constexpr const char *kWebAddress = "fdaa:2:45b:a7b:174:db43:d3c6:2";
inline constexpr const char *kTenantAddress = "fdaa:9:d844:a7b:e:33bd:e8b1:2";
inline constexpr const char *kWebFlycast = "fdaa:9:d844::f1";  // web's, in cust-a
inline constexpr uint32_t kDefaultNet = 0x0002045b;
inline constexpr uint32_t kCustNet = 0x0009d844;

inline const char *kPlatform = R"([
  {"type":"network.created","org":"acme","network":"default","id":"2:45b"},
  {"type":"network.created","org":"acme","network":"cust-a","id":645188},
  {"type":"app.created","org":"acme","app":"web"},
  {"type":"app.created","org":"acme","app":"tenant-a","network":"cust-a"}
])";

// A batch's outcome with the API's answer to it (control_answer.h): what a client reads.
struct Answered : ApplyResult {
  int status = 200;
  nlohmann::json body;
};

inline Answered answered(ApplyResult result) {
  const ControlAnswer answer = answer_of(result);
  Answered out{std::move(result), 200, {}};
  out.status = static_cast<int>(answer.status);
  out.body = answer.body;
  return out;
}

class ControlFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    resolver.interfaces = {{"tap-web", 11}, {"tap-tenant", 12}, {"tap-spare", 13}};
    config.state_dir = dir / "state";
    config.infra_prefixes = {*parse_ipv6_prefix("fdaa::3/128")};
    open();
  }

  void open() {
    control.reset();
    auto opened = ControlPlane::open(config, maps, resolver, observer);
    ASSERT_TRUE(opened) << opened.error().describe();
    control = std::move(*opened);
    auto reconciled = control->reconcile();
    ASSERT_TRUE(reconciled) << reconciled.error().describe();
  }

  Answered apply(const std::string &body) { return answered(control->apply(body)); }

  // Applies and expects success; returns the result for the counts.
  Answered apply_ok(const std::string &body) {
    auto result = apply(body);
    EXPECT_EQ(result.status, 200) << result.body.dump();
    return result;
  }

  void apply_platform() { apply_ok(kPlatform); }

  // The platform, then `machine` of web on tap-web and web's Flycast address kWebFlycast
  // allocated into cust-a: the populated state several suites judge against.
  void apply_populated(const std::string &machine) {
    apply_platform();
    apply_ok(event(test::machine_started("web", machine, kWebAddress, "tap-web")));
    apply_ok(event(test::flycast_allocated("web", kWebFlycast, "cust-a")));
  }

  static std::string event(nlohmann::json object) { return object.dump(); }

  TempDir dir;
  ControlConfig config;
  FakeMapBackend maps;
  FakeResolver resolver;
  RecordingObserver observer;
  std::unique_ptr<ControlPlane> control;
};

}  // namespace sixguard::testing
