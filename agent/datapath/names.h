// The contract's names for the datapath's enums (DESIGN §2, §4): hook, verdict and reason
// strings used by explain, the exporter's labels, the monitor and the API. The one place
// these strings are spelled, and the one definition of an explain outcome.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "bpf/include/sixguard_shared.h"

namespace sixguard {

// What sg_explain decided for one packet: the contract's {hook, verdict, reason} as the shared
// enums, for the datapath that runs it, the daemon that asks and the API that renders it.
struct Explanation {
  sg_hook hook = SG_HOOK_UPLINK;
  sg_verdict verdict = SG_VERDICT_PASS;
  sg_reason reason = SG_REASON_NOT_6PN;
  uint32_t raw = 0;  // the program's return value (SG_EXPLAIN_ENCODE); 0 where not run
};

inline constexpr std::array<std::string_view, SG_HOOK_COUNT> kHookNames = {
    "machine_egress", "machine_ingress", "uplink"};
inline constexpr std::array<std::string_view, SG_VERDICT_COUNT> kVerdictNames = {"pass", "drop",
                                                                                 "audit"};
inline constexpr std::array<std::string_view, SG_REASON_COUNT> kReasonNames = {
    "not_6pn", "malformed", "spoofed_source", "not_for_machine",
    "infra",   "flycast",   "same_network",   "cross_network"};

// "unknown" for a value outside the enum (a newer kernel object than this agent).
inline std::string_view hook_name(uint32_t hook) {
  return hook < kHookNames.size() ? kHookNames[hook] : "unknown";
}
inline std::string_view verdict_name(uint32_t verdict) {
  return verdict < kVerdictNames.size() ? kVerdictNames[verdict] : "unknown";
}
inline std::string_view reason_name(uint32_t reason) {
  return reason < kReasonNames.size() ? kReasonNames[reason] : "unknown";
}

template <std::size_t N>
std::optional<uint32_t> parse_name(const std::array<std::string_view, N> &names,
                                   std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}
inline std::optional<sg_hook> parse_hook(std::string_view text) {
  auto value = parse_name(kHookNames, text);
  return value ? std::optional<sg_hook>(static_cast<sg_hook>(*value)) : std::nullopt;
}
inline std::optional<sg_verdict> parse_verdict(std::string_view text) {
  auto value = parse_name(kVerdictNames, text);
  return value ? std::optional<sg_verdict>(static_cast<sg_verdict>(*value)) : std::nullopt;
}
inline std::optional<sg_reason> parse_reason(std::string_view text) {
  auto value = parse_name(kReasonNames, text);
  return value ? std::optional<sg_reason>(static_cast<sg_reason>(*value)) : std::nullopt;
}

// Names of the policy and statistics maps as the exporter labels them
// (sixguard_map_entries{map}): the kernel map names without the "sg_" prefix.
inline constexpr std::string_view kMapLabelMachines = "machines";
inline constexpr std::string_view kMapLabelFlycast = "flycast";
inline constexpr std::string_view kMapLabelInfra = "infra";
inline constexpr std::string_view kMapLabelNetFlags = "net_flags";

}  // namespace sixguard
