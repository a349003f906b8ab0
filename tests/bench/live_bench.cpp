// live_bench: the packet rate of sixguard's machine_egress XDP program on real frames, beside
// the ceiling of a trivial XDP_DROP program and the same policy in nftables (netdev ingress,
// inet prerouting) and in TC, all measured in the same run.
//
// Two namespaces joined by a veth pair: the generator's end and the receiver's end (the host
// side of a machine interface, where machine_egress runs). The generator is
// bpf/bench_live.bpf.c run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES: every
// repetition becomes a real frame redirected out of the generator's end. The receiver's end
// polls in threaded NAPI (GRO on, which gives a veth NAPI without XDP), its NAPI thread pinned
// to one CPU and the generator to the other, so the receiving core's cost per packet is the
// NAPI thread's on-CPU time over the packets it took in (veth's rx_queue_0_xdp_packets).
//
// Each configuration runs `rounds` times, interleaved, every other round in reverse order
// (a, b, c, c, b, a, ...), and the median round is reported. A comparison is the median of the
// rounds' own ratios: a shared VM's CPU speed drifts by several times over a run (one run here
// saw XDP_DROP at 8.9 Mpps in its first round and 31 Mpps in its third), so two configurations
// are compared within the round that measured both, never across rounds. Fails only on errors
// (a filter that does not do what it should, a syscall failing), never on timing.
//
// The generator and the NAPI thread run SCHED_FIFO (--rt-priority) while traffic runs: on a
// shared machine the receiving core's time would otherwise go to whatever else is runnable,
// and the rate would measure the scheduler rather than the filter.
//
//   live_bench [--seconds S] [--rounds R] [--batch B] [--rt-priority P] [--json PATH]
//              [--ns-prefix P] [--pin-prefix P] [--only NAME[,NAME...]]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_baseline.skel.h"
#include "bench_live.skel.h"
#include "agent/datapath/datapath.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/kernel_bench.h"
#include "tests/common/kernel_test.h"
#include "tests/bench/live_filters.h"
#include "tests/bench/live_system.h"
#include "tests/common/netns.h"
#include "agent/core/fd.h"
#include "agent/core/packet_builder.h"
#include "tests/common/clock.h"

