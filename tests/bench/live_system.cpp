#include "tests/bench/live_system.h"

#include <dirent.h>
#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace sixguard::bench {
namespace {

Result<std::string> read_file(const std::string &path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read " + path, ENOENT);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<pid_t> find_napi_thread(const std::string &interface) {
  const std::string wanted = "napi/" + interface + "-";
  DIR *proc = ::opendir("/proc");
  if (!proc) return errno_error("opendir /proc");
  pid_t found = 0;
  int matches = 0;
  while (dirent *entry = ::readdir(proc)) {
    char *end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    auto comm = read_file("/proc/" + std::string(entry->d_name) + "/comm");
    if (!comm) continue;
    // comm is cut at 15 characters (TASK_COMM_LEN - 1): compare that much of the name.
    std::string name = *comm;
    if (!name.empty() && name.back() == '\n') name.pop_back();
    if (name.rfind(wanted.substr(0, 15), 0) == 0) {
      found = static_cast<pid_t>(pid);
      ++matches;
    }
  }
  ::closedir(proc);
  if (matches == 0)
    return make_error("no NAPI thread napi/" + interface + "-* (threaded NAPI off?)");
  if (matches > 1) return make_error("several NAPI threads match napi/" + interface + "-*");
  return found;
}

Status pin_thread(pid_t tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(tid, sizeof(set), &set) != 0) {
    return errno_error("sched_setaffinity " + std::to_string(tid) + " to CPU " +
                       std::to_string(cpu));
  }
  return {};
}

Status set_realtime(pid_t tid, int priority) {
  sched_param param{};
  param.sched_priority = priority;
  if (::sched_setscheduler(tid, priority > 0 ? SCHED_FIFO : SCHED_OTHER, &param) != 0) {
    return errno_error("sched_setscheduler " + std::to_string(tid));
  }
  return {};
}

Result<uint64_t> thread_cpu_ns(pid_t tid) {
  auto text = read_file("/proc/" + std::to_string(tid) + "/schedstat");
  if (!text) return text.error();
  unsigned long long ns = 0;
  if (std::sscanf(text->c_str(), "%llu", &ns) != 1) {
    return make_error("unreadable /proc/" + std::to_string(tid) + "/schedstat");
  }
  return static_cast<uint64_t>(ns);
}

Result<std::pair<int, int>> two_cpus() {
  cpu_set_t allowed;
  if (::sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
    return errno_error("sched_getaffinity");
  int first = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (first < 0) {
      first = cpu;
    } else {
      return std::make_pair(first, cpu);
    }
  }
  return make_error("the live benchmark needs two CPUs (generator and receiver)");
}

Result<std::map<std::string, uint64_t>> ethtool_stats(const test::NetNs &ns,
                                                      const std::string &interface) {
  auto out = ns.exec_ok({"ethtool", "-S", interface});
  if (!out) return out.error();
  std::map<std::string, uint64_t> stats;
  std::istringstream lines(*out);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(" \t"));
    char *end = nullptr;
    const std::string value = line.substr(colon + 1);
    const unsigned long long number = std::strtoull(value.c_str(), &end, 10);
    if (end != value.c_str()) stats[name] = number;
  }
  return stats;
}

Result<uint64_t> snmp6_counter(const test::NetNs &ns, const std::string &name) {
  auto out = ns.exec_ok({"cat", "/proc/net/snmp6"});
  if (!out) return out.error();
  std::istringstream lines(*out);
  std::string key;
  unsigned long long value = 0;
  while (lines >> key >> value) {
    if (key == name) return static_cast<uint64_t>(value);
  }
  return make_error("no " + name + " in /proc/net/snmp6 of " + ns.name());
}

}  // namespace sixguard::bench
