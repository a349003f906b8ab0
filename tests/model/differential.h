// The differential runner: every generated frame through every program of the real datapath
// (BPF_PROG_TEST_RUN on the scenario host of tests/bpf, a tun device for the L3 uplink, a tap for
// the TC egress program on frames the skb test run refuses) and through the model; any
// difference in verdict, reason, counter slot or bytes is a disagreement, reported with what it
// takes to replay it.
//
// Counters: after each counted run only the model's slot is read (one per-CPU lookup) and must
// have moved by exactly one packet and the packet's bytes; a run that counted elsewhere leaves it
// short and is caught on the spot (then every slot is read to name where it went). Every
// `full_check_every` frames all slots are compared with the expected totals, which catches a run
// that counted twice; the window is then replayed frame by frame with full reads to name it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/model/model.h"
#include "agent/core/result.h"
#include "tests/bpf/scenario.h"

namespace sixguard::model {

struct FuzzOptions {
  uint64_t seed = 1;
  uint64_t first = 0;  // index of the first frame (replay: --first I --frames 1)
  uint64_t frames = 1000;
  uint64_t full_check_every = 1024;
  // Every device_every-th frame also goes through the tap devices (frames the skb test run
  // refuses always do): a write through the receive path costs several test runs.
  uint64_t device_every = 8;
  PlantedBug bug = PlantedBug::kNone;
  // Test of the fuzzer itself: one packet added to a counter slot behind the runs' backs (as a
  // program counting twice would), before this frame (0: never).
  uint64_t plant_count_before_frame = 0;
  // Replay of one given Ethernet frame instead of generated ones (--hex): on this interface
  // (0-3: m1, m2, m3, unknown) under this policy (index into fuzz_policies()).
  std::optional<std::vector<uint8_t>> given_frame;
  int given_iface = 0;
  size_t given_policy = 0;
  size_t max_reports = 12;  // disagreements printed in full (all are counted)
  std::function<void(const std::string &)> log = [](const std::string &) {};
};

// The programs a frame goes through (sg_explain once per frame, for one hook in turn).
// The *Tap targets are the same TC programs on a real tap device (frames written to it, as a
// machine or a NIC would hand them over): refused and long frames, and every
// device_every-th frame.
// The *Paged targets are the same on a tap that builds non-linear skbs (long frames only).
// kIngressSent is sg_machine_ingress on a veth's TC egress, fed by a packet socket.
enum class Target {
  kEgressXdp,
  kEgressTc,
  kEgressTcTap,
  kEgressTcPaged,
  kIngress,
  kIngressSent,
  kUplink,
  kUplinkTap,
  kUplinkPaged,
  kUplinkL3,
  kExplain
};
inline constexpr int kTargetCount = 11;
const char *target_name(Target target);

struct FuzzStats {
  uint64_t frames = 0;
  std::array<uint64_t, kTargetCount> runs{};     // per target
  std::array<uint64_t, kTargetCount> skipped{};  // frames a target cannot take (see .cpp)
  uint64_t disagreements = 0;
  std::vector<std::string> reports;  // the first max_reports, in full
  // Every disagreement by kind: "program: model <slot> / bpf <what it did>" -> count.
  std::map<std::string, uint64_t> kinds;
  // Model answers per slot, over every counted run: shows which rules the frames reached.
  std::array<uint64_t, SG_COUNTER_SLOTS> model_slots{};
  double seconds = 0;
};

Result<FuzzStats> run_differential(bpftest::Host &host, const FuzzOptions &options);

// A short table of the model's slot coverage and the run counts.
std::string summarize(const FuzzStats &stats);

}  // namespace sixguard::model
