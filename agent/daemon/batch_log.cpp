#include "agent/daemon/batch_log.h"

#include <string>

#include "agent/api/control_answer.h"
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
  const ControlAnswer answer = answer_of(result);
  if (!result.error && result.applied == 0) {
    log(LogLevel::kDebug, "events",
        "batch applied: 0 applied, " + std::to_string(result.unchanged) + " unchanged",
        {{"status", answer.status}, {"applied", 0}, {"unchanged", result.unchanged}});
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
  if (!result.error) {
    nlohmann::json fields = {{"status", answer.status},
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
  // The fields of the answer's body: "error", and "index", "type", "field" when known.
  nlohmann::json fields = error_body(*result.error);
  fields["status"] = answer.status;
  fields["code"] = result.code();
  log(LogLevel::kWarn, "events", "batch refused: " + result.error->message, fields);
}

}  // namespace sixguard::daemon
