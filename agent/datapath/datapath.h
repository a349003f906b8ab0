// The loaded datapath: the BPF object with every program, its maps pinned under
// <bpffs>/sixguard (reused when already there: a restarted agent shares the maps with the
// programs that stayed attached), typed access to those maps, the attach operations for each
// hook, and explain (the loaded classifier run on a packet with BPF_PROG_TEST_RUN).
//
//   DatapathOptions options;               // bpffs "/sys/fs/bpf", default map sizes
//   auto datapath = Datapath::load(options);
//   auto egress = (*datapath)->attach_machine_egress(ifindex);   // XDP via libxdp, or TC
//                                                                 // (egress_hook.h)
//   auto ingress = (*datapath)->attach_machine_ingress(ifindex); // TC clsact egress
//   auto uplink = (*datapath)->attach_uplink(uplink_ifindex);    // TC ingress, L2 or L3
//   PinnedMapBackend backend((*datapath)->maps());                // for the control plane
//
// Destroying the Datapath closes our fds only: attached programs and pinned maps stay.
// Not thread-safe: the daemon serialises attach/explain calls (the maps themselves may be
// read concurrently, e.g. by the exporter through maps()). Attach calls act in the network
// namespace of the calling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/datapath/datapath_skeleton.h"
#include "agent/datapath/egress_attachment.h"
#include "agent/datapath/egress_hook.h"
#include "agent/datapath/names.h"
#include "agent/datapath/map_sizes.h"
#include "agent/datapath/pin_plan.h"
#include "agent/datapath/pin_repair.h"
#include "agent/datapath/pinned_maps.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"
#include "agent/datapath/tc_attachment.h"
#include "agent/datapath/xdp_attachment.h"

namespace sixguard {

struct DatapathOptions {
  std::string bpffs = "/sys/fs/bpf";    // mounted if it is not a bpffs yet
  std::string pin_subdir = "sixguard";  // maps pinned in <bpffs>/<pin_subdir>
  MapSizes sizes;
  EgressHookChoice egress_hook = EgressHookChoice::kAuto;
};

class Datapath {
 public:
  // Mounts bpffs if needed, creates the pin directory, sizes the maps, reuses the pinned maps
  // that are exactly ours and stages the migration of the others (pin_plan.h; a shrink below
  // the live entries is refused), decides where machine_egress runs on this kernel, loads
  // every program that needs.
  static Result<std::unique_ptr<Datapath>> load(const DatapathOptions &options);
  Datapath(const Datapath &) = delete;
  Datapath &operator=(const Datapath &) = delete;
  ~Datapath();

  const std::string &pin_dir() const { return pin_dir_; }
  const MapSizes &sizes() const { return sizes_; }
  // The pinned maps this load migrates (pin_plan.h: another size or layout), each with why
  // and how, and what was copied; empty when every pin was reused.
  const std::vector<std::string> &migration_notes() const { return migration_notes_; }
  bool migration_pending() const { return pending_ && !pending_->migrations.empty(); }
  // Once the maps are filled and the new programs attached on every interface (they replace
  // the old ones atomically): the new maps' staging pins are renamed over the old pins and
  // sg_meta records the layouts. Returns the maps whose pins were swapped.
  Result<std::vector<std::string>> commit_migration();
  // Entries of sg_machines, sg_flycast and sg_net_flags as pinned now, read from the pins
  // (during a migration: the old maps, which the attached programs still use).
  Result<std::size_t> pinned_state_entries() const;
  PinnedMaps &maps() { return maps_; }
  const PinnedMaps &maps() const { return maps_; }
  // Where machine_egress runs (XDP, or TC ingress on kernels without bpf_xdp_load_bytes).
  const EgressHookDecision &egress_hook() const { return egress_hook_; }

  // machine_egress on the host side of a machine interface: XDP (native, else generic), or
  // TC clsact ingress (egress_hook()). A program of ours on the other hook, left by an agent
  // that decided otherwise, is removed once the new one is in place.
  Result<MachineEgressAttachment> attach_machine_egress(int ifindex);
  // machine_ingress: TC clsact egress of the same interface.
  Result<TcAttachment> attach_machine_ingress(int ifindex);
  // uplink: TC clsact ingress; sg_uplink on Ethernet devices, sg_uplink_l3 on L3 devices
  // (WireGuard, tun: no Ethernet header), chosen from the device's hardware type.
  Result<TcAttachment> attach_uplink(int ifindex);

  // Runs sg_explain on frame (an Ethernet frame, e.g. from packet_builder.h) as if it were
  // seen by hook on ifindex (0 for uplink), against the live maps. Nothing is counted.
  Result<Explanation> explain(sg_hook hook, uint32_t ifindex, std::span<const uint8_t> frame) const;

  // Every map of the object that is pinned by name, with a handle of its own (the drift
  // checker pins them again if their pin goes: pin_repair.h).
  Result<std::vector<PinnedMapRef>> pinned_map_refs() const;

  // Program fds by entry-point name (for tests and tools): -1 if absent or not loaded.
  int program_fd(std::string_view name) const;

 private:
  explicit Datapath(PinnedMaps maps) : maps_(std::move(maps)) {}
  DatapathSkeleton skeleton_;        // every program but the XDP one, and the maps
  std::unique_ptr<XdpProgram> xdp_;  // only when egress_hook_ is XDP
  EgressHookDecision egress_hook_;
  std::string pin_dir_;
  MapSizes sizes_;
  std::vector<std::string> migration_notes_;
  std::optional<PinPlan> pending_;
  PinnedMaps maps_;
};

// True when the interface's hardware type has no Ethernet header (ARPHRD other than
// ETHER/LOOPBACK), looked up in the calling thread's network namespace.
Result<bool> is_l3_device(int ifindex);

// Uninstall (`sixguard agent --uninstall`): removes our programs (only ours) from every
// interface of the calling thread's network namespace, then the pinned maps in pin_dir.
// Foreign XDP programs, foreign TC filters and the clsact qdiscs are left in place.
Status uninstall_datapath(const std::string &pin_dir);

}  // namespace sixguard
