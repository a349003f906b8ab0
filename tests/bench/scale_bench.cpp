// scale_bench: does the per-packet cost of sixguard's lookups stay flat as the maps fill? The
// flycast and cross-network paths of machine_egress (XDP) and uplink (TC) are measured with
// BPF_PROG_TEST_RUN (as datapath_bench does: thread CPU time over `repeat` runs, median of
// trials, one pinned CPU) while sg_flycast holds 1, 1k, 100k and 1M entries, with 10k networks
// (as sg_net_flags entries and as the networks of the other entries) and 1k machines
// (--machines: 64k for issue 14's scale; each in sg_machines and its owner slot, as the agent
// writes them) in the maps. Each level is also compared with the floor of
// a program that only returns, measured at the same level. The memory each map costs per entry
// comes from the kernel's own accounting (/proc/self/fdinfo's memlock, which for these maps follows
// the element count).
//
// Limitation: a test run repeats one packet, so the bucket it hits stays in cache; this shows
// that the work per lookup does not grow with the map (O(1) by construction), not the cache
// misses of a live mix of destinations spread over a 1M-entry table.
//
// The measuring thread runs SCHED_FIFO (--rt-priority) so that other work on a shared
// machine does not preempt it in the middle of a run; each level is measured in every one of
// --rounds rounds (fill 1 -> 1M, empty, again) and the median round is reported.
//
//   scale_bench [--repeat N] [--trials T] [--rounds R] [--cpu C] [--rt-priority P]
//               [--json PATH] [--ns-prefix P]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_baseline.skel.h"
#include "tests/bpf/datapath_harness.h"
#include "tests/bpf/test_run.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/kernel_bench.h"
#include "tests/common/kernel_test.h"
#include "tests/bench/live_system.h"
#include "tests/common/netns.h"
#include "agent/core/packet_builder.h"
#include "tests/common/clock.h"

