// `sixguard publish` against a real etcd: a valid batch lands as one txn; a refused one
// (400, 409, 422) writes nothing; two publishers racing to bind one network ID, many rounds:
// exactly one wins and the other gets 409; app.destroyed takes its machines' and Flycast keys
// with it; TLS with the right and a wrong client certificate; the CLI's exit codes.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/source/etcd/client.h"
#include "agent/source/publish/publish_plan.h"
#include "agent/source/publish/publisher.h"
#include "agent/cli/cli.h"
#include "tests/common/etcd_cluster.h"
#include "tests/common/event_json.h"

namespace sixguard {
namespace {

using nlohmann::json;
using test::EtcdCluster;
using test::flycast_allocated;
using test::machine_started;

const std::string kPrefix = "/sixguard/v1";

// Events as the platform writes them.
json network_created(const std::string &org, const std::string &network, const std::string &id) {
  return {{"type", "network.created"}, {"org", org}, {"network", network}, {"id", id}};
}
json app_created(const std::string &org, const std::string &app, const std::string &network) {
  return {{"type", "app.created"}, {"org", org}, {"app", app}, {"network", network}};
}

std::unique_ptr<etcd::Client> connect(const EtcdCluster &cluster,
                                      std::optional<etcd::TlsFiles> tls = {}) {
  etcd::ClientConfig config;
  config.endpoints = cluster.client_url_list();
  config.tls = std::move(tls);
  auto client = etcd::Client::create(config);
  if (!client) ADD_FAILURE() << client.error().message;
  return client ? std::move(*client) : nullptr;
}

PublishResult publish_json(etcd::Client &client, const json &batch,
                           const std::string &host = "h1") {
  PublishOptions options;
  options.host = host;
  return publish(client, batch.dump(), options);
}

json platform() {
  return json::array({network_created("acme", "net-a", "2:45b"),
                      app_created("acme", "app-a", "net-a"),
                      machine_started("app-a", "m1", "fdaa:2:45b:a7b:174:db43:d3c6:2", "tap-m1"),
                      flycast_allocated("app-a", "fdaa:2:45b:0:1:f1:0:1", "net-a")});
}

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SG_REQUIRE_ETCD();
    auto cluster = EtcdCluster::start({});
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_ = std::move(*cluster);
    client_ = connect(*cluster_);
    ASSERT_TRUE(client_);
  }
  etcd::Snapshot store() {
    auto snapshot = client_->list_prefix(kPrefix + "/");
    EXPECT_TRUE(snapshot) << snapshot.error().message;
    return snapshot ? *snapshot : etcd::Snapshot{};
  }
  std::unique_ptr<EtcdCluster> cluster_;
  std::unique_ptr<etcd::Client> client_;
};

TEST_F(PublishTest, AValidBatchLandsAsOneTxn) {
  const auto before = client_->current_revision();
  ASSERT_TRUE(before);
  const auto result = publish_json(*client_, platform());
  ASSERT_EQ(result.status, 200) << (result.error ? result.error->message
                                                 : result.store_error->message);
  EXPECT_EQ(result.applied, 4u);
  EXPECT_EQ(result.revision, *before + 1) << "one txn: one revision";
  const auto snapshot = store();
  std::set<std::string> keys;
  for (const auto &kv : snapshot.kvs) {
    keys.insert(kv.key);
    EXPECT_EQ(kv.mod_revision, result.revision) << kv.key;
  }
  EXPECT_EQ(keys, (std::set<std::string>{
                      kPrefix + "/apps/app-a", kPrefix + "/flycast/fdaa:2:45b:0:1:f1:0:1",
                      kPrefix + "/hosts/h1/machines/m1", kPrefix + "/network-ids/0002045b",
                      kPrefix + "/networks/acme/net-a"}));
  // The same batch again is already in effect: nothing written.
  const auto again = publish_json(*client_, platform());
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(again.unchanged, 4u);
  EXPECT_EQ(again.writes, 0u);
  auto after = client_->current_revision();
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, result.revision);
}

