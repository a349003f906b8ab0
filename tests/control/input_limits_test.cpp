// Test that the input limits of DESIGN §3 refuse hostile bodies with the right status, a
// message naming the event and field, and nothing applied: nesting (60,000 '[' and 33 levels
// against 32), duplicate keys, strings that are not UTF-8 or hold control characters, names
// and interface names, lo and the uplinks as machine interfaces.
#include "tests/control/control_fixture.h"
#include "agent/api/state_views.h"
#include "agent/control/input_limits.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

class InputLimits : public ControlFixture {
 protected:
  void SetUp() override {
    ControlFixture::SetUp();
    config.uplinks = {"eth-up0"};
    open();
    apply_platform();
    maps.clear_log();
    apps_before = apps_json(*control, std::nullopt);
    networks_before = networks_json(*control);
    counts_before = control->counts();
  }

  // Refused with status (naming field when given), nothing applied anywhere.
  nlohmann::json expect_refused(const std::string &body, int status,
                                const std::string &field = "") {
    const auto result = apply(body);
    EXPECT_EQ(result.status, status) << shown(body, 200) << " -> " << result.body.dump();
    if (!field.empty()) {
      EXPECT_EQ(result.body.value("field", ""), field) << result.body.dump();
      EXPECT_NE(result.body.value("error", "").find("'" + field + "'"), std::string::npos)
          << result.body.dump();
    }
    // The answer is bounded and printable whatever the body held.
    const std::string message = result.body.value("error", "");
    EXPECT_LT(message.size(), 1024u) << shown(message, 200);
    EXPECT_EQ(string_problem(message), std::nullopt) << shown(message, 200);
    EXPECT_TRUE(maps.writes.empty());
    EXPECT_EQ(apps_json(*control, std::nullopt), apps_before);
    EXPECT_EQ(networks_json(*control), networks_before);
    EXPECT_EQ(control->counts().machines, counts_before.machines);
    EXPECT_EQ(control->counts().flycast, counts_before.flycast);
    return result.body;
  }

  // An accepted app.created that carries an extra field "x" nested `levels` deep.
  static std::string with_nesting(std::size_t levels, const std::string &app = "deep") {
    return R"({"type":"app.created","org":"acme","app":")" + app + R"(","x":)" +
           std::string(levels, '[') + std::string(levels, ']') + "}";
  }

  nlohmann::json apps_before, networks_before;
  StateCounts counts_before;
};

// --- nesting ---

TEST_F(InputLimits, SixtyThousandOpenBracketsIs400AndTheAgentLives) {
  expect_refused(std::string(60000, '['), 400);
  expect_refused(std::string(60000, '[') + std::string(60000, ']'), 400);
  expect_refused(std::string(30000, '{'), 400);
  // Inside an event: the event and the field are named.
  const auto body = expect_refused(
      R"({"type":"app.destroyed","app":"web","x":)" + std::string(60000, '['), 400, "x");
  EXPECT_EQ(body.value("index", -1), 0);
  // The control plane still works.
  apply_ok(R"({"type":"app.created","org":"acme","app":"alive"})");
}

TEST_F(InputLimits, ThirtyTwoLevelsPassThirtyThreeAreRefused) {
  // The event object is level 1, so 31 more levels make 32.
  expect_refused(with_nesting(32), 400, "x");
  expect_refused("[" + with_nesting(31) + "]", 400, "x");  // the array is a level too
  apply_ok(with_nesting(31));
  apply_ok("[" + with_nesting(30, "deep2") + "]");
  EXPECT_EQ(control->counts().apps, counts_before.apps + 2);
}

TEST_F(InputLimits, DeepNestingOnAnNdjsonLineIs400) {
  expect_refused(R"({"type":"app.created","org":"acme","app":"ok1"})"
                 "\n" +
                     with_nesting(32),
                 400, "x");
}

// --- duplicate keys ---

TEST_F(InputLimits, DuplicateKeyInAnEventIs400) {
  // The last one used to win silently.
  const auto body =
      expect_refused(R"({"type":"app.created","org":"acme","org":"evil","app":"dup"})", 400, "org");
  EXPECT_EQ(body.value("type", ""), "app.created");
  expect_refused(R"({"type":"app.destroyed","app":"web","type":"app.destroyed"})", 400, "type");
  expect_refused(R"([{"type":"app.created","org":"acme","app":"fine"},
                     {"type":"app.destroyed","app":"web","app":"tenant-a"}])",
                 400, "app");
}

TEST_F(InputLimits, DuplicateKeyInANestedObjectIs400) {
  expect_refused(R"({"type":"app.created","org":"acme","app":"n","x":{"a":1,"b":{"c":1,"c":2}}})",
                 400, "c");
  // The same key in sibling objects is no duplicate.
  apply_ok(R"({"type":"app.created","org":"acme","app":"n","x":[{"a":1},{"a":2}]})");
}

// --- strings ---

TEST_F(InputLimits, NulInsideAnAddressIs400) {
  apply_ok(R"({"type":"app.created","org":"acme","app":"nul"})");
  maps.clear_log();
  apps_before = apps_json(*control, std::nullopt);
  networks_before = networks_json(*control);
  // Was accepted, truncated at the NUL.
  expect_refused(std::string(R"({"type":"machine.started","app":"nul","machine":"m-nul",)") +
                     R"("address":"fdaa:2:45b:a7b:174:db43:d3c6:9\u0000garbage",)" +
                     R"("interface":"tap-spare"})",
                 400, "address");
}

