// Test that request bodies are parsed as one object, an array or NDJSON, and that shape
// errors (malformed JSON, unknown type, missing or wrongly typed field) are 400 naming the
// event index and field.
#include <gtest/gtest.h>

#include "agent/control/events.h"

#include "agent/api/control_answer.h"

namespace sixguard {
namespace {

TEST(ParseEvents, AcceptsOneObject) {
  auto parsed = parse_events(R"({"type":"app.destroyed","app":"web"})");
  ASSERT_FALSE(parsed.error) << parsed.error->message;
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].type, EventType::kAppDestroyed);
  EXPECT_EQ(parsed.events[0].app, "web");
}

TEST(ParseEvents, AcceptsArray) {
  auto parsed = parse_events(
      R"([{"type":"machine.stopped","machine":"m1"},{"type":"flycast.released","address":"fdaa::1"}])");
  ASSERT_FALSE(parsed.error);
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.events[1].type, EventType::kFlycastReleased);
  EXPECT_EQ(parsed.events[1].address, "fdaa::1");
}

TEST(ParseEvents, AcceptsNdjson) {
  auto parsed = parse_events(
      "{\"type\":\"machine.stopped\",\"machine\":\"m1\"}\n\n"
      "{\"type\":\"machine.stopped\",\"machine\":\"m2\"}\r\n");
  ASSERT_FALSE(parsed.error) << parsed.error->message;
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.events[1].machine, "m2");
}

TEST(ParseEvents, AppCreatedDefaultsToDefaultNetwork) {
  auto parsed = parse_events(R"({"type":"app.created","org":"acme","app":"web"})");
  ASSERT_FALSE(parsed.error);
  EXPECT_EQ(parsed.events[0].network, "default");
  EXPECT_FALSE(parsed.events[0].network_given);
}

TEST(ParseEvents, NetworkIdKeepsIntegerOrString) {
  auto parsed = parse_events(
      R"([{"type":"network.created","org":"o","network":"n","id":5},
          {"type":"network.created","org":"o","network":"m","id":"2:45b"}])");
  ASSERT_FALSE(parsed.error);
  EXPECT_TRUE(parsed.events[0].id.is_number_integer());
  EXPECT_EQ(parsed.events[1].id.get<std::string>(), "2:45b");
}

TEST(ParseEvents, MalformedJsonIs400) {
  for (const char *body : {"{", "not json", "{\"type\":}", "", "   \n"}) {
    auto parsed = parse_events(body);
    ASSERT_TRUE(parsed.error) << body;
    EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed) << body;
    EXPECT_TRUE(parsed.events.empty());
  }
}

TEST(ParseEvents, MalformedNdjsonLineNamesItsIndex) {
  auto parsed =
      parse_events("{\"type\":\"machine.stopped\",\"machine\":\"m1\"}\n{\"type\": nope}\n");
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed);
  EXPECT_EQ(parsed.error->index, 1u);
}

TEST(ParseEvents, UnknownTypeIs400) {
  auto parsed = parse_events(R"([{"type":"app.destroyed","app":"a"},{"type":"app.renamed"}])");
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed);
  EXPECT_EQ(parsed.error->index, 1u);
  EXPECT_EQ(parsed.error->field, "type");
  EXPECT_NE(parsed.error->message.find("app.renamed"), std::string::npos);
  EXPECT_NE(parsed.error->message.find("event 1"), std::string::npos);
}

TEST(ParseEvents, MissingTypeIs400) {
  auto parsed = parse_events(R"({"app":"a"})");
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed);
  EXPECT_EQ(parsed.error->field, "type");
}

struct MissingFieldCase {
  const char *event;
  const char *field;
};

class MissingField : public ::testing::TestWithParam<MissingFieldCase> {};

