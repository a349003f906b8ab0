#include "log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace sixguard::daemon {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_write_mutex;  // one line at a time from every thread

const char *level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level = level;
}

void init_log_level_from_env() {
  const char *env = std::getenv("SIXGUARD_LOG_LEVEL");
  if (env == nullptr) return;
  const std::string value = env;
  if (value == "debug") set_log_level(LogLevel::kDebug);
  if (value == "info") set_log_level(LogLevel::kInfo);
  if (value == "warn") set_log_level(LogLevel::kWarn);
  if (value == "error") set_log_level(LogLevel::kError);
}

void log(LogLevel level, std::string_view component, std::string_view message) {
  if (level < g_level.load()) return;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard lock(g_write_mutex);
  std::fprintf(stderr, "%s.%03ldZ %-5s %.*s: %.*s\n", stamp, now.tv_nsec / 1000000,
               level_name(level), static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace sixguard::daemon
