// The agent's readiness as /readyz and sixguard_ready report it (DESIGN §4): ready once the
// persisted state is loaded into the maps and every known machine interface that exists is
// attached. The daemon sets it; the metrics server reads it. Thread-safe.
#pragma once

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
  State get() const;

 private:
  mutable std::mutex mutex_;
  State state_{false, "starting"};
};

}  // namespace sixguard::exporter
