// The registry as it was before a batch, seen through the batch's net changes on top of the
// registry after it: the lookups partial_image needs, without undoing the batch. Keys the
// batch did not change read through to the registry as it is now.
#pragma once

#include <map>
#include <string>

#include "agent/control/state.h"
#include "agent/control/state_journal.h"

namespace sixguard {

class StateBefore {
 public:
  // after and delta must outlive the view.
  StateBefore(const State &after, const StateDelta &delta);

  const MachineRecord *machine_by_interface(const std::string &name) const;
  const AppRecord *live_app(const std::string &name) const;
  const FlycastRecord *flycast(const Ipv6 &address) const;
  bool is_flycast_target(const std::string &app) const;
  const NetworkRecord *network_by_id(uint32_t id) const;
  std::size_t audit_network_count() const { return audit_networks_; }

 private:
  const State &after_;
  const StateDelta &delta_;
  std::map<std::string, const MachineRecord *> owners_;  // interfaces of changed machines
  // Per app: its Flycast addresses before the batch minus after (apps the batch changed).
  std::map<std::string, long> flycast_added_back_;
  std::size_t audit_networks_ = 0;
};

}  // namespace sixguard
