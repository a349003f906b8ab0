// Gatekeeping for tests that need the real kernel (root, bpffs, the bpf() syscall, network
// namespaces). Such a test starts with SG_REQUIRE_KERNEL() (and SG_REQUIRE_NETNS() if it
// creates namespaces or veths). When the environment cannot run it, the test is SKIPPED with
// the reason — unless SIXGUARD_REQUIRE_KERNEL_TESTS=1 is set (CI, scripts/test.sh, the VM),
// in which case it FAILS: a kernel test silently skipped where it must run is a failure.
//
//   TEST(Attach, Xdp) {
//     SG_REQUIRE_KERNEL();
//     SG_REQUIRE_NETNS();
//     auto pins = sixguard::test::PinDir::create("sixguard-mytest");  // unique, removed after
//     ...
//   }
//
// Both macros may also be used in a fixture's SetUp(). Test binaries link the CMake target
// sixguard_test_common.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace sixguard::test {

// True when SIXGUARD_REQUIRE_KERNEL_TESTS=1: kernel tests must fail rather than skip.
bool kernel_tests_required();

// Why kernel tests cannot run here (not root, bpffs not mounted and not mountable at
// /sys/fs/bpf, bpf() refused), or nullopt when they can. Mounts bpffs at /sys/fs/bpf when it
// is missing (DESIGN §5: the agent does the same). The probe runs once per process.
std::optional<std::string> kernel_unavailable_reason();

// Why network-namespace tests cannot run (not root, no `ip` tool, netns creation refused),
// or nullopt. The probe runs once per process.
std::optional<std::string> netns_unavailable_reason();

// Where bpffs is mounted for tests.
inline constexpr std::string_view kBpffs = "/sys/fs/bpf";

// A unique directory on bpffs for a test's pins: /sys/fs/bpf/<prefix>-<pid>-<n>, created on
// create() and removed with everything pinned inside it on destruction (only this directory:
// never a pin the test did not create). Move-only.
class PinDir {
 public:
  static Result<PinDir> create(std::string_view prefix = "sixguard-test");
  PinDir(PinDir &&other) noexcept;
  PinDir &operator=(PinDir &&other) noexcept;
  PinDir(const PinDir &) = delete;
  PinDir &operator=(const PinDir &) = delete;
  ~PinDir();

  // The directory, e.g. "/sys/fs/bpf/sixguard-h2test-1234-0". Use it as the agent's bpffs
  // root: the agent then pins under "<path>/sixguard".
  const std::string &path() const { return path_; }

 private:
  explicit PinDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Removes a directory tree on bpffs (pins and subdirectories). Missing is not an error.
Status remove_bpffs_tree(const std::string &path);

}  // namespace sixguard::test

#define SG_TEST_REQUIRE_(reason_expr)                                               \
  do {                                                                              \
    if (auto sg_unavailable_ = (reason_expr)) {                                     \
      if (::sixguard::test::kernel_tests_required()) {                              \
        GTEST_FAIL() << "SIXGUARD_REQUIRE_KERNEL_TESTS=1 but " << *sg_unavailable_; \
      }                                                                             \
      GTEST_SKIP() << *sg_unavailable_;                                             \
    }                                                                               \
  } while (0)

// Skip (or fail under SIXGUARD_REQUIRE_KERNEL_TESTS=1) unless root, bpffs and bpf() work.
#define SG_REQUIRE_KERNEL() SG_TEST_REQUIRE_(::sixguard::test::kernel_unavailable_reason())
// Skip (or fail under SIXGUARD_REQUIRE_KERNEL_TESTS=1) unless network namespaces can be made.
#define SG_REQUIRE_NETNS() SG_TEST_REQUIRE_(::sixguard::test::netns_unavailable_reason())
