// Test that the shared kernel-test helpers do what other tests rely on: namespaces and veths
// appear and disappear with their owners, and run() really executes inside the namespace.
#include <gtest/gtest.h>
#include <net/if.h>
#include <sys/stat.h>

#include "tests/common/kernel_test.h"
#include "tests/common/netns.h"

namespace sixguard::test {
namespace {

bool netns_exists(const std::string &name) {
  struct stat st {};
  return ::stat(("/run/netns/" + name).c_str(), &st) == 0;
}

TEST(TestCommon, NetNsIsCreatedAndDeleted) {
  SG_REQUIRE_NETNS();
  std::string name;
  {
    auto ns = NetNs::create("sg-h2-");
    ASSERT_TRUE(ns) << ns.error().describe();
    name = ns->name();
    EXPECT_EQ(name.rfind("sg-h2-", 0), 0u);
    EXPECT_TRUE(netns_exists(name));
  }
  EXPECT_FALSE(netns_exists(name));
}

TEST(TestCommon, VethEndsLiveInTheirNamespacesOnly) {
  SG_REQUIRE_NETNS();
  auto a = NetNs::create("sg-h2-");
  auto b = NetNs::create("sg-h2-");
  ASSERT_TRUE(a && b);
  {
    auto veth = VethPair::create(*a, "sgh2ta", *b, "sgh2tb");
    ASSERT_TRUE(veth) << veth.error().describe();
    auto index_a = a->ifindex("sgh2ta");
    ASSERT_TRUE(index_a) << index_a.error().describe();
    EXPECT_GT(*index_a, 0);
    EXPECT_TRUE(b->ifindex("sgh2tb"));
    EXPECT_FALSE(a->ifindex("sgh2tb"));         // the peer is in the other namespace
    EXPECT_EQ(::if_nametoindex("sgh2ta"), 0u);  // and neither is in the host's

    // run() executes in the namespace: the name resolves there, not here.
    auto seen = a->run([] { return ::if_nametoindex("sgh2ta"); });
    ASSERT_TRUE(seen);
    EXPECT_EQ(static_cast<int>(*seen), *index_a);

    ASSERT_TRUE(veth->add_address_a("fdaa:0:1::1/64"));
    ASSERT_TRUE(veth->add_address_b("fdaa:0:1::2/64"));
    auto ping = a->exec({"ping", "-6", "-c", "1", "-W", "2", "fdaa:0:1::2"});
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->exit_code, 0) << ping->output;
  }
  EXPECT_FALSE(a->ifindex("sgh2ta"));  // destroyed with its owner
}

TEST(TestCommon, PinDirIsUniqueAndRemoved) {
  SG_REQUIRE_KERNEL();
  std::string path;
  {
    auto first = PinDir::create("sixguard-h2test");
    auto second = PinDir::create("sixguard-h2test");
    ASSERT_TRUE(first && second);
    EXPECT_NE(first->path(), second->path());
    path = first->path();
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(::mkdir((path + "/sub").c_str(), 0700), 0);
  }
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace sixguard::test
