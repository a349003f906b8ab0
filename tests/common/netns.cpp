#include "tests/common/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "agent/core/fd.h"

namespace sixguard::test {

Result<NetNs> NetNs::create(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::string name =
      std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  // A leftover of a crashed earlier process with the same pid carries our name: reuse is
  // wrong (stale interfaces), so delete it first. `ip netns del` of a missing name fails
  // harmlessly.
  (void)run_command({"ip", "netns", "del", name});
  if (auto added = run_command_ok({"ip", "netns", "add", name}); !added) return added.error();
  NetNs ns(std::move(name));
  // Loopback up: some tools (ping to own address) need it.
  if (auto up = ns.ip({"link", "set", "lo", "up"}); !up) return up.error();
  return ns;
}

NetNs &NetNs::operator=(NetNs &&other) noexcept {
  if (this != &other) {
    if (!name_.empty()) (void)run_command({"ip", "netns", "del", name_});
    name_ = std::exchange(other.name_, {});
  }
  return *this;
}

NetNs::~NetNs() {
  if (!name_.empty()) (void)run_command({"ip", "netns", "del", name_});
}

Status NetNs::run_on_thread(const std::function<void()> &fn) const {
  Status status;
  std::thread([&] {
    Fd ns_fd(::open(path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns_fd.valid()) {
      status = errno_error("open " + path());
      return;
    }
    if (::setns(ns_fd.get(), CLONE_NEWNET) != 0) {
      status = errno_error("setns " + path());
      return;
    }
    fn();
  }).join();
  return status;
}

Result<CommandOutput> NetNs::exec(const std::vector<std::string> &argv) const {
  std::vector<std::string> full = {"nsenter", "--net=" + path()};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full);
}

Result<std::string> NetNs::exec_ok(const std::vector<std::string> &argv) const {
  std::vector<std::string> full = {"nsenter", "--net=" + path()};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command_ok(full);
}

Result<std::string> NetNs::ip(const std::vector<std::string> &args) const {
  std::vector<std::string> full = {"ip", "-n", name_};
  full.insert(full.end(), args.begin(), args.end());
  return run_command_ok(full);
}

Result<int> NetNs::ifindex(const std::string &interface) const {
  auto index = run([&]() -> Result<int> {
    unsigned int value = ::if_nametoindex(interface.c_str());
    if (value == 0) return errno_error("if_nametoindex " + interface + " in netns " + name_);
    return static_cast<int>(value);
  });
  if (!index) return index.error();
  return std::move(*index);
}

Result<VethPair> VethPair::create(const NetNs &ns_a, std::string name_a, const NetNs &ns_b,
                                  std::string name_b) {
  // Created directly inside the namespaces: the host namespace never sees either end.
  if (auto added = ns_a.ip(
          {"link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", ns_b.name()});
      !added) {
    return added.error();
  }
  VethPair pair(ns_a.name(), std::move(name_a), ns_b.name(), std::move(name_b));
  if (auto up = ns_a.ip({"link", "set", pair.name_a_, "up"}); !up) return up.error();
  if (auto up = ns_b.ip({"link", "set", pair.name_b_, "up"}); !up) return up.error();
  return pair;
}

VethPair::VethPair(VethPair &&other) noexcept
    : ns_a_(std::exchange(other.ns_a_, {})),
      name_a_(std::exchange(other.name_a_, {})),
      ns_b_(std::exchange(other.ns_b_, {})),
      name_b_(std::exchange(other.name_b_, {})) {}

VethPair &VethPair::operator=(VethPair &&other) noexcept {
  if (this != &other) {
    (void)remove();
    ns_a_ = std::exchange(other.ns_a_, {});
    name_a_ = std::exchange(other.name_a_, {});
    ns_b_ = std::exchange(other.ns_b_, {});
    name_b_ = std::exchange(other.name_b_, {});
  }
  return *this;
}

VethPair::~VethPair() {
  (void)remove();
}

Status VethPair::add_address_a(const std::string &cidr) const {
  auto done = run_command_ok({"ip", "-n", ns_a_, "addr", "add", cidr, "dev", name_a_, "nodad"});
  if (!done) return done.error();
  return {};
}

Status VethPair::add_address_b(const std::string &cidr) const {
  auto done = run_command_ok({"ip", "-n", ns_b_, "addr", "add", cidr, "dev", name_b_, "nodad"});
  if (!done) return done.error();
  return {};
}

Status VethPair::remove() {
  if (name_a_.empty()) return {};
  auto removed = run_command({"ip", "-n", ns_a_, "link", "del", name_a_});
  name_a_.clear();
  if (!removed) return removed.error();
  // Non-zero exit: already gone (namespace deleted, or the test removed it); nothing to do.
  return {};
}

}  // namespace sixguard::test
