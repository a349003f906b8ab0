// Entry-point names in bpf/sixguard.bpf.c (a contract with the BPF side) and how their
// kernel-side names look: the kernel keeps at most 15 characters of a program's name.
#pragma once

#include <string>
#include <string_view>

namespace sixguard {

inline constexpr std::string_view kProgMachineEgress = "sg_machine_egress";    // XDP
inline constexpr std::string_view kProgMachineEgressTc = "sg_egress_tc";       // TC ingress
inline constexpr std::string_view kProgMachineIngress = "sg_machine_ingress";  // TC egress
inline constexpr std::string_view kProgUplink = "sg_uplink";                   // TC ingress
inline constexpr std::string_view kProgUplinkL3 = "sg_uplink_l3";              // TC ingress, L3
inline constexpr std::string_view kProgExplain = "sg_explain";                 // test-run only

// True when a kernel program name (possibly truncated to 15 characters) is entry point full.
inline bool kernel_name_matches(std::string_view kernel_name, std::string_view full) {
  constexpr std::size_t kKernelNameMax = 15;  // BPF_OBJ_NAME_LEN - 1
  if (kernel_name.empty()) return false;
  if (full.size() <= kKernelNameMax) return kernel_name == full;
  return full.substr(0, kKernelNameMax) == kernel_name.substr(0, kKernelNameMax) ||
         kernel_name == full;
}

}  // namespace sixguard
