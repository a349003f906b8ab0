// The etcd client's pure parts, no etcd needed: base64, endpoints, the gateway JSON of
// guards and answers, the watch stream cut at every byte offset, the compaction answer,
// error kinds, and backoff bounds.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "agent/source/etcd/backoff.h"
#include "agent/source/etcd/base64.h"
#include "agent/source/etcd/client.h"
#include "agent/source/etcd/endpoint.h"
#include "agent/source/etcd/json_codec.h"
#include "agent/source/etcd/message_splitter.h"

namespace sixguard::etcd {
namespace {

using nlohmann::json;

TEST(EtcdBase64, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    const std::string encoded = base64_encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(i * 37 % 256);
  }
  EXPECT_EQ(base64_encode("/sixguard/v1/apps/a"), "L3NpeGd1YXJkL3YxL2FwcHMvYQ==");
}

TEST(EtcdBase64, RefusesWhatIsNotStrictBase64) {
  for (const char *bad : {"YQ=", "Y===", "YQ==YQ==", "Y!==", "YQ=a", "=QQQ", "YQ\n="}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

TEST(EtcdEndpoint, ParsesTheFormsOperatorsWrite) {
  auto endpoints =
      parse_endpoints("http://127.0.0.1:2379,https://etcd-1.example:4001,http://[::1]:23,http://h");
  ASSERT_TRUE(endpoints) << endpoints.error().message;
  ASSERT_EQ(endpoints->size(), 4u);
  EXPECT_EQ((*endpoints)[0].host, "127.0.0.1");
  EXPECT_EQ((*endpoints)[0].port, 2379);
  EXPECT_FALSE((*endpoints)[0].tls);
  EXPECT_TRUE((*endpoints)[1].tls);
  EXPECT_EQ((*endpoints)[1].port, 4001);
  EXPECT_EQ((*endpoints)[2].host, "::1");
  EXPECT_EQ((*endpoints)[3].port, 2379);
  for (const char *bad :
       {"", "127.0.0.1:2379", "ftp://h", "http://", "http://h:0", "http://h:70000", "http://h:x",
        "http://::1:2379", "http://h/path", "http://u@h", "http://[::1"}) {
    EXPECT_FALSE(parse_endpoints(bad)) << bad;
  }
}

TEST(EtcdTypes, PrefixEndCoversExactlyThePrefix) {
  EXPECT_EQ(prefix_end("/a/"), "/a0");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST(EtcdCodec, TxnGuardsAreTheGatewaysCompares) {
  Txn txn;
  txn.compare = {mod_revision_is("/p/apps/a", 42), key_absent("/p/network-ids/0002045b")};
  txn.success = {put("/p/apps/a", "{}"), erase("/p/flycast/x")};
  const auto body = json::parse(encode_txn(txn));
  ASSERT_EQ(body["compare"].size(), 2u);
  EXPECT_EQ(body["compare"][0], (json{{"key", base64_encode("/p/apps/a")},
                                      {"target", "MOD"},
                                      {"result", "EQUAL"},
                                      {"mod_revision", "42"}}));
  EXPECT_EQ(body["compare"][1], (json{{"key", base64_encode("/p/network-ids/0002045b")},
                                      {"target", "CREATE"},
                                      {"result", "EQUAL"},
                                      {"create_revision", "0"}}));
  EXPECT_EQ(body["success"][0]["request_put"]["value"], base64_encode("{}"));
  EXPECT_EQ(body["success"][1]["request_delete_range"]["key"], base64_encode("/p/flycast/x"));
  EXPECT_FALSE(body["success"][1]["request_delete_range"].contains("range_end"));
  EXPECT_TRUE(body["failure"].empty());
}

TEST(EtcdCodec, DecodesAnswersWithOmittedDefaults) {
  // The gateway omits false and zero fields and writes int64 as strings.
  auto failed = decode_txn(json::parse(R"({"header":{"revision":"7"}})"));
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->succeeded);
  EXPECT_EQ(failed->revision, 7);
  auto succeeded = decode_txn(json::parse(R"({"header":{"revision":"8"},"succeeded":true})"));
  ASSERT_TRUE(succeeded);
  EXPECT_TRUE(succeeded->succeeded);

  auto range = decode_range(json::parse(
      R"({"header":{"revision":"9"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"3","version":"2","value":"MQ=="}],"more":true,"count":"5"})"));
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(range->revision, 9);
  EXPECT_TRUE(range->more);
  EXPECT_EQ(range->count, 5);
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(
      range->kvs[0],
      (KeyValue{.key = "a", .value = "1", .create_revision = 2, .mod_revision = 3, .version = 2}));

  for (const char *bad : {R"({"kvs":[]})", R"({"header":{"revision":"x"}})",
                          R"({"header":{"revision":"1"},"kvs":[{"key":"!!"}]})",
                          R"({"header":{"revision":"1"},"kvs":{}})", R"([])"}) {
    auto decoded = decode_range(json::parse(bad));
    ASSERT_FALSE(decoded) << bad;
    EXPECT_EQ(error_kind(decoded.error()), ErrorKind::kProtocol) << bad;
  }
}

TEST(EtcdCodec, CompactionAnswersAreTheirOwnKind) {
  // A range at a compacted revision, as etcd 3.4's gateway answers it.
  const Error range_error = gateway_error(
      "http://e:2379", 400,
      R"({"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11})");
  EXPECT_EQ(error_kind(range_error), ErrorKind::kCompacted);
  // The watch's cancel message for a compacted start revision.
  auto message = decode_watch_message(json::parse(
      R"({"result":{"header":{"cluster_id":"1","raft_term":"2"},"canceled":true,"compact_revision":"2"}})"));
  ASSERT_TRUE(message);
  EXPECT_TRUE(message->canceled);
  EXPECT_EQ(message->compact_revision, 2);
  EXPECT_FALSE(message->is_progress());

  EXPECT_EQ(
      error_kind(gateway_error("u", 503, R"({"error":"etcdserver: leader changed","code":14})")),
      ErrorKind::kUnavailable);
  EXPECT_EQ(error_kind(gateway_error("u", 502, "<html>bad gateway</html>")),
            ErrorKind::kUnavailable);
  EXPECT_EQ(
      error_kind(gateway_error(
          "u", 400, R"({"error":"etcdserver: too many operations in txn request","code":3})")),
      ErrorKind::kRejected);
}

// A realistic watch stream: created, one txn's two events, a progress notification, a
// message whose strings hold braces, quotes and escapes.
std::string sample_stream() {
  const std::string key_a = base64_encode("/p/apps/a"), key_b = base64_encode("/p/apps/b");
  return R"({"result":{"header":{"revision":"5"},"created":true}})"
         "\n"
         R"({"result":{"header":{"revision":"6"},"events":[{"kv":{"key":")" +
         key_a +
         R"(","create_revision":"6","mod_revision":"6","version":"1","value":"e30="}},{"type":"DELETE","kv":{"key":")" +
         key_b +
         R"(","mod_revision":"6"}}]}})"
         "\n"
         R"({"result":{"header":{"revision":"9"}}})"
         "\r\n"
         R"({"result":{"header":{"revision":"9"},"cancel_reason":"a \"}{\" \\ [x"}})"
         "\n";
}

