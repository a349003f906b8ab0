#include "agent/daemon/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace sixguard::daemon {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};
std::mutex g_write_mutex;  // one line at a time from every thread

// RFC 3339 in UTC with milliseconds: 2026-12-03T14:29:54.123Z.
std::string rfc3339_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  char stamp[40];
  const std::size_t length = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + length, sizeof(stamp) - length, ".%03ldZ", now.tv_nsec / 1000000);
  return stamp;
}

// Text lines stay one line whatever a message carries (a client's name, a kernel error):
// control characters are escaped so nobody can forge a second log line.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

std::string text_line(LogLevel level, std::string_view component, std::string_view message,
                      const nlohmann::json &fields) {
  std::string upper(name_of(kLogLevelNames, level));
  for (char &c : upper) c = static_cast<char>(c - 'a' + 'A');
  char head[64];
  std::snprintf(head, sizeof(head), "%s %-5s ", rfc3339_now().c_str(), upper.c_str());
  std::string line = head + one_line(component) + ": " + one_line(message);
  if (fields.is_object()) {
    for (const auto &[key, value] : fields.items()) {
      line += " " + one_line(key) + "=" +
              one_line(value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return line;
}

std::string json_line(LogLevel level, std::string_view component, std::string_view message,
                      const nlohmann::json &fields) {
  nlohmann::json line = {{"time", rfc3339_now()},
                         {"level", name_of(kLogLevelNames, level)},
                         {"component", component},
                         {"message", message}};
  if (fields.is_object()) {
    for (const auto &[key, value] : fields.items()) {
      if (!line.contains(key)) line[key] = value;
    }
  }
  // replace: a message carrying invalid UTF-8 (an interface name, a client's bytes) must not
  // throw here and lose the line.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level = level;
}

void set_log_format(LogFormat format) {
  g_format = format;
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  return value_named(kLogLevelNames, name);
}

bool init_log_level_from_env() {
  const char *env = std::getenv("SIXGUARD_LOG_LEVEL");
  if (env == nullptr || *env == '\0') return true;
  const auto level = parse_log_level(env);
  if (!level) return false;
  set_log_level(*level);
  return true;
}

void log(LogLevel level, std::string_view component, std::string_view message,
         const nlohmann::json &fields) {
  if (level < g_level.load()) return;
  const std::string line = g_format.load() == LogFormat::kJson
                               ? json_line(level, component, message, fields)
                               : text_line(level, component, message, fields);
  std::lock_guard lock(g_write_mutex);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace sixguard::daemon
