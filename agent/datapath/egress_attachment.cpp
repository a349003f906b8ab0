#include "agent/datapath/egress_attachment.h"

namespace sixguard {

std::string_view MachineEgressAttachment::mode_name() const {
  if (const auto *xdp = std::get_if<XdpAttachment>(&attachment_)) return xdp_mode_name(xdp->mode());
  return "tc";
}

uint32_t MachineEgressAttachment::program_id() const {
  return std::visit([](const auto &attachment) { return attachment.program_id(); }, attachment_);
}

bool MachineEgressAttachment::adopted() const {
  return std::visit([](const auto &attachment) { return attachment.adopted(); }, attachment_);
}

const std::string &MachineEgressAttachment::decision() const {
  return std::visit(
      [](const auto &attachment) -> const std::string & { return attachment.decision(); },
      attachment_);
}

void MachineEgressAttachment::set_on_destroy(OnDestroy policy) {
  std::visit([policy](auto &attachment) { attachment.set_on_destroy(policy); }, attachment_);
}

Status MachineEgressAttachment::detach() {
  return std::visit([](auto &attachment) { return attachment.detach(); }, attachment_);
}

}  // namespace sixguard
