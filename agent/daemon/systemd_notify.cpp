#include "agent/daemon/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

#include "agent/daemon/log.h"

namespace sixguard::daemon {

SystemdNotifier::SystemdNotifier() : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

void SystemdNotifier::readiness(bool ready, const std::string &reason) {
  if (!enabled_) return;
  std::string status = ready ? "ready" : "not ready: " + reason;
  // STATUS= is shown by `systemctl status`: one line, bounded.
  for (char &c : status) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (status.size() > 200) status.resize(200);
  std::string message;
  if (ready && !ready_sent_) message += "READY=1\n";
  if (status != last_status_) message += "STATUS=" + status + "\n";
  if (message.empty() || !send(message)) return;  // a failed send is tried again next time
  if (ready) ready_sent_ = true;
  last_status_ = status;
}

void SystemdNotifier::stopping() {
  if (!enabled_) return;
  [[maybe_unused]] const bool sent =
      send("STOPPING=1\nSTATUS=stopping; programs stay attached and maps pinned\n");
}

bool SystemdNotifier::send(const std::string &message) {
  const int sent = ::sd_notify(/*unset_environment=*/0, message.c_str());
  if (sent < 0 && !failure_logged_) {
    // systemd then times the start out and restarts us: say why once, not on every change.
    log_warn("systemd", std::string("sd_notify to NOTIFY_SOCKET failed: ") + std::strerror(-sent));
    failure_logged_ = true;
  }
  return sent >= 0;
}

}  // namespace sixguard::daemon
