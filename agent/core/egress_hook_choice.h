// What an operator may ask of machine_egress's hook (config key machine_egress_hook): auto
// (XDP where the kernel can load it, else TC clsact ingress), or one of them forced. Here,
// in core, because both the configuration and the datapath speak it.
#pragma once

#include "agent/core/enum_names.h"

namespace sixguard {

enum class EgressHookChoice { kAuto, kXdp, kTc };

// The config spellings, one row per choice.
inline constexpr EnumName<EgressHookChoice> kEgressHookChoiceNames[] = {
    {EgressHookChoice::kAuto, "auto"},
    {EgressHookChoice::kXdp, "xdp"},
    {EgressHookChoice::kTc, "tc"},
};

}  // namespace sixguard
