#include "agent/datapath/tc_attachment.h"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <utility>

#include "agent/datapath/prog_info.h"

namespace sixguard {
namespace {

bpf_tc_attach_point attach_point(TcDirection direction) {
  return direction == TcDirection::kIngress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

std::string where(int ifindex, TcDirection direction) {
  char name[IF_NAMESIZE] = {};
  std::string interface = ::if_indextoname(static_cast<unsigned>(ifindex), name)
                              ? name
                              : "ifindex " + std::to_string(ifindex);
  return "tc " + std::string(direction == TcDirection::kIngress ? "ingress" : "egress") + " of " +
         interface;
}

}  // namespace

Result<std::optional<TcFilterInfo>> TcAttachment::query(int ifindex, TcDirection direction) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = attach_point(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  int err = bpf_tc_query(&hook, &opts);
  // ENOENT: no such filter; EINVAL: no clsact qdisc on the interface at all.
  if (err == -ENOENT || err == -EINVAL) return std::optional<TcFilterInfo>();
  if (err != 0) return make_error(where(ifindex, direction) + ": query our filter", -err);
  TcFilterInfo info;
  info.program_id = opts.prog_id;
  if (auto program = program_info_by_id(opts.prog_id)) info.program_name = program->name;
  return std::optional<TcFilterInfo>(info);
}

Result<TcAttachment> TcAttachment::attach(int ifindex, TcDirection direction, int program_fd) {
  auto ours = program_info_by_fd(program_fd);
  if (!ours) return ours.error();

  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = attach_point(direction));
  if (int err = bpf_tc_hook_create(&hook); err != 0 && err != -EEXIST) {
    return make_error(where(ifindex, direction) + ": create clsact qdisc", -err);
  }

  auto existing = query(ifindex, direction);
  if (!existing) return existing.error();
  uint32_t flags = 0;
  std::string why = "attached: nothing of ours was there";
  if (*existing) {
    const TcFilterInfo &present = **existing;
    if (!is_our_program_name(present.program_name)) {
      return make_error(where(ifindex, direction) + ": handle 0x5347 pref 1 holds a foreign " +
                            "program (" + present.program_name + ", id " +
                            std::to_string(present.program_id) + "); not replacing it",
                        EEXIST);
    }
    auto current = program_info_by_id(present.program_id);
    if (!current) return current.error();
    AdoptionDecision decision = decide_adoption(*current, *ours);
    if (decision.adopt) {
      return TcAttachment(ifindex, direction, present.program_id, /*adopted=*/true,
                          "adopted: " + decision.why);
    }
    why = "replaced atomically: " + decision.why;
    flags = BPF_TC_F_REPLACE;  // atomic swap of ours for ours: no unenforced window
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = program_fd, .flags = flags, .handle = kTcHandle,
              .priority = kTcPriority);
  if (int err = bpf_tc_attach(&hook, &opts); err != 0) {
    return make_error(where(ifindex, direction) + ": attach " + ours->name, -err);
  }
  return TcAttachment(ifindex, direction, opts.prog_id, /*adopted=*/false, std::move(why));
}

Status TcAttachment::detach_ours(int ifindex, TcDirection direction) {
  auto existing = query(ifindex, direction);
  if (!existing) return existing.error();
  if (!*existing || !is_our_program_name((*existing)->program_name)) return {};
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = attach_point(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  int err = bpf_tc_detach(&hook, &opts);
  if (err != 0 && err != -ENOENT) return make_error(where(ifindex, direction) + ": detach", -err);
  return {};
}

TcAttachment::TcAttachment(int ifindex, TcDirection direction, uint32_t program_id, bool adopted,
                           std::string decision)
    : AttachedProgram(DetachDuty(ifindex, static_cast<int>(direction),
                                 [](int on, int hook) {
                                   return detach_ours(on, static_cast<TcDirection>(hook));
                                 }),
                      program_id, adopted, std::move(decision)),
      direction_(direction) {}

}  // namespace sixguard
