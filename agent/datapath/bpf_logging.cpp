#include "agent/datapath/bpf_logging.h"

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <array>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

namespace sixguard {
namespace {

std::mutex sink_mutex;
BpfLogSink installed_sink;
bool installed_verbose = false;

std::string format(const char *format, va_list args) {
  std::array<char, 1024> buffer{};
  std::vsnprintf(buffer.data(), buffer.size(), format, args);
  std::string text(buffer.data());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

void deliver(std::string_view origin, BpfLogLevel level, std::string message) {
  std::lock_guard lock(sink_mutex);
  if (!installed_sink) return;
  if (!installed_verbose) {
    if (level != BpfLogLevel::kWarning) return;
    if (is_expected_bpf_library_warning(message)) return;
  }
  installed_sink(origin, level, message);
}

// libbpf and libxdp each have their own enum of the same three levels.
template <typename LibraryLevel>
BpfLogLevel level_of(LibraryLevel level, LibraryLevel warn, LibraryLevel info) {
  return level == warn   ? BpfLogLevel::kWarning
         : level == info ? BpfLogLevel::kInfo
                         : BpfLogLevel::kDebug;
}

int from_libbpf(enum libbpf_print_level level, const char *text, va_list args) {
  deliver("libbpf", level_of(level, LIBBPF_WARN, LIBBPF_INFO), format(text, args));
  return 0;
}

int from_libxdp(enum libxdp_print_level level, const char *text, va_list args) {
  deliver("libxdp", level_of(level, LIBXDP_WARN, LIBXDP_INFO), format(text, args));
  return 0;
}

}  // namespace

bool is_expected_bpf_library_warning(std::string_view message) {
  // Each is a condition our code checks for and handles: queries of a filter or qdisc that
  // is not there yet, creating a clsact qdisc that exists, libxdp falling back to direct
  // attachment when the kernel refuses freplace, and ELF sections libbpf does not use.
  static constexpr std::string_view kExpected[] = {
      "Cannot find specified filter chain",
      "Parent Qdisc doesn't exists",
      "Exclusivity flag on, cannot modify",
      "skipping unrecognized data section",
      "Falling back to loading single prog without dispatcher",
      "Compatibility check for dispatcher program failed",
      "xdp-dispatcher.o",
      "prog 'xdp_pass'",
      "permission error while running as root",  // libbpf's hint after the xdp_pass refusal
  };
  for (auto expected : kExpected) {
    if (message.find(expected) != std::string_view::npos) return true;
  }
  return false;
}

void route_bpf_library_logs(BpfLogSink sink, bool verbose) {
  {
    std::lock_guard lock(sink_mutex);
    installed_sink = std::move(sink);
    installed_verbose = verbose;
  }
  libbpf_set_print(from_libbpf);
  libxdp_set_print(from_libxdp);
}

}  // namespace sixguard
