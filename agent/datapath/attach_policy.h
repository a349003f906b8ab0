// What an attachment object does when it is destroyed. The agent's normal exit must leave
// programs attached (enforcement never depends on the agent process, DESIGN §5); only
// uninstall, a stopped machine, or a test detaches.
#pragma once

#include <utility>

#include "agent/core/result.h"

namespace sixguard {

enum class OnDestroy {
  kLeaveAttached,  // default: the program keeps enforcing after the object (and agent) is gone
  kDetach,         // remove our program (only ours) when the object is destroyed
};

// The interface an attachment answers for, how our program comes off it (the hook's
// detach_ours) and the OnDestroy policy. Moving hands all of it over and leaves the source
// answering for nothing, so exactly one object ever detaches; an attachment holding one has
// the default moves and destructor (TcAttachment, XdpAttachment).
class DetachDuty {
 public:
  // Removes our program (only ours) from ifindex; hook is the attachment's own (a direction).
  using DetachOurs = Status (*)(int ifindex, int hook);

  DetachDuty(int ifindex, int hook, DetachOurs detach_ours)
      : ifindex_(ifindex), hook_(hook), detach_ours_(detach_ours) {}
  DetachDuty(DetachDuty &&other) noexcept
      : ifindex_(std::exchange(other.ifindex_, 0)),
        hook_(other.hook_),
        detach_ours_(other.detach_ours_),
        on_destroy_(std::exchange(other.on_destroy_, OnDestroy::kLeaveAttached)) {}
  DetachDuty &operator=(DetachDuty &&other) noexcept {
    if (this != &other) {
      discharge();
      ifindex_ = std::exchange(other.ifindex_, 0);
      hook_ = other.hook_;
      detach_ours_ = other.detach_ours_;
      on_destroy_ = std::exchange(other.on_destroy_, OnDestroy::kLeaveAttached);
    }
    return *this;
  }
  DetachDuty(const DetachDuty &) = delete;
  DetachDuty &operator=(const DetachDuty &) = delete;
  ~DetachDuty() { discharge(); }

  // 0 once moved from or detached.
  int ifindex() const { return ifindex_; }
  void set_on_destroy(OnDestroy policy) { on_destroy_ = policy; }
  Status detach() {
    if (ifindex_ == 0) return {};
    auto status = detach_ours_(ifindex_, hook_);
    if (status) ifindex_ = 0;
    return status;
  }

 private:
  void discharge() {
    if (ifindex_ != 0 && on_destroy_ == OnDestroy::kDetach) (void)detach();
  }
  int ifindex_ = 0;
  int hook_ = 0;
  DetachOurs detach_ours_ = nullptr;
  OnDestroy on_destroy_ = OnDestroy::kLeaveAttached;
};

}  // namespace sixguard
