// fleet_bench: the etcd side of scripts/bench/fleet.sh (DESIGN §6). Modes:
//   publish  --etcd URLS --prefix P --hosts N --objects K
//            writes K objects (1 network, apps, Flycast addresses, machines spread over hosts
//            h1..hN) in transactions of 100 keys; prints {"revision", "seconds"}.
//   sync     --sockets S1,S2,.. --revision R
//            polls every agent's GET /v1/source until its revision >= R; prints each
//            agent's seconds from the start of the mode (the script starts the agents just
//            before).
//   changes  --etcd URLS --prefix P --sockets ... --rate C --seconds T
//            [--publishers N (8)]
//            publishes C key changes per second for T seconds from N threads (each its own
//            Flycast keys put and deleted, 100 per transaction, each value carrying the
//            publisher's timestamp) while polling every agent's revision every 50 ms; then
//            waits for every agent to reach the last revision and prints the lag from a txn
//            being sent to an agent showing its revision (set after the batch's commit and map
//            writes) p50/p99/max; the resolution is the 50 ms pause plus one poll round
//            (poll_round_*_seconds).
// Reports, never fails on timing: exit 1 only on errors.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/source/etcd/client.h"
#include "agent/core/address.h"
#include "agent/cli/api_client.h"
#include "tests/common/event_json.h"
#include "tests/common/clock.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace sixguard;

std::vector<std::string> split(const std::string &text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!part.empty()) parts.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

std::string hex(unsigned value) {
  char text[16];
  std::snprintf(text, sizeof text, "%x", value);
  return text;
}

// GET /v1/source: the source's status without the maps' usage that /v1/status reads.
int64_t revision_of(const ApiClient &client) {
  auto reply = client.request("GET", "/v1/source");
  if (!reply || reply->status != 200) return -1;
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (!body.is_object()) return -1;
  return body.value("revision", int64_t{-1});
}

Result<int64_t> write_batches(etcd::Client &client, const std::vector<etcd::Operation> &ops) {
  int64_t revision = 0;
  for (std::size_t i = 0; i < ops.size(); i += 100) {
    etcd::Txn txn;
    txn.success.assign(ops.begin() + static_cast<std::ptrdiff_t>(i),
                       ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), i + 100)));
    auto answer = client.txn(txn);
    if (!answer) return answer.error();
    revision = answer->revision;
  }
  return revision;
}

// Keys hold addresses in their RFC 5952 form (DESIGN §6 key layout, etcd_keys.h).
std::string canonical(const std::string &address) {
  return parse_ipv6(address).value().str();
}

std::string flycast_value(const std::string &address, double ts) {
  return nlohmann::json{{"type", "flycast.allocated"},
                        {"app", "app-0"},
                        {"address", address},
                        {"network", "net-a"},
                        {"ts", ts}}
      .dump();
}

