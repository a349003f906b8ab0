// The agent's log: one line per event on stderr, "LEVEL component: message". The agent runs
// in the foreground under a supervisor (systemd, a container runtime) that timestamps lines,
// so a timestamp is added only in ISO form to keep lines greppable when run by hand.
#pragma once

#include <string_view>

namespace sixguard::daemon {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Lines below this level are dropped (SIXGUARD_LOG_LEVEL=debug|info|warn|error, default info).
void set_log_level(LogLevel level);
void init_log_level_from_env();

void log(LogLevel level, std::string_view component, std::string_view message);

inline void log_info(std::string_view component, std::string_view message) {
  log(LogLevel::kInfo, component, message);
}
inline void log_warn(std::string_view component, std::string_view message) {
  log(LogLevel::kWarn, component, message);
}
inline void log_error(std::string_view component, std::string_view message) {
  log(LogLevel::kError, component, message);
}
inline void log_debug(std::string_view component, std::string_view message) {
  log(LogLevel::kDebug, component, message);
}

}  // namespace sixguard::daemon
