// datapath_bench: ns per packet (thread CPU time) of every verdict path of every hook, measured
// with BPF_PROG_TEST_RUN beside the floor of a program that only returns (XDP_PASS for XDP,
// TC_ACT_OK for TC) on the same packet, in the same run, on one pinned CPU. ns and floor ns are
// medians of the trials; the ratio is the median of each trial's own ratio (measure_beside_floor),
// so it need not equal their quotient. Prints a table and writes JSON. Fails only on errors (a path
// returning the wrong action, a syscall failing), never on timing.
//
//   datapath_bench [--repeat N] [--trials T] [--cpu C] [--json PATH] [--only SUBSTRING]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <sched.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_baseline.skel.h"
#include "agent/core/packet_builder.h"
#include "tests/bpf/scenario.h"
#include "tests/bpf/verdict_table.h"
#include "tests/bench/bench_report.h"
#include "tests/common/clock.h"
#include "tests/bpf/test_run.h"

namespace sixguard::bench {
namespace {

using test::thread_cpu_ns;

using bpftest::Hook;

struct Options {
  uint32_t repeat = 10'000'000;
  int trials = 5;
  int cpu = -1;  // -1: the first CPU this process may run on
  std::string json_path;
  std::string only;  // run only the cases whose "hook/path" contains this
};

struct Case {
  std::string path;  // the verdict path, e.g. same_network
  Hook hook;
  std::vector<uint8_t> packet;
  sg_verdict verdict;
  sg_reason reason;
  double target;              // the bound on ns / floor
  uint32_t config_flags = 0;  // SG_CFG_*
  bpftest::Iface iface = bpftest::Iface::kDefault;
};

struct Measurement {
  double ns = 0;                    // median over trials, thread CPU time per packet
  std::vector<double> trials;       // each trial's ns per packet
  std::vector<uint32_t> kernel_ns;  // the kernel's own (integer) average per trial
};

// The measuring thread's CPU time: unlike the wall clock it leaves out the time other
// processes hold the pinned CPU (a shared machine), and unlike the kernel's own test-run
// duration it is not rounded to whole nanoseconds per packet.
std::vector<Case> cases() {
  using namespace bpftest;
  const auto &a = addrs();
  const auto udp = [](const Ipv6 &s, const Ipv6 &d) {
    return PacketBuilder().ethernet().ipv6(s, d).udp(40000, 53).payload(64).build();
  };
  const auto ipv4 =
      PacketBuilder().ethernet().ipv4(0x0a000001, 0x0a000002).udp(1, 2).payload(64).build();
  const auto malformed = PacketBuilder()
                             .ethernet()
                             .ipv6(a.m1, a.a_peer)
                             .hop_by_hop(8)
                             .udp(1, 2)
                             .truncate(14 + 40 + 16)
                             .build();
  const auto tunnel = [](const Ipv6 &s, const Ipv6 &d) {
    return PacketBuilder().ethernet().ipv6(s, d).ipv6(s, d).udp(1, 2).payload(64).build();
  };
  constexpr sg_verdict P = SG_VERDICT_PASS, D = SG_VERDICT_DROP, A = SG_VERDICT_AUDIT;
  // The default machine (M1) belongs to an app that a Flycast address targets, so its rows
  // pay the Flycast lookup; the *_no_flycast rows are M3's, whose app none targets (most apps:
  // sg_machine SG_MACHINE_FLYCAST_TARGET clear, the lookup skipped).
  const bpftest::Iface m3 = bpftest::Iface::kM3;
  return {
      {"same_network", Hook::kEgress, udp(a.m1, a.a_peer), P, SG_REASON_SAME_NETWORK, 1.15},
      {.path = "same_net_no_flycast",
       .hook = Hook::kEgress,
       .packet = udp(a.m3, a.b),
       .verdict = P,
       .reason = SG_REASON_SAME_NETWORK,
       .target = 1.15,
       .iface = m3},
      {"not_6pn_ipv4", Hook::kEgress, ipv4, P, SG_REASON_NOT_6PN, 1.15},
      {"not_6pn_public", Hook::kEgress, udp(a.m1, a.public_v6), P, SG_REASON_NOT_6PN, 1.15},
      {"infra", Hook::kEgress, udp(a.m1, a.dns), P, SG_REASON_INFRA, 2},
      {"flycast", Hook::kEgress, udp(a.m1, a.fc_to_m1), P, SG_REASON_FLYCAST, 2},
      {"cross_network", Hook::kEgress, udp(a.m1, a.b), D, SG_REASON_CROSS_NETWORK, 2},
      {.path = "cross_net_no_flycast",
       .hook = Hook::kEgress,
       .packet = udp(a.m3, a.a_peer),
       .verdict = D,
       .reason = SG_REASON_CROSS_NETWORK,
       .target = 2,
       .iface = m3},
      {"spoofed_source", Hook::kEgress, udp(a.b, a.a_peer), D, SG_REASON_SPOOFED_SOURCE, 2},
      {"malformed", Hook::kEgress, malformed, D, SG_REASON_MALFORMED, 2},
      {.path = "audit",
       .hook = Hook::kEgress,
       .packet = udp(a.m1, a.b),
       .verdict = A,
       .reason = SG_REASON_CROSS_NETWORK,
       .target = 2,
       .config_flags = SG_CFG_AUDIT},
      // Issue 14: a tunnel path may take 2x the floor plus 1x per inner level (here one).
      {"tunnel_same_network", Hook::kEgress, tunnel(a.m1, a.a_peer), P, SG_REASON_SAME_NETWORK, 3},
      {.path = "tunnel_no_flycast",
       .hook = Hook::kEgress,
       .packet = tunnel(a.m3, a.b),
       .verdict = P,
       .reason = SG_REASON_SAME_NETWORK,
       .target = 3,
       .iface = m3},
      {"same_network", Hook::kIngress, udp(a.a_peer, a.m1), P, SG_REASON_SAME_NETWORK, 1.15},
      {.path = "same_net_no_flycast",
       .hook = Hook::kIngress,
       .packet = udp(a.b, a.m3),
       .verdict = P,
       .reason = SG_REASON_SAME_NETWORK,
       .target = 1.15,
       .iface = m3},
      {"not_6pn_ipv4", Hook::kIngress, ipv4, P, SG_REASON_NOT_6PN, 1.15},
      {"not_6pn_public", Hook::kIngress, udp(a.public_v6, a.m1), P, SG_REASON_NOT_6PN, 1.15},
      {"infra", Hook::kIngress, udp(a.dns, a.m1), P, SG_REASON_INFRA, 2},
      {"flycast", Hook::kIngress, udp(a.fc_to_m1, a.m1), P, SG_REASON_FLYCAST, 2},
      {"cross_network", Hook::kIngress, udp(a.b, a.m1), D, SG_REASON_CROSS_NETWORK, 2},
      {.path = "cross_net_no_flycast",
       .hook = Hook::kIngress,
       .packet = udp(a.a_peer, a.m3),
       .verdict = D,
       .reason = SG_REASON_CROSS_NETWORK,
       .target = 2,
       .iface = m3},
      {"not_for_machine", Hook::kIngress, udp(a.a_peer, a.a_outside_112), D,
       SG_REASON_NOT_FOR_MACHINE, 2},
      {.path = "audit",
       .hook = Hook::kIngress,
       .packet = udp(a.b, a.m1),
       .verdict = A,
       .reason = SG_REASON_CROSS_NETWORK,
       .target = 2,
       .config_flags = SG_CFG_AUDIT},
      {"same_network", Hook::kUplink, udp(a.a_peer, a.m1), P, SG_REASON_SAME_NETWORK, 1.15},
      {"not_6pn_ipv4", Hook::kUplink, ipv4, P, SG_REASON_NOT_6PN, 1.15},
      {"not_6pn_public", Hook::kUplink, udp(a.public_v6, a.m1), P, SG_REASON_NOT_6PN, 1.15},
      {"infra", Hook::kUplink, udp(a.dns, a.b), P, SG_REASON_INFRA, 2},
      {"flycast", Hook::kUplink, udp(a.m1, a.fc_to_m1), P, SG_REASON_FLYCAST, 2},
      {"cross_network", Hook::kUplink, udp(a.b, a.m1), D, SG_REASON_CROSS_NETWORK, 2},
      {"malformed", Hook::kUplink, malformed, D, SG_REASON_MALFORMED, 2},
      {.path = "audit",
       .hook = Hook::kUplink,
       .packet = udp(a.b, a.m1),
       .verdict = A,
       .reason = SG_REASON_CROSS_NETWORK,
       .target = 2,
       .config_flags = SG_CFG_AUDIT},
  };
}

// A reference: a program of bench_baseline that does only part of a path's work, measured
// like the paths against the same floor. `self` is the machine it is compiled for.
using BaselineSkeleton = std::unique_ptr<bench_baseline, decltype(&bench_baseline__destroy)>;
using BaselinePrograms = decltype(bench_baseline::progs);

struct Reference {
  std::string name;
  Hook hook;
  std::vector<uint8_t> packet;
  Ipv6 self;
  bpf_program *BaselinePrograms::*program;
};

std::vector<Reference> references() {
  using namespace bpftest;
  const auto &a = addrs();
  const auto udp = [](const Ipv6 &s, const Ipv6 &d) {
    return PacketBuilder().ethernet().ipv6(s, d).udp(40000, 53).payload(64).build();
  };
  return {
      {"count_only", Hook::kEgress, udp(a.m3, a.b), a.m3, &BaselinePrograms::bench_xdp_count},
      {"same_network_least", Hook::kEgress, udp(a.m3, a.b), a.m3,
       &BaselinePrograms::bench_xdp_same_network},
      {"count_only", Hook::kIngress, udp(a.b, a.m3), a.m3, &BaselinePrograms::bench_tc_count},
      {"same_network_least", Hook::kIngress, udp(a.b, a.m3), a.m3,
       &BaselinePrograms::bench_tc_same_network},
      {"same_network_least", Hook::kUplink, udp(a.a_peer, a.m1), a.m1,
       &BaselinePrograms::bench_tc_uplink_same_network},
  };
}

const char *hook_name(Hook hook) {
  switch (hook) {
    case Hook::kEgress:
      return "machine_egress";
    case Hook::kIngress:
      return "machine_ingress";
    case Hook::kUplink:
      return "uplink";
    case Hook::kUplinkL3:
      return "uplink_l3";
  }
  return "?";
}

bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof(set), &set) == 0;
}

