// What the live benchmark reads from the running system: the receiving veth's NAPI thread
// (found by name, pinned to a CPU, its on-CPU time), a device's ethtool statistics, the load
// average (tests/common/clock.h). Everything is read from /proc and the tools, never assumed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "tests/common/clock.h"
#include "tests/common/netns.h"
#include "agent/core/result.h"

namespace sixguard::bench {

// The kernel thread "napi/<interface>-<id>" that polls interface in threaded NAPI mode.
Result<pid_t> find_napi_thread(const std::string &interface);
// Pins a thread (any pid) to one CPU.
Status pin_thread(pid_t tid, int cpu);
// Gives a thread (0: the caller) SCHED_FIFO at priority, so that on a shared machine the
// generator and the receiver own their CPUs while traffic runs (RT throttling still leaves
// other tasks 5%); priority 0 puts it back to SCHED_OTHER.
Status set_realtime(pid_t tid, int priority);
// Nanoseconds the thread has run on a CPU (/proc/<tid>/schedstat, first field).
Result<uint64_t> thread_cpu_ns(pid_t tid);
// The first CPU this process may run on and the one after it (the generator's and the
// receiver's); an error with fewer than two CPUs.
Result<std::pair<int, int>> two_cpus();

// `ethtool -S interface` inside ns, as name -> value.
Result<std::map<std::string, uint64_t>> ethtool_stats(const test::NetNs &ns,
                                                      const std::string &interface);
// A counter of /proc/net/snmp6 as seen inside ns (e.g. Ip6InReceives).
Result<uint64_t> snmp6_counter(const test::NetNs &ns, const std::string &name);

}  // namespace sixguard::bench
