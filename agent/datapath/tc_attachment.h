// A TC (clsact) attachment of one of our programs: machine_ingress on a machine interface's
// egress, uplink on an uplink's ingress. Our filter lives at a fixed handle and priority so a
// restarted agent finds it again: attaching where ours already is replaces it atomically
// (BPF_TC_F_REPLACE on the same handle/priority: no window without enforcement), or adopts it
// when the program is identical (same tag) and uses exactly the maps ours uses (prog_info.h). A
// foreign filter at our handle/priority is never replaced. Move-only; see OnDestroy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/datapath/attach_policy.h"
#include "agent/core/result.h"

namespace sixguard {

enum class TcDirection { kIngress, kEgress };

// Our filter's identity on every hook (tc filter ... handle 0x5347 pref 1).
inline constexpr uint32_t kTcHandle = 0x5347;  // "SG"
inline constexpr uint32_t kTcPriority = 1;     // first: enforcement before anything else

struct TcFilterInfo {
  uint32_t program_id = 0;
  std::string program_name;  // kernel name (at most 15 characters)
};

class TcAttachment : public AttachedProgram {
 public:
  // Attaches program_fd at (ifindex, direction), creating the clsact qdisc if needed.
  static Result<TcAttachment> attach(int ifindex, TcDirection direction, int program_fd);

  TcDirection direction() const { return direction_; }

  // What sits at our handle/priority on (ifindex, direction), if anything (nullopt: nothing).
  static Result<std::optional<TcFilterInfo>> query(int ifindex, TcDirection direction);
  // Removes our filter from (ifindex, direction) if it is there and ours; otherwise nothing.
  // Leaves the clsact qdisc in place: other filters may share it.
  static Status detach_ours(int ifindex, TcDirection direction);

 private:
  TcAttachment(int ifindex, TcDirection direction, uint32_t program_id, bool adopted,
               std::string decision);
  TcDirection direction_ = TcDirection::kIngress;
};

}  // namespace sixguard
