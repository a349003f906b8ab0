#include "agent/source/etcd/client.h"

#include <mutex>
#include <random>
#include <thread>

#include "agent/source/etcd/http_transport.h"
#include "agent/source/etcd/json_codec.h"
#include "agent/source/etcd/message_splitter.h"

namespace sixguard::etcd {

struct Client::Transport {
  std::unique_ptr<HttpTransport> http;
  std::mutex random_mutex;
  std::mt19937_64 random{std::random_device{}()};

  // The wait before round (> 0) over the endpoints: concurrent calls share the generator.
  std::chrono::milliseconds round_delay(const Backoff &backoff, unsigned round) {
    std::lock_guard lock(random_mutex);
    return backoff_delay(backoff, round - 1, random);
  }
};

namespace {

// A count-only range of one key: the answer's header carries the store's revision.
RangeRequest revision_probe() {
  RangeRequest request;
  request.key = std::string(1, '\0');
  request.count_only = true;
  return request;
}

bool retryable(const Error &error) {
  return error_kind(error) == ErrorKind::kUnavailable;
}

// A reply with a status other than 200 is the gateway's error: one error path for both.
Result<HttpReply> answered(const Endpoint &endpoint, Result<HttpReply> reply) {
  if (reply && reply->status != 200) return gateway_error(endpoint.url, reply->status, reply->body);
  return reply;
}

// The error once every round over every endpoint failed: the last one, with the count.
Error exhausted(Error last, const char *what, std::size_t endpoints, unsigned rounds) {
  last.message = std::string("no etcd endpoint ") + what + " (" + std::to_string(endpoints) +
                 " endpoints, " + std::to_string(rounds) + " rounds); last: " + last.message;
  return last;
}

Result<nlohmann::json> parse_body(const Endpoint &endpoint, const std::string &body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    return make_error("etcd at " + endpoint.url + " answered with a body that is not JSON",
                      kProtocolCode);
  }
  return parsed;
}

}  // namespace

Client::Client(ClientConfig config, std::vector<Endpoint> endpoints,
               std::unique_ptr<Transport> transport)
    : config_(std::move(config)),
      endpoints_(std::move(endpoints)),
      transport_(std::move(transport)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(ClientConfig config) {
  std::vector<Endpoint> endpoints;
  for (const auto &url : config.endpoints) {
    auto parsed = parse_endpoints(url);  // an item may itself be a comma-separated list
    if (!parsed) return parsed.error();
    for (auto &endpoint : *parsed) {
      if (endpoint.tls && !config.tls) {
        return make_error("etcd endpoint " + endpoint.url +
                          " is https: give the CA (and client certificate)");
      }
      endpoints.push_back(std::move(endpoint));
    }
  }
  if (endpoints.empty()) return make_error("no etcd endpoint given");
  if (config.rounds == 0) config.rounds = 1;
  auto http = HttpTransport::create(config.tls);
  if (!http) return http.error();
  auto transport = std::make_unique<Transport>();
  transport->http = std::move(*http);
  return std::unique_ptr<Client>(
      new Client(std::move(config), std::move(endpoints), std::move(transport)));
}

template <typename T, typename Decode>
Result<T> Client::call(const char *path, const std::string &body, bool idempotent, Decode decode) {
  std::optional<Error> last;
  for (unsigned round = 0; round < config_.rounds; ++round) {
    if (round > 0) std::this_thread::sleep_for(transport_->round_delay(config_.backoff, round));
    const std::size_t first = preferred_.load();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      const std::size_t index = (first + i) % endpoints_.size();
      const auto &endpoint = endpoints_[index];
      auto reply = answered(
          endpoint, transport_->http->post(endpoint, path, body, idempotent,
                                           config_.connect_timeout, config_.request_timeout));
      if (!reply) {
        if (!retryable(reply.error())) return reply.error();
        last = reply.error();
        continue;
      }
      auto json = parse_body(endpoint, reply->body);
      if (!json) return json.error();
      preferred_.store(index);
      return decode(*json);
    }
  }
  return exhausted(*last, "answered", endpoints_.size(), config_.rounds);
}

Result<RangeResponse> Client::range(const RangeRequest &request) {
  return call<RangeResponse>("/v3/kv/range", encode_range(request), true,
                             [](const nlohmann::json &body) { return decode_range(body); });
}

