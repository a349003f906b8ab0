// The etcd client against real etcd members (Debian's etcd-server on loopback ports, started
// and stopped by the test): paginated lists at one revision, txn guards, a watch that sees a
// txn's changes together, compaction as its own error kind, failover past a closed port, a
// stopped member costing a timeout and not a hang, and TLS with right and wrong client
// certificates.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "agent/source/etcd/client.h"
#include "tests/common/etcd_cluster.h"

namespace sixguard::etcd {
namespace {

using test::EtcdCluster;
using test::EtcdOptions;
using Clock = std::chrono::steady_clock;

std::unique_ptr<EtcdCluster> start_cluster(EtcdOptions options = {}) {
  auto cluster = EtcdCluster::start(std::move(options));
  if (!cluster) ADD_FAILURE() << "etcd did not start: " << cluster.error().message;
  return cluster ? std::move(*cluster) : nullptr;
}

std::unique_ptr<Client> connect(const std::vector<std::string> &urls,
                                std::optional<TlsFiles> tls = {}) {
  ClientConfig config;
  config.endpoints = urls;
  config.tls = std::move(tls);
  config.request_timeout = std::chrono::milliseconds(5000);
  auto client = Client::create(config);
  if (!client) ADD_FAILURE() << client.error().message;
  return client ? std::move(*client) : nullptr;
}

// One member and a client connected to it: how most tests start. Either is null (the
// failure recorded) when it could not be had.
struct Connected {
  std::unique_ptr<EtcdCluster> cluster;
  std::unique_ptr<Client> client;
};
Connected start_connected(EtcdOptions options = {}) {
  Connected connected{start_cluster(std::move(options)), nullptr};
  if (connected.cluster) connected.client = connect(connected.cluster->client_url_list());
  return connected;
}

Status put_keys(Client &client, const std::string &prefix, int count, int per_txn) {
  for (int first = 0; first < count; first += per_txn) {
    Txn txn;
    for (int i = first; i < std::min(count, first + per_txn); ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "%06d", i);
      txn.success.push_back(put(prefix + key, "value-" + std::to_string(i)));
    }
    auto written = client.txn(txn);
    if (!written) return written.error();
    if (!written->succeeded) return make_error("an unguarded txn failed");
  }
  return {};
}

TEST(EtcdClient, ListsTenThousandKeysPageByPageAtOneRevision) {
  SG_REQUIRE_ETCD();
  auto [cluster, client] = start_connected({.extra_flags = {"--max-txn-ops=1000"}});
  ASSERT_TRUE(cluster && client);
  ASSERT_TRUE(put_keys(*client, "/t/keys/", 10000, 1000));
  ASSERT_TRUE(client->txn(
      Txn{.compare = {}, .success = {put("/t/other", "x"), put("/t/keys0", "y")}, .failure = {}}));

  auto first_page = client->range(RangeRequest{.key = "/t/keys/",
                                               .range_end = prefix_end("/t/keys/"),
                                               .limit = 1000,
                                               .revision = 0,
                                               .count_only = false});
  ASSERT_TRUE(first_page) << first_page.error().message;
  EXPECT_EQ(first_page->kvs.size(), 1000u);
  EXPECT_TRUE(first_page->more);
  EXPECT_EQ(first_page->count, 10000);

  auto snapshot = client->list_prefix("/t/keys/", 1000);
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  ASSERT_EQ(snapshot->kvs.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "/t/keys/%06d", i);
    ASSERT_EQ(snapshot->kvs[i].key, key);
    ASSERT_EQ(snapshot->kvs[i].value, "value-" + std::to_string(i));
  }

  // Writes between pages do not show: every page is read at the first page's revision.
  const int64_t at = snapshot->revision;
  ASSERT_TRUE(put_keys(*client, "/t/keys/", 10, 10));  // rewrites 000000..000009
  ASSERT_TRUE(
      client->txn(Txn{.compare = {}, .success = {put("/t/keys/999999", "late")}, .failure = {}}));
  auto old = client->list_prefix("/t/keys/", 1000, at);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->revision, at);
  EXPECT_EQ(old->kvs.size(), 10000u);
  EXPECT_EQ(old->kvs.front().mod_revision, snapshot->kvs.front().mod_revision);
  auto now = client->list_prefix("/t/keys/", 1000);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->kvs.size(), 10001u);
  EXPECT_GT(now->revision, at);

  auto revision = client->current_revision();
  ASSERT_TRUE(revision);
  EXPECT_EQ(*revision, now->revision);
}

