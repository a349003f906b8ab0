#include "agent/daemon/providers_impl.h"

#include <net/if.h>

#include "agent/datapath/names.h"
#include "exporter/build_info.h"
#include "agent/core/packet_builder.h"

namespace sixguard::daemon {

nlohmann::json DaemonStatus::status() {
  static const exporter::BuildInfo build = exporter::BuildInfo::current();
  const auto readiness = readiness_.get();
  nlohmann::json out = {
      {"version", build.version}, {"revision", build.revision},
      {"kernel", build.kernel},   {"mode", name_of(kEnforcementModeNames, config_.mode)},
      {"ready", readiness.ready}, {"pin_dir", config_.pin_dir()}};
  if (!readiness.ready) out["ready_reason"] = readiness.reason;
  out["datapath"] = {{"machine_egress_hook", datapath_.machine_egress_hook},
                     {"reason", datapath_.machine_egress_hook_reason}};

  const auto counts = attachments_.counts();
  nlohmann::json per_hook = nlohmann::json::object();
  for (uint32_t hook = 0; hook < SG_HOOK_COUNT; ++hook) {
    per_hook[std::string(hook_name(hook))] = counts[hook];
  }
  out["attached_interfaces"] = per_hook;

  nlohmann::json interfaces = nlohmann::json::array();
  for (const auto &attachment : attachments_.snapshot()) {
    nlohmann::json hooks = nlohmann::json::array();
    for (const auto &hook : attachment.hooks) {
      hooks.push_back({{"hook", hook_name(hook.hook)},
                       {"mode", hook.mode},
                       {"program_id", hook.program_id},
                       {"adopted", hook.adopted}});
    }
    interfaces.push_back(
        {{"interface", attachment.name},
         {"ifindex", attachment.ifindex},
         {"role", attachment.role == InterfaceRole::kMachine ? "machine" : "uplink"},
         {"hooks", hooks}});
  }
  out["interfaces"] = interfaces;

  nlohmann::json maps = nlohmann::json::object();
  if (map_stats_) {
    auto usage = map_stats_->map_usage();
    if (usage) {
      for (const auto &map : *usage) {
        maps[map.map] = {{"entries", map.entries}, {"capacity", map.capacity}};
      }
    } else {
      maps["error"] = usage.error().describe();
    }
  }
  out["maps"] = maps;
  if (drift_ != nullptr) out["drift"] = drift_->status();
  return out;
}

Result<Explanation> DaemonExplainer::explain(const Ipv6 &src, const Ipv6 &dst,
                                             const std::optional<std::string> &interface_name) {
  sg_hook hook = SG_HOOK_UPLINK;
  uint32_t ifindex = 0;
  if (interface_name) {
    ifindex = ::if_nametoindex(interface_name->c_str());
    if (ifindex == 0) {
      return make_error("interface " + *interface_name + " does not exist on this host", ENODEV);
    }
    std::optional<MachineInfo> owner;
    for (const auto &machine : control_.machines()) {
      if (machine.interface_name == *interface_name) owner = machine;
    }
    if (!owner) {
      return make_error("interface " + *interface_name + " is not a machine interface", ENODEV);
    }
    const Ipv6Prefix machine{owner->prefix, 112};
    hook = (machine.contains(dst) && !machine.contains(src)) ? SG_HOOK_MACHINE_INGRESS
                                                             : SG_HOOK_MACHINE_EGRESS;
  }
  const auto frame = PacketBuilder().ethernet().ipv6(src, dst).udp(49152, 53).build();
  return datapath_.explain(hook, ifindex, frame);
}

}  // namespace sixguard::daemon