TEST_F(InputLimits, ControlCharactersAreRefusedInEveryString) {
  for (const char *escaped : {"\\u0000", "\\u001b[31m", "\\u007f", "\\u0085", "\\n"}) {
    // In a name, an address, an unknown field, a nested value and a key.
    expect_refused(
        R"({"type":"app.created","org":"acme","app":"a)" + std::string(escaped) + R"("})", 400,
        "app");
    expect_refused(
        R"({"type":"flycast.released","address":"fdaa::1)" + std::string(escaped) + R"("})", 400,
        "address");
    expect_refused(R"({"type":"app.created","org":"acme","app":"b","note":"x)" +
                       std::string(escaped) + R"("})",
                   400, "note");
    expect_refused(R"({"type":"app.created","org":"acme","app":"b","note":["x)" +
                       std::string(escaped) + R"("]})",
                   400, "note");
    expect_refused(
        R"({"type":"app.created","org":"acme","app":"b","k)" + std::string(escaped) + R"(":1})",
        400);
  }
}

TEST_F(InputLimits, InvalidUtf8IsRefused) {
  const std::string prefix = R"({"type":"app.created","org":"acme","app":")";
  for (const std::string &bad : {std::string("\xff"), std::string("\xc0\xaf"),  // overlong '/'
                                 std::string("\xed\xa0\x80"),                   // a surrogate
                                 std::string("\xf4\x90\x80\x80"),               // past U+10FFFF
                                 std::string("\xe2\x82")}) {                    // cut short
    expect_refused(prefix + "x" + bad + R"("})", 400);
    expect_refused(R"({"type":"app.created","org":"acme","app":"y","note":")" + bad + R"("})", 400);
  }
  expect_refused(prefix + R"(x\ud800"})", 400);  // an escaped lone surrogate
}

// --- names ---

TEST_F(InputLimits, NamesAreOneToSixtyThreeSafeBytes) {
  const std::string n63(63, 'a'), n64(64, 'a');
  const std::string mb(1 << 20, 'a');  // was accepted and made `sixguard apps` take minutes
  for (const std::string &bad :
       {n64, mb, std::string("_lead"), std::string("-lead"), std::string("dot.ted"),
        std::string("sl/ash"), std::string("sp ace"), std::string("\u00e9t\u00e9")}) {
    expect_refused(event({{"type", "app.created"}, {"org", "acme"}, {"app", bad}}), 400, "app");
    expect_refused(event({{"type", "app.created"}, {"org", bad}, {"app", "x"}}), 400, "org");
    expect_refused(
        event({{"type", "network.created"}, {"org", "acme"}, {"network", bad}, {"id", 77}}), 400,
        "network");
    expect_refused(event({{"type", "machine.stopped"}, {"machine", bad}}), 400, "machine");
    expect_refused(
        event({{"type", "app.created"}, {"org", "acme"}, {"app", "x"}, {"network", bad}}), 400,
        "network");
  }
  expect_refused(event({{"type", "app.created"}, {"org", "acme"}, {"app", "\u001b[2J"}}), 400,
                 "app");
  // At the limit, with every allowed character: accepted.
  apply_ok(event({{"type", "network.created"}, {"org", "1-Org_x"}, {"network", n63}, {"id", 77}}));
  apply_ok(
      event({{"type", "app.created"}, {"org", "1-Org_x"}, {"app", "9_a-B"}, {"network", n63}}));
  apply_ok(event({{"type", "machine.stopped"}, {"machine", n63}}));
}

// --- interfaces ---

TEST_F(InputLimits, LoAndUplinksAreNeverMachineInterfaces) {
  for (const char *name : {"lo", "eth-up0"}) {
    expect_refused(event(test::machine_started("web", "m-web", kWebAddress, name)), 422,
                   "interface");
  }
  // A name that only looks like them is fine.
  apply_ok(event(test::machine_started("web", "m-web", kWebAddress, "lo0")));
}

TEST_F(InputLimits, BadInterfaceNamesAre400) {
  for (const std::string &name :
       {std::string("sixteen-bytes-xx"), std::string("a/b"), std::string("a:b"), std::string("a b"),
        std::string("."), std::string(".."), std::string("\u00e9\u00e9")}) {
    if (name == "\u00e9\u00e9") {
      // Non-ASCII UTF-8 is a valid Linux name (the kernel only refuses '/', ':' and spaces).
      continue;
    }
    expect_refused(event(test::machine_started("web", "m-web", kWebAddress, name)), 400,
                   "interface");
  }
}

// --- the helpers themselves ---

TEST(InputLimitsHelpers, PrintableEscapesControlsAndBadBytes) {
  EXPECT_EQ(printable("plain-name_1"), "plain-name_1");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("back\\x1b"), "back\\\\x1b");  // a forged escape stays visible
  EXPECT_EQ(printable("\xff"), "\\xff");
  EXPECT_EQ(printable("\xc2\x85"), "\\xc2\\x85");  // C1 NEL
  EXPECT_EQ(printable("\u00e9"), "\u00e9");
  EXPECT_EQ(string_problem(printable("\x1b\x7f\xc2\x9b\xff")), std::nullopt);
  EXPECT_LT(shown(std::string(1 << 20, 'a')).size(), 100u);
}

}  // namespace
}  // namespace sixguard::testing