TEST(EtcdClient, TxnGuardsHoldOrFailWhole) {
  SG_REQUIRE_ETCD();
  auto [cluster, client] = start_connected();
  ASSERT_TRUE(cluster && client);

  // "Create if absent" succeeds once.
  const Txn create{.compare = {key_absent("/t/ids/1")},
                   .success = {put("/t/ids/1", "owner-a"), put("/t/nets/a", "net")},
                   .failure = {}};
  auto first = client->txn(create);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->succeeded);
  auto second = client->txn(Txn{.compare = {key_absent("/t/ids/1")},
                                .success = {put("/t/ids/1", "owner-b"), put("/t/nets/b", "net")},
                                .failure = {}});
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->succeeded);
  EXPECT_EQ(second->revision, first->revision) << "a failed guard writes nothing";

  auto ids = client->list_prefix("/t/");
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->kvs.size(), 2u);
  EXPECT_EQ(ids->kvs[0].value, "owner-a");
  EXPECT_EQ(ids->kvs[1].key, "/t/nets/a");

  // mod_revision guards: holds with the revision read, fails once someone wrote in between.
  const int64_t read_at = ids->kvs[0].mod_revision;
  auto guarded = client->txn(Txn{.compare = {mod_revision_is("/t/ids/1", read_at)},
                                 .success = {erase("/t/nets/a")},
                                 .failure = {}});
  ASSERT_TRUE(guarded);
  EXPECT_TRUE(guarded->succeeded);
  ASSERT_TRUE(
      client->txn(Txn{.compare = {}, .success = {put("/t/ids/1", "owner-a")}, .failure = {}}));
  auto stale = client->txn(Txn{.compare = {mod_revision_is("/t/ids/1", read_at)},
                               .success = {put("/t/nets/c", "net")},
                               .failure = {}});
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->succeeded);
  auto after = client->list_prefix("/t/nets/");
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->kvs.empty());
}

TEST(EtcdClient, TooManyOperationsIsRejectedNotRetried) {
  SG_REQUIRE_ETCD();
  auto [cluster, client] = start_connected();  // etcd's default --max-txn-ops is 128
  ASSERT_TRUE(cluster && client);
  Txn txn;
  for (int i = 0; i < 200; ++i) txn.success.push_back(put("/t/k" + std::to_string(i), "v"));
  auto written = client->txn(txn);
  ASSERT_FALSE(written);
  EXPECT_EQ(error_kind(written.error()), ErrorKind::kRejected) << written.error().message;
  EXPECT_NE(written.error().message.find("too many operations"), std::string::npos)
      << written.error().message;
}

TEST(EtcdClient, WatchSeesOneTxnsChangesTogetherThenCompactionIsItsOwnError) {
  SG_REQUIRE_ETCD();
  auto [cluster, client] = start_connected();
  ASSERT_TRUE(cluster && client);
  ASSERT_TRUE(client->txn(
      Txn{.compare = {}, .success = {put("/w/a", "1"), put("/w/b", "1")}, .failure = {}}));
  auto start = client->current_revision();
  ASSERT_TRUE(start);
  auto batch = client->txn(
      Txn{.compare = {},
          .success = {put("/w/a", "2"), erase("/w/b"), put("/w/c", "3"), put("/x/out", "no")},
          .failure = {}});
  ASSERT_TRUE(batch);
  ASSERT_TRUE(client->txn(Txn{.compare = {}, .success = {put("/w/d", "4")}, .failure = {}}));

  std::vector<RevisionBatch> seen;
  bool created = false;
  const auto watched = client->watch(
      WatchRequest{.key = "/w/", .range_end = prefix_end("/w/"), .start_revision = *start + 1},
      [&](const WatchResponse &response) {
        created = created || response.created;
        for (auto &group : group_by_revision(response.events)) seen.push_back(group);
        return seen.size() < 2;
      });
  ASSERT_TRUE(watched) << watched.error().message;
  EXPECT_TRUE(created);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].revision, batch->revision);
  ASSERT_EQ(seen[0].events.size(), 3u) << "the txn's three changes under /w/, in one batch";
  EXPECT_EQ(seen[0].events[0].kv.key, "/w/a");
  EXPECT_EQ(seen[0].events[0].kv.value, "2");
  EXPECT_EQ(seen[0].events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(seen[0].events[1].kv.key, "/w/b");
  EXPECT_EQ(seen[0].events[2].kv.key, "/w/c");
  EXPECT_EQ(seen[1].events.size(), 1u);

  // Compact past the start revision: the watch and a range at it say "compacted".
  auto now = client->current_revision();
  ASSERT_TRUE(now);
  ASSERT_TRUE(client->compact(*now));
  int64_t compact_revision = 0;
  const auto compacted = client->watch(
      WatchRequest{.key = "/w/", .range_end = prefix_end("/w/"), .start_revision = *start + 1},
      [&](const WatchResponse &response) {
        if (response.compact_revision) compact_revision = response.compact_revision;
        return true;
      });
  ASSERT_FALSE(compacted);
  EXPECT_EQ(error_kind(compacted.error()), ErrorKind::kCompacted) << compacted.error().message;
  EXPECT_EQ(compact_revision, *now);
  auto old_list = client->list_prefix("/w/", 1000, *start);
  ASSERT_FALSE(old_list);
  EXPECT_EQ(error_kind(old_list.error()), ErrorKind::kCompacted) << old_list.error().message;
}

