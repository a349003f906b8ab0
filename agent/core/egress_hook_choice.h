// What an operator may ask of machine_egress's hook (config key machine_egress_hook): auto
// (XDP where the kernel can load it, else TC clsact ingress), or one of them forced. Here,
// in core, because both the configuration and the datapath speak it.
#pragma once

#include <array>
#include <string_view>

namespace sixguard {

enum class EgressHookChoice { kAuto, kXdp, kTc };

inline constexpr std::array<EgressHookChoice, 3> kEgressHookChoices = {
    EgressHookChoice::kAuto, EgressHookChoice::kXdp, EgressHookChoice::kTc};

inline std::string_view egress_hook_choice_name(EgressHookChoice choice) {
  switch (choice) {
    case EgressHookChoice::kXdp:
      return "xdp";
    case EgressHookChoice::kTc:
      return "tc";
    case EgressHookChoice::kAuto:
      break;
  }
  return "auto";
}

}  // namespace sixguard
