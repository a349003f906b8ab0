// The §6 key layout: every kind round-trips between key text and parsed key, values must
// agree with their keys, and hostile keys are refused with a reason (never applied).
#include <gtest/gtest.h>

#include <string>

#include "agent/source/etcd_keys.h"
#include "agent/control/input_limits.h"

namespace sixguard {
namespace {

constexpr std::string_view kPrefix = "/sixguard/v1";

std::string error_of(std::string_view key, std::string_view value) {
  auto entry = parse_etcd_entry(kPrefix, key, value);
  return entry ? std::string() : entry.error().message;
}

TEST(EtcdKeys, EveryKindRoundTrips) {
  const char *keys[] = {
      "/sixguard/v1/networks/acme/default",
      "/sixguard/v1/network-ids/0002045b",
      "/sixguard/v1/apps/web",
      "/sixguard/v1/modes/acme/cust-a",
      "/sixguard/v1/flycast/fdaa:2:45b::1",
      "/sixguard/v1/hosts/node-1.example.internal/machines/m1",
  };
  for (const char *text : keys) {
    auto key = parse_etcd_key(kPrefix, text);
    ASSERT_TRUE(key) << text << ": " << key.error().message;
    EXPECT_EQ(etcd_key_text(kPrefix, *key), text);
  }
  auto id = parse_etcd_key(kPrefix, "/sixguard/v1/network-ids/0002045b");
  EXPECT_EQ(id->network_id, 0x0002045bu);
  auto machine = parse_etcd_key(kPrefix, "/sixguard/v1/hosts/h1/machines/m1");
  EXPECT_EQ(machine->host, "h1");
  EXPECT_EQ(machine->machine, "m1");
}

TEST(EtcdKeys, ValuesBecomeTheirEvents) {
  auto network = parse_etcd_entry(
      kPrefix, "/sixguard/v1/networks/acme/default",
      R"({"type":"network.created","org":"acme","network":"default","id":"2:45b"})");
  ASSERT_TRUE(network) << network.error().message;
  EXPECT_EQ(network->event->type, EventType::kNetworkCreated);
  EXPECT_EQ(etcd_event_network_id(*network->event), 0x0002045bu);

  auto binding = parse_etcd_entry(kPrefix, "/sixguard/v1/network-ids/0002045b",
                                  R"({"org":"acme","network":"default"})");
  ASSERT_TRUE(binding) << binding.error().message;
  EXPECT_FALSE(binding->event);
  EXPECT_EQ(binding->bound_org, "acme");
  EXPECT_EQ(binding->bound_network, "default");

  auto machine = parse_etcd_entry(
      kPrefix, "/sixguard/v1/hosts/h1/machines/m1",
      R"({"type":"machine.started","app":"web","machine":"m1","address":"fdaa:2:45b:a7b:174:db43:d3c6:2","interface":"tap0","host":"h1"})");
  ASSERT_TRUE(machine) << machine.error().message;
  EXPECT_EQ(machine->event->interface_name, "tap0");
}

TEST(EtcdKeys, PublishWritesWhatTheAgentReads) {
  ParsedEvents parsed = parse_events(R"([
    {"type":"network.created","org":"acme","network":"default","id":"2:45b"},
    {"type":"app.created","org":"acme","app":"web"},
    {"type":"app.created","org":"acme","app":"api","network":"default"},
    {"type":"network.mode","org":"acme","network":"default","mode":"audit"},
    {"type":"flycast.allocated","app":"web","address":"FDAA:2:45B:0::1","network":"default"},
    {"type":"machine.started","app":"web","machine":"m1","address":"fdaa:2:45b:a7b:174:db43:d3c6:2","interface":"tap0"}
  ])");
  ASSERT_FALSE(parsed.error);
  for (const Event &event : parsed.events) {
    auto key = etcd_key_for_event(event, "h1");
    ASSERT_TRUE(key) << key.error().message;
    const std::string text = etcd_key_text(kPrefix, *key);
    auto entry = parse_etcd_entry(kPrefix, text, etcd_value_for_event(event, "h1"));
    ASSERT_TRUE(entry) << text << ": " << entry.error().message;
    EXPECT_EQ(entry->key, *key);
    EXPECT_EQ(entry->event->type, event.type);
    EXPECT_EQ(entry->event->network_given, event.network_given);
  }
  EXPECT_EQ(etcd_key_text(kPrefix, *etcd_key_for_event(parsed.events[4])),
            "/sixguard/v1/flycast/fdaa:2:45b::1");
  EXPECT_FALSE(etcd_key_for_event(parsed.events[5], ""));  // a machine needs its host
}

TEST(EtcdKeys, DeletionMeansTheContractsEvent) {
  EXPECT_FALSE(etcd_deletion_event(*parse_etcd_key(kPrefix, "/sixguard/v1/networks/a/b")));
  EXPECT_FALSE(etcd_deletion_event(*parse_etcd_key(kPrefix, "/sixguard/v1/network-ids/00000001")));
  EXPECT_EQ(etcd_deletion_event(*parse_etcd_key(kPrefix, "/sixguard/v1/apps/web"))->type,
            EventType::kAppDestroyed);
  auto mode = etcd_deletion_event(*parse_etcd_key(kPrefix, "/sixguard/v1/modes/a/b"));
  EXPECT_EQ(mode->type, EventType::kNetworkMode);
  EXPECT_EQ(mode->mode, "enforce");
  EXPECT_EQ(etcd_deletion_event(*parse_etcd_key(kPrefix, "/sixguard/v1/flycast/fdaa::1"))->address,
            "fdaa::1");
  EXPECT_EQ(
      etcd_deletion_event(*parse_etcd_key(kPrefix, "/sixguard/v1/hosts/h/machines/m"))->machine,
      "m");
}

TEST(EtcdKeys, HostileKeysAreRefused) {
  const std::string hostile[] = {
      "/sixguard/v1/apps/..",
      "/sixguard/v1/apps/.",
      "/sixguard/v1/apps/",
      "/sixguard/v1/apps",
      "/sixguard/v1//apps/web",
      "/sixguard/v1/apps/web/",
      "/sixguard/v1/apps/web/extra",
      "/sixguard/v1/networks/acme",
      "/sixguard/v1/networks//default",
      "/sixguard/v1/networks/acme/default/x",
      "/sixguard/v1/hosts/../machines/m1",
      "/sixguard/v1/hosts/a..b/machines/m1",
      "/sixguard/v1/hosts/h1/containers/m1",
      "/sixguard/v1/hosts//machines/m1",
      "/sixguard/v1/hosts/h1/machines/",
      "/sixguard/v1/network-ids/2045b",
      "/sixguard/v1/network-ids/0002045B",
      "/sixguard/v1/network-ids/00000000",
      "/sixguard/v1/network-ids/0002045g",
      "/sixguard/v1/flycast/FDAA::1",
      "/sixguard/v1/flycast/fdaa:0::1",
      "/sixguard/v1/flycast/not-an-address",
      "/sixguard/v1/unknown/x",
      "/sixguard/v1",
      "/sixguard/v1/",
      "/sixguard/v10/apps/web",
      "/other/apps/web",
      "/sixguard/v1/apps/" + std::string(64, 'a'),
      "/sixguard/v1/apps/" + std::string(5000, 'a'),
      "/sixguard/v1/hosts/" + std::string(254, 'h') + "/machines/m",
      std::string("/sixguard/v1/apps/w\xff\xfe"),
      std::string("/sixguard/v1/apps/w\xc3\xa9"),  // valid UTF-8, still not a name
      std::string("/sixguard/v1/apps/w\0b", 20),
      "/sixguard/v1/apps/we b",
  };
  for (const auto &key : hostile) {
    auto parsed = parse_etcd_key(kPrefix, key);
    EXPECT_FALSE(parsed) << "accepted: " << printable(key);
    if (!parsed) {
      // The reason is valid UTF-8 without control characters and bounded, whatever the key held.
      EXPECT_FALSE(string_problem(parsed.error().message)) << parsed.error().message;
      EXPECT_LT(parsed.error().message.size(), 600u);
    }
  }
}

TEST(EtcdKeys, ValueMustAgreeWithItsKey) {
  // Key says app a, value says app b.
  EXPECT_NE(error_of("/sixguard/v1/apps/a", R"({"type":"app.created","org":"acme","app":"b"})"),
            "");
  // The wrong kind of event for the key.
  EXPECT_NE(error_of("/sixguard/v1/apps/a", R"({"type":"app.destroyed","app":"a"})"), "");
  EXPECT_NE(error_of("/sixguard/v1/networks/acme/n",
                     R"({"type":"network.created","org":"other","network":"n","id":1})"),
            "");
  EXPECT_NE(error_of("/sixguard/v1/networks/acme/n",
                     R"({"type":"network.created","org":"acme","network":"m","id":1})"),
            "");
  EXPECT_NE(error_of("/sixguard/v1/modes/acme/n",
                     R"({"type":"network.mode","org":"acme","network":"x","mode":"audit"})"),
            "");
  EXPECT_NE(error_of("/sixguard/v1/flycast/fdaa::1",
                     R"({"type":"flycast.allocated","app":"w","address":"fdaa::2","network":"d"})"),
            "");
  const std::string machine =
      R"("type":"machine.started","app":"web","address":"fdaa:2:45b:a7b:174:db43:d3c6:2","interface":"tap0")";
  EXPECT_NE(error_of("/sixguard/v1/hosts/h1/machines/m1", "{" + machine + R"(,"machine":"m2"})"),
            "");
  EXPECT_NE(error_of("/sixguard/v1/hosts/h1/machines/m1",
                     "{" + machine + R"(,"machine":"m1","host":"h2"})"),
            "");
  EXPECT_NE(
      error_of("/sixguard/v1/hosts/h1/machines/m1", "{" + machine + R"(,"machine":"m1","host":7})"),
      "");
  EXPECT_EQ(error_of("/sixguard/v1/hosts/h1/machines/m1", "{" + machine + R"(,"machine":"m1"})"),
            "");
  // The same address spelled differently is the same address.
  EXPECT_EQ(
      error_of("/sixguard/v1/flycast/fdaa::1",
               R"({"type":"flycast.allocated","app":"w","address":"FDAA:0::1","network":"d"})"),
      "");
}

TEST(EtcdKeys, HostileValuesAreRefused) {
  const std::string key = "/sixguard/v1/apps/a";
  const std::string hostile[] = {
      "",
      "   ",
      "null",
      "[]",
      R"([{"type":"app.created","org":"acme","app":"a"}])",
      "{\"type\":\"app.created\",\"org\":\"acme\",\"app\":\"a\"}\n{\"type\":\"app.created\","
      "\"org\":\"acme\",\"app\":\"a\"}",
      R"({"type":"app.created","org":"acme","app":"a","app":"a"})",
      R"({"type":"app.created","org":"acme"})",
      R"({"type":"app.created","org":"acme","app":"a")",
      std::string("{\"type\":\"app.created\",\"org\":\"ac\xff\",\"app\":\"a\"}"),
      std::string("{\"type\":\"app.created\",\"org\":\"acme\",\"app\":\"a\",\"x\":\"\0\"}", 50),
      R"({"type":"app.created","org":"acme","app":"a","x":)" + std::string(40, '[') +
          std::string(40, ']') + "}",
  };
  for (const auto &value : hostile) {
    EXPECT_NE(error_of(key, value), "") << "accepted: " << printable(value);
  }
  const std::string binding = "/sixguard/v1/network-ids/00000001";
  const std::string bindings[] = {"",
                                  "[]",
                                  R"({"org":"acme"})",
                                  R"({"org":"acme","network":7})",
                                  R"({"org":"..","network":"n"})",
                                  std::string("{\"org\":\"a\xff\",\"network\":\"n\"}")};
  for (const auto &value : bindings) {
    EXPECT_NE(error_of(binding, value), "") << "accepted: " << printable(value);
  }
}

TEST(EtcdKeys, Prefixes) {
  EXPECT_TRUE(check_etcd_prefix("/sixguard/v1"));
  for (const char *bad :
       {"", "/", "sixguard", "/sixguard/", "/a//b", "/a/../b", "/a/./b", "/a b"}) {
    EXPECT_FALSE(check_etcd_prefix(bad)) << bad;
  }
  EXPECT_TRUE(valid_host_name("ip-10-0-0-1.ec2.internal"));
  EXPECT_FALSE(valid_host_name(".hidden"));
  EXPECT_FALSE(valid_host_name(""));
}

}  // namespace
}  // namespace sixguard