Result<Snapshot> Client::list_prefix(const std::string &prefix, int64_t page_size,
                                     int64_t revision) {
  Snapshot snapshot;
  snapshot.revision = revision;
  RangeRequest request{
      .key = prefix, .range_end = prefix_end(prefix), .limit = page_size, .revision = revision};
  while (true) {
    auto page = range(request);
    if (!page) return page.error();
    // The first page fixes the revision; every later page is read at it.
    if (request.revision == 0) {
      request.revision = page->revision;
      snapshot.revision = page->revision;
    }
    const bool more = page->more && !page->kvs.empty();
    std::string last_key = page->kvs.empty() ? std::string() : page->kvs.back().key;
    for (auto &kv : page->kvs) snapshot.kvs.push_back(std::move(kv));
    if (!more) break;
    request.key = last_key + std::string(1, '\0');  // the next key after the last one read
  }
  return snapshot;
}

Result<int64_t> Client::current_revision() {
  auto response = range(revision_probe());
  if (!response) return response.error();
  return response->revision;
}

Result<TxnResponse> Client::txn(const Txn &txn) {
  return call<TxnResponse>("/v3/kv/txn", encode_txn(txn), false,
                           [](const nlohmann::json &body) { return decode_txn(body); });
}

Status Client::compact(int64_t revision) {
  auto done = call<bool>("/v3/kv/compaction", encode_compaction(revision), true,
                         [](const nlohmann::json &) -> Result<bool> { return true; });
  if (!done) return done.error();
  return {};
}

Status Client::watch(const WatchRequest &request, const WatchHandler &handler,
                     std::stop_token stop) {
  const std::string body = encode_watch_create(request);
  std::optional<Error> last;
  for (unsigned round = 0; round < config_.rounds; ++round) {
    if (round > 0) {
      // Interruptible: a stop during the wait ends the watch at once.
      const auto until =
          std::chrono::steady_clock::now() + transport_->round_delay(config_.backoff, round);
      while (std::chrono::steady_clock::now() < until && !stop.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    const std::size_t first = preferred_.load();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      if (stop.stop_requested()) return make_error("etcd watch stopped", kStoppedCode);
      const std::size_t index = (first + i) % endpoints_.size();
      const auto &endpoint = endpoints_[index];
      MessageSplitter splitter;
      bool created = false;
      std::optional<Error> stream_error;  // set by the byte handler: ends the stream
      StreamCallbacks callbacks;
      callbacks.on_bytes = [&](std::string_view bytes) -> bool {
        if (auto fed = splitter.feed(bytes); !fed) {
          stream_error = fed.error();
          return false;
        }
        while (auto text = splitter.next()) {
          auto json = parse_body(endpoint, *text);
          if (!json) {
            stream_error = json.error();
            return false;
          }
          auto message = decode_watch_message(*json);
          if (!message) {
            stream_error = message.error();
            return false;
          }
          if (message->created) created = true;
          message->more_buffered = splitter.has_next();
          const bool keep_going = handler(*message);
          if (message->canceled) {
            if (message->compact_revision > 0) {
              stream_error =
                  make_error("etcd watch from revision " + std::to_string(request.start_revision) +
                                 ": compacted (the oldest revision kept is " +
                                 std::to_string(message->compact_revision) + "): list again",
                             kCompactedCode);
            } else {
              stream_error =
                  make_error("etcd canceled the watch: " + (message->cancel_reason.empty()
                                                                ? std::string("no reason given")
                                                                : message->cancel_reason),
                             kRejectedCode);
            }
            return false;
          }
          if (!keep_going) return false;
        }
        return true;
      };
      // A silent member is asked, on another connection, whether it still answers.
      callbacks.on_idle = [&]() -> Status {
        auto reply = answered(
            endpoint,
            transport_->http->post(endpoint, "/v3/kv/range", encode_range(revision_probe()), true,
                                   config_.connect_timeout, config_.request_timeout));
        if (!reply) return reply.error();
        return {};
      };
      auto reply =
          answered(endpoint, transport_->http->post_stream(
                                 endpoint, "/v3/watch", body, config_.connect_timeout,
                                 config_.request_timeout, request.idle_check, callbacks, stop));
      if (stream_error) return *stream_error;
      if (!reply) {
        // Once the watch existed, a broken stream is the caller's to resume (from the
        // revision it has seen); before that, the next endpoint is tried. A non-200 answer's
        // body never reaches on_bytes, so `created` is false for it.
        if (created || !retryable(reply.error())) return reply.error();
        last = reply.error();
        continue;
      }
      preferred_.store(index);
      return {};  // the handler ended it
    }
  }
  return exhausted(*last, "accepted the watch", endpoints_.size(), config_.rounds);
}

}  // namespace sixguard::etcd
