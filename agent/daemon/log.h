// The agent's log: one line per event on stderr. The agent runs in the foreground under a
// supervisor (systemd, a container runtime) that collects stderr.
//
// Two formats (config key log_format):
// - text (default): "2026-12-03T14:29:54.123Z INFO  component: message key=value ...", for
//   people reading the journal or `kubectl logs`.
// - json: one object per line, {"time" (RFC 3339, UTC, milliseconds), "level", "component",
//   "message", ...fields}, for log pipelines (Loki, Elasticsearch, Vector) that index fields.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace sixguard::daemon {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

// Lines below this level are dropped (default info).
void set_log_level(LogLevel level);
void set_log_format(LogFormat format);
// "debug" | "info" | "warn" | "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name);
// SIXGUARD_LOG_LEVEL, when set to a known level, wins over the configuration's log_level (an
// operator debugging one node sets it without editing the cluster-wide config). Returns false
// when it is set to an unknown value (the caller says so once the format is known).
bool init_log_level_from_env();

// fields: a JSON object whose members become the line's fields (text: key=value after the
// message; json: members of the line's object, never overriding time/level/component/message).
void log(LogLevel level, std::string_view component, std::string_view message,
         const nlohmann::json &fields = nlohmann::json::object());

inline void log_info(std::string_view component, std::string_view message,
                     const nlohmann::json &fields = nlohmann::json::object()) {
  log(LogLevel::kInfo, component, message, fields);
}
inline void log_warn(std::string_view component, std::string_view message,
                     const nlohmann::json &fields = nlohmann::json::object()) {
  log(LogLevel::kWarn, component, message, fields);
}
inline void log_error(std::string_view component, std::string_view message,
                      const nlohmann::json &fields = nlohmann::json::object()) {
  log(LogLevel::kError, component, message, fields);
}
inline void log_debug(std::string_view component, std::string_view message,
                      const nlohmann::json &fields = nlohmann::json::object()) {
  log(LogLevel::kDebug, component, message, fields);
}

}  // namespace sixguard::daemon
