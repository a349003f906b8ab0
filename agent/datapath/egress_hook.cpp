#include "agent/datapath/egress_hook.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>

namespace sixguard {

std::string_view egress_hook_name(EgressHook hook) {
  return hook == EgressHook::kXdp ? "xdp" : "tc";
}

Result<bool> kernel_has_xdp_load_bytes() {
  // 1: the verifier accepts the helper in an XDP program; 0: it refuses it (older kernel).
  const int probe = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, nullptr);
  if (probe < 0) return make_error("probe bpf_xdp_load_bytes for XDP programs", -probe);
  return probe == 1;
}

Result<EgressHookDecision> decide_egress_hook(EgressHookChoice choice) {
  if (choice == EgressHookChoice::kTc) {
    return EgressHookDecision{EgressHook::kTc, "machine_egress_hook: tc in the configuration"};
  }
  auto has_helper = kernel_has_xdp_load_bytes();
  if (!has_helper) return has_helper.error();
  if (*has_helper) {
    return EgressHookDecision{EgressHook::kXdp,
                              choice == EgressHookChoice::kXdp
                                  ? "machine_egress_hook: xdp in the configuration"
                                  : "the kernel runs the XDP program"};
  }
  const std::string missing =
      "this kernel's XDP programs lack bpf_xdp_load_bytes (Linux 5.18), which the XDP program "
      "needs";
  if (choice == EgressHookChoice::kXdp) {
    return make_error("machine_egress_hook: xdp: " + missing +
                          "; use auto or tc to run machine_egress on TC ingress",
                      EOPNOTSUPP);
  }
  return EgressHookDecision{EgressHook::kTc, "fallback: " + missing};
}

}  // namespace sixguard