TEST_F(PublishTest, RefusedBatchesWriteNothingAndNameTheEventAndField) {
  ASSERT_EQ(publish_json(*client_, platform()).status, 200);
  const auto revision = client_->current_revision();
  ASSERT_TRUE(revision);
  struct Case {
    json batch;
    int status;
    std::size_t index;
    std::string field;
  };
  const std::vector<Case> cases = {
      // 400: a missing field, after a valid event that must not land either.
      {json::array(
           {app_created("acme", "app-b", "net-a"), {{"type", "app.created"}, {"org", "acme"}}}),
       400, 1, "app"},
      // 400: a machine event without a host.
      {json::array({machine_started("app-a", "m2", "fdaa:2:45b:a7b:175:db43:d3c6:2", "tap-m2")}),
       400, 0, "host"},
      // 409: the ID is bound to acme/net-a in the store.
      {json::array(
           {network_created("acme", "net-b", "3:1"), network_created("evil", "net-x", "2:45b")}),
       409, 1, "id"},
      // 409: an app asked to change network.
      {json::array(
           {network_created("acme", "net-c", "4:1"), app_created("acme", "app-a", "net-c")}),
       409, 1, "network"},
      // 422: a machine of an unknown app.
      {json::array({machine_started("ghost", "m3", "fdaa:2:45b:a7b:176:db43:d3c6:2", "tap-m3")}),
       422, 0, "app"},
      // 422: an address outside the app's network.
      {json::array({machine_started("app-a", "m4", "fdaa:9:9:a7b:176:db43:d3c6:2", "tap-m4")}), 422,
       0, "address"},
  };
  for (const auto &c : cases) {
    json batch = c.batch;
    // The machine event of the "no host" case has none; the others get theirs from --host.
    const auto result = publish_json(*client_, batch, c.field == "host" ? "" : "h1");
    ASSERT_EQ(result.status, c.status)
        << batch.dump() << ": " << (result.error ? result.error->message : std::string("no error"));
    ASSERT_TRUE(result.error);
    EXPECT_EQ(result.error->index, c.index) << result.error->message;
    EXPECT_EQ(result.error->field, c.field) << result.error->message;
    auto now = client_->current_revision();
    ASSERT_TRUE(now);
    EXPECT_EQ(*now, *revision) << "a refused batch wrote something: " << batch.dump();
  }
}

TEST_F(PublishTest, TwoPublishersRacingForOneNetworkIdExactlyOneWins) {
  constexpr int kRounds = 20;
  int lost_guards = 0;  // rounds where the loser's txn ran and lost its guard (a true race)
  for (int round = 0; round < kRounds; ++round) {
    char id_text[16];  // "<hex>:<hex>", DESIGN §1's network id form
    std::snprintf(id_text, sizeof id_text, "%x:1", 0x100 + round);
    const std::string id = id_text;
    std::array<PublishResult, 2> results;
    std::atomic<int> ready{0};
    auto racer = [&](int who) {
      auto client = connect(*cluster_);
      const json batch = json::array(
          {network_created(who == 0 ? "org-a" : "org-b", "net-" + std::to_string(round), id),
           app_created(who == 0 ? "org-a" : "org-b",
                       "app-" + std::to_string(who) + "-" + std::to_string(round),
                       "net-" + std::to_string(round))});
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
      results[who] = publish_json(*client, batch);
    };
    std::thread first(racer, 0), second(racer, 1);
    first.join();
    second.join();
    const int wins = (results[0].status == 200) + (results[1].status == 200);
    const int conflicts = (results[0].status == 409) + (results[1].status == 409);
    ASSERT_EQ(wins, 1) << "round " << round;
    ASSERT_EQ(conflicts, 1) << "round " << round;
    const int winner = results[0].status == 200 ? 0 : 1;
    const auto &loser = results[1 - winner];
    if (loser.attempts > 0) ++lost_guards;
    ASSERT_TRUE(loser.error);
    EXPECT_EQ(loser.error->field, "id") << loser.error->message;
    // The store holds the winner's binding and the winner's app only.
    auto binding = client_->range(etcd::RangeRequest{
        .key = kPrefix + "/network-ids/" +
               [&] {
                 char hex[16];
                 std::snprintf(hex, sizeof hex, "%08x", (0x100 + round) << 16 | 1);
                 return std::string(hex);
               }(),
        .range_end = {},
        .limit = 0,
        .revision = 0,
        .count_only = false});
    ASSERT_TRUE(binding);
    ASSERT_EQ(binding->kvs.size(), 1u);
    EXPECT_NE(binding->kvs[0].value.find(winner == 0 ? "org-a" : "org-b"), std::string::npos);
    auto apps = client_->list_prefix(kPrefix + "/apps/app-" + std::to_string(1 - winner) + "-" +
                                     std::to_string(round));
    ASSERT_TRUE(apps);
    EXPECT_TRUE(apps->kvs.empty()) << "the loser's app landed";
  }
  std::cout << "publish race: " << kRounds
            << " rounds, 1 winner and one 409 each; the loser's txn lost its guard in "
            << lost_guards << "\n";
}