namespace sixguard::bench {
namespace {

using test::load_average;
using test::monotonic_ns;
using test::utc_now;

struct Options {
  double seconds = 1.5;  // measured window per configuration and round
  double warmup = 0.3;   // unmeasured traffic before each window
  int rounds = 5;
  uint32_t batch = 64;       // frames per live batch (the kernel's default)
  uint32_t chunk = 1 << 20;  // frames per BPF_PROG_TEST_RUN call
  int rt_priority = 50;      // SCHED_FIFO for generator and NAPI thread; 0: SCHED_OTHER
  std::string json_path;
  std::string ns_prefix = "sg-h7-live-";
  std::string pin_prefix = "sg-h7-live";
  std::vector<std::string> only;
};

// The machine behind the receiving interface and the two destinations it sends to.
const char *const kMachine = "fdaa:2:45b:a7b:174:db43:d3c6:2";  // network 2:45b
const char *const kMachinePrefix = "fdaa:2:45b:a7b:174:db43:d3c6:0/112";
const char *const kMachineNetwork = "fdaa:2:45b::/48";
const char *const kCrossDst = "fdaa:3:1:a7b:174:db43:d3c6:2";  // network 3:1
const char *const kSameDst = "fdaa:2:45b:ff:1:2:3:4";          // network 2:45b
constexpr uint32_t kNetwork = 0x0002045b;
constexpr uint32_t kApp = 100;
constexpr std::size_t kFrameBytes = 64;  // Ethernet + IPv6 + UDP + 2 payload bytes, no FCS

enum class Traffic { kCrossNetwork, kSameNetwork };

struct Config {
  std::string name;
  FilterKind filter;
  Traffic traffic;
};

std::vector<Config> configs() {
  const auto cross = Traffic::kCrossNetwork, same = Traffic::kSameNetwork;
  return {
      {"xdp_drop", FilterKind::kXdpDrop, cross},
      {"xdp_read_drop", FilterKind::kXdpReadDrop, cross},
      {"nft_netdev", FilterKind::kNftNetdev, cross},
      {"nft_prerouting", FilterKind::kNftPrerouting, cross},
      {"tc_sixguard", FilterKind::kTcSixguard, cross},
      {"none", FilterKind::kNone, cross},
      {"sixguard_xdp", FilterKind::kSixguardXdp, cross},
      {"sixguard_xdp_events_off", FilterKind::kSixguardXdpEventsOff, cross},
      {"none_same_network", FilterKind::kNone, same},
      {"sixguard_xdp_same_network", FilterKind::kSixguardXdp, same},
  };
}

// One measured window.
struct Sample {
  double seconds = 0;
  uint64_t offered = 0;    // frames the generator produced
  uint64_t received = 0;   // frames the receiver's NAPI took in
  uint64_t rx_cpu_ns = 0;  // the receiver's NAPI thread on-CPU time
  uint64_t counted = 0;    // what the filter counted with the expected verdict (if it counts)
  double mpps() const { return received / seconds / 1e6; }
  double offered_mpps() const { return offered / seconds / 1e6; }
  double ns_per_packet() const { return received ? static_cast<double>(rx_cpu_ns) / received : 0; }
  double rx_busy() const { return rx_cpu_ns / (seconds * 1e9); }
};

struct Generated {
  uint64_t frames = 0;
  uint64_t wall_ns = 0;
};

// Runs the generator for `seconds` on the calling thread (which must be in the generator's
// namespace and pinned), as fast as it can. Offered frames are those the program redirected
// (its `sent` counter).
Result<Generated> generate(bench_live *gen, const std::vector<uint8_t> &frame, double seconds,
                           const Options &options) {
  Generated out;
  const uint64_t sent_before = gen->bss->sent;
  const uint64_t start = monotonic_ns();
  const uint64_t until = start + static_cast<uint64_t>(seconds * 1e9);
  // Smaller calls for short windows so that the window is not overshot by much.
  const uint32_t chunk = seconds < 0.5 ? options.chunk / 8 : options.chunk;
  const int prog_fd = bpf_program__fd(gen->progs.bench_live_gen);
  while (monotonic_ns() < until) {
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.repeat = chunk;
    opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    opts.batch_size = options.batch;
    if (int err = bpf_prog_test_run_opts(prog_fd, &opts); err != 0) {
      return make_error("BPF_PROG_TEST_RUN (live frames)", -err);
    }
  }
  out.wall_ns = monotonic_ns() - start;
  out.frames = gen->bss->sent - sent_before;
  return out;
}

std::vector<uint8_t> frame_to(const char *dst, const std::array<uint8_t, 6> &src_mac,
                              const std::array<uint8_t, 6> &dst_mac) {
  const auto parse = [](const char *text) { return *parse_ipv6(text); };
  auto frame = PacketBuilder()
                   .ethernet()
                   .ipv6(parse(kMachine), parse(dst))
                   .udp(40000, 7001)
                   .payload(kFrameBytes - 14 - 40 - 8)
                   .build();
  // The receiver's stack only takes frames addressed to its own MAC (PACKET_HOST).
  std::copy(dst_mac.begin(), dst_mac.end(), frame.begin());
  std::copy(src_mac.begin(), src_mac.end(), frame.begin() + 6);
  return frame;
}

Result<std::array<uint8_t, 6>> mac_of(const test::NetNs &ns, const std::string &interface) {
  auto shown = ns.ip({"-o", "link", "show", "dev", interface});
  if (!shown) return shown.error();
  const auto at = shown->find("link/ether ");
  std::array<unsigned, 6> parts{};
  if (at == std::string::npos ||
      std::sscanf(shown->c_str() + at + 11, "%x:%x:%x:%x:%x:%x", &parts[0], &parts[1], &parts[2],
                  &parts[3], &parts[4], &parts[5]) != 6) {
    return make_error("no MAC address for " + interface + " in: " + *shown);
  }
  std::array<uint8_t, 6> mac{};
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(parts[i]);
  return mac;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// The bench itself, on a thread in the receiver's namespace (attachments are made there).
struct Bench {
  Options options;
  const test::NetNs &gen;
  const test::NetNs &rx;
  std::string rx_if;
  int rx_ifindex = 0;
  int gen_cpu = 0, rx_cpu = 1;
  bench_live *gen_skel = nullptr;
  ReceiverEnv env;
  std::vector<uint8_t> cross_frame, same_frame;

  // Repins the receiver's NAPI thread (it is re-created when NAPI is re-enabled) and returns it.
  Result<pid_t> napi() const {
    auto tid = find_napi_thread(rx_if);
    if (!tid) return tid.error();
    if (auto pinned = pin_thread(*tid, rx_cpu); !pinned) return pinned.error();
    if (auto rt = set_realtime(*tid, options.rt_priority); !rt) return rt.error();
    return *tid;
  }

  Result<Generated> run_generator(const std::vector<uint8_t> &frame, double seconds) const {
    auto ran = gen.run([&]() -> Result<Generated> {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(gen_cpu, &set);
      if (::sched_setaffinity(0, sizeof(set), &set) != 0) return errno_error("pin generator");
      if (auto rt = set_realtime(0, options.rt_priority); !rt) return rt.error();
      return generate(gen_skel, frame, seconds, options);
    });
    if (!ran) return ran.error();
    return *ran;
  }

  // One window of traffic through an installed filter, checked: every frame counted by the
  // filter with the expected verdict, and the IPv6 stack seeing exactly what should pass.
  Result<Sample> window(const Config &config, const ReceiveFilter &filter, pid_t tid) const {
    const auto &frame = config.traffic == Traffic::kCrossNetwork ? cross_frame : same_frame;
    const bool expect_drop = config.traffic == Traffic::kCrossNetwork;
    auto stats_before = ethtool_stats(rx, rx_if);
    if (!stats_before) return stats_before.error();
    auto counted_before = filter.counted(expect_drop);
    if (!counted_before) return counted_before.error();
    auto stack_before = snmp6_counter(rx, "Ip6InReceives");
    if (!stack_before) return stack_before.error();
    auto cpu_before = thread_cpu_ns(tid);
    if (!cpu_before) return cpu_before.error();

    auto generated = run_generator(frame, options.seconds);
    if (!generated) return generated.error();
    // Let the receiver drain its ring (256 frames at most) before reading its counters.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));

    auto cpu_after = thread_cpu_ns(tid);
    if (!cpu_after) return cpu_after.error();
    auto stats_after = ethtool_stats(rx, rx_if);
    if (!stats_after) return stats_after.error();
    auto counted_after = filter.counted(expect_drop);
    if (!counted_after) return counted_after.error();
    auto stack_after = snmp6_counter(rx, "Ip6InReceives");
    if (!stack_after) return stack_after.error();

    Sample s;
    s.seconds = generated->wall_ns / 1e9;
    s.offered = generated->frames;
    s.received =
        (*stats_after)["rx_queue_0_xdp_packets"] - (*stats_before)["rx_queue_0_xdp_packets"];
    s.rx_cpu_ns = *cpu_after - *cpu_before;
    if (s.received == 0) return make_error(config.name + ": the receiver took in no frame");
    // A little slack for frames in flight at the window's edges.
    const auto close_to_received = [&](uint64_t n) {
      return n + s.received / 100 + 512 >= s.received && n <= s.received + s.received / 100 + 512;
    };
    if (*counted_after && *counted_before) {
      s.counted = **counted_after - **counted_before;
      if (!close_to_received(s.counted)) {
        return make_error(config.name + ": filter counted " + std::to_string(s.counted) + " " +
                          (expect_drop ? "drops" : "same-network passes") + " for " +
                          std::to_string(s.received) + " frames received");
      }
    }
    // Frames the filter passes must reach the IPv6 stack (right MAC, right device).
    const uint64_t stack = *stack_after - *stack_before;
    const bool passes = config.filter == FilterKind::kNone || !expect_drop;
    // Ip6InReceives counts in ip6_rcv, before the prerouting hook: only filters in front of
    // the IPv6 stack (XDP, TC, netdev ingress) keep dropped frames out of it.
    const bool before_stack = config.filter != FilterKind::kNftPrerouting;
    if (passes && !close_to_received(stack)) {
      return make_error(config.name + ": the IPv6 stack received " + std::to_string(stack) +
                        " of " + std::to_string(s.received) + " frames");
    }
    if (!passes && before_stack && stack > s.received / 100 + 512) {
      return make_error(config.name + ": " + std::to_string(stack) +
                        " frames reached the IPv6 stack through a dropping filter");
    }
    return s;
  }

  // One configuration: install, warm up, measure, remove.
  Result<Sample> measure(const Config &config) const {
    auto filter = install_filter(config.filter, env);
    if (!filter) return filter.error();
    auto tid = napi();
    if (!tid) return tid.error();
    const auto &frame = config.traffic == Traffic::kCrossNetwork ? cross_frame : same_frame;
    if (auto warm = run_generator(frame, options.warmup); !warm) return warm.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto sample = window(config, **filter, *tid);
    if (!sample) return sample.error();
    detail[config.name] = (*filter)->detail();
    return *sample;
  }

  // The filter's program's own time per frame on live traffic, from the kernel's run-time
  // statistics (BPF_ENABLE_STATS, on while its fd is open): the program alone, without the
  // frame's way in and out, and steady where the rates swing with the host's phases. The
  // statistics' own clock reads around each run are in the figure (the same in every row: a
  // program that only returns measures them). A
  // window of its own after the rounds, so the rounds' rates do not pay for it. nullopt when
  // the filter runs no BPF program.
  struct ProgramCost {
    double ns_per_run = 0;
    uint64_t runs = 0;
  };
  Result<std::optional<ProgramCost>> program_cost(const Config &config) const {
    auto filter = install_filter(config.filter, env);
    if (!filter) return filter.error();
    const int prog = (*filter)->program_fd();
    if (prog < 0) return std::optional<ProgramCost>();
    if (auto tid = napi(); !tid) return tid.error();
    const auto &frame = config.traffic == Traffic::kCrossNetwork ? cross_frame : same_frame;
    if (auto warm = run_generator(frame, options.warmup); !warm) return warm.error();
    Fd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
    if (!stats.valid()) return errno_error("BPF_ENABLE_STATS");
    const auto info = [prog]() -> Result<bpf_prog_info> {
      bpf_prog_info i{};
      uint32_t len = sizeof(i);
      if (bpf_obj_get_info_by_fd(prog, &i, &len) != 0) return errno_error("BPF_OBJ_GET_INFO");
      return i;
    };
    auto before = info();
    if (!before) return before.error();
    if (auto ran = run_generator(frame, options.seconds); !ran) return ran.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto after = info();
    if (!after) return after.error();
    const uint64_t runs = after->run_cnt - before->run_cnt;
    if (runs == 0) return make_error(config.name + ": the program ran on no frame");
    return std::optional<ProgramCost>(
        ProgramCost{static_cast<double>(after->run_time_ns - before->run_time_ns) / runs, runs});
  }

  mutable std::map<std::string, std::string> detail;
};

Status setup_receiver(const test::NetNs &rx, const std::string &interface) {
  // GRO gives a veth a NAPI context without an XDP program (frames redirected into a veth are
  // refused unless its peer has NAPI); threaded NAPI puts the poll on a thread we can pin.
  if (auto gro = rx.exec_ok({"ethtool", "-K", interface, "gro", "on"}); !gro) return gro.error();
  // `ip netns exec` (not nsenter) remounts /sys so that the namespace's devices are visible.
  if (auto threaded = test::run_command_ok({"ip", "netns", "exec", rx.name(), "sh", "-c",
                                            "echo 1 > /sys/class/net/" + interface + "/threaded"});
      !threaded) {
    return threaded.error();
  }
  // What the stack does with a machine's frame when no filter drops it: route it. A blackhole
  // route for 6PN ends that walk silently (no ICMP error to generate), after the routing
  // decision has been made.
  if (auto route = rx.ip({"-6", "route", "add", "blackhole", "fdaa::/16"}); !route) {
    return route.error();
  }
  return {};
}

Status write_policy(Datapath &datapath, int ifindex) {
  sg_machine machine{};
  machine.prefix = machine_prefix(*parse_ipv6(kMachine)).raw();
  machine.app_id = kApp;
  machine.network_id = kNetwork;
  if (auto s = datapath.maps().machines.update(static_cast<uint32_t>(ifindex), machine); !s)
    return s;
  // The agent's defaults: fdaa::3 infrastructure on network 0, drop events 100/s burst 200.
  sg_lpm_key dns = (*parse_ipv6_prefix("fdaa::3/128")).lpm_key();
  if (auto s = datapath.maps().infra.update(dns, 1); !s) return s;
  sg_config config{};
  config.infra_net_count = 1;
  config.infra_nets[0] = 0;
  config.events_per_sec = 100;
  config.events_burst = 200;
  return datapath.maps().config.set(0, config);
}

Result<Options> parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc && arg != "--help") return make_error(arg + " needs a value", EINVAL);
    if (arg == "--seconds") {
      o.seconds = std::stod(argv[++i]);
    } else if (arg == "--rounds") {
      o.rounds = std::stoi(argv[++i]);
    } else if (arg == "--batch") {
      o.batch = static_cast<uint32_t>(std::stoul(argv[++i]));
    } else if (arg == "--rt-priority") {
      o.rt_priority = std::stoi(argv[++i]);
    } else if (arg == "--json") {
      o.json_path = argv[++i];
    } else if (arg == "--ns-prefix") {
      o.ns_prefix = argv[++i];
    } else if (arg == "--pin-prefix") {
      o.pin_prefix = argv[++i];
    } else if (arg == "--only") {
      std::stringstream names(argv[++i]);
      std::string name;
      while (std::getline(names, name, ',')) o.only.push_back(name);
    } else if (arg == "--help") {
      std::cout << "live_bench [--seconds S (1.5)] [--rounds R (5)] [--batch B (64)] [--json PATH]"
                   " [--rt-priority P (50; 0: SCHED_OTHER)] [--ns-prefix P] [--pin-prefix P]"
                   " [--only NAME,...]\n";
      std::exit(0);
    } else {
      return make_error("unknown argument " + arg, EINVAL);
    }
  }
  if (o.seconds <= 0 || o.rounds < 1 || o.batch < 1 || o.batch > 256) {
    return make_error("need --seconds > 0, --rounds >= 1, 1 <= --batch <= 256", EINVAL);
  }
  return o;
}

