// The daemon's implementations of the API's providers (agent/api/providers.h): status and
// explain. (The monitor source is MonitorHub, monitor_hub.h.)
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "agent/daemon/attachments.h"
#include "agent/daemon/config.h"
#include "agent/control/control_plane.h"
#include "agent/daemon/datapath_service.h"
#include "agent/daemon/drift_checker.h"
#include "agent/api/providers.h"
#include "exporter/readiness.h"
#include "exporter/sources.h"

namespace sixguard::daemon {

// GET /v1/status:
//   {"version", "kernel", "mode", "ready", "ready_reason"?, "pin_dir",
//    "datapath": {"machine_egress_hook": "xdp"|"tc", "reason"},
//    "attached_interfaces": {"machine_egress": n, "machine_ingress": n, "uplink": n},
//    "interfaces": [{"interface", "ifindex", "role": "machine"|"uplink",
//                    "hooks": [{"hook", "mode": "native"|"generic"|"tc", "program_id",
//                               "adopted"}]}],
//    "maps": {"machines": {"entries", "capacity"}, ...},
//    "drift": DriftChecker::status()}
// The datapath decisions made at load, for status.
struct DatapathSummary {
  std::string machine_egress_hook;  // "xdp" | "tc"
  std::string machine_egress_hook_reason;
};

class DaemonStatus final : public StatusProvider {
 public:
  DaemonStatus(const AgentConfig &config, const AttachmentRegistry &attachments,
               const exporter::Readiness &readiness,
               std::shared_ptr<exporter::MapStatsSource> map_stats, DatapathSummary datapath)
      : config_(config),
        attachments_(attachments),
        readiness_(readiness),
        map_stats_(std::move(map_stats)),
        datapath_(std::move(datapath)) {}
  nlohmann::json status() override;
  // Set once, before the API serves.
  void set_drift_checker(const DriftChecker *checker) { drift_ = checker; }

 private:
  const AgentConfig &config_;
  const AttachmentRegistry &attachments_;
  const exporter::Readiness &readiness_;
  std::shared_ptr<exporter::MapStatsSource> map_stats_;
  DatapathSummary datapath_;
  const DriftChecker *drift_ = nullptr;
};

// POST /v1/explain. The packet is IPv6/UDP src -> dst in an Ethernet frame, run through the
// loaded sg_explain against the live maps.
//   - no interface: the uplink hook (traffic arriving from another host);
//   - an interface: it must be a machine interface of this host (else ENODEV -> 404). The
//     hook is machine_egress (what the machine sends), except when dst is inside that
//     machine's /112 and src is not: then the packet can only be one delivered TO the
//     machine, and machine_ingress is explained. The answer names the hook either way.
class DaemonExplainer final : public Explainer {
 public:
  DaemonExplainer(DatapathService &datapath, const ControlPlane &control)
      : datapath_(datapath), control_(control) {}
  Result<Explanation> explain(const Ipv6 &src, const Ipv6 &dst,
                              const std::optional<std::string> &interface_name) override;

 private:
  DatapathService &datapath_;
  const ControlPlane &control_;
};

}  // namespace sixguard::daemon
