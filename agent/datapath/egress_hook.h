// Where machine_egress runs on this kernel. XDP is the contract's hook and the fast one: it
// drops before the kernel builds an skb. Its program reads headers past the outer IPv6 header
// with bpf_xdp_load_bytes (Linux 5.18); on an older kernel (Debian bullseye's 5.10) the same
// chain runs as a TC program on clsact ingress of the machine interface's host side instead:
// the same frames, the same verdicts and counters, at the cost of an skb per dropped packet.
// The choice is made once at load, reported in `status` and logged.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/egress_hook_choice.h"
#include "agent/core/result.h"

namespace sixguard {

enum class EgressHook { kXdp, kTc };
std::string_view egress_hook_name(EgressHook hook);  // "xdp" | "tc"

struct EgressHookDecision {
  EgressHook hook = EgressHook::kXdp;
  std::string reason;  // why, in words for status and the log
};

// Probes the running kernel (BPF_FUNC_xdp_load_bytes for XDP programs) and decides. Asking
// for xdp on a kernel that cannot load it is an error naming the kernel's missing helper.
Result<EgressHookDecision> decide_egress_hook(EgressHookChoice choice);

// True when XDP programs may call bpf_xdp_load_bytes on this kernel.
Result<bool> kernel_has_xdp_load_bytes();

}  // namespace sixguard
