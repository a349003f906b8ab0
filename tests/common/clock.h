// The clocks of the tests and benchmarks, and the run context every benchmark reports: monotonic
// and wall-clock nanoseconds, the calling thread's CPU time (what per-packet figures divide), the
// start time and the load average a result is recorded with.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <string>

namespace sixguard::test {

inline uint64_t clock_ns(clockid_t clock) {
  timespec t{};
  ::clock_gettime(clock, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(t.tv_nsec);
}
// Monotonic nanoseconds: intervals.
inline uint64_t monotonic_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}
// Wall-clock nanoseconds: comparable across processes (a publish time read by another process).
inline uint64_t realtime_ns() {
  return clock_ns(CLOCK_REALTIME);
}
// CPU nanoseconds of the calling thread: per-packet cost without time spent descheduled.
inline uint64_t thread_cpu_ns() {
  return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

// Seconds since `start` on the steady clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The wall clock now, ISO 8601 UTC.
inline std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buffer;
}

// "/proc/loadavg"'s first three fields, e.g. "3.12 2.80 2.10"; "?" when unreadable.
inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "?";
  return a + " " + b + " " + c;
}

}  // namespace sixguard::test
