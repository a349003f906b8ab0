// The interfaces this agent has attached programs to, by ifindex: machine interfaces carry
// machine_egress (XDP, or TC clsact ingress on older kernels) and machine_ingress (TC clsact
// egress); uplinks carry uplink (TC
// ingress). Holds the RAII attachment objects, whose default is to LEAVE the programs
// attached when destroyed (agent exit, crash: enforcement never depends on the agent).
//
// Mutated only by the daemon's main loop; read (snapshot, counts) from the API and metrics
// threads, hence the mutex.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/daemon/datapath_service.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::daemon {

enum class InterfaceRole { kMachine, kUplink };

// One hook on one interface, as status reports it.
struct HookAttachment {
  sg_hook hook = SG_HOOK_MACHINE_EGRESS;
  std::string mode;  // "native" | "generic" (XDP) | "tc"
  uint32_t program_id = 0;
  bool adopted = false;  // the identical program was already there (agent restart)
};

struct InterfaceAttachment {
  std::string name;
  uint32_t ifindex = 0;
  InterfaceRole role = InterfaceRole::kMachine;
  std::vector<HookAttachment> hooks;
};

// A hook the registry says is attached but the kernel no longer has as we attached it
// (detached behind our back, or another program in its place).
struct MissingHook {
  uint32_t ifindex = 0;
  std::string name;
  sg_hook hook = SG_HOOK_MACHINE_EGRESS;
  std::string what;  // "detached" or "program id N in place of M"
};

class AttachmentRegistry {
 public:
  explicit AttachmentRegistry(DatapathService &datapath) : datapath_(datapath) {}

  // Attaches machine_egress and machine_ingress to a machine interface. The caller has put
  // the interface's sg_machines entry first (a program must never run before its entry
  // exists). Already attached under the same name: nothing to do.
  Status attach_machine(const std::string &name, uint32_t ifindex);
  // Attaches the uplink hook (L2 or L3 chosen by the datapath from the device type).
  Status attach_uplink(const std::string &name, uint32_t ifindex);

  // Removes our programs from the interface now (machine.stopped) and forgets it.
  Status detach(uint32_t ifindex);
  // The interface is gone (and our programs with it): forget it without touching the
  // kernel, since the ifindex may already name another interface.
  void forget(uint32_t ifindex);

  // Asks the kernel (read-only queries) whether every hook of every interface we attached
  // is still there with the program we attached. An interface the kernel no longer knows is
  // left to the link watcher. The caller forgets the interfaces named and attaches them
  // again (the attach code adopts what is still there and identical).
  std::vector<MissingHook> verify() const;

  bool attached(uint32_t ifindex) const;
  std::optional<InterfaceAttachment> find(uint32_t ifindex) const;
  std::vector<InterfaceAttachment> snapshot() const;
  // Interfaces carrying each hook, indexed by enum sg_hook.
  std::array<uint64_t, SG_HOOK_COUNT> counts() const;

 private:
  struct Entry {
    InterfaceAttachment info;
    std::optional<MachineEgressAttachment> egress;  // machine interfaces
    std::optional<TcAttachment> tc;                 // machine_ingress, or the uplink hook
  };

  // Already attached under this name and role (the link watcher reports an interface again
  // on every change): nothing to do.
  bool holds(const std::string &name, uint32_t ifindex, InterfaceRole role) const;
  // Replaces whatever was recorded for ifindex.
  void store(uint32_t ifindex, Entry entry);

  DatapathService &datapath_;
  mutable std::mutex mutex_;
  std::map<uint32_t, Entry> entries_;
};

}  // namespace sixguard::daemon
