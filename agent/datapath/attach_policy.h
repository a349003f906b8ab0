// What an attachment object does when it is destroyed. The agent's normal exit must leave
// programs attached (enforcement never depends on the agent process, DESIGN §5); only
// uninstall, a stopped machine, or a test detaches.
#pragma once

#include <cstdint>
#include <string>
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
// the default moves and destructor (AttachedProgram).
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

// What every attachment of ours answers: where it is, which program, whether an identical one
// was adopted and why, and the detach duty. TcAttachment and XdpAttachment add their hook's own.
class AttachedProgram {
 public:
  AttachedProgram(AttachedProgram &&other) noexcept = default;
  AttachedProgram &operator=(AttachedProgram &&other) noexcept = default;
  AttachedProgram(const AttachedProgram &) = delete;
  AttachedProgram &operator=(const AttachedProgram &) = delete;

  int ifindex() const { return duty_.ifindex(); }  // 0 once detached
  uint32_t program_id() const { return program_id_; }
  // True when an identical program was already attached and was kept as it was.
  bool adopted() const { return adopted_; }
  // What attach did and why, for the log ("adopted: ...", "replaced atomically: ...").
  const std::string &decision() const { return decision_; }

  void set_on_destroy(OnDestroy policy) { duty_.set_on_destroy(policy); }
  // Removes our program from the hook now (only ours).
  Status detach() { return duty_.detach(); }

 protected:
  AttachedProgram(DetachDuty duty, uint32_t program_id, bool adopted, std::string decision)
      : duty_(std::move(duty)),
        program_id_(program_id),
        adopted_(adopted),
        decision_(std::move(decision)) {}
  ~AttachedProgram() = default;

 private:
  DetachDuty duty_;
  uint32_t program_id_ = 0;
  bool adopted_ = false;
  std::string decision_;
};

}  // namespace sixguard
