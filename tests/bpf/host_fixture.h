// One scenario host (scenario.h) per test binary, created on first use and shared by every
// test of the binary: loading the datapath and building the namespace once keeps the table
// fast. Tests reset the policy they need before each run.
#pragma once

#include <gtest/gtest.h>

#include "tests/common/kernel_test.h"
#include "tests/bpf/scenario.h"

namespace sixguard::bpftest {

// The shared host, or the error that prevented creating it.
Result<Host *> shared_host();

// Runs fn inside the host's namespace (ifindex of the test run resolves there).
template <typename F>
auto in_host_ns(Host &host, F &&fn) {
  return host.ns().run(std::forward<F>(fn));
}

// The kernel gate and the shared host, for a fixture's SetUp().
class HostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SG_REQUIRE_KERNEL();
    SG_REQUIRE_NETNS();
    auto host = shared_host();
    ASSERT_TRUE(host.ok()) << host.error().describe();
    host_ = *host;
  }
  Host *host_ = nullptr;
};

}  // namespace sixguard::bpftest