int run(int argc, char **argv) {
  auto options = parse(argc, argv);
  if (auto status = cannot_start("live_bench", options)) return *status;
  auto cpus = two_cpus();
  if (!cpus) return cannot_run("live_bench", cpus.error());
  const std::string load_before = load_average();
  const std::string started = utc_now();

  // Declared in destruction order: the datapath before its pins, the namespaces last.
  auto gen = test::NetNs::create(options->ns_prefix);
  if (!gen) return cannot_run("live_bench", gen.error(), "netns");
  auto rx = test::NetNs::create(options->ns_prefix);
  if (!rx) return cannot_run("live_bench", rx.error(), "netns");
  const std::string id = std::to_string(::getpid());
  const std::string gen_if = "h7g" + id, rx_if = "h7r" + id;
  auto veth = test::VethPair::create(*gen, gen_if, *rx, rx_if);
  if (!veth) return cannot_run("live_bench", veth.error(), "veth");
  if (auto s = setup_receiver(*rx, rx_if); !s)
    return cannot_run("live_bench", s.error(), "receiver");
  auto pins = test::PinDir::create(options->pin_prefix);
  if (!pins) return cannot_run("live_bench", pins.error(), "pins");

  int status = 0;
  auto ran = rx->run([&]() -> Status {
    auto rx_ifindex = rx->ifindex(rx_if);
    auto gen_ifindex = gen->ifindex(gen_if);
    if (!rx_ifindex || !gen_ifindex) return (!rx_ifindex ? rx_ifindex : gen_ifindex).error();
    auto rx_mac = mac_of(*rx, rx_if);
    auto gen_mac = mac_of(*gen, gen_if);
    if (!rx_mac || !gen_mac) return (!rx_mac ? rx_mac.error() : gen_mac.error());

    DatapathOptions dp_options;
    dp_options.bpffs = pins->path();
    auto datapath = Datapath::load(dp_options);
    if (!datapath) return datapath.error();
    if (auto s = write_policy(**datapath, *rx_ifindex); !s) return s;

    std::unique_ptr<bench_baseline, void (*)(bench_baseline *)> baseline(
        bench_baseline__open_and_load(), bench_baseline__destroy);
    if (!baseline) return errno_error("load bench_baseline");
    std::unique_ptr<bench_live, void (*)(bench_live *)> generator(bench_live__open(),
                                                                  bench_live__destroy);
    if (!generator) return errno_error("open bench_live");
    generator->rodata->target_ifindex = static_cast<uint32_t>(*gen_ifindex);
    if (int err = bench_live__load(generator.get()); err != 0) {
      return make_error("load bench_live", -err);
    }

    Bench bench{*options,        *gen, *rx, rx_if, *rx_ifindex, cpus->first, cpus->second,
                generator.get(), {},   {},  {},    {}};
    bench.env = ReceiverEnv{&*rx,
                            rx_if,
                            *rx_ifindex,
                            datapath->get(),
                            bpf_program__fd(baseline->progs.bench_xdp_drop),
                            bpf_program__fd(generator->progs.bench_live_read_drop),
                            kMachinePrefix,
                            kMachineNetwork};
    bench.cross_frame = frame_to(kCrossDst, *gen_mac, *rx_mac);
    bench.same_frame = frame_to(kSameDst, *gen_mac, *rx_mac);

    std::vector<Config> selected;
    for (const auto &c : configs()) {
      if (options->only.empty() ||
          std::find(options->only.begin(), options->only.end(), c.name) != options->only.end()) {
        selected.push_back(c);
      }
    }
    std::map<std::string, std::vector<Sample>> samples;
    for (int round = 0; round < options->rounds; ++round) {
      std::vector<Config> order = selected;
      if (round % 2 == 1) std::reverse(order.begin(), order.end());
      for (const auto &c : order) {
        auto sample = bench.measure(c);
        if (!sample) {
          return make_error("round " + std::to_string(round + 1) + ": " + c.name + ": " +
                            sample.error().describe());
        }
        std::fprintf(stderr,
                     "  round %d %-26s %7.3f Mpps (offered %7.3f)  %7.1f ns/pkt  rx busy %3.0f%%\n",
                     round + 1, c.name.c_str(), sample->mpps(), sample->offered_mpps(),
                     sample->ns_per_packet(), 100 * sample->rx_busy());
        samples[c.name].push_back(*sample);
      }
    }

    // Medians per configuration.
    struct Row {
      double mpps, offered_mpps, ns, busy;
    };
    std::map<std::string, Row> rows;
    nlohmann::json results = nlohmann::json::array();
    std::printf(
        "\nlive packet rate, %zu-byte IPv6/UDP frames; median of %d rounds of %.1f s; "
        "generator CPU %d, receiver NAPI CPU %d\n",
        kFrameBytes, options->rounds, options->seconds, cpus->first, cpus->second);
    std::printf("%-26s %-8s %9s %9s %9s %8s  %s\n", "configuration", "traffic", "rx Mpps",
                "offered", "ns/pkt", "rx busy", "attached");
    for (const auto &c : selected) {
      std::vector<double> mpps, offered, ns, busy;
      nlohmann::json rounds = nlohmann::json::array();
      for (const auto &s : samples[c.name]) {
        mpps.push_back(s.mpps());
        offered.push_back(s.offered_mpps());
        ns.push_back(s.ns_per_packet());
        busy.push_back(s.rx_busy());
        rounds.push_back({{"seconds", s.seconds},
                          {"offered", s.offered},
                          {"received", s.received},
                          {"rx_cpu_ns", s.rx_cpu_ns},
                          {"filter_counted", s.counted},
                          {"mpps", s.mpps()},
                          {"ns_per_packet", s.ns_per_packet()},
                          {"rx_busy", s.rx_busy()}});
      }
      Row row{median(mpps), median(offered), median(ns), median(busy)};
      rows[c.name] = row;
      const char *traffic = c.traffic == Traffic::kCrossNetwork ? "cross" : "same";
      std::printf("%-26s %-8s %9.3f %9.3f %9.1f %7.0f%%  %s\n", c.name.c_str(), traffic, row.mpps,
                  row.offered_mpps, row.ns, 100 * row.busy, bench.detail[c.name].c_str());
      results.push_back(
          {{"configuration", c.name},
           {"traffic", c.traffic == Traffic::kCrossNetwork ? "cross_network" : "same_network"},
           {"attached", bench.detail[c.name]},
           {"rx_mpps", row.mpps},
           {"offered_mpps", row.offered_mpps},
           {"rx_ns_per_packet", row.ns},
           {"rx_busy", row.busy},
           {"rounds", rounds}});
    }

    // Ratios against the baselines of this run, each the median of the rounds' ratios. Rate:
    // packets per second received. Capacity: the inverse ratio of the receiving core's ns per
    // packet (what each could take with that core to itself; the XDP_DROP ceiling is usually
    // generator-bound, below 100% busy).
    const auto per_round = [&](const std::string &a, const std::string &b, auto ratio) {
      std::vector<double> ratios;
      const auto &as = samples[a];
      const auto &bs = samples[b];
      for (size_t i = 0; i < std::min(as.size(), bs.size()); ++i)
        ratios.push_back(ratio(as[i], bs[i]));
      return ratios;
    };
    nlohmann::json comparisons = nlohmann::json::array();
    std::printf("\n%-44s %8s %10s %8s\n", "comparison", "rate", "capacity", "target");
    const auto compare = [&](const std::string &what, const std::string &a, const std::string &b,
                             double target) {
      if (!rows.count(a) || !rows.count(b)) return;
      const auto rates =
          per_round(a, b, [](const Sample &x, const Sample &y) { return x.mpps() / y.mpps(); });
      const auto capacities = per_round(a, b, [](const Sample &x, const Sample &y) {
        return y.ns_per_packet() / x.ns_per_packet();
      });
      const double rate = median(rates);
      const double capacity = median(capacities);
      // target 0: no target, the row is there for context.
      if (target > 0) {
        std::printf("%-44s %7.2fx %9.2fx %7.2fx%s\n", what.c_str(), rate, capacity, target,
                    rate >= target ? "" : "  (rate below target)");
      } else {
        std::printf("%-44s %7.2fx %9.2fx %8s\n", what.c_str(), rate, capacity, "-");
      }
      nlohmann::json row = {{"comparison", what},
                            {"numerator", a},
                            {"denominator", b},
                            {"rate_ratio", rate},
                            {"capacity_ratio", capacity},
                            {"rate_ratio_rounds", rates},
                            {"capacity_ratio_rounds", capacities}};
      if (target > 0) {
        row["target"] = target;
        row["rate_meets_target"] = rate >= target;
        row["capacity_meets_target"] = capacity >= target;
      }
      comparisons.push_back(row);
    };
    compare("sixguard_xdp / xdp_drop (ceiling)", "sixguard_xdp", "xdp_drop", 0.8);
    compare("sixguard_xdp / xdp_read_drop", "sixguard_xdp", "xdp_read_drop", 0);
    compare("sixguard_xdp_events_off / xdp_drop", "sixguard_xdp_events_off", "xdp_drop", 0.8);
    compare("sixguard_xdp / nft_netdev", "sixguard_xdp", "nft_netdev", 5);
    compare("sixguard_xdp / nft_prerouting", "sixguard_xdp", "nft_prerouting", 0);
    compare("sixguard_xdp / tc_sixguard", "sixguard_xdp", "tc_sixguard", 3);
    compare("sixguard_xdp / none (stack)", "sixguard_xdp", "none", 0);
    nlohmann::json same_network;
    if (rows.count("none_same_network") && rows.count("sixguard_xdp_same_network")) {
      const auto added_percent = per_round(
          "sixguard_xdp_same_network", "none_same_network",
          [](const Sample &with, const Sample &stack) {
            return 100 * (with.ns_per_packet() - stack.ns_per_packet()) / stack.ns_per_packet();
          });
      // The added ns is the median percentage applied to the median stack: a difference of
      // two medians would mix rounds measured in different phases of the host.
      const double stack = rows["none_same_network"].ns;
      const double percent = median(added_percent);
      const double added = stack * percent / 100;
      std::printf(
          "\nsame-network pass path: sixguard adds %.1f ns/pkt to the stack's %.1f ns/pkt "
          "(%.1f%%)\n",
          added, stack, percent);
      same_network = {{"stack_ns_per_packet", stack},
                      {"added_ns_per_packet", added},
                      {"added_percent_of_stack", percent},
                      {"added_percent_rounds", added_percent}};
    }
    nlohmann::json program_costs = nlohmann::json::array();
    std::printf(
        "\nprogram cost on live frames (kernel run-time statistics, one %.1f s window each; "
        "includes the statistics' own clock reads)\n%-26s %9s %12s\n",
        options->seconds, "configuration", "ns/run", "runs");
    for (const auto &c : selected) {
      auto cost = bench.program_cost(c);
      if (!cost) return make_error("program cost: " + c.name + ": " + cost.error().describe());
      if (!*cost) continue;
      std::printf("%-26s %9.1f %12llu\n", c.name.c_str(), (*cost)->ns_per_run,
                  static_cast<unsigned long long>((*cost)->runs));
      program_costs.push_back({{"configuration", c.name},
                               {"ns_per_run", (*cost)->ns_per_run},
                               {"runs", (*cost)->runs}});
    }
    const std::string load_after = load_average();
    std::printf("date %s, load average before %s, after %s\n", started.c_str(), load_before.c_str(),
                load_after.c_str());

    if (!options->json_path.empty()) {
      nlohmann::json document = {
          {"benchmark", "live"},
          {"date", started},
          {"load_average_before", load_before},
          {"load_average_after", load_after},
          {"frame_bytes", kFrameBytes},
          {"seconds_per_round", options->seconds},
          {"rounds", options->rounds},
          {"batch_size", options->batch},
          {"generator_cpu", cpus->first},
          {"receiver_cpu", cpus->second},
          {"rt_priority", options->rt_priority},
          {"statistic",
           "median of rounds; ns/pkt = receiver NAPI thread CPU time / frames received; "
           "comparisons: median of each round's ratio"},
          {"results", results},
          {"comparisons", comparisons},
          {"same_network_pass", same_network},
          {"program_cost", program_costs}};
      if (auto written = write_json(document, options->json_path); !written) return written;
      std::printf("JSON: %s\n", options->json_path.c_str());
    }
    return {};
  });
  if (!ran || !*ran) {
    cannot_run("live_bench", !ran ? ran.error() : ran->error());
    status = 1;
  }
  return status;
}

}  // namespace
}  // namespace sixguard::bench

int main(int argc, char **argv) {
  return sixguard::bench::run(argc, argv);
}
