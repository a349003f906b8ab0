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

#include "agent/daemon/log_names.h"

namespace sixguard::daemon {

// Lines below this level are dropped (default info).
void set_log_level(LogLevel level);
void set_log_format(LogFormat format);
// A name of kLogLevelNames; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name);
// SIXGUARD_LOG_LEVEL, when set to a known level, wins over the configuration's log_level (an
// operator debugging one node sets it without editing the cluster-wide config). Returns false
// when it is set to an unknown value (the caller says so once the format is known).
bool init_log_level_from_env();

// fields: a JSON object whose members become the line's fields (text: key=value after the
// message; json: members of the line's object, never overriding time/level/component/message).
void log(LogLevel level, std::string_view component, std::string_view message,
         const nlohmann::json &fields = nlohmann::json::object());

// log_info("attach", "sgm1 attached", {{"mode", "xdp"}}): log() at one level. One template
// for the four, so they cannot differ in more than their level.
template <LogLevel kLevel>
struct LogAt {
  void operator()(std::string_view component, std::string_view message,
                  const nlohmann::json &fields = nlohmann::json::object()) const {
    log(kLevel, component, message, fields);
  }
};
inline constexpr LogAt<LogLevel::kDebug> log_debug{};
inline constexpr LogAt<LogLevel::kInfo> log_info{};
inline constexpr LogAt<LogLevel::kWarn> log_warn{};
inline constexpr LogAt<LogLevel::kError> log_error{};

}  // namespace sixguard::daemon