TEST_F(PublishTest, AppDestroyedTakesItsMachinesAndFlycastKeysAlong) {
  ASSERT_EQ(publish_json(*client_, platform()).status, 200);
  ASSERT_EQ(
      publish_json(
          *client_,
          json::array({machine_started("app-a", "m9", "fdaa:2:45b:a7b:199:db43:d3c6:2", "tap-m1")}),
          "h2")
          .status,
      200)
      << "the same interface name on another host is no conflict";
  // A machine that runs on h2 cannot be started on h1 too.
  const auto moved = publish_json(
      *client_,
      json::array({machine_started("app-a", "m9", "fdaa:2:45b:a7b:199:db43:d3c6:2", "tap-m9")}),
      "h1");
  EXPECT_EQ(moved.status, 409);
  const auto result =
      publish_json(*client_, json::array({{{"type", "app.destroyed"}, {"app", "app-a"}}}));
  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(result.writes, 4u);  // the app, m1 on h1, m9 on h2, the Flycast address
  std::set<std::string> keys;
  for (const auto &kv : store().kvs) keys.insert(kv.key);
  EXPECT_EQ(keys, (std::set<std::string>{kPrefix + "/network-ids/0002045b",
                                         kPrefix + "/networks/acme/net-a"}));
}

TEST_F(PublishTest, HostFieldWinsOverTheDefault) {
  json batch = platform();
  batch[2]["host"] = "node-7.example";
  ASSERT_EQ(publish_json(*client_, batch, "").status, 200);
  auto machine = client_->list_prefix(kPrefix + "/hosts/node-7.example/machines/");
  ASSERT_TRUE(machine);
  EXPECT_EQ(machine->kvs.size(), 1u);
  batch[2]["host"] = "bad host";
  const auto bad = publish_json(*client_, batch, "");
  EXPECT_EQ(bad.status, 400);
}

// The guards of the txn, without etcd: what was read is pinned, what is new must be absent,
// and nothing under the prefix may have moved since the read.
TEST(PublishPlan, GuardsPinWhatTheBatchReadAndCreates) {
  etcd::Snapshot snapshot;
  snapshot.revision = 40;
  auto kv = [](std::string key, const json &value, int64_t revision) {
    return etcd::KeyValue{.key = kPrefix + key,
                          .value = value.dump(),
                          .create_revision = revision,
                          .mod_revision = revision,
                          .version = 1};
  };
  snapshot.kvs = {kv("/apps/app-a", app_created("acme", "app-a", "net-a"), 12),
                  kv("/network-ids/0002045b", json{{"org", "acme"}, {"network", "net-a"}}, 11),
                  kv("/networks/acme/net-a", network_created("acme", "net-a", "2:45b"), 11)};
  EventRules rules;
  rules.infra_prefixes.push_back(*parse_ipv6_prefix("fdaa::3/128"));
  StoreView view = build_store_view(kPrefix, snapshot, rules);
  ASSERT_TRUE(view.skipped.empty()) << view.skipped.front();
  auto parsed = parse_events(
      json::array({network_created("acme", "net-b", "3:1"),
                   machine_started("app-a", "m1", "fdaa:2:45b:a7b:174:db43:d3c6:2", "tap-m1")})
          .dump());
  ASSERT_FALSE(parsed.error);
  const auto plan = plan_publish(view, parsed.events, {"", "h1"}, rules);
  ASSERT_FALSE(plan.refusal) << plan.refusal->message;
  EXPECT_EQ(plan.applied, 2u);
  std::map<std::string, etcd::Compare> guards;
  for (const auto &compare : plan.txn.compare) guards[compare.key] = compare;
  ASSERT_EQ(guards.size(), 5u);
  const auto &prefix_guard = guards.at(kPrefix + "/");
  EXPECT_EQ(prefix_guard.range_end, etcd::prefix_end(kPrefix + "/"));
  EXPECT_EQ(prefix_guard.target, etcd::CompareTarget::kModRevision);
  EXPECT_EQ(prefix_guard.result, etcd::CompareResult::kLess);
  EXPECT_EQ(prefix_guard.number, 41);
  for (const char *created :
       {"/network-ids/00030001", "/networks/acme/net-b", "/hosts/h1/machines/m1"}) {
    const auto &guard = guards.at(kPrefix + created);
    EXPECT_EQ(guard.target, etcd::CompareTarget::kCreateRevision) << created;
    EXPECT_EQ(guard.number, 0) << created;
  }
  const auto &app_guard = guards.at(kPrefix + "/apps/app-a");  // the machine relies on its app
  EXPECT_EQ(app_guard.target, etcd::CompareTarget::kModRevision);
  EXPECT_EQ(app_guard.result, etcd::CompareResult::kEqual);
  EXPECT_EQ(app_guard.number, 12);
  EXPECT_EQ(plan.txn.success.size(), 3u);
}

