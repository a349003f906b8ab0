// Routes libbpf's and libxdp's messages into the agent's log (log.h) instead of raw stderr
// lines, so every line has the same shape and a level. Messages that are expected in normal
// operation (a TC query finding no filter yet, libxdp falling back to a single program when
// no bpffs is visible at its default path) are demoted to debug.
#pragma once

namespace sixguard::daemon {

void route_library_logs();

}  // namespace sixguard::daemon
