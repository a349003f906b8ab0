// Readiness for systemd (Type=notify): READY=1 the first time the agent is ready (the moment
// /readyz turns 200: the persisted state is in the maps and every known machine interface
// that exists is attached), STATUS= with the reason whenever readiness changes, STOPPING=1
// when it stops. Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
#pragma once

#include <optional>
#include <string>

namespace sixguard::daemon {

class SystemdNotifier {
 public:
  SystemdNotifier();

  // Called whenever readiness may have changed; sends only what changed.
  void readiness(bool ready, const std::string &reason);
  void stopping();

 private:
  // False when the message could not be sent (logged once).
  bool send(const std::string &message);

  bool enabled_;
  bool ready_sent_ = false;
  bool failure_logged_ = false;
  std::optional<std::string> last_status_;
};

}  // namespace sixguard::daemon
