// The short names the rows of the verdict table are written with (verdict_table.cpp,
// verdict_table_encap.cpp), so that a row reads like a line of DESIGN §2's table.
#pragma once

#include "bpf/include/sixguard_shared.h"

namespace sixguard::bpftest::row_names {

inline constexpr sg_verdict kPass = SG_VERDICT_PASS;
inline constexpr sg_verdict kDrop = SG_VERDICT_DROP;
inline constexpr sg_verdict kAudit = SG_VERDICT_AUDIT;

inline constexpr sg_reason kNot6pn = SG_REASON_NOT_6PN;
inline constexpr sg_reason kMalformed = SG_REASON_MALFORMED;
inline constexpr sg_reason kSpoofed = SG_REASON_SPOOFED_SOURCE;
inline constexpr sg_reason kNotForMachine = SG_REASON_NOT_FOR_MACHINE;
inline constexpr sg_reason kInfra = SG_REASON_INFRA;
inline constexpr sg_reason kFlycast = SG_REASON_FLYCAST;
inline constexpr sg_reason kSame = SG_REASON_SAME_NETWORK;
inline constexpr sg_reason kCross = SG_REASON_CROSS_NETWORK;

}  // namespace sixguard::bpftest::row_names