namespace sixguard::bench {
namespace {

using test::load_average;
using test::thread_cpu_ns;
using test::utc_now;

using bpftest::Program;

constexpr uint32_t kDefaultMachines = 1'000;
constexpr uint32_t kMaxMachines = 1u << 20;

struct Options {
  uint32_t repeat = 2'000'000;
  int trials = 5;
  int rounds = 3;
  int rt_priority = 50;  // SCHED_FIFO for the measuring thread; 0: SCHED_OTHER
  int cpu = -1;
  std::string json_path;
  std::string ns_prefix = "sg-h7-scale-";
  uint32_t machines = kDefaultMachines;  // sg_machines entries (issue 14: flat from 1 to 64k)
};

constexpr uint32_t kNetworks = 10'000;
constexpr uint32_t kFlycastLevels[] = {1, 1'000, 100'000, 1'000'000};
constexpr uint32_t kFlycastCapacity = 1u << 20;  // 1,048,576 >= 1M
constexpr uint32_t kNetA = 0x0002045b, kNetB = 0x00030001;
constexpr uint32_t kAppM1 = 100;
// Bulk entries live on networks 0x00100000 + i: never A, B or the infrastructure network 0.
constexpr uint32_t kBulkNetBase = 0x00100000;

Ipv6 ip(const char *text) {
  return *parse_ipv6(text);
}

// The i-th bulk Flycast address: fdaa:<net>:f1c:<i high>:<i low>::1 on network i % 10k.
sg_in6 bulk_flycast_address(uint32_t i) {
  const uint32_t net = kBulkNetBase + i % kNetworks;
  sg_in6 a{};
  const uint16_t words[8] = {0xfdaa,
                             static_cast<uint16_t>(net >> 16),
                             static_cast<uint16_t>(net),
                             0x0f1c,
                             static_cast<uint16_t>(i >> 16),
                             static_cast<uint16_t>(i),
                             0,
                             1};
  for (int w = 0; w < 8; ++w) {
    a.octets[2 * w] = static_cast<uint8_t>(words[w] >> 8);
    a.octets[2 * w + 1] = static_cast<uint8_t>(words[w]);
  }
  return a;
}

struct Case {
  std::string hook, path;
  Program program;
  // Run in turn, each for repeat / size runs: a miss walks the whole hash bucket, whose length
  // depends on the key, so the cross-network paths average over several destinations.
  std::vector<std::vector<uint8_t>> packets;
  uint32_t expected;  // the program's return value
};

std::vector<Case> cases() {
  const Ipv6 m1 = ip("fdaa:2:45b:a7b:174:db43:d3c6:2");  // machine M1, network A
  const Ipv6 fc_to_m1 = ip("fdaa:3:1:f1c::2");           // into B, target app 100 (A)
  const auto udp = [](const Ipv6 &s, const Ipv6 &d) {
    return PacketBuilder().ethernet().ipv6(s, d).udp(40000, 53).payload(64).build();
  };
  // Eight addresses on network B (never Flycast, never infrastructure).
  std::vector<std::vector<uint8_t>> egress_cross, uplink_cross;
  for (int k = 0; k < 8; ++k) {
    const Ipv6 b = ip(("fdaa:3:1:a7b:174:db43:" + std::to_string(k + 1) + ":2").c_str());
    egress_cross.push_back(udp(m1, b));
    uplink_cross.push_back(udp(b, m1));
  }
  return {
      {"machine_egress", "flycast", Program::kMachineEgress, {udp(m1, fc_to_m1)}, XDP_PASS},
      {"machine_egress", "cross_network", Program::kMachineEgress, egress_cross, XDP_DROP},
      {"uplink",
       "flycast",
       Program::kUplink,
       {udp(m1, fc_to_m1)},
       static_cast<uint32_t>(TC_ACT_UNSPEC)},
      {"uplink", "cross_network", Program::kUplink, uplink_cross, TC_ACT_SHOT},
  };
}

// Median over trials of thread CPU ns per run of prog on packet.
Result<double> measure(int prog_fd, bool xdp, const std::vector<std::vector<uint8_t>> &packets,
                       uint32_t ifindex, const Options &o, uint32_t expected) {
  std::vector<double> trials;
  const uint32_t repeat = std::max<uint32_t>(1, o.repeat / packets.size());
  for (int trial = 0; trial < o.trials; ++trial) {
    uint64_t elapsed = 0;
    for (const auto &packet : packets) {
      bpftest::TestRun test_run(xdp ? bpftest::HookType::kXdp : bpftest::HookType::kTc, packet,
                                ifindex, repeat);
      const uint64_t start = thread_cpu_ns();
      const Status ran = test_run.run_expecting(prog_fd, expected);
      elapsed += thread_cpu_ns() - start;
      if (!ran) return ran.error();
    }
    trials.push_back(static_cast<double>(elapsed) / (static_cast<double>(repeat) * packets.size()));
  }
  std::sort(trials.begin(), trials.end());
  return trials[trials.size() / 2];
}

// The kernel's memory accounting of a map: "memlock:" in /proc/self/fdinfo/<fd>.
Result<uint64_t> map_memlock(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key;
  while (in >> key) {
    if (key == "memlock:") {
      uint64_t bytes = 0;
      in >> bytes;
      return bytes;
    }
    in.ignore(1 << 20, '\n');
  }
  return make_error("no memlock in fdinfo of map fd " + std::to_string(fd));
}

// Inserts keys[i], values[i] with BPF_MAP_UPDATE_BATCH, in chunks.
template <typename K, typename V>
Status update_batch(int fd, std::vector<K> &keys, std::vector<V> &values) {
  constexpr std::size_t kChunk = 10'000;
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
  for (std::size_t at = 0; at < keys.size(); at += kChunk) {
    uint32_t count = static_cast<uint32_t>(std::min(kChunk, keys.size() - at));
    if (int err = bpf_map_update_batch(fd, &keys[at], &values[at], &count, &opts); err != 0) {
      return make_error("BPF_MAP_UPDATE_BATCH at " + std::to_string(at), -err);
    }
  }
  return {};
}

// Deletes keys with BPF_MAP_DELETE_BATCH, in chunks.
template <typename K>
Status delete_batch(int fd, std::vector<K> &keys) {
  constexpr std::size_t kChunk = 10'000;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (std::size_t at = 0; at < keys.size(); at += kChunk) {
    uint32_t count = static_cast<uint32_t>(std::min(kChunk, keys.size() - at));
    if (int err = bpf_map_delete_batch(fd, &keys[at], &count, &opts); err != 0) {
      return make_error("BPF_MAP_DELETE_BATCH at " + std::to_string(at), -err);
    }
  }
  return {};
}

struct Level {
  uint32_t flycast_entries = 0;
  std::vector<double> ns;        // per case
  std::vector<double> floor_ns;  // per case (XDP_PASS or TC_ACT_OK)
  uint64_t flycast_memlock = 0;
};

Result<Options> parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") {
      std::cout << "scale_bench [--repeat N (2000000)] [--trials T (5)] [--rounds R (3)] [--cpu C]"
                   " [--rt-priority P (50; 0: SCHED_OTHER)] [--json PATH] [--ns-prefix P]"
                   " [--machines M (1000)]\n";
      std::exit(0);
    }
    if (i + 1 >= argc) return make_error(arg + " needs a value", EINVAL);
    const std::string value = argv[++i];
    if (arg == "--repeat") {
      o.repeat = static_cast<uint32_t>(std::stoul(value));
    } else if (arg == "--trials") {
      o.trials = std::stoi(value);
    } else if (arg == "--rounds") {
      o.rounds = std::stoi(value);
    } else if (arg == "--rt-priority") {
      o.rt_priority = std::stoi(value);
    } else if (arg == "--cpu") {
      o.cpu = std::stoi(value);
    } else if (arg == "--json") {
      o.json_path = value;
    } else if (arg == "--ns-prefix") {
      o.ns_prefix = value;
    } else if (arg == "--machines") {
      o.machines = static_cast<uint32_t>(std::stoul(value));
    } else {
      return make_error("unknown argument " + arg, EINVAL);
    }
  }
  if (o.repeat == 0 || o.trials < 1 || o.rounds < 1) {
    return make_error("--repeat, --trials and --rounds >= 1", EINVAL);
  }
  if (o.machines < 1 || o.machines > kMaxMachines) {
    return make_error("--machines: 1 to " + std::to_string(kMaxMachines), EINVAL);
  }
  if (o.cpu < 0) {
    auto cpus = two_cpus();
    o.cpu = cpus ? cpus->first : 0;
  }
  return o;
}

