// The agent's etcd source against real etcd (started by the test on loopback, stopped by
// PID), with the control plane over an in-memory map backend: no root needed. It lists,
// watches transactions, skips invalid keys, relists after a compaction removing what is gone,
// resumes from the persisted revision, and over TLS refuses a wrong client certificate with a
// clear error while keeping the state (fail static).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "agent/source/etcd/client.h"
#include "tests/control/control_fixture.h"
#include "tests/common/etcd_cluster.h"
#include "agent/source/etcd_source.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char *kPrefix = "/sixguard/v1";

// Polls the evidence every 20 ms for up to 30 s (etcd and the source run on their own).
template <typename Predicate>
bool eventually(Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

std::string key(const std::string &rest) {
  return std::string(kPrefix) + "/" + rest;
}

class EtcdSourceTest : public ControlFixture {
 protected:
  void start_cluster(bool tls) {
    auto cluster = test::EtcdCluster::start({.members = 1, .tls = tls});
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_ = std::move(*cluster);
    etcd::ClientConfig config;
    config.endpoints = cluster_->client_url_list();
    if (tls) {
      const auto &files = cluster_->tls_files();
      config.tls = etcd::TlsFiles{files.ca, files.client_cert, files.client_key};
    }
    auto client = etcd::Client::create(config);
    ASSERT_TRUE(client) << client.error().message;
    writer_ = std::move(*client);
  }

  std::unique_ptr<EtcdSource> make_source(std::optional<etcd::TlsFiles> tls = std::nullopt) {
    EtcdSourceSettings settings;
    settings.endpoints = cluster_->client_url_list();
    settings.prefix = kPrefix;
    settings.host = "h1";
    settings.tls = tls;
    settings.backoff.initial = 20ms;
    settings.backoff.max = 200ms;
    auto source = EtcdSource::create(settings, *control, [](bool, const std::string &) {});
    EXPECT_TRUE(source) << source.error().message;
    return source ? std::move(*source) : nullptr;
  }

  int64_t write(std::vector<etcd::Operation> ops) {
    etcd::Txn txn;
    txn.success = std::move(ops);
    auto answer = writer_->txn(txn);
    EXPECT_TRUE(answer) << answer.error().message;
    return answer ? answer->revision : 0;
  }

  std::vector<etcd::Operation> platform() {
    return {
        etcd::put(key("networks/acme/default"),
                  R"({"type":"network.created","org":"acme","network":"default","id":"2:45b"})"),
        etcd::put(key("network-ids/0002045b"), R"({"org":"acme","network":"default"})"),
        etcd::put(key("apps/web"), R"({"type":"app.created","org":"acme","app":"web"})"),
        etcd::put(key("hosts/h1/machines/m-web"),
                  test::machine_started("web", "m-web", kWebAddress, "tap-web").dump()),
        // Another host's machine: none of this agent's business.
        etcd::put(
            key("hosts/h2/machines/m-other"),
            test::machine_started("web", "m-other", "fdaa:2:45b:a7b:175:db43:d3c6:2", "tap-spare")
                .dump()),
        etcd::put(
            key("flycast/fdaa:2:45b::f1"),
            R"({"type":"flycast.allocated","app":"web","address":"fdaa:2:45b::f1","network":"default"})"),
    };
  }

  bool at_revision(const EtcdSource &source, int64_t revision) {
    return source.status().revision >= revision;
  }

  // A started source, once it has applied up to `revision` (into `source`).
  void start_source_to(int64_t revision, std::unique_ptr<EtcdSource> &source,
                       std::optional<etcd::TlsFiles> tls = std::nullopt) {
    source = make_source(std::move(tls));
    ASSERT_TRUE(source);
    source->start();
    ASSERT_TRUE(eventually([&] { return at_revision(*source, revision); }));
  }

  // An agent that applied up to `revision`, then stopped (its source destroyed).
  void ran_to(int64_t revision) {
    std::unique_ptr<EtcdSource> source;
    ASSERT_NO_FATAL_FAILURE(start_source_to(revision, source));
  }

  std::unique_ptr<test::EtcdCluster> cluster_;
  std::unique_ptr<etcd::Client> writer_;
};

TEST_F(EtcdSourceTest, ListsWatchesAndSkipsInvalidKeys) {
  SG_REQUIRE_ETCD();
  start_cluster(false);
  const int64_t listed = write(platform());
  std::unique_ptr<EtcdSource> source;
  ASSERT_NO_FATAL_FAILURE(start_source_to(listed, source));
  EXPECT_TRUE(source->status().connected);
  EXPECT_EQ(control->counts().machines, 1u);  // m-other is h2's
  EXPECT_EQ(maps.machines.size(), 1u);
  EXPECT_EQ(maps.flycast.size(), 1u);

  // One transaction: a valid change beside two keys that break the rules.
  const int64_t watched = write({
      etcd::put(key("apps/api"), R"({"type":"app.created","org":"acme","app":"not-api"})"),
      etcd::put(key("hosts/h1/machines/m-bad"),
                test::machine_started("web", "m-bad", "fdaa:9:d844:a7b:e:33bd:e8b1:2", "tap-spare")
                    .dump()),
      etcd::erase(key("flycast/fdaa:2:45b::f1")),
  });
  ASSERT_TRUE(eventually([&] { return at_revision(*source, watched); }));
  const auto status = source->status();
  EXPECT_TRUE(maps.flycast.empty());
  EXPECT_EQ(control->counts().machines, 1u);
  EXPECT_EQ(status.invalid_keys.size(), 2u);
  EXPECT_TRUE(status.invalid_keys.contains(key("apps/api")));
  EXPECT_TRUE(status.invalid_keys.contains(key("hosts/h1/machines/m-bad")));
  EXPECT_EQ(status.invalid_keys_total, 2u);
  EXPECT_EQ(source->status_json()["invalid_keys"]["count"], 2);

  // Fixing a key takes it off the list.
  const int64_t fixed = write({etcd::erase(key("apps/api"))});
  ASSERT_TRUE(eventually([&] { return at_revision(*source, fixed); }));
  EXPECT_FALSE(source->status().invalid_keys.contains(key("apps/api")));
}

TEST_F(EtcdSourceTest, CompactedWhileAwayRelistsAndRemovesWhatIsGone) {
  SG_REQUIRE_ETCD();
  start_cluster(false);
  const int64_t listed = write(platform());
  ASSERT_NO_FATAL_FAILURE(ran_to(listed));  // the agent stops
  EXPECT_EQ(control->source_mark().revision, listed);
  write({etcd::erase(key("hosts/h1/machines/m-web"))});
  write({etcd::erase(key("flycast/fdaa:2:45b::f1"))});
  const int64_t last =
      write({etcd::put(key("apps/api"), R"({"type":"app.created","org":"acme","app":"api"})")});
  ASSERT_TRUE(writer_->compact(last));
  open();  // a restarted agent: state from state.db
  std::unique_ptr<EtcdSource> source;
  ASSERT_NO_FATAL_FAILURE(start_source_to(last, source));
  EXPECT_EQ(source->status().resyncs, 1u);
  EXPECT_EQ(control->counts().machines, 0u);
  EXPECT_TRUE(maps.machines.empty());
  EXPECT_TRUE(maps.flycast.empty());
  EXPECT_EQ(control->counts().apps, 2u);
}

TEST_F(EtcdSourceTest, ResumesFromThePersistedRevisionWithoutListing) {
  SG_REQUIRE_ETCD();
  start_cluster(false);
  const int64_t listed = write(platform());
  ASSERT_NO_FATAL_FAILURE(ran_to(listed));
  const int64_t later = write({etcd::erase(key("flycast/fdaa:2:45b::f1"))});
  open();
  std::unique_ptr<EtcdSource> source;
  ASSERT_NO_FATAL_FAILURE(start_source_to(later, source));
  EXPECT_TRUE(maps.flycast.empty());
  EXPECT_EQ(source->status().resyncs, 0u);
}

// Transactions that arrive together (a resumed agent catching up) are applied one after the
// other and committed together: a Flycast address put then deleted ends absent (planned on the
// state before both, it would stay), a key invalid then fixed ends valid, and the batch costs
// fewer commits than it has transactions.
TEST_F(EtcdSourceTest, TransactionsReadTogetherApplyInOrderInOneCommit) {
  SG_REQUIRE_ETCD();
  start_cluster(false);
  const int64_t listed = write(platform());
  ASSERT_NO_FATAL_FAILURE(ran_to(listed));
  const std::string put_then_gone = key("flycast/fdaa:2:45b::f2");
  const std::string fixed_later = key("flycast/fdaa:2:45b::f3");
  const auto flycast = [](const std::string &address) {
    return R"({"type":"flycast.allocated","app":"web","address":")" + address +
           R"(","network":"default"})";
  };
  const std::vector<std::vector<etcd::Operation>> transactions = {
      {etcd::put(put_then_gone, flycast("fdaa:2:45b::f2"))},
      {etcd::erase(put_then_gone)},
      {etcd::put(key("apps/api"), R"({"type":"app.created","org":"acme","app":"api"})")},
      {etcd::put(fixed_later, flycast("fdaa:2:45b::f9"))},  // disagrees with its key
      {etcd::put(fixed_later, flycast("fdaa:2:45b::f3"))},
      {etcd::erase(key("hosts/h1/machines/m-web"))},
  };
  int64_t last = 0;
  for (const auto &ops : transactions) last = write(ops);
  open();
  const int commits_before = observer.durations;
  auto source = make_source();
  source->start();
  ASSERT_TRUE(eventually([&] { return at_revision(*source, last); }));
  EXPECT_EQ(control->source_mark().revision, last);
  EXPECT_EQ(source->status().resyncs, 0u);
  EXPECT_FALSE(maps.flycast.contains(*parse_ipv6("fdaa:2:45b::f2")));
  EXPECT_TRUE(maps.flycast.contains(*parse_ipv6("fdaa:2:45b::f3")));
  EXPECT_TRUE(maps.flycast.contains(*parse_ipv6("fdaa:2:45b::f1")));
  EXPECT_EQ(maps.flycast.size(), 2u);
  EXPECT_EQ(control->counts().apps, 2u);
  EXPECT_EQ(control->counts().machines, 0u);
  EXPECT_TRUE(maps.machines.empty());
  EXPECT_TRUE(source->status().invalid_keys.empty());
  EXPECT_EQ(source->status().invalid_keys_total, 1u);
  source->stop();  // the observer is the source thread's until then
  const int commits = observer.durations - commits_before;
  // One by one, the 5 transactions that change something here would be 5 commits (the 4th
  // changes nothing); etcd sends a resumed watch's backlog in one message.
  EXPECT_GE(commits, 1);
  EXPECT_LT(commits, 5);
}

TEST_F(EtcdSourceTest, TlsWrongClientCertificateIsRefusedAndNothingChanges) {
  SG_REQUIRE_ETCD();
  start_cluster(true);
  const auto &files = cluster_->tls_files();
  const int64_t listed = write(platform());
  {
    std::unique_ptr<EtcdSource> source;
    ASSERT_NO_FATAL_FAILURE(start_source_to(
        listed, source, etcd::TlsFiles{files.ca, files.client_cert, files.client_key}));
    EXPECT_EQ(maps.machines.size(), 1u);
  }
  write({etcd::erase(key("hosts/h1/machines/m-web"))});
  auto wrong = make_source(etcd::TlsFiles{files.ca, files.wrong_cert, files.wrong_key});
  wrong->start();
  ASSERT_TRUE(eventually([&] { return !wrong->status().last_error.empty(); }));
  const auto status = wrong->status();
  EXPECT_FALSE(status.connected);
  EXPECT_NE(status.last_error.find("TLS"), std::string::npos) << status.last_error;
  // Fail static: the machine whose key is gone stays until a source that can read says so.
  EXPECT_EQ(maps.machines.size(), 1u);
}

}  // namespace
}  // namespace sixguard::testing
