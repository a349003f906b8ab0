// drift_bench (scripts/bench.sh drift): the drift checker of DESIGN §5 at scale, on the real
// pinned maps of a loaded datapath and the real control plane (state.db in a temporary
// directory): N machines (default 256k; their interfaces are names resolved to made-up
// ifindexes, which is all sg_machines needs) and M Flycast addresses (default 1M). Reports:
//   - the time of a check with no drift (snapshot, read every map, compare, nothing to write);
//   - the longest time a check holds the control-plane lock, as the checker measures it, and
//     as a batch sees it: the slowest single-event batch applied from another thread while
//     checks run;
//   - the time to detect and repair one changed entry (an sg_machines network_id edited in
//     the kernel before a check; in the agent, detection waits for the next interval too).
// Reports only; fails on errors, never on timing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "agent/control/control_plane.h"
#include "agent/datapath/datapath.h"
#include "agent/daemon/drift_checker.h"
#include "agent/datapath/pinned_map_backend.h"
#include "tests/common/event_json.h"
#include "tests/common/clock.h"

namespace sixguard {
namespace {

using Clock = std::chrono::steady_clock;
using test::seconds_since;

struct Options {
  uint32_t machines = 262144;
  uint32_t flycast = 1048576;
  uint32_t networks = 1024;
  int checks = 3;
  std::string bpffs = "/sys/fs/bpf";
  std::string pin_subdir = "sg-drift-bench";
  std::string json;
};

class NameResolver final : public InterfaceResolver {
 public:
  // "m<k>" resolves to ifindex k + 1: every machine's interface exists.
  std::optional<uint32_t> ifindex(const std::string &name) override {
    if (name.size() < 2 || name[0] != 'm') return std::nullopt;
    return static_cast<uint32_t>(std::stoul(name.substr(1)) + 1);
  }
};

class QuietObserver final : public ControlObserver {
 public:
  void event_result(std::string_view, std::string_view) override {}
  void apply_duration(double) override {}
  void reconciled(bool) override {}
};

std::string hex16(uint32_t value) {
  char text[8];
  std::snprintf(text, sizeof(text), "%x", value & 0xffff);
  return text;
}

// Network i: id 0x00100000 + i, in org "bench".
uint32_t network_id_of(uint32_t i) {
  return 0x00100000u + i;
}
std::string network_prefix(uint32_t i) {  // "fdaa:HI:LO"
  const uint32_t id = network_id_of(i);
  return "fdaa:" + hex16(id >> 16) + ":" + hex16(id);
}

Status apply_all(ControlPlane &control, const std::vector<std::string> &lines) {
  constexpr std::size_t kBatch = 10000;
  for (std::size_t first = 0; first < lines.size(); first += kBatch) {
    std::string body;
    for (std::size_t i = first; i < std::min(lines.size(), first + kBatch); ++i) {
      body += lines[i];
      body += '\n';
    }
    const ApplyResult result = control.apply(body);
    if (result.error)
      return make_error("batch at " + std::to_string(first) + ": " + result.error->message);
  }
  return {};
}

int run(const Options &options) {
  char dir_template[] = "/tmp/sg-drift-bench-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string work = dir_template;

  DatapathOptions datapath_options;
  datapath_options.bpffs = options.bpffs;
  datapath_options.pin_subdir = options.pin_subdir;
  datapath_options.sizes.machines = options.machines + 1024;
  datapath_options.sizes.flycast = options.flycast + 1024;
  datapath_options.sizes.net_flags = options.networks + 1024;
  auto datapath = Datapath::load(datapath_options);
  if (!datapath) {
    std::fprintf(stderr, "load: %s\n", datapath.error().describe().c_str());
    return 1;
  }
  // Only our own pins (nothing is attached): never uninstall_datapath, which walks every
  // interface of the namespace.
  struct Unpin {
    std::string pin_dir;
    ~Unpin() {
      std::error_code ec;
      std::filesystem::remove_all(pin_dir, ec);
    }
  } unpin{(*datapath)->pin_dir()};
  PinnedMapBackend backend((*datapath)->maps());
  NameResolver resolver;
  QuietObserver observer;
  ControlConfig config;
  config.state_dir = work + "/state";
  config.infra_prefixes = {*parse_ipv6_prefix("fdaa::3/128")};
  auto control = ControlPlane::open(config, backend, resolver, observer);
  if (!control) {
    std::fprintf(stderr, "open: %s\n", control.error().describe().c_str());
    return 1;
  }
  if (auto status = (*control)->reconcile(); !status) {
    std::fprintf(stderr, "reconcile: %s\n", status.error().describe().c_str());
    return 1;
  }

  // The state: networks with one app each, machines and Flycast addresses spread over them.
  std::vector<std::string> lines;
  for (uint32_t i = 0; i < options.networks; ++i) {
    lines.push_back(nlohmann::json{{"type", "network.created"},
                                   {"org", "bench"},
                                   {"network", "n" + std::to_string(i)},
                                   {"id", network_id_of(i)}}
                        .dump());
    lines.push_back(nlohmann::json{{"type", "app.created"},
                                   {"org", "bench"},
                                   {"app", "a" + std::to_string(i)},
                                   {"network", "n" + std::to_string(i)}}
                        .dump());
  }
  for (uint32_t k = 0; k < options.machines; ++k) {
    const uint32_t net = k % options.networks;
    lines.push_back(test::machine_started(
                        "a" + std::to_string(net), "m" + std::to_string(k),
                        network_prefix(net) + ":0:1:" + hex16(k >> 16) + ":" + hex16(k) + ":2",
                        "m" + std::to_string(k))
                        .dump());
  }
  for (uint32_t k = 0; k < options.flycast; ++k) {
    const uint32_t net = k % options.networks;
    const uint32_t target = (k / options.networks) % options.networks;
    lines.push_back(nlohmann::json{
        {"type", "flycast.allocated"},
        {"app", "a" + std::to_string(target)},
        {"address", network_prefix(net) + ":f:0:" + hex16(k >> 16) + ":" + hex16(k) + ":1"},
        {"network", "n" + std::to_string(net)}}
                        .dump());
  }
  const auto fill_start = Clock::now();
  if (auto status = apply_all(**control, lines); !status) {
    std::fprintf(stderr, "filling the state: %s\n", status.error().describe().c_str());
    return 1;
  }
  lines.clear();
  lines.shrink_to_fit();
  const double fill_seconds = seconds_since(fill_start);
  std::printf("drift: %u machines, %u flycast, %u networks in state and maps (filled in %.1f s)\n",
              options.machines, options.flycast, options.networks, fill_seconds);

  prometheus::Registry registry;
  exporter::DriftMetrics metrics(registry);
  daemon::DriftChecker checker(**control, backend, metrics);

  // Clean checks, with a thread applying single-event batches meanwhile (each one waits for
  // the lock whenever the checker holds it).
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches{0};
  double slowest_batch = 0;
  std::thread writer([&] {
    uint64_t i = 0;
    while (!stop.load()) {
      const std::string body = nlohmann::json{{"type", "network.mode"},
                                              {"org", "bench"},
                                              {"network", "n0"},
                                              {"mode", (i++ % 2) ? "enforce" : "audit"}}
                                   .dump();
      const auto start = Clock::now();
      const ApplyResult result = (*control)->apply(body);
      slowest_batch = std::max(slowest_batch, seconds_since(start));
      if (result.error) std::fprintf(stderr, "batch: %s\n", result.error->message.c_str());
      ++batches;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<double> check_seconds, lock_seconds;
  uint64_t deferred = 0;
  for (int i = 0; i < options.checks; ++i) {
    auto record = checker.begin("bench");
    const auto start = Clock::now();
    checker.check_maps(record);
    check_seconds.push_back(seconds_since(start));
    lock_seconds.push_back(record.longest_lock_seconds);
    deferred += record.maps_deferred;
    if (!record.errors.empty()) {
      std::fprintf(stderr, "check: %s\n", record.errors.front().c_str());
      stop = true;
      writer.join();
      return 1;
    }
    checker.finish(std::move(record));
  }

  // One changed entry: machine 12345's network_id edited in the kernel, then one check, with
  // the batches still going (they touch other keys: the repair is not deferred).
  const uint32_t ifindex = std::min<uint32_t>(12345, options.machines - 1) + 1;
  auto &machines = (*datapath)->maps().machines;
  auto original = machines.lookup(ifindex);
  if (!original || !*original) {
    std::fprintf(stderr, "machine entry %u absent\n", ifindex);
    return 1;
  }
  sg_machine edited = **original;
  edited.network_id ^= 0x00ff0000;
  if (auto status = machines.update(ifindex, edited); !status) {
    std::fprintf(stderr, "edit: %s\n", status.error().describe().c_str());
    return 1;
  }
  auto record = checker.begin("bench");
  const auto repair_start = Clock::now();
  checker.check_maps(record);
  const double repair_seconds = seconds_since(repair_start);
  const double repair_lock = record.longest_lock_seconds;
  const uint64_t repaired = record.repairs["machines"];
  checker.finish(std::move(record));
  stop = true;
  writer.join();
  auto after = machines.lookup(ifindex);
  const bool restored =
      after && *after && std::memcmp(&**after, &**original, sizeof(sg_machine)) == 0;
  if (repaired != 1 || !restored) {
    stop = true;
    std::fprintf(stderr, "the changed entry was not repaired (repairs %llu)\n",
                 static_cast<unsigned long long>(repaired));
    return 1;
  }

  auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  const double longest_lock = *std::max_element(lock_seconds.begin(), lock_seconds.end());
  std::printf("%-58s %10s\n", "drift check", "value");
  std::printf("%-58s %8.3f s\n", "check, no drift (median of checks)", median(check_seconds));
  std::printf("%-58s %8.3f s\n", "longest control-plane lock hold (checker's measure)",
              longest_lock);
  std::printf("%-58s %8.3f s\n", "slowest single-event batch during the checks", slowest_batch);
  std::printf("%-58s %8.3f s\n", "detect and repair one changed entry (one check)", repair_seconds);
  std::printf("%-58s %8.3f s\n", "  of which lock held", repair_lock);
  std::printf(
      "(%llu single-event batches ran during the %d checks and the repair; %llu difference(s) "
      "deferred; detection in the agent also waits up to one drift_check_interval)\n",
      static_cast<unsigned long long>(batches.load()), options.checks + 1,
      static_cast<unsigned long long>(deferred));

  if (!options.json.empty()) {
    nlohmann::json out = {{"machines", options.machines},
                          {"flycast", options.flycast},
                          {"networks", options.networks},
                          {"fill_seconds", fill_seconds},
                          {"check_seconds", check_seconds},
                          {"check_lock_seconds", lock_seconds},
                          {"longest_lock_seconds", longest_lock},
                          {"slowest_batch_during_checks_seconds", slowest_batch},
                          {"batches_during_checks", batches.load()},
                          {"differences_deferred", deferred},
                          {"detect_and_repair_one_entry_seconds", repair_seconds},
                          {"detect_and_repair_lock_seconds", repair_lock}};
    std::ofstream(options.json) << out.dump(2) << "\n";
  }
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  return 0;
}

}  // namespace
}  // namespace sixguard

int main(int argc, char **argv) {
  sixguard::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--machines") {
      options.machines = static_cast<uint32_t>(std::stoul(next()));
    } else if (arg == "--flycast") {
      options.flycast = static_cast<uint32_t>(std::stoul(next()));
    } else if (arg == "--networks") {
      options.networks = static_cast<uint32_t>(std::stoul(next()));
    } else if (arg == "--checks") {
      options.checks = std::stoi(next());
    } else if (arg == "--pin-subdir") {
      options.pin_subdir = next();
    } else if (arg == "--json") {
      options.json = next();
    } else {
      std::fprintf(stderr,
                   "usage: drift_bench [--machines N] [--flycast N] [--networks N] [--checks N] "
                   "[--pin-subdir NAME] [--json FILE]\n");
      return 2;
    }
  }
  if (options.machines == 0 || options.networks == 0 || options.checks <= 0) {
    std::fprintf(stderr, "machines, networks and checks must be positive\n");
    return 2;
  }
  return sixguard::run(options);
}