TEST_P(MissingField, Is400NamingTheField) {
  auto parsed = parse_events(GetParam().event);
  ASSERT_TRUE(parsed.error) << GetParam().event;
  EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed);
  EXPECT_EQ(parsed.error->field, GetParam().field);
  EXPECT_EQ(parsed.error->index, 0u);
  EXPECT_NE(parsed.error->message.find(std::string("'") + GetParam().field + "'"),
            std::string::npos)
      << parsed.error->message;
  const auto body = error_body(*parsed.error);
  EXPECT_EQ(body["field"], GetParam().field);
  EXPECT_EQ(body["index"], 0);
  EXPECT_TRUE(body.contains("type"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryRequiredField, MissingField,
    ::testing::Values(
        MissingFieldCase{R"({"type":"network.created","network":"n","id":1})", "org"},
        MissingFieldCase{R"({"type":"network.created","org":"o","id":1})", "network"},
        MissingFieldCase{R"({"type":"network.created","org":"o","network":"n"})", "id"},
        MissingFieldCase{R"({"type":"app.created","app":"a"})", "org"},
        MissingFieldCase{R"({"type":"app.created","org":"o"})", "app"},
        MissingFieldCase{R"({"type":"app.destroyed"})", "app"},
        MissingFieldCase{
            R"({"type":"machine.started","machine":"m","address":"fdaa::1","interface":"t"})",
            "app"},
        MissingFieldCase{
            R"({"type":"machine.started","app":"a","address":"fdaa::1","interface":"t"})",
            "machine"},
        MissingFieldCase{R"({"type":"machine.started","app":"a","machine":"m","interface":"t"})",
                         "address"},
        MissingFieldCase{
            R"({"type":"machine.started","app":"a","machine":"m","address":"fdaa::1"})",
            "interface"},
        MissingFieldCase{R"({"type":"machine.stopped"})", "machine"},
        MissingFieldCase{R"({"type":"flycast.allocated","address":"fdaa::1","network":"n"})",
                         "app"},
        MissingFieldCase{R"({"type":"flycast.allocated","app":"a","network":"n"})", "address"},
        MissingFieldCase{R"({"type":"flycast.allocated","app":"a","address":"fdaa::1"})",
                         "network"},
        MissingFieldCase{R"({"type":"flycast.released"})", "address"},
        MissingFieldCase{R"({"type":"network.mode","network":"n","mode":"audit"})", "org"},
        MissingFieldCase{R"({"type":"network.mode","org":"o","mode":"audit"})", "network"},
        MissingFieldCase{R"({"type":"network.mode","org":"o","network":"n"})", "mode"}),
    // Stable ctest names (the default prints the case's pointers, which change per build):
    // "<index>_<field>".
    [](const ::testing::TestParamInfo<MissingFieldCase> &info) {
      return std::to_string(info.index) + "_" + info.param.field;
    });

TEST(ParseEvents, WronglyTypedFieldIs400) {
  for (const char *body : {
           R"({"type":"app.destroyed","app":5})",
           R"({"type":"app.created","org":"o","app":"a","network":["x"]})",
           R"({"type":"network.created","org":"o","network":"n","id":true})",
           R"({"type":"network.created","org":"o","network":"n","id":1.5})",
           R"({"type":"machine.stopped","machine":""})",
           R"({"type":7})",
       }) {
    auto parsed = parse_events(body);
    ASSERT_TRUE(parsed.error) << body;
    EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed) << body;
  }
}

TEST(ParseEvents, NonObjectInArrayIs400) {
  auto parsed = parse_events(R"([{"type":"app.destroyed","app":"a"}, 3])");
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->kind, ControlErrorKind::kMalformed);
  EXPECT_EQ(parsed.error->index, 1u);
}

TEST(ParseEvents, EmptyArrayIsAnEmptyBatch) {
  auto parsed = parse_events("[]");
  EXPECT_FALSE(parsed.error);
  EXPECT_TRUE(parsed.events.empty());
}

}  // namespace
}  // namespace sixguard
