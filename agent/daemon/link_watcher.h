// Watches network interfaces appearing and disappearing through rtnetlink (NETLINK_ROUTE,
// RTMGRP_LINK). The daemon uses it to give a machine interface its sg_machines entry and
// attach the programs the moment the interface exists, and to drop the entry when the
// interface (and so its ifindex) is gone.
//
// Not thread-safe: one thread calls poll_once(); the callbacks run on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "agent/core/fd.h"
#include "agent/core/result.h"

namespace sixguard::daemon {

struct LinkChange {
  enum class Kind { kAdded, kRemoved } kind;
  std::string name;
  uint32_t ifindex = 0;
};

class LinkWatcher {
 public:
  using Callback = std::function<void(const LinkChange &)>;
  // Called when the kernel dropped notifications (socket buffer overrun): every link must
  // be looked at again. The watcher has already re-dumped its table and reported the
  // differences through the change callback when this runs.
  using ResyncCallback = std::function<void()>;

  // Opens and binds the socket, then dumps the current links (no callbacks for them: the
  // caller resolves its own interfaces at start-up by name).
  static Result<LinkWatcher> open(Callback on_change, ResyncCallback on_resync = {});

  LinkWatcher(LinkWatcher &&) = default;
  LinkWatcher &operator=(LinkWatcher &&) = default;

  // The fd to poll for readability.
  int fd() const { return socket_.get(); }
  // Reads every pending message without blocking and runs the callbacks.
  Status poll_once();

  // The links as last seen: ifindex -> name.
  const std::map<uint32_t, std::string> &links() const { return links_; }

 private:
  LinkWatcher(Fd socket, Callback on_change, ResyncCallback on_resync);
  Status request_dump();
  // Reads replies to a dump until NLMSG_DONE into `table`.
  Status read_dump(std::map<uint32_t, std::string> &table);
  Status resync();
  void handle(uint16_t type, uint32_t ifindex, const std::string &name);

  Fd socket_;
  Callback on_change_;
  ResyncCallback on_resync_;
  std::map<uint32_t, std::string> links_;
  uint32_t sequence_ = 1;
};

}  // namespace sixguard::daemon