// One test run of `repeat` repetitions: thread CPU ns per packet and the kernel's own average.
// The thread is already pinned.
Result<std::pair<double, uint32_t>> run_once(int prog_fd, bool xdp,
                                             const std::vector<uint8_t> &packet, uint32_t ifindex,
                                             uint32_t repeat, uint32_t expected) {
  bpftest::TestRun test_run(xdp ? bpftest::HookType::kXdp : bpftest::HookType::kTc, packet, ifindex,
                            repeat);
  const uint64_t start = thread_cpu_ns();
  const Status ran = test_run.run_expecting(prog_fd, expected);
  const uint64_t elapsed = thread_cpu_ns() - start;
  if (!ran) return ran.error();
  return std::make_pair(static_cast<double>(elapsed) / repeat, test_run.kernel_duration());
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Floors {
  int xdp_pass = -1;
  int tc_ok = -1;
};

// A program beside the floor, on the same packet in the same pinned thread. Each trial runs the
// floor and then the program, and the ratio is the median of the trials' own ratios: the
// speed of a shared VM's CPU drifts over seconds (one run measured the XDP floor at 5.2 ns for
// a whole row and 8-9 ns for the next), and a ratio taken within a trial cancels that drift
// where a ratio of two medians taken a second apart does not. Test runs resolve ifindex in the
// scenario's namespace, so they run there.
struct BesideFloor {
  Measurement path;
  Measurement floor;
  std::vector<double> ratios;  // each trial's path ns / floor ns
  double ratio = 0;            // their median
};

Result<BesideFloor> measure_beside_floor(bpftest::Host &host, const Floors &floors, Hook hook,
                                         int prog, uint32_t action,
                                         const std::vector<uint8_t> &packet, uint32_t ifindex,
                                         const Options &options) {
  const bool xdp = hook == Hook::kEgress;
  const int floor_prog = xdp ? floors.xdp_pass : floors.tc_ok;
  const uint32_t floor_action = xdp ? XDP_PASS : TC_ACT_OK;
  auto measured = host.ns().run([&]() -> Result<BesideFloor> {
    if (!pin_to_cpu(options.cpu)) return errno_error("sched_setaffinity");
    // Warm up caches and the branch predictor on both programs first.
    const uint32_t warm = std::min<uint32_t>(options.repeat, 100000);
    for (const auto &[fd, expected] : {std::pair{prog, action}, {floor_prog, floor_action}}) {
      if (auto w = run_once(fd, xdp, packet, ifindex, warm, expected); !w) return w.error();
    }
    BesideFloor m;
    for (int trial = 0; trial < options.trials; ++trial) {
      auto floor = run_once(floor_prog, xdp, packet, ifindex, options.repeat, floor_action);
      if (!floor) return floor.error();
      auto path = run_once(prog, xdp, packet, ifindex, options.repeat, action);
      if (!path) return path.error();
      m.floor.trials.push_back(floor->first);
      m.floor.kernel_ns.push_back(floor->second);
      m.path.trials.push_back(path->first);
      m.path.kernel_ns.push_back(path->second);
      m.ratios.push_back(path->first / floor->first);
    }
    m.path.ns = median(m.path.trials);
    m.floor.ns = median(m.floor.trials);
    m.ratio = median(m.ratios);
    return m;
  });
  if (!measured) return measured.error();
  return *measured;
}

Result<Options> parse(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return make_error(arg + " needs a value", EINVAL);
      return std::string(argv[++i]);
    };
    if (arg == "--repeat" || arg == "--trials" || arg == "--cpu" || arg == "--json" ||
        arg == "--only") {
      auto v = value();
      if (!v) return v.error();
      if (arg == "--json" || arg == "--only") {
        (arg == "--json" ? options.json_path : options.only) = *v;
        continue;
      }
      char *end = nullptr;
      const long number = std::strtol(v->c_str(), &end, 10);
      if (*end != '\0' || number < 0) return make_error("bad number for " + arg, EINVAL);
      if (arg == "--repeat") options.repeat = static_cast<uint32_t>(number);
      if (arg == "--trials") options.trials = static_cast<int>(number);
      if (arg == "--cpu") options.cpu = static_cast<int>(number);
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "datapath_bench [--repeat N (10000000)] [--trials T (5)] [--cpu C] "
                   "[--json PATH] [--only HOOK/PATH-SUBSTRING]\n";
      std::exit(0);
    } else {
      return make_error("unknown argument " + arg, EINVAL);
    }
  }
  if (options.repeat == 0 || options.trials < 1) return make_error("repeat and trials >= 1");
  if (options.cpu < 0) {
    cpu_set_t allowed;
    ::sched_getaffinity(0, sizeof(allowed), &allowed);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) {
        options.cpu = cpu;
        break;
      }
    }
  }
  return options;
}