void expect_sample_messages(const std::vector<std::string> &messages) {
  ASSERT_EQ(messages.size(), 4u);
  auto created = decode_watch_message(json::parse(messages[0]));
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->created);
  auto changes = decode_watch_message(json::parse(messages[1]));
  ASSERT_TRUE(changes) << changes.error().message;
  ASSERT_EQ(changes->events.size(), 2u);
  EXPECT_EQ(changes->events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(changes->events[0].kv.key, "/p/apps/a");
  EXPECT_EQ(changes->events[0].kv.value, "{}");
  EXPECT_EQ(changes->events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(changes->events[1].kv.key, "/p/apps/b");
  const auto batches = group_by_revision(changes->events);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].revision, 6);
  auto progress = decode_watch_message(json::parse(messages[2]));
  ASSERT_TRUE(progress);
  EXPECT_TRUE(progress->is_progress());
  EXPECT_EQ(progress->revision, 9);
  auto odd = decode_watch_message(json::parse(messages[3]));
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->cancel_reason, "a \"}{\" \\ [x");
}

TEST(EtcdWatchStream, SplitAtEveryByteOffsetGivesTheSameMessages) {
  const std::string stream = sample_stream();
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    MessageSplitter splitter;
    std::vector<std::string> messages;
    ASSERT_TRUE(splitter.feed(std::string_view(stream).substr(0, cut)));
    while (auto m = splitter.next()) messages.push_back(*m);
    ASSERT_TRUE(splitter.feed(std::string_view(stream).substr(cut)));
    while (auto m = splitter.next()) messages.push_back(*m);
    EXPECT_EQ(splitter.pending_bytes(), 0u);
    expect_sample_messages(messages);
    if (HasFailure()) FAIL() << "cut at byte " << cut;
  }
}

