// Network namespaces and veth pairs for kernel tests, owned RAII-style: whatever a test
// creates is deleted on every exit path (DESIGN safety rule: tests only touch namespaces they
// made). Nothing here ever creates or changes an interface in the host's own namespace.
//
//   SG_REQUIRE_NETNS();
//   auto ns = sixguard::test::NetNs::create("sg-h2-");          // "sg-h2-<pid>-<n>"
//   auto peer = sixguard::test::NetNs::create("sg-h2-");
//   auto veth = sixguard::test::VethPair::create(*ns, "sgh2a", *peer, "sgh2b");
//   auto ifindex = ns->ifindex("sgh2a");
//   auto attached = ns->run([&] { return attach_something(*ifindex); });  // inside ns
//   ns->exec_ok({"ping", "-6", "-c1", "fdaa::2"});
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tests/common/command.h"
#include "agent/core/result.h"

namespace sixguard::test {

// A named network namespace (`ip netns add`), deleted (`ip netns del`) on destruction.
class NetNs {
 public:
  // Name: <prefix><pid>-<n>, unique within and across concurrently running test processes.
  static Result<NetNs> create(std::string_view prefix);
  NetNs(NetNs &&other) noexcept : name_(std::exchange(other.name_, {})) {}
  NetNs &operator=(NetNs &&other) noexcept;
  NetNs(const NetNs &) = delete;
  NetNs &operator=(const NetNs &) = delete;
  ~NetNs();

  const std::string &name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }  // for setns(2)

  // Runs fn on a fresh thread that joined this namespace with setns(2) and returns what fn
  // returned (Status for void). Other threads, the caller's included, stay where they are.
  // Everything fn creates that is bound to a namespace (sockets, netlink, ifindex lookups,
  // bpf_xdp_attach, bpf_tc_*) acts inside this namespace.
  template <typename F>
  auto run(F &&fn) const -> std::conditional_t<std::is_void_v<std::invoke_result_t<F>>, Status,
                                               Result<std::invoke_result_t<F>>> {
    using R = std::invoke_result_t<F>;
    if constexpr (std::is_void_v<R>) {
      return run_on_thread([&] { fn(); });
    } else {
      std::optional<R> out;
      if (auto status = run_on_thread([&] { out.emplace(fn()); }); !status) return status.error();
      return std::move(*out);
    }
  }

  // Runs argv inside this namespace (`nsenter --net=/run/netns/<name>`). Unlike
  // `ip netns exec`, the mount namespace is kept, so /sys/fs/bpf (pins, libxdp state) stays
  // visible to tools such as bpftool.
  Result<CommandOutput> exec(const std::vector<std::string> &argv) const;
  // Same; a non-zero exit is an error carrying the output.
  Result<std::string> exec_ok(const std::vector<std::string> &argv) const;
  // `ip -n <name> args...` (exit status checked).
  Result<std::string> ip(const std::vector<std::string> &args) const;

  // The ifindex of an interface inside this namespace.
  Result<int> ifindex(const std::string &interface) const;

 private:
  explicit NetNs(std::string name) : name_(std::move(name)) {}
  Status run_on_thread(const std::function<void()> &fn) const;
  std::string name_;
};

// A veth pair with one end in each of two namespaces (possibly the same one), both ends up.
// Destruction deletes the pair (deleting one end removes both) unless it is already gone.
// Interface names must be at most 15 characters (IFNAMSIZ - 1).
class VethPair {
 public:
  static Result<VethPair> create(const NetNs &ns_a, std::string name_a, const NetNs &ns_b,
                                 std::string name_b);
  VethPair(VethPair &&other) noexcept;
  VethPair &operator=(VethPair &&other) noexcept;
  VethPair(const VethPair &) = delete;
  VethPair &operator=(const VethPair &) = delete;
  ~VethPair();

  const std::string &name_a() const { return name_a_; }
  const std::string &name_b() const { return name_b_; }
  const std::string &ns_a() const { return ns_a_; }
  const std::string &ns_b() const { return ns_b_; }

  // Adds an address ("fdaa:2:45b::2/64") to one end; nodad so it is usable at once.
  Status add_address_a(const std::string &cidr) const;
  Status add_address_b(const std::string &cidr) const;

  // Deletes the pair now (e.g. to test re-attachment after the interface comes back).
  Status remove();

 private:
  VethPair(std::string ns_a, std::string name_a, std::string ns_b, std::string name_b)
      : ns_a_(std::move(ns_a)),
        name_a_(std::move(name_a)),
        ns_b_(std::move(ns_b)),
        name_b_(std::move(name_b)) {}
  std::string ns_a_, name_a_, ns_b_, name_b_;
};

}  // namespace sixguard::test
