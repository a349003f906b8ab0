// The datapath object (its skeleton, build/bpf/sg_datapath.skel.h) loaded for tests: pinning
// disabled on every map (tests never touch /sys/fs/bpf/sixguard), optional map sizes, typed set-up
// of the policy maps, counter snapshots and BPF_PROG_TEST_RUN of each program. The only file of the
// bpf tests that calls libbpf's map API directly.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "agent/core/address.h"
#include "agent/core/result.h"
#include "agent/datapath/datapath_skeleton.h"
#include "bpf/include/sixguard_shared.h"
#include "maps/owner_slots.h"
#include "tests/bpf/test_run.h"

struct bpf_object;
struct bpf_program;
struct bpf_map;

namespace sixguard::bpftest {

// The programs of the datapath object. kMachineEgress is the XDP program; kMachineEgressTc the
// same hook's TC program, which the agent uses where XDP programs lack bpf_xdp_load_bytes.
enum class Program {
  kMachineEgress,
  kMachineEgressTc,
  kMachineIngress,
  kUplink,
  kUplinkL3,
  kExplain
};

// Whether load() asks the kernel for the XDP program where the agent would not (kernels whose
// XDP programs lack bpf_xdp_load_bytes): to show that such a kernel refuses it.
enum class XdpEgress { kWhereSupported, kAlways };

// max_entries overrides (0: the object's default).
struct MapSizes {
  uint32_t machines = 0;
  uint32_t flycast = 0;
  uint32_t infra = 0;
  uint32_t net_flags = 0;
};

using Counters = std::array<sg_counter, SG_COUNTER_SLOTS>;
using EventStats = std::array<uint64_t, SG_EVSTAT_COUNT>;

class Datapath {
 public:
  static Result<std::unique_ptr<Datapath>> load(const MapSizes &sizes = {},
                                                XdpEgress xdp = XdpEgress::kWhereSupported);
  ~Datapath();
  Datapath(const Datapath &) = delete;
  Datapath &operator=(const Datapath &) = delete;

  // Writes sg_machines, then the interface's owner slot, as the agent does.
  Status put_machine(uint32_t ifindex, const sg_machine &machine);
  // sg_machines only: the slot keeps whatever it held.
  Status put_machine_hash_only(uint32_t ifindex, const sg_machine &machine);
  // Empties the interface's owner slot, then removes its sg_machines entry (if any), as the
  // agent does: a slot left behind would keep the removed owner for the programs.
  Status delete_machine(uint32_t ifindex);
  // sg_owner_slots through its mapping (the agent's writer).
  maps::OwnerSlots &owner_slots() { return *slots_; }
  Result<std::optional<sg_machine>> machine_of(uint32_t ifindex) const;
  Status put_flycast(const Ipv6 &address, const sg_flycast &flycast);
  Status put_infra(const Ipv6Prefix &prefix);
  Status put_net_flags(uint32_t network_id, uint32_t flags);
  Status write_config(const sg_config &config);
  // Empties the four policy maps (machines, flycast, infra, net flags) and the owner slots.
  Status clear_policy();
  // Forgets the drop-event token bucket of every CPU.
  Status reset_ratelimit();

  Result<Counters> counters() const;       // summed over CPUs
  Result<EventStats> event_stats() const;  // summed over CPUs

  // Runs a program on `packet`. XDP: ingress_ifindex = ifindex (0: the loopback default).
  // TC: the skb's device is ifindex (0: loopback) and cb[0..1] are set from cb when given.
  // Namespace-bound: ifindex must exist in the calling thread's network namespace.
  Result<RunResult> run(Program program, const std::vector<uint8_t> &packet, uint32_t ifindex,
                        uint32_t repeat = 1,
                        std::optional<std::array<uint32_t, 2>> cb = std::nullopt) const;

  // Every record waiting in sg_events, oldest first (the ring is emptied).
  Result<std::vector<sg_drop_event>> drain_events() const;
  uint32_t map_max_entries(const char *name) const;

  int events_fd() const;
  // -1 for a program that was not loaded (the XDP program on a kernel without the helper).
  int program_fd(Program program) const;
  bool xdp_egress_loaded() const { return program_fd(Program::kMachineEgress) >= 0; }
  // The machine_egress program the agent attaches on this kernel.
  Program machine_egress() const {
    return xdp_egress_loaded() ? Program::kMachineEgress : Program::kMachineEgressTc;
  }
  bpf_object *object() const;

 private:
  explicit Datapath(DatapathSkeleton skeleton) : skeleton_(std::move(skeleton)) {}
  bpf_program *program(Program program) const;
  int map_fd(const char *name) const;
  DatapathSkeleton skeleton_;
  std::optional<maps::OwnerSlots> slots_;  // mapped once loaded
};

// Per-slot difference between two snapshots.
Counters counter_delta(const Counters &before, const Counters &after);

}  // namespace sixguard::bpftest
