// The agent's readiness as /readyz and sixguard_ready report it (DESIGN §4): ready once the
// persisted state is loaded into the maps and every known machine interface that exists is
// attached, and not while the state cannot be committed (disk full, database gone or
// corrupt). The daemon sets it; the metrics server reads it. Thread-safe.
//
// Two layers: the start-up/attachment state (set_ready, set_not_ready), which the daemon
// recomputes on every sweep, and named conditions (set_condition) that hold the agent not
// ready whatever the sweep says, until cleared: a sweep that finds every interface attached
// must not hide a state database that is gone.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace sixguard::exporter {

class Readiness {
 public:
  struct State {
    bool ready = false;
    std::string reason;  // why not ready; empty when ready
  };

  void set_ready();
  // Not ready (again), with a reason an operator can act on ("loading state",
  // "interface tap3 not attached: ...").
  void set_not_ready(std::string reason);
  // Holds the agent not ready for this reason until clear_condition(name).
  void set_condition(const std::string &name, std::string reason);
  void clear_condition(const std::string &name);
  // Not ready with the first condition's reason if any is set, else the sweep's state.
  State get() const;

 private:
  mutable std::mutex mutex_;
  State state_{false, "starting"};
  std::map<std::string, std::string> conditions_;
};

}  // namespace sixguard::exporter