TEST(EtcdClient, WatchStopsWhenAskedAndReportsAQuietMembersProgress) {
  SG_REQUIRE_ETCD();
  auto [cluster, client] =
      start_connected({.extra_flags = {"--experimental-watch-progress-notify-interval=200ms"}});
  ASSERT_TRUE(cluster && client);
  int progress = 0;
  std::stop_source stop;
  std::thread stopper;
  const auto watched = client->watch(
      WatchRequest{.key = "/q/", .range_end = prefix_end("/q/"), .start_revision = 0},
      [&](const WatchResponse &response) {
        if (response.is_progress() && ++progress == 2) {
          stopper = std::thread([&] { stop.request_stop(); });
        }
        return true;
      },
      stop.get_token());
  if (stopper.joinable()) stopper.join();
  ASSERT_FALSE(watched);
  EXPECT_EQ(error_kind(watched.error()), ErrorKind::kStopped) << watched.error().message;
  EXPECT_GE(progress, 2);
}

TEST(EtcdClient, FailsOverPastAClosedPortAndAStoppedMember) {
  SG_REQUIRE_ETCD();
  auto cluster = start_cluster({.members = 3});
  ASSERT_TRUE(cluster);
  auto closed = EtcdCluster::start({});  // started and killed: its port is closed now
  ASSERT_TRUE(closed) << closed.error().message;
  const std::string closed_url = (*closed)->client_url(0);
  ASSERT_TRUE((*closed)->kill_member(0));

  ClientConfig config;
  config.endpoints = {closed_url, cluster->client_url(0), cluster->client_url(1),
                      cluster->client_url(2)};
  config.request_timeout = std::chrono::milliseconds(1500);
  config.backoff = Backoff{.initial = std::chrono::milliseconds(20),
                           .max = std::chrono::milliseconds(100),
                           .jitter = 0.5};
  auto client = Client::create(config);
  ASSERT_TRUE(client);
  auto written = (*client)->txn(Txn{.compare = {}, .success = {put("/f/a", "1")}, .failure = {}});
  ASSERT_TRUE(written) << written.error().message;

  // The member that answered is SIGSTOPped: the next call costs one request timeout at
  // most on it, then another member answers.
  ASSERT_TRUE(cluster->pause_member(0));
  auto begin = Clock::now();
  auto read = (*client)->list_prefix("/f/");
  auto took = Clock::now() - begin;
  ASSERT_TRUE(cluster->resume_member(0));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->kvs.size(), 1u);
  EXPECT_LT(took, std::chrono::milliseconds(1500 * 2 + 1000));

  // The leader (whichever it is) killed: the others elect one and serve.
  ASSERT_TRUE(cluster->kill_member(1));
  auto after_kill =
      (*client)->txn(Txn{.compare = {}, .success = {put("/f/b", "2")}, .failure = {}});
  ASSERT_TRUE(after_kill) << after_kill.error().message;

  // Every member unreachable: a bounded failure, not a hang.
  ASSERT_TRUE(cluster->kill_member(0));
  ASSERT_TRUE(cluster->kill_member(2));
  begin = Clock::now();
  auto none = (*client)->current_revision();
  ASSERT_FALSE(none);
  EXPECT_EQ(error_kind(none.error()), ErrorKind::kUnavailable);
  EXPECT_NE(none.error().message.find("no etcd endpoint answered"), std::string::npos)
      << none.error().message;
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(10));
}

// The local ports of this process's established TCP connections to `port` (/proc/net/tcp,
// state 01, whose socket inode is one of our fds; etcd's own gateway connects to its port
// too): the evidence of which connections the client holds.
std::multiset<unsigned> our_connections_to(uint16_t port) {
  std::set<std::string> inodes;
  for (const auto &fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.starts_with("socket:[")) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::multiset<unsigned> ports;
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    const auto remote_port = std::stoul(remote.substr(remote.find(':') + 1), nullptr, 16);
    if (remote_port == port && state == "01" && inodes.contains(inode)) {
      ports.insert(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
    }
  }
  return ports;
}