int run(int argc, char **argv) {
  auto options = parse(argc, argv);
  if (auto status = cannot_start("scale_bench", options)) return *status;
  const std::string load_before = load_average();
  const std::string started = utc_now();
  auto ns = test::NetNs::create(options->ns_prefix);
  if (!ns) return cannot_run("scale_bench", ns.error());
  const std::string interface = "h7m" + std::to_string(::getpid());
  if (auto added = ns->ip({"link", "add", interface, "type", "veth", "peer", "name", "h7p"});
      !added) {
    return cannot_run("scale_bench", added.error());
  }
  (void)ns->ip({"link", "set", interface, "up"});
  auto ifindex = ns->ifindex(interface);
  if (!ifindex) return cannot_run("scale_bench", ifindex.error());

  auto ran = ns->run([&]() -> Status {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options->cpu, &set);
    if (::sched_setaffinity(0, sizeof(set), &set) != 0) return errno_error("sched_setaffinity");
    if (auto rt = set_realtime(0, options->rt_priority); !rt) return rt;
    bpftest::MapSizes sizes;
    sizes.machines = 2 * options->machines;
    sizes.flycast = kFlycastCapacity;
    sizes.net_flags = 2 * kNetworks;
    auto dp = bpftest::Datapath::load(sizes);
    if (!dp) return dp.error();
    std::unique_ptr<bench_baseline, void (*)(bench_baseline *)> baseline(
        bench_baseline__open_and_load(), bench_baseline__destroy);
    if (!baseline) return errno_error("load bench_baseline");
    const int xdp_pass = bpf_program__fd(baseline->progs.bench_xdp_pass);
    const int tc_ok = bpf_program__fd(baseline->progs.bench_tc_ok);
    bpf_object *obj = (*dp)->object();
    const int flycast_fd = bpf_object__find_map_fd_by_name(obj, SG_MAP_FLYCAST);
    const int machines_fd = bpf_object__find_map_fd_by_name(obj, SG_MAP_MACHINES);
    const int net_flags_fd = bpf_object__find_map_fd_by_name(obj, SG_MAP_NET_FLAGS);
    if (flycast_fd < 0 || machines_fd < 0 || net_flags_fd < 0) return make_error("maps missing");

    // The policy: the agent's defaults (fdaa::3 infrastructure, events 100/s), machine M1 on
    // the interface, 999 more machines and 10k networks flagged audit (none of them A or B).
    sg_config config{};
    config.infra_net_count = 1;
    config.flags = SG_CFG_NET_AUDIT_ANY;  // the 10k audit networks are consulted on drops
    config.events_per_sec = 100;
    config.events_burst = 200;
    if (auto s = (*dp)->write_config(config); !s) return s;
    if (auto s = (*dp)->put_infra(*parse_ipv6_prefix("fdaa::3/128")); !s) return s;
    sg_machine m1{};
    m1.prefix = machine_prefix(ip("fdaa:2:45b:a7b:174:db43:d3c6:2")).raw();
    m1.app_id = kAppM1;
    m1.network_id = kNetA;
    // fdaa:3:1:f1c::2 targets M1's app: the agent flags it, or the programs skip the Flycast
    // lookup and the flycast path is a cross-network drop.
    m1.flags = SG_MACHINE_FLYCAST_TARGET;
    if (auto s = (*dp)->put_machine(static_cast<uint32_t>(*ifindex), m1); !s) return s;
    std::vector<uint32_t> machine_keys;
    std::vector<sg_machine> machine_values;
    for (uint32_t i = 1; i < options->machines; ++i) {
      sg_machine m{};
      const uint32_t net = kBulkNetBase + i % kNetworks;
      // A /112 on the machine's network: the bulk address layout with the free bits zeroed.
      m.prefix = bulk_flycast_address(i);
      m.prefix.octets[6] = 0x0a;  // host id "a7b.." instead of Flycast's f1c
      m.prefix.octets[14] = m.prefix.octets[15] = 0;
      m.app_id = 1000 + i;
      m.network_id = net;
      m.flags = SG_MACHINE_FLYCAST_TARGET;  // bulk Flycast entries target every bulk app at 1M
      // Interfaces that only exist in the maps, numbered on from M1's as a host numbers its
      // interfaces: each has an owner slot of its own (there are at least twice as many slots
      // as machines), as on a host whose ifindexes are dense.
      machine_keys.push_back(static_cast<uint32_t>(*ifindex) + i);
      machine_values.push_back(m);
    }
    if (auto s = update_batch(machines_fd, machine_keys, machine_values); !s) return s;
    // The agent's order: the sg_machines entry, then its owner slot.
    for (std::size_t i = 0; i < machine_keys.size(); ++i) {
      (*dp)->owner_slots().write(machine_keys[i], machine_values[i]);
    }
    // What is measured is M1 answered by its slot: a collider in it would measure the hash.
    const auto &slots = (*dp)->owner_slots();
    if (slots.read_slot(slots.index_of(static_cast<uint32_t>(*ifindex))).ifindex !=
        static_cast<uint32_t>(*ifindex)) {
      return make_error("M1's owner slot is held by another interface");
    }
    std::vector<uint32_t> net_keys;
    std::vector<uint32_t> net_values;
    for (uint32_t i = 0; i < kNetworks; ++i) {
      net_keys.push_back(kBulkNetBase + i);
      net_values.push_back(SG_NET_AUDIT);
    }
    if (auto s = update_batch(net_flags_fd, net_keys, net_values); !s) return s;
    if (auto s = (*dp)->put_flycast(ip("fdaa:3:1:f1c::2"), sg_flycast{kAppM1, kNetA}); !s) {
      return s;
    }

    const auto all = cases();
    std::printf(
        "scale: ns/packet (BPF_PROG_TEST_RUN, thread CPU time, median of %d rounds x %d "
        "trials x %u runs, CPU %d); %u machines, %u networks in the maps\n",
        options->rounds, options->trials, options->repeat, options->cpu, options->machines,
        kNetworks);
    // samples[level][case]: one (ns, floor) per round. Rounds fill the map level by level and
    // then empty it again, so that the machine's drift over a round touches every level.
    const std::size_t level_count = std::size(kFlycastLevels);
    std::vector<std::vector<std::vector<std::pair<double, double>>>> samples(
        level_count, std::vector<std::vector<std::pair<double, double>>>(all.size()));
    std::vector<Level> levels(level_count);
    for (int round = 0; round < options->rounds; ++round) {
      uint32_t filled = 1;  // fc_to_m1
      for (std::size_t l = 0; l < level_count; ++l) {
        const uint32_t target = kFlycastLevels[l];
        std::vector<sg_in6> keys;
        std::vector<sg_flycast> values;
        for (uint32_t i = filled; i < target; ++i) {
          keys.push_back(bulk_flycast_address(i));
          values.push_back(
              sg_flycast{1000 + i % options->machines, kBulkNetBase + (i + 1) % kNetworks});
        }
        if (auto s = update_batch(flycast_fd, keys, values); !s) return s;
        filled = target;
        levels[l].flycast_entries = target;
        auto memlock = map_memlock(flycast_fd);
        if (!memlock) return memlock.error();
        levels[l].flycast_memlock = *memlock;
        for (std::size_t ci = 0; ci < all.size(); ++ci) {
          const auto &c = all[ci];
          const bool xdp = c.program == Program::kMachineEgress;
          const uint32_t rx_if = xdp ? static_cast<uint32_t>(*ifindex) : 0;
          // Warm up, then the floor and the path back to back.
          Options warm = *options;
          warm.repeat = std::min<uint32_t>(options->repeat, 100'000);
          warm.trials = 1;
          if (auto w =
                  measure((*dp)->program_fd(c.program), xdp, c.packets, rx_if, warm, c.expected);
              !w) {
            return make_error(c.hook + "/" + c.path + ": " + w.error().describe());
          }
          auto floor = measure(xdp ? xdp_pass : tc_ok, xdp, c.packets, rx_if, *options,
                               xdp ? XDP_PASS : TC_ACT_OK);
          if (!floor) return make_error("floor: " + floor.error().describe());
          auto ns_per_packet =
              measure((*dp)->program_fd(c.program), xdp, c.packets, rx_if, *options, c.expected);
          if (!ns_per_packet) {
            return make_error(c.hook + "/" + c.path + ": " + ns_per_packet.error().describe());
          }
          samples[l][ci].emplace_back(*ns_per_packet, *floor);
        }
        std::fprintf(stderr, "  round %d: %u Flycast entries measured\n", round + 1, target);
      }
      // Empty the bulk entries again (fc_to_m1 stays) for the next round.
      if (round + 1 < options->rounds) {
        std::vector<sg_in6> keys;
        for (uint32_t i = 1; i < filled; ++i) keys.push_back(bulk_flycast_address(i));
        if (auto s = delete_batch(flycast_fd, keys); !s) return s;
      }
    }
    for (std::size_t l = 0; l < level_count; ++l) {
      for (std::size_t ci = 0; ci < all.size(); ++ci) {
        auto by_ns = samples[l][ci];
        std::sort(by_ns.begin(), by_ns.end());
        // The median round by the path's cost, with the floor of that same round.
        levels[l].ns.push_back(by_ns[by_ns.size() / 2].first);
        levels[l].floor_ns.push_back(by_ns[by_ns.size() / 2].second);
      }
    }

    // The table: one row per case, one column per level, and the slope (last / first).
    std::printf("%-16s %-14s", "hook", "path");
    for (const auto &level : levels) std::printf(" %11u", level.flycast_entries);
    std::printf(" %8s %8s\n", "1M/1 ns", "1M/1 rel");
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t c = 0; c < all.size(); ++c) {
      std::printf("%-16s %-14s", all[c].hook.c_str(), all[c].path.c_str());
      nlohmann::json points = nlohmann::json::array();
      for (const auto &level : levels) {
        std::printf(" %6.1f/%4.2fx", level.ns[c], level.ns[c] / level.floor_ns[c]);
        points.push_back({{"flycast_entries", level.flycast_entries},
                          {"ns_per_packet", level.ns[c]},
                          {"floor_ns_per_packet", level.floor_ns[c]},
                          {"ratio_to_floor", level.ns[c] / level.floor_ns[c]}});
      }
      // The slope both raw and relative to each level's own floor (which cancels most of the
      // machine's drift between levels).
      const double slope = levels.back().ns[c] / levels.front().ns[c];
      const double relative = (levels.back().ns[c] / levels.back().floor_ns[c]) /
                              (levels.front().ns[c] / levels.front().floor_ns[c]);
      std::printf(" %7.2fx %7.2fx\n", slope, relative);
      rows.push_back({{"hook", all[c].hook},
                      {"path", all[c].path},
                      {"levels", points},
                      {"ratio_largest_to_smallest", slope},
                      {"floor_relative_ratio_largest_to_smallest", relative}});
    }
    std::printf(
        "(cell: ns/packet / ratio to the XDP_PASS or TC_ACT_OK floor at that level; "
        "1M/1 rel: the ratio-to-floor at 1M over that at 1)\n");

    // Memory per entry: the kernel's accounting at each level.
    std::printf("\nmap memory (fdinfo memlock)\n%-14s %12s %14s %16s\n", "map", "entries",
                "memlock bytes", "bytes per entry");
    nlohmann::json memory = nlohmann::json::array();
    for (std::size_t i = 0; i < levels.size(); ++i) {
      const auto &level = levels[i];
      double per_entry = 0;
      if (i > 0) {
        per_entry = static_cast<double>(level.flycast_memlock - levels[i - 1].flycast_memlock) /
                    (level.flycast_entries - levels[i - 1].flycast_entries);
      }
      std::printf("%-14s %12u %14llu %16s\n", SG_MAP_FLYCAST, level.flycast_entries,
                  static_cast<unsigned long long>(level.flycast_memlock),
                  i > 0 ? std::to_string(per_entry).substr(0, 6).c_str() : "-");
      memory.push_back(
          {{"map", SG_MAP_FLYCAST},
           {"entries", level.flycast_entries},
           {"capacity", kFlycastCapacity},
           {"memlock_bytes", level.flycast_memlock},
           {"marginal_bytes_per_entry", i > 0 ? nlohmann::json(per_entry) : nlohmann::json()}});
    }
    for (const auto &[name, fd, entries, capacity] :
         {std::tuple{SG_MAP_MACHINES, machines_fd, options->machines, 2 * options->machines},
          std::tuple{SG_MAP_NET_FLAGS, net_flags_fd, kNetworks, 2 * kNetworks}}) {
      auto memlock = map_memlock(fd);
      if (!memlock) return memlock.error();
      std::printf("%-14s %12u %14llu %16.1f  (all-in: memlock / entries)\n", name, entries,
                  static_cast<unsigned long long>(*memlock),
                  static_cast<double>(*memlock) / entries);
      memory.push_back({{"map", name},
                        {"entries", entries},
                        {"capacity", capacity},
                        {"memlock_bytes", *memlock},
                        {"bytes_per_entry_all_in", static_cast<double>(*memlock) / entries}});
    }
    const std::string load_after = load_average();
    std::printf("date %s, load average before %s, after %s\n", started.c_str(), load_before.c_str(),
                load_after.c_str());
    if (!options->json_path.empty()) {
      nlohmann::json document = {{"benchmark", "scale"},
                                 {"date", started},
                                 {"load_average_before", load_before},
                                 {"load_average_after", load_after},
                                 {"repeat", options->repeat},
                                 {"trials", options->trials},
                                 {"rounds", options->rounds},
                                 {"rt_priority", options->rt_priority},
                                 {"cpu", options->cpu},
                                 {"machines", options->machines},
                                 {"networks", kNetworks},
                                 {"statistic", "median of trials, thread CPU time ns per packet"},
                                 {"results", rows},
                                 {"memory", memory}};
      if (auto written = write_json(document, options->json_path); !written) return written;
      std::printf("JSON: %s\n", options->json_path.c_str());
    }
    return {};
  });
  if (!ran || !*ran) {
    cannot_run("scale_bench", !ran ? ran.error() : ran->error());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace sixguard::bench

int main(int argc, char **argv) {
  return sixguard::bench::run(argc, argv);
}
