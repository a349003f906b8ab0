// The daemon's one handle on the loaded datapath (agent/datapath's Datapath): loading with
// the configuration's bpffs and map sizes, the MapBackend the control plane reconciles
// through, the attach operations, explain and the ring buffer of drop events.
//
// Why a facade: it owns what the daemon keeps beside the Datapath (the MapBackend over its
// maps, and the handles on every pinned map taken at load, which the drift checker pins
// again from), and turns the configuration into DatapathOptions in one place. The daemon's
// other files see only this interface, not the Datapath's loading and pinning machinery.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/daemon/config.h"
#include "agent/datapath/egress_attachment.h"
#include "agent/datapath/names.h"
#include "agent/control/map_backend.h"
#include "maps/map_handle.h"
#include "agent/datapath/pin_repair.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"
#include "agent/datapath/tc_attachment.h"
#include "agent/datapath/xdp_attachment.h"

namespace sixguard::daemon {

class DatapathService {
 public:
  // Mounts bpffs at config.bpffs if needed, loads every program, reuses the maps pinned in
  // <bpffs>/sixguard (or creates and pins them with config.map_sizes).
  static Result<std::unique_ptr<DatapathService>> load(const AgentConfig &config);
  ~DatapathService();  // closes our fds only: programs stay attached, maps stay pinned

  const std::string &pin_dir() const;
  // The pinned maps as the control plane's MapBackend.
  MapBackend &map_backend();

  // Where machine_egress runs on this kernel ("xdp" or "tc") and why.
  std::string_view machine_egress_hook() const;
  const std::string &machine_egress_hook_reason() const;
  // The pinned maps this load migrates (another size or layout), each with why and how.
  const std::vector<std::string> &migration_notes() const;
  bool migration_pending() const;
  // After the maps are reconciled and every interface has the new programs: the new maps'
  // pins replace the old ones. Returns the maps whose pins were swapped.
  Result<std::vector<std::string>> commit_migration();
  // Entries the pinned state maps hold (during a migration: the old maps still in use).
  Result<std::size_t> pinned_state_entries() const;

  Result<MachineEgressAttachment> attach_machine_egress(int ifindex);
  Result<TcAttachment> attach_machine_ingress(int ifindex);
  Result<TcAttachment> attach_uplink(int ifindex);

  // The drift checker's pin check: bpffs mounted at the configured path (mounted again if
  // not), every pin of ours there and naming our map (pinned again from our fds if not).
  PinRepair repair_pins();

  // Runs the loaded sg_explain on an Ethernet frame as hook would see it on ifindex.
  Result<Explanation> explain(sg_hook hook, uint32_t ifindex, std::span<const uint8_t> frame);

  // A second handle on sg_events, for the monitor's reader thread.
  Result<maps::MapHandle> events_map() const;

 private:
  struct Impl;
  explicit DatapathService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `sixguard agent --uninstall`: our programs off every interface of this network namespace,
// then the pins under <bpffs>/sixguard. Foreign programs are left alone.
Status uninstall_datapath_programs(const AgentConfig &config);

}  // namespace sixguard::daemon
