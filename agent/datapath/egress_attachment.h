// machine_egress on one interface, whichever hook carries it on this kernel (egress_hook.h):
// an XDP attachment, or a TC attachment on clsact ingress. Move-only; see OnDestroy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "agent/datapath/attach_policy.h"
#include "agent/core/result.h"
#include "agent/datapath/tc_attachment.h"
#include "agent/datapath/xdp_attachment.h"

namespace sixguard {

class MachineEgressAttachment {
 public:
  explicit MachineEgressAttachment(XdpAttachment xdp) : attachment_(std::move(xdp)) {}
  explicit MachineEgressAttachment(TcAttachment tc) : attachment_(std::move(tc)) {}

  // As status reports it: "native" | "generic" (XDP) | "tc".
  std::string_view mode_name() const;
  uint32_t program_id() const;
  bool adopted() const;
  // What attach did and why (tc_attachment.h, xdp_attachment.h), for the log.
  const std::string &decision() const;

  void set_on_destroy(OnDestroy policy);
  // Removes our program from the interface now (only ours).
  Status detach();

  // The XDP attachment, when machine_egress is XDP on this kernel (for tests and tools).
  const XdpAttachment *xdp() const { return std::get_if<XdpAttachment>(&attachment_); }

 private:
  std::variant<XdpAttachment, TcAttachment> attachment_;
};

}  // namespace sixguard
