// Where libbpf's and libxdp's own messages go. By default both print warnings to stderr,
// including kernel extack texts for conditions the datapath expects and handles (no clsact
// qdisc yet, no filter at our handle, libxdp falling back from its dispatcher), which would
// read like failures in the agent's log. route_bpf_library_logs() sends every message to one
// sink with its origin, and drops those known, handled conditions unless verbose is set.
#pragma once

#include <functional>
#include <string_view>

namespace sixguard {

enum class BpfLogLevel { kWarning, kInfo, kDebug };

// origin: "libbpf" or "libxdp"; message without trailing newline. Called from whichever
// thread runs the library call.
using BpfLogSink =
    std::function<void(std::string_view origin, BpfLogLevel level, std::string_view message)>;

// Installs sink for both libraries (process-wide). verbose: also pass info/debug messages and
// the expected-condition warnings.
void route_bpf_library_logs(BpfLogSink sink, bool verbose = false);

// True for a warning that describes a condition the datapath handles itself (exposed for
// tests).
bool is_expected_bpf_library_warning(std::string_view message);

}  // namespace sixguard
