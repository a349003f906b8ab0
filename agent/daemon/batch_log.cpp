#include "agent/daemon/batch_log.h"

#include <string>

#include "agent/control/control_plane.h"
#include "agent/daemon/log.h"

namespace sixguard::daemon {

bool BatchLogObserver::take_line(uint64_t &suppressed_before) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= kLinesPerSecond) {
    ++suppressed_;
    return false;
  }
  ++lines_in_window_;
  suppressed_before = suppressed_;
  suppressed_ = 0;
  return true;
}

void BatchLogObserver::batch_finished(const ApplyResult &result) {
  metrics_.batch_finished(result);
  // A resync of unchanged events is debug: not worth a line of the budget unless shown.
  if (result.status == 200 && result.applied == 0) {
    log(LogLevel::kDebug, "events",
        "batch applied: 0 applied, " + std::to_string(result.unchanged) + " unchanged",
        {{"status", result.status}, {"applied", 0}, {"unchanged", result.unchanged}});
    return;
  }
  uint64_t suppressed = 0;
  if (!take_line(suppressed)) return;
  if (suppressed > 0) {
    log(LogLevel::kWarn, "events",
        std::to_string(suppressed) + " batch log lines left out (more than " +
            std::to_string(kLinesPerSecond) + " a second); sixguard_events_total counts them",
        {{"suppressed", suppressed}});
  }
  if (result.status == 200) {
    nlohmann::json fields = {{"status", result.status},
                             {"applied", result.applied},
                             {"unchanged", result.unchanged},
                             {"applied_by_type", result.applied_by_type}};
    std::string summary;
    for (const auto &[type, count] : result.applied_by_type) {
      summary += (summary.empty() ? "" : ", ") + type + " " + std::to_string(count);
    }
    const std::string message = "batch applied: " + std::to_string(result.applied) + " applied (" +
                                (summary.empty() ? "none" : summary) + "), " +
                                std::to_string(result.unchanged) + " unchanged";
    log(LogLevel::kInfo, "events", message, fields);
    return;
  }
  nlohmann::json fields = {{"status", result.status},
                           {"code", result.code.empty() ? std::string("internal") : result.code}};
  // The body of a refusal is {"error", "index"?, "type"?, "field"?} (events.h EventError).
  for (const char *key : {"index", "type", "field"}) {
    if (result.body.is_object() && result.body.contains(key)) fields[key] = result.body[key];
  }
  std::string error = "(no message)";
  if (result.body.is_object() && result.body.contains("error") &&
      result.body["error"].is_string()) {
    error = result.body["error"].get<std::string>();
  }
  fields["error"] = error;
  log(LogLevel::kWarn, "events", "batch refused: " + error, fields);
}

}  // namespace sixguard::daemon
