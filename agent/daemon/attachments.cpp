#include "agent/daemon/attachments.h"

#include "agent/daemon/log.h"
#include <cerrno>

namespace sixguard::daemon {
namespace {

Error context(const Error &error, const std::string &what, const std::string &name) {
  return Error{error.code, what + " on " + name + ": " + error.message};
}

}  // namespace

bool AttachmentRegistry::holds(const std::string &name, uint32_t ifindex,
                               InterfaceRole role) const {
  std::lock_guard lock(mutex_);
  const auto known = entries_.find(ifindex);
  return known != entries_.end() && known->second.info.name == name &&
         known->second.info.role == role;
}

void AttachmentRegistry::store(uint32_t ifindex, Entry entry) {
  std::lock_guard lock(mutex_);
  entries_.erase(ifindex);  // a stale entry under another name: its objects leave as they are
  entries_.emplace(ifindex, std::move(entry));
}

Status AttachmentRegistry::attach_machine(const std::string &name, uint32_t ifindex) {
  if (holds(name, ifindex, InterfaceRole::kMachine)) return {};
  // Ingress first: if egress then fails, what the machine receives is still checked; a
  // half-attached interface is reported (not ready) and retried.
  auto ingress = datapath_.attach_machine_ingress(static_cast<int>(ifindex));
  if (!ingress) return context(ingress.error(), "attach machine_ingress", name);
  auto egress = datapath_.attach_machine_egress(static_cast<int>(ifindex));
  if (!egress) return context(egress.error(), "attach machine_egress", name);
  log_info("attach", name + " machine_ingress: " + ingress->decision());
  log_info("attach", name + " machine_egress: " + egress->decision());

  Entry entry;
  entry.info = InterfaceAttachment{name, ifindex, InterfaceRole::kMachine, {}};
  entry.info.hooks.push_back(HookAttachment{SG_HOOK_MACHINE_EGRESS,
                                            std::string(egress->mode_name()), egress->program_id(),
                                            egress->adopted()});
  entry.info.hooks.push_back(
      HookAttachment{SG_HOOK_MACHINE_INGRESS, "tc", ingress->program_id(), ingress->adopted()});
  entry.egress.emplace(std::move(*egress));
  entry.tc.emplace(std::move(*ingress));
  store(ifindex, std::move(entry));
  return {};
}

Status AttachmentRegistry::attach_uplink(const std::string &name, uint32_t ifindex) {
  if (holds(name, ifindex, InterfaceRole::kUplink)) return {};
  auto uplink = datapath_.attach_uplink(static_cast<int>(ifindex));
  if (!uplink) return context(uplink.error(), "attach uplink", name);
  log_info("attach", name + " uplink: " + uplink->decision());
  Entry entry;
  entry.info = InterfaceAttachment{name, ifindex, InterfaceRole::kUplink, {}};
  entry.info.hooks.push_back(
      HookAttachment{SG_HOOK_UPLINK, "tc", uplink->program_id(), uplink->adopted()});
  entry.tc.emplace(std::move(*uplink));
  store(ifindex, std::move(entry));
  return {};
}

Status AttachmentRegistry::detach(uint32_t ifindex) {
  std::optional<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    const auto known = entries_.find(ifindex);
    if (known == entries_.end()) return {};
    entry.emplace(std::move(known->second));
    entries_.erase(known);
  }
  Status result;
  // Egress (what the machine sends) last: it is the hook that stops a spoofing machine.
  if (entry->tc) {
    if (auto status = entry->tc->detach(); !status) result = status;
  }
  if (entry->egress) {
    if (auto status = entry->egress->detach(); !status) result = status;
  }
  if (!result) return context(result.error(), "detach", entry->info.name);
  return {};
}

void AttachmentRegistry::forget(uint32_t ifindex) {
  std::lock_guard lock(mutex_);
  // The attachment objects default to OnDestroy::kLeaveAttached: destroying them touches
  // nothing in the kernel.
  entries_.erase(ifindex);
}

std::vector<MissingHook> AttachmentRegistry::verify() const {
  // The kernel is queried outside the lock: status and metrics read the registry meanwhile,
  // and only the main loop, which calls this, changes it.
  const std::vector<InterfaceAttachment> attached = snapshot();
  std::vector<MissingHook> missing;
  for (const auto &interface : attached) {
    const int ifindex = static_cast<int>(interface.ifindex);
    for (const auto &hook : interface.hooks) {
      std::optional<uint32_t> present;  // the program id the kernel has there, if any
      bool gone = false;                // the interface itself is gone: the link watcher's
      auto from_tc = [&](TcDirection direction) {
        auto filter = TcAttachment::query(ifindex, direction);
        if (!filter) {
          gone = filter.error().code == ENODEV || filter.error().code == ENXIO;
          if (!gone) present = 0;  // cannot tell: attach again, which says why if it fails
          return;
        }
        if (*filter) present = (*filter)->program_id;
      };
      if (hook.hook == SG_HOOK_MACHINE_EGRESS && hook.mode != "tc") {
        auto xdp = XdpProgram::query(ifindex);
        if (!xdp) {
          gone = xdp.error().code == ENODEV || xdp.error().code == ENXIO;
          if (!gone) present = 0;
        } else if (xdp->attached) {
          present = xdp->program_id;
        }
      } else if (hook.hook == SG_HOOK_MACHINE_INGRESS) {
        from_tc(TcDirection::kEgress);
      } else {
        from_tc(TcDirection::kIngress);  // machine_egress on TC, or the uplink hook
      }
      if (gone || present == hook.program_id) continue;
      missing.push_back(MissingHook{interface.ifindex, interface.name, hook.hook,
                                    present ? "program id " + std::to_string(*present) +
                                                  " in place of " + std::to_string(hook.program_id)
                                            : std::string("detached")});
    }
  }
  return missing;
}

bool AttachmentRegistry::attached(uint32_t ifindex) const {
  std::lock_guard lock(mutex_);
  return entries_.count(ifindex) != 0;
}

std::optional<InterfaceAttachment> AttachmentRegistry::find(uint32_t ifindex) const {
  std::lock_guard lock(mutex_);
  const auto known = entries_.find(ifindex);
  if (known == entries_.end()) return std::nullopt;
  return known->second.info;
}

std::vector<InterfaceAttachment> AttachmentRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<InterfaceAttachment> out;
  for (const auto &[ifindex, entry] : entries_) out.push_back(entry.info);
  return out;
}

std::array<uint64_t, SG_HOOK_COUNT> AttachmentRegistry::counts() const {
  std::lock_guard lock(mutex_);
  std::array<uint64_t, SG_HOOK_COUNT> counts{};
  for (const auto &[ifindex, entry] : entries_) {
    for (const auto &hook : entry.info.hooks) counts[hook.hook]++;
  }
  return counts;
}

}  // namespace sixguard::daemon
