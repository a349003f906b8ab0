#include "batch_log.h"

#include "control_plane.h"
#include "log.h"

namespace sixguard::daemon {

void BatchLogObserver::batch_finished(const ApplyResult &result) {
  metrics_.batch_finished(result);
  if (result.status == 200) {
    // A batch of only unchanged events (a control plane re-sending its state) is routine:
    // debug, so a resync does not flood the log.
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
    log(result.applied == 0 ? LogLevel::kDebug : LogLevel::kInfo, "events", message, fields);
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
