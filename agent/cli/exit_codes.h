// Exit statuses of `sixguard`, one table for the code, `--help` and the man page.
//
// The CLI sorts every failure by who has to act:
//   1  the agent refused the request on its merits (HTTP 4xx): fix the request, retrying the
//      same one cannot help;
//   2  the command line or the input is wrong before anything was sent (usage, an address
//      that does not parse, a file that cannot be read);
//   3  the agent could not serve the request: not running or not reachable, the connection
//      failed mid-way, or it answered 5xx (503 busy or its state cannot be committed, 507 a
//      map is full, 500): the request was not judged, the agent needs attention or a retry.
#pragma once

namespace sixguard::exit_code {

// Unscoped: a code is the int that main() returns.
enum Code : int {
  kOk = 0,
  kRefused = 1,
  kUsage = 2,
  kUnavailable = 3,

  // `sixguard agent` (agent/daemon/daemon.cpp returns them): 0 stopped on a signal, 1 could
  // not start, 2 bad configuration or refused to start for safety.
  kAgentFailed = 1,
  kAgentRefused = 2,
};

struct Documented {
  int code;
  const char *meaning;
};

inline constexpr Documented kCliCodes[] = {
    {kOk, "success"},
    {kRefused, "the agent refused the request (HTTP 4xx: malformed, conflict, invalid, unknown)"},
    {kUsage,
     "bad usage or input: unknown command or option, missing argument, an address that "
     "does not parse, a file that cannot be read"},
    {kUnavailable,
     "the agent could not serve the request: not running or unreachable, the "
     "connection failed, or it answered HTTP 5xx (busy, state not committable, "
     "map full)"},
};

inline constexpr Documented kAgentCodes[] = {
    {kOk, "stopped on SIGTERM or SIGINT (programs stay attached, maps stay pinned)"},
    {kAgentFailed, "could not start (datapath, state database, listeners)"},
    {kAgentRefused,
     "bad command line or configuration, or refused to start for safety: another "
     "agent holds the state or the pins, or the persisted state is empty while "
     "the pinned maps hold entries; restarting cannot fix it"},
};

// The HTTP status of an answer other than 200 as an exit status.
inline constexpr int for_http_status(unsigned status) {
  return status >= 400 && status < 500 ? kRefused : kUnavailable;
}

}  // namespace sixguard::exit_code