int publish(etcd::Client &client, const std::string &prefix, int hosts, int objects) {
  std::vector<etcd::Operation> ops;
  ops.push_back(
      etcd::put(prefix + "/networks/acme/net-a",
                R"({"type":"network.created","org":"acme","network":"net-a","id":"a:1"})"));
  ops.push_back(etcd::put(prefix + "/network-ids/000a0001", R"({"org":"acme","network":"net-a"})"));
  const int apps = std::max(1, objects / 10);
  const int machines = std::min(objects * 4 / 10, hosts * 4000);
  const int flycast = std::max(0, objects - 1 - apps - machines);
  for (int i = 0; i < apps; ++i) {
    const std::string app = "app-" + std::to_string(i);
    ops.push_back(etcd::put(
        prefix + "/apps/" + app,
        nlohmann::json{{"type", "app.created"}, {"org", "acme"}, {"app", app}, {"network", "net-a"}}
            .dump()));
  }
  for (int i = 0; i < machines; ++i) {
    const int host = 1 + i % hosts;
    const unsigned id = static_cast<unsigned>(i / hosts);
    const std::string machine = "m-" + std::to_string(i);
    const std::string address = "fdaa:a:1:0:" + hex(static_cast<unsigned>(host)) + ":" +
                                hex(id >> 16) + ":" + hex(id & 0xffff) + ":2";
    ops.push_back(etcd::put(prefix + "/hosts/h" + std::to_string(host) + "/machines/" + machine,
                            test::machine_started("app-" + std::to_string(i % apps), machine,
                                                  address, "fb" + hex(static_cast<unsigned>(i)))
                                .dump()));
  }
  for (int i = 0; i < flycast; ++i) {
    const std::string address = canonical("fdaa:a:1:0:f000:" + hex(static_cast<unsigned>(i) >> 16) +
                                          ":" + hex(static_cast<unsigned>(i) & 0xffff) + ":1");
    ops.push_back(etcd::put(prefix + "/flycast/" + address, flycast_value(address, 0)));
  }
  const auto start = Clock::now();
  auto revision = write_batches(client, ops);
  if (!revision) {
    std::cerr << "publish: " << revision.error().describe() << "\n";
    return 1;
  }
  std::cout << nlohmann::json{{"revision", *revision}, {"objects", ops.size()},
                              {"apps", apps},          {"machines", machines},
                              {"flycast", flycast},    {"seconds", test::seconds_since(start)}}
                   .dump()
            << "\n";
  return 0;
}