TEST(EtcdClient, KeepsOneConnectionAliveAndReopensItAfterTheMemberRestarts) {
  SG_REQUIRE_ETCD();
  auto cluster = start_cluster();
  ASSERT_TRUE(cluster);
  auto client = connect({cluster->client_url(0)});
  ASSERT_TRUE(client);
  const std::string url = cluster->client_url(0);
  const auto port = static_cast<uint16_t>(std::stoul(url.substr(url.rfind(':') + 1)));
  ASSERT_TRUE(put_keys(*client, "/k/", 50, 10));
  const auto first = our_connections_to(port);
  ASSERT_EQ(first.size(), 1u) << "one kept-alive connection after the txns";
  // Range pages and txns, one after the other: all on that one connection.
  for (int i = 0; i < 20; ++i) {
    auto listed = client->list_prefix("/k/", 7);
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->kvs.size(), 50u);
  }
  ASSERT_TRUE(put_keys(*client, "/k/", 50, 25));
  EXPECT_EQ(our_connections_to(port), first);

  // The member restarts: the kept connection is dead; the next range and txn go through on
  // a new one.
  ASSERT_TRUE(cluster->kill_member(0));
  ASSERT_TRUE(cluster->restart_member(0));
  auto listed = client->list_prefix("/k/");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->kvs.size(), 50u);
  auto written = client->txn(Txn{.compare = {}, .success = {put("/k/after", "1")}, .failure = {}});
  ASSERT_TRUE(written) << written.error().message;
  const auto after = our_connections_to(port);
  EXPECT_EQ(after.size(), 1u);
}

TEST(EtcdClient, WatchOnAStoppedMemberEndsUnavailable) {
  SG_REQUIRE_ETCD();
  auto cluster = start_cluster();
  ASSERT_TRUE(cluster);
  ClientConfig config;
  config.endpoints = cluster->client_url_list();
  config.request_timeout = std::chrono::milliseconds(500);
  config.rounds = 1;
  auto client = Client::create(config);
  ASSERT_TRUE(client);
  bool paused = false;
  const auto begin = Clock::now();
  const auto watched = (*client)->watch(WatchRequest{.key = "/s/",
                                                     .range_end = prefix_end("/s/"),
                                                     .start_revision = 0,
                                                     .progress_notify = true,
                                                     .idle_check = std::chrono::milliseconds(300)},
                                        [&](const WatchResponse &response) {
                                          if (response.created && !paused)
                                            paused = static_cast<bool>(cluster->pause_member(0));
                                          return true;
                                        });
  ASSERT_TRUE(cluster->resume_member(0));
  ASSERT_TRUE(paused);
  ASSERT_FALSE(watched);
  EXPECT_EQ(error_kind(watched.error()), ErrorKind::kUnavailable) << watched.error().message;
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(5));
}

TEST(EtcdClient, TlsWithTheRightClientCertificateAndAClearRefusalOfAWrongOne) {
  SG_REQUIRE_ETCD();
  auto cluster = start_cluster({.tls = true});
  ASSERT_TRUE(cluster);
  const auto &files = cluster->tls_files();
  auto client = connect(
      cluster->client_url_list(),
      TlsFiles{.ca_file = files.ca, .cert_file = files.client_cert, .key_file = files.client_key});
  ASSERT_TRUE(client);
  auto written = client->txn(Txn{.compare = {}, .success = {put("/tls/a", "1")}, .failure = {}});
  ASSERT_TRUE(written) << written.error().message;
  auto read = client->list_prefix("/tls/");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->kvs.size(), 1u);

  auto wrong = connect(
      cluster->client_url_list(),
      TlsFiles{.ca_file = files.ca, .cert_file = files.wrong_cert, .key_file = files.wrong_key});
  ASSERT_TRUE(wrong);
  auto refused = wrong->list_prefix("/tls/");
  ASSERT_FALSE(refused);
  EXPECT_EQ(error_kind(refused.error()), ErrorKind::kTls) << refused.error().message;
  EXPECT_NE(refused.error().message.find("client certificate"), std::string::npos)
      << refused.error().message;
  std::cout << "wrong client certificate: " << refused.error().message << "\n";

  auto anonymous = connect(cluster->client_url_list(),
                           TlsFiles{.ca_file = files.ca, .cert_file = {}, .key_file = {}});
  ASSERT_TRUE(anonymous);
  auto no_cert = anonymous->current_revision();
  ASSERT_FALSE(no_cert);
  EXPECT_EQ(error_kind(no_cert.error()), ErrorKind::kTls) << no_cert.error().message;

  // A member certificate from a CA the client does not trust is refused by the client.
  auto distrust = connect(cluster->client_url_list(),
                          TlsFiles{.ca_file = cluster->directory() + "/other-ca.crt",
                                   .cert_file = files.client_cert,
                                   .key_file = files.client_key});
  ASSERT_TRUE(distrust);
  auto unverified = distrust->current_revision();
  ASSERT_FALSE(unverified);
  EXPECT_EQ(error_kind(unverified.error()), ErrorKind::kTls) << unverified.error().message;
}

}  // namespace
}  // namespace sixguard::etcd
