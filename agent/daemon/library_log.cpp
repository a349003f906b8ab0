#include "agent/daemon/library_log.h"

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>

#include "agent/daemon/log.h"

namespace sixguard::daemon {
namespace {

constexpr std::string_view kExpected[] = {
    "Cannot find specified filter chain",   // querying TC before our first attach
    "skipping unrecognized data section",   // libxdp's metadata sections
    "No bpffs found",                       // libxdp without bpffs at its default path...
    "Can't use dispatcher without",         // ...so no dispatcher...
    "Falling back to loading single prog",  // ...and a directly attached program instead
    "Exclusivity flag on, cannot modify",   // TC attach finding our filter (then adopted)
    "Parent Qdisc doesn't exists",          // uninstall on an interface without clsact
};

// libxdp probes whether the kernel takes its dispatcher by loading a test program
// ("xdp_pass" from xdp-dispatcher.o); where the kernel refuses extension programs the probe
// fails with a burst of libbpf warnings and libxdp falls back to attaching directly. That
// burst is expected: it runs from the first line naming the probe to libxdp's verdict.
thread_local bool g_in_dispatcher_probe = false;

void emit(bool warning, bool debug, std::string_view component, const char *format, va_list args) {
  char text[1024];
  std::vsnprintf(text, sizeof(text), format, args);
  std::string message(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.empty()) return;
  LogLevel level = debug ? LogLevel::kDebug : (warning ? LogLevel::kWarn : LogLevel::kInfo);
  for (const auto expected : kExpected) {
    if (message.find(expected) != std::string::npos) level = LogLevel::kDebug;
  }
  if (message.find("xdp_pass") != std::string::npos ||
      message.find("xdp-dispatcher") != std::string::npos) {
    g_in_dispatcher_probe = true;
  }
  if (g_in_dispatcher_probe) level = LogLevel::kDebug;
  if (message.find("Compatibility check for dispatcher") != std::string::npos) {
    g_in_dispatcher_probe = false;
  }
  log(level, component, message);
}

int libbpf_print(enum libbpf_print_level level, const char *format, va_list args) {
  emit(level == LIBBPF_WARN, level == LIBBPF_DEBUG, "libbpf", format, args);
  return 0;
}

int libxdp_print(enum libxdp_print_level level, const char *format, va_list args) {
  emit(level == LIBXDP_WARN, level == LIBXDP_DEBUG, "libxdp", format, args);
  return 0;
}

}  // namespace

void route_library_logs() {
  libbpf_set_print(libbpf_print);
  libxdp_set_print(libxdp_print);
}

}  // namespace sixguard::daemon