int run_cli(std::vector<std::string> args, const std::string &input, std::string &out,
            std::string &err) {
  args.insert(args.begin(), "sixguard");
  std::vector<char *> argv;
  for (auto &arg : args) argv.push_back(arg.data());
  std::istringstream in(input);
  std::ostringstream out_stream, err_stream;
  const int code = cli_main(static_cast<int>(argv.size()), argv.data(), in, out_stream, err_stream);
  out = out_stream.str();
  err = err_stream.str();
  return code;
}

TEST_F(PublishTest, CliExitCodes) {
  std::string out, err;
  EXPECT_EQ(run_cli({"publish", "--etcd", cluster_->client_urls(), "--host", "h1", "--json", "-"},
                    platform().dump(), out, err),
            0)
      << err;
  EXPECT_EQ(json::parse(out)["applied"], 4);
  EXPECT_EQ(run_cli({"publish", "--etcd", cluster_->client_urls(), "-"},
                    network_created("evil", "x", "2:45b").dump(), out, err),
            1);
  EXPECT_NE(err.find("409"), std::string::npos) << err;
  EXPECT_EQ(run_cli({"publish", "--etcd", cluster_->client_urls(), "/nonexistent/events.json"}, "",
                    out, err),
            2);
  EXPECT_EQ(run_cli({"publish", "-"}, "", out, err), 2) << "--etcd is required";
  // A closed port: unreachable.
  auto closed = EtcdCluster::start({});
  ASSERT_TRUE(closed);
  const std::string closed_url = (*closed)->client_url(0);
  ASSERT_TRUE((*closed)->kill_member(0));
  EXPECT_EQ(run_cli({"publish", "--etcd", closed_url, "-"}, platform().dump(), out, err), 3);
  EXPECT_NE(err.find("no etcd endpoint answered"), std::string::npos) << err;
}

TEST(PublishTls, RightClientCertificatePublishesAWrongOneIsRefusedClearly) {
  SG_REQUIRE_ETCD();
  auto cluster = EtcdCluster::start({.tls = true});
  ASSERT_TRUE(cluster) << cluster.error().message;
  const auto &files = (*cluster)->tls_files();
  std::string out, err;
  const std::string events = platform().dump();
  EXPECT_EQ(run_cli({"publish", "--etcd", (*cluster)->client_urls(), "--host", "h1", "--cacert",
                     files.ca, "--cert", files.client_cert, "--key", files.client_key, "-"},
                    events, out, err),
            0)
      << err;
  EXPECT_NE(out.find("applied 4"), std::string::npos) << out;
  EXPECT_EQ(run_cli({"publish", "--etcd", (*cluster)->client_urls(), "--host", "h1", "--cacert",
                     files.ca, "--cert", files.wrong_cert, "--key", files.wrong_key, "-"},
                    events, out, err),
            3);
  EXPECT_NE(err.find("TLS"), std::string::npos) << err;
  EXPECT_NE(err.find("client certificate"), std::string::npos) << err;
  std::cout << "publish with a wrong client certificate: " << err;
}

}  // namespace
}  // namespace sixguard