int sync(const std::vector<std::string> &sockets, int64_t revision, double timeout) {
  const auto start = Clock::now();
  std::vector<double> reached(sockets.size(), -1);
  std::size_t done = 0;
  while (done < sockets.size() && test::seconds_since(start) < timeout) {
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      if (reached[i] >= 0) continue;
      if (revision_of(ApiClient(sockets[i], 2000)) >= revision) {
        reached[i] = test::seconds_since(start);
        ++done;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  nlohmann::json out = {{"revision", revision}, {"agents", reached}};
  std::cout << out.dump() << "\n";
  return done == sockets.size() ? 0 : 1;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

int changes(etcd::Client &client, const std::string &prefix,
            const std::vector<std::string> &sockets, int rate, int seconds, int publisher_count) {
  // revision -> when its transaction was sent (steady clock, seconds from start).
  std::mutex mutex;
  std::vector<std::pair<int64_t, double>> published;
  // per agent: (time, revision) samples
  std::vector<std::vector<std::pair<double, int64_t>>> samples(sockets.size());
  const auto start = Clock::now();
  std::atomic<bool> polling{true};
  std::vector<double> rounds;  // how long one poll of every agent took: the real resolution
  std::thread poller([&] {
    while (polling) {
      const auto round = Clock::now();
      for (std::size_t i = 0; i < sockets.size(); ++i) {
        const int64_t revision = revision_of(ApiClient(sockets[i], 2000));
        std::lock_guard lock(mutex);
        if (revision >= 0) samples[i].emplace_back(test::seconds_since(start), revision);
      }
      rounds.push_back(test::seconds_since(round));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  // Several publishers, each its own pool of 100 addresses and its share of the rate, over
  // the one client (its kept-alive connections): one thread waiting for each txn's answer
  // could not offer 10k changes/s.
  const int per_txn = 100;
  const int publishers = std::max(1, std::min(publisher_count, 64));
  const auto interval = std::chrono::duration<double>(static_cast<double>(per_txn) * publishers /
                                                      static_cast<double>(rate));
  std::atomic<int64_t> sent{0};
  int64_t last_revision = 0;
  std::string error;
  std::vector<std::thread> threads;
  for (int p = 0; p < publishers; ++p) {
    threads.emplace_back([&, p] {
      bool on = true;  // the pool is put, then deleted, alternately
      auto next = Clock::now();
      while (test::seconds_since(start) < seconds) {
        etcd::Txn txn;
        const double ts =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        for (int k = 0; k < per_txn; ++k) {
          const std::string address = canonical("fdaa:a:1:0:f001:" + hex(static_cast<unsigned>(p)) +
                                                ":" + hex(static_cast<unsigned>(k)) + ":1");
          const std::string key = prefix + "/flycast/" + address;
          txn.success.push_back(on ? etcd::put(key, flycast_value(address, ts)) : etcd::erase(key));
        }
        on = !on;
        const double sent_at =
            test::seconds_since(start);  // the lag counts from before the txn is sent
        auto answer = client.txn(txn);
        {
          std::lock_guard lock(mutex);
          if (!answer) {
            error = answer.error().describe();
            return;
          }
          if (!error.empty()) return;  // another publisher failed
          published.emplace_back(answer->revision, sent_at);
          last_revision = std::max(last_revision, answer->revision);
        }
        sent += per_txn;
        next += std::chrono::duration_cast<Clock::duration>(interval);
        if (next > Clock::now()) std::this_thread::sleep_until(next);
      }
    });
  }
  for (auto &thread : threads) thread.join();
  std::sort(published.begin(), published.end());
  const double publish_seconds = test::seconds_since(start);
  // Every agent reaches the last revision, or 120 s pass.
  while (test::seconds_since(start) < publish_seconds + 120) {
    bool all = true;
    {
      std::lock_guard lock(mutex);  // not held while sleeping: the poller needs it
      for (std::size_t i = 0; i < sockets.size(); ++i) {
        all = all && !samples[i].empty() && samples[i].back().second >= last_revision;
      }
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  polling = false;
  poller.join();

  std::vector<double> lags;
  std::size_t unreached = 0;
  for (const auto &agent : samples) {
    std::size_t s = 0;
    for (const auto &[revision, at] : published) {
      while (s < agent.size() && agent[s].second < revision) ++s;
      if (s == agent.size()) {
        ++unreached;
        continue;
      }
      lags.push_back(std::max(0.0, agent[s].first - at));
    }
  }
  nlohmann::json out = {{"changes_sent", sent.load()},
                        {"publish_seconds", publish_seconds},
                        {"changes_per_second", static_cast<double>(sent.load()) / publish_seconds},
                        {"last_revision", last_revision},
                        {"lag_p50_seconds", percentile(lags, 0.5)},
                        {"lag_p99_seconds", percentile(lags, 0.99)},
                        {"lag_max_seconds", percentile(lags, 1.0)},
                        {"samples", lags.size()},
                        {"unreached", unreached},
                        {"publishers", publishers},
                        {"poll_resolution_seconds", 0.05},
                        {"poll_round_p50_seconds", percentile(rounds, 0.5)},
                        {"poll_round_max_seconds", percentile(rounds, 1.0)}};
  if (!error.empty()) out["error"] = error;
  std::cout << out.dump() << "\n";
  return error.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: fleet_bench publish|sync|changes [--etcd URLS] [--prefix P] ...\n";
    return 2;
  }
  const std::string mode = argv[1];
  std::map<std::string, std::string> args;
  for (int i = 2; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  const auto arg = [&](const std::string &name, const std::string &fallback) {
    const auto it = args.find(name);
    return it == args.end() ? fallback : it->second;
  };
  const std::string prefix = arg("--prefix", "/sixguard/v1");
  const auto sockets = split(arg("--sockets", ""));
  if (mode == "sync") {
    return sync(sockets, std::stoll(arg("--revision", "0")), std::stod(arg("--timeout", "600")));
  }
  etcd::ClientConfig config;
  config.endpoints = split(arg("--etcd", "http://127.0.0.1:2379"));
  auto client = etcd::Client::create(config);
  if (!client) {
    std::cerr << client.error().describe() << "\n";
    return 1;
  }
  if (mode == "publish") {
    return publish(**client, prefix, std::stoi(arg("--hosts", "20")),
                   std::stoi(arg("--objects", "100000")));
  }
  if (mode == "changes") {
    return changes(**client, prefix, sockets, std::stoi(arg("--rate", "10000")),
                   std::stoi(arg("--seconds", "30")), std::stoi(arg("--publishers", "8")));
  }
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