TEST(EtcdWatchStream, OneByteAtATimeAndEveryPairOfCuts) {
  const std::string stream = sample_stream();
  MessageSplitter bytewise;
  std::vector<std::string> messages;
  for (const char c : stream) {
    ASSERT_TRUE(bytewise.feed(std::string_view(&c, 1)));
    while (auto m = bytewise.next()) messages.push_back(*m);
  }
  expect_sample_messages(messages);
  // Three pieces: a message can straddle two reads and a read hold the end of one message
  // and the start of the next.
  for (std::size_t a = 0; a <= stream.size(); a += 7) {
    for (std::size_t b = a; b <= stream.size(); b += 5) {
      MessageSplitter splitter;
      std::vector<std::string> got;
      for (auto piece :
           {std::string_view(stream).substr(0, a), std::string_view(stream).substr(a, b - a),
            std::string_view(stream).substr(b)}) {
        ASSERT_TRUE(splitter.feed(piece));
        while (auto m = splitter.next()) got.push_back(*m);
      }
      ASSERT_EQ(got.size(), 4u) << a << "," << b;
    }
  }
}

TEST(EtcdWatchStream, RefusesGarbageAndUnboundedMessages) {
  MessageSplitter garbage;
  EXPECT_FALSE(garbage.feed("{}x{}"));
  EXPECT_FALSE(garbage.feed("{}")) << "a broken stream stays broken";
  MessageSplitter bounded(1024);
  const auto fed = bounded.feed("{\"a\":\"" + std::string(2000, 'x'));
  ASSERT_FALSE(fed);
  EXPECT_EQ(error_kind(fed.error()), ErrorKind::kProtocol);
}

TEST(EtcdWatchStream, GatewayStreamErrorIsUnavailable) {
  auto message = decode_watch_message(json::parse(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"transport is closing"}})"));
  ASSERT_FALSE(message);
  EXPECT_EQ(error_kind(message.error()), ErrorKind::kUnavailable);
  EXPECT_NE(message.error().message.find("transport is closing"), std::string::npos);
}

TEST(EtcdBackoff, DoublesUpToTheMaxWithJitterInBounds) {
  const Backoff backoff{.initial = std::chrono::milliseconds(100),
                        .max = std::chrono::milliseconds(3000),
                        .jitter = 0.5};
  EXPECT_EQ(nominal_delay(backoff, 0).count(), 100);
  EXPECT_EQ(nominal_delay(backoff, 1).count(), 200);
  EXPECT_EQ(nominal_delay(backoff, 4).count(), 1600);
  EXPECT_EQ(nominal_delay(backoff, 5).count(), 3000);
  EXPECT_EQ(nominal_delay(backoff, 1000).count(), 3000);
  std::mt19937_64 random(12345);
  for (unsigned attempt = 0; attempt < 8; ++attempt) {
    const auto nominal = nominal_delay(backoff, attempt).count();
    std::set<int64_t> seen;
    for (int i = 0; i < 2000; ++i) {
      const auto delay = backoff_delay(backoff, attempt, random).count();
      ASSERT_GE(delay, nominal / 2) << attempt;
      ASSERT_LE(delay, nominal) << attempt;
      seen.insert(delay);
    }
    // Jitter: the delays are spread, so agents that lost etcd together do not retry in step.
    EXPECT_GT(seen.size(), 20u) << attempt;
  }
  const Backoff none{
      .initial = std::chrono::milliseconds(10), .max = std::chrono::milliseconds(10), .jitter = 0};
  EXPECT_EQ(backoff_delay(none, 3, random).count(), 10);
}

TEST(EtcdClientConfig, RefusesHttpsWithoutTlsAndUnreadableFiles) {
  ClientConfig config;
  config.endpoints = {"https://127.0.0.1:2379"};
  auto client = Client::create(config);
  ASSERT_FALSE(client);
  EXPECT_NE(client.error().message.find("https"), std::string::npos);
  config.tls = TlsFiles{.ca_file = "/nonexistent/ca.pem", .cert_file = {}, .key_file = {}};
  client = Client::create(config);
  ASSERT_FALSE(client);
  EXPECT_NE(client.error().message.find("/nonexistent/ca.pem"), std::string::npos);
  config.endpoints = {"nope"};
  EXPECT_FALSE(Client::create(config));
}

}  // namespace
}  // namespace sixguard::etcd