int run(int argc, char **argv) {
  auto options = parse(argc, argv);
  if (!options) return usage_error("datapath_bench", options.error());
  libbpf_set_print(nullptr);
  auto host = bpftest::Host::create();
  if (!host) return cannot_run("datapath_bench", host.error(), "scenario");
  const auto cannot_load = [](const std::string &what) {
    std::cerr << "datapath_bench: load bench_baseline (" << what << "): " << std::strerror(errno)
              << "\n";
    return 1;
  };
  const BaselineSkeleton baseline(bench_baseline__open_and_load(), bench_baseline__destroy);
  if (!baseline) return cannot_load("floors");
  const Floors floors{.xdp_pass = bpf_program__fd(baseline->progs.bench_xdp_pass),
                      .tc_ok = bpf_program__fd(baseline->progs.bench_tc_ok)};

  int failures = 0;
  // The references first, so that the paths' table ends the output with its worst ratio. On
  // M3's interface for the machine hooks; each its own load of bench_baseline, since the
  // machine's address is a constant of the program.
  nlohmann::json reference_results = nlohmann::json::array();
  std::printf(
      "references (bench_baseline.bpf.c): part of a path's work as cheaply as it can be done;\n"
      "no path doing that work costs less. count_only: the per-packet counter alone;\n"
      "same_network_least: headers bounded, own /112 and peer network compared with constants,\n"
      "counted\n");
  for (const auto &r : references()) {
    const std::string label = std::string(hook_name(r.hook)) + "/" + r.name;
    if (!options->only.empty() && label.find(options->only) == std::string::npos) continue;
    const BaselineSkeleton reference(bench_baseline__open(), bench_baseline__destroy);
    if (!reference) return cannot_load(label);
    // Network order, as the program loads the words from the packet.
    std::memcpy(&reference->rodata->bench_self_hi, r.self.octets.data(), 8);
    std::memcpy(&reference->rodata->bench_self_lo, r.self.octets.data() + 8, 8);
    if (bench_baseline__load(reference.get()) != 0) return cannot_load(label);
    const bpftest::Row row{
        .description = r.name,
        .hook = r.hook,
        .packet = r.packet,
        .verdict = SG_VERDICT_PASS,
        .reason = SG_REASON_SAME_NETWORK,
        .iface = r.hook == Hook::kUplink ? bpftest::Iface::kDefault : bpftest::Iface::kM3};
    const bool xdp = r.hook == Hook::kEgress;
    auto measured = measure_beside_floor(
        **host, floors, r.hook, bpf_program__fd(reference->progs.*r.program),
        xdp ? XDP_PASS : TC_ACT_OK, r.packet, bpftest::ifindex_of(**host, row), *options);
    if (!measured) {
      std::cerr << "datapath_bench: " << label << ": " << measured.error().describe() << "\n";
      ++failures;
      continue;
    }
    const auto &[path, floor, ratios, ratio] = *measured;
    std::printf("%-16s %-20s %10.2f %8s %10.2f %6.2fx\n", hook_name(r.hook), r.name.c_str(),
                path.ns, xdp ? "XDP_PASS" : "TC_OK", floor.ns, ratio);
    reference_results.push_back({{"hook", hook_name(r.hook)},
                                 {"reference", r.name},
                                 {"ns_per_packet", path.ns},
                                 {"trials_ns", path.trials},
                                 {"floor_ns_per_packet", floor.ns},
                                 {"floor_trials_ns", floor.trials},
                                 {"ratio_trials", ratios},
                                 {"ratio", ratio}});
  }
  std::printf("\n");

  nlohmann::json results = nlohmann::json::array();
  std::printf("%-16s %-20s %10s %8s %10s %7s %7s\n", "hook", "path", "ns/pkt", "floor", "floor ns",
              "ratio", "target");
  std::string worst_label;
  double worst_ratio = 0;
  double worst_target = 0;
  for (const auto &c : cases()) {
    if (!options->only.empty() &&
        (std::string(hook_name(c.hook)) + "/" + c.path).find(options->only) == std::string::npos) {
      continue;
    }
    bpftest::Row row{.description = c.path,
                     .hook = c.hook,
                     .packet = c.packet,
                     .verdict = c.verdict,
                     .reason = c.reason,
                     .iface = c.iface,
                     .tweak = {.config_flags = c.config_flags}};
    if (auto status = (*host)->reset_policy(bpftest::config_of(row)); !status) {
      std::cerr << "datapath_bench: policy: " << status.error().describe() << "\n";
      return 1;
    }
    const bool xdp = c.hook == Hook::kEgress;
    const int prog = (*host)->datapath().program_fd(bpftest::program_of(c.hook));
    const std::string label = std::string(hook_name(c.hook)) + "/" + c.path;
    auto measured = measure_beside_floor(**host, floors, c.hook, prog,
                                         bpftest::expected_action(c.hook, c.verdict), c.packet,
                                         bpftest::ifindex_of(**host, row), *options);
    if (!measured) {
      std::cerr << "datapath_bench: " << label << ": " << measured.error().describe() << "\n";
      ++failures;
      continue;
    }
    const auto &[path, floor, ratios, ratio] = *measured;
    std::printf("%-16s %-20s %10.2f %8s %10.2f %6.2fx %6.2fx%s\n", hook_name(c.hook),
                c.path.c_str(), path.ns, xdp ? "XDP_PASS" : "TC_OK", floor.ns, ratio, c.target,
                ratio <= c.target ? "" : "  over");
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst_label = label;
      worst_target = c.target;
    }
    results.push_back({{"hook", hook_name(c.hook)},
                       {"path", c.path},
                       {"verdict", c.verdict},
                       {"reason", c.reason},
                       {"packet_bytes", c.packet.size()},
                       {"ns_per_packet", path.ns},
                       {"trials_ns", path.trials},
                       {"kernel_ns", path.kernel_ns},
                       {"floor", xdp ? "XDP_PASS" : "TC_ACT_OK"},
                       {"floor_ns_per_packet", floor.ns},
                       {"floor_trials_ns", floor.trials},
                       {"ratio_trials", ratios},
                       {"ratio", ratio},
                       {"target_ratio", c.target},
                       {"within_target", ratio <= c.target}});
  }
  if (!worst_label.empty()) {
    std::printf("worst ratio: %s %.2fx (target %.2fx)%s\n", worst_label.c_str(), worst_ratio,
                worst_target, worst_ratio <= worst_target ? "" : "  over");
  }
  if (!options->json_path.empty()) {
    nlohmann::json document = {{"benchmark", "datapath"},
                               {"repeat", options->repeat},
                               {"trials", options->trials},
                               {"cpu", options->cpu},
                               {"statistic",
                                "ns: median of trials, thread CPU time per packet; ratio: median "
                                "of each trial's path ns / floor ns, the floor run just before"},
                               {"results", results},
                               {"references", reference_results},
                               {"worst", {{"path", worst_label}, {"ratio", worst_ratio}}}};
    std::ofstream out(options->json_path);
    out << document.dump(2) << "\n";
    if (!out) {
      std::cerr << "datapath_bench: cannot write " << options->json_path << "\n";
      return 1;
    }
    std::printf("JSON: %s\n", options->json_path.c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sixguard::bench

int main(int argc, char **argv) {
  return sixguard::bench::run(argc, argv);
}
