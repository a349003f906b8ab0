// An etcd v3 client over etcd's JSON gRPC gateway (POST /v3/kv/range, /v3/kv/txn,
// /v3/kv/compaction, /v3/watch as a streamed response), HTTP/1.1 through Boost.Beast, TLS
// through Boost.Asio's OpenSSL stream. No protobuf: the gateway's JSON is documented for
// etcd 3.4 and 3.5.
//
// Failover: every call tries the endpoints in turn, starting with the one that answered
// last; an endpoint that cannot be reached (kUnavailable) hands the call to the next one
// (any member serves the gateway, so a leader change needs nothing more). When a whole round
// fails the client waits backoff_delay(round) and tries again, up to `rounds` rounds. Other
// error kinds end the call at once. Every operation has a deadline: a member that stops
// answering (SIGSTOP, a partition) costs request_timeout, never a hang.
//
// A txn that timed out may still have been applied: sixguard's txns are guarded by the
// revisions they read, so the caller's re-read tells (publish does that).
//
// Connections are kept alive: a call reuses an idle connection to its member (range pages,
// txns), and only a range or compaction that broke on a reused connection is sent again on a
// new one there (a txn is not: it may have been applied).
//
// Thread-safe: concurrent calls each take a connection of their own from the idle ones or a
// new one; the shared state is the idle connections and the index of the endpoint that
// answered last.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/source/etcd/backoff.h"
#include "agent/source/etcd/endpoint.h"
#include "agent/source/etcd/types.h"

namespace sixguard::etcd {

struct TlsFiles {
  std::string ca_file;    // PEM: the CA that signed the members' certificates
  std::string cert_file;  // PEM: the client certificate (empty: none)
  std::string key_file;   // PEM: its key
};

struct ClientConfig {
  std::vector<std::string> endpoints;  // "http://host:port", "https://[::1]:2379"
  std::optional<TlsFiles> tls;         // required by https endpoints
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};  // a whole unary request, connect included
  Backoff backoff;
  unsigned rounds = 3;  // rounds over every endpoint before a call gives up
};

struct WatchRequest {
  std::string key;
  std::string range_end;       // prefix_end(prefix) to watch a prefix
  int64_t start_revision = 0;  // 0: from now
  bool progress_notify = true;
  // With no byte from the member for this long, the client checks that it still answers (a
  // range on another connection within request_timeout): a stopped or partitioned member
  // ends the watch with kUnavailable instead of holding it forever.
  std::chrono::milliseconds idle_check{5000};
};

// Called for every message of the stream; returning false ends the watch (Status ok).
using WatchHandler = std::function<bool(const WatchResponse &)>;

class Client {
 public:
  // Checks the endpoints and loads the TLS files (a missing or bad file is an error here,
  // not at the first request).
  static Result<std::unique_ptr<Client>> create(ClientConfig config);
  ~Client();
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  // One page of a range.
  Result<RangeResponse> range(const RangeRequest &request);
  // Every key under `prefix` at one revision (the current one when revision is 0), page_size
  // keys per request. A revision compacted between pages is kCompacted: list again.
  Result<Snapshot> list_prefix(const std::string &prefix, int64_t page_size = 1000,
                               int64_t revision = 0);
  // The store's current revision.
  Result<int64_t> current_revision();
  Result<TxnResponse> txn(const Txn &txn);
  // Compacts the history up to `revision` (tests, operators).
  Status compact(int64_t revision);

  // Streams the watch until the handler returns false (ok), `stop` is requested (kStopped),
  // the member goes away (kUnavailable) or etcd cancels it: a compacted start revision is
  // kCompacted, with WatchResponse::compact_revision given to the handler first. Tries the
  // endpoints like any call until the watch is created; after that an error ends it and the
  // caller watches again from the revision after the last one it saw.
  Status watch(const WatchRequest &request, const WatchHandler &handler, std::stop_token stop = {});

  const std::vector<Endpoint> &endpoints() const { return endpoints_; }

 private:
  struct Transport;
  Client(ClientConfig config, std::vector<Endpoint> endpoints,
         std::unique_ptr<Transport> transport);

  // A unary POST with failover; returns the parsed JSON body of a 200.
  template <typename T, typename Decode>
  Result<T> call(const char *path, const std::string &body, bool idempotent, Decode decode);

  ClientConfig config_;
  std::vector<Endpoint> endpoints_;
  std::unique_ptr<Transport> transport_;
  std::atomic<std::size_t> preferred_{0};
};

}  // namespace sixguard::etcd
