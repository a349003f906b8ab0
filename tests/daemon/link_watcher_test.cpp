// Test that LinkWatcher reports interfaces appearing, being renamed and disappearing, with
// their ifindex, from the network namespace it was opened in (and only from there).
#include <poll.h>

#include <gtest/gtest.h>

#include <vector>

#include "tests/common/kernel_test.h"
#include "agent/daemon/link_watcher.h"
#include "tests/common/netns.h"

namespace sixguard::daemon {
namespace {

using test::NetNs;

// Polls the watcher until `done` says enough changes arrived, or 5 s passed.
void pump(LinkWatcher &watcher, const std::vector<LinkChange> &changes, std::size_t want) {
  for (int i = 0; i < 50 && changes.size() < want; ++i) {
    pollfd fd{watcher.fd(), POLLIN, 0};
    ::poll(&fd, 1, 100);
    ASSERT_TRUE(watcher.poll_once().ok());
  }
}

bool has(const std::vector<LinkChange> &changes, LinkChange::Kind kind, const std::string &name,
         uint32_t ifindex) {
  for (const auto &change : changes) {
    if (change.kind == kind && change.name == name && change.ifindex == ifindex) return true;
  }
  return false;
}

TEST(LinkWatcher, ReportsAddRenameAndDeleteInItsNamespace) {
  SG_REQUIRE_KERNEL();
  SG_REQUIRE_NETNS();
  auto ns = NetNs::create("sg-h4-lw-");
  ASSERT_TRUE(ns.ok()) << ns.error().describe();
  auto other = NetNs::create("sg-h4-lw-");
  ASSERT_TRUE(other.ok()) << other.error().describe();

  std::vector<LinkChange> changes;
  auto opened = ns->run([&] {
    return LinkWatcher::open([&](const LinkChange &change) { changes.push_back(change); });
  });
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  ASSERT_TRUE(opened->ok()) << opened->error().describe();
  LinkWatcher watcher = std::move(**opened);

  // Another namespace's interfaces are not reported.
  ASSERT_TRUE(other->ip({"link", "add", "sgh4x", "type", "veth", "peer", "name", "sgh4y"}).ok());
  ASSERT_TRUE(ns->ip({"link", "add", "sgh4a", "type", "veth", "peer", "name", "sgh4b"}).ok());
  auto ifindex = ns->ifindex("sgh4a");
  ASSERT_TRUE(ifindex.ok());
  const auto index = static_cast<uint32_t>(*ifindex);
  pump(watcher, changes, 2);
  EXPECT_TRUE(has(changes, LinkChange::Kind::kAdded, "sgh4a", index));
  for (const auto &change : changes) EXPECT_NE(change.name, "sgh4x");
  EXPECT_EQ(watcher.links().at(index), "sgh4a");

  changes.clear();
  ASSERT_TRUE(ns->ip({"link", "set", "sgh4a", "name", "sgh4c"}).ok());
  pump(watcher, changes, 2);
  EXPECT_TRUE(has(changes, LinkChange::Kind::kRemoved, "sgh4a", index));
  EXPECT_TRUE(has(changes, LinkChange::Kind::kAdded, "sgh4c", index));

  changes.clear();
  ASSERT_TRUE(ns->ip({"link", "set", "sgh4c", "up"}).ok());  // a state change: not reported
  ASSERT_TRUE(ns->ip({"link", "del", "sgh4c"}).ok());
  pump(watcher, changes, 2);
  EXPECT_TRUE(has(changes, LinkChange::Kind::kRemoved, "sgh4c", index));
  for (const auto &change : changes) {
    EXPECT_FALSE(change.kind == LinkChange::Kind::kAdded && change.name == "sgh4c");
  }
  EXPECT_EQ(watcher.links().count(index), 0u);
}

}  // namespace
}  // namespace sixguard::daemon
