// One monitor record as JSON, with the contract's names for hook, verdict and reason
// (agent/datapath/names.h, the one place they are spelled).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/control/control_plane.h"  // AddressNames
#include "bpf/include/sixguard_shared.h"

namespace sixguard {

// {"time" (RFC 3339 UTC wall clock, microseconds),"timestamp_ns" (the datapath's
// CLOCK_MONOTONIC stamp),"hook","verdict","reason","src","dst","ifindex","interface" (when the
// ifindex still names an interface),"packet_len"}.
nlohmann::json drop_event_json(const sg_drop_event &event);

// The same, plus "src_machine","src_app","src_network","src_org" and their "dst_" twins, each
// present when the agent's state knows it.
nlohmann::json drop_event_json(const sg_drop_event &event, const AddressNames &src,
                               const AddressNames &dst);

// The datapath stamps events with bpf_ktime_get_ns() (CLOCK_MONOTONIC: it stops while the host
// is suspended and is not the wall clock); this adds the current CLOCK_REALTIME - CLOCK_MONOTONIC
// offset and formats it as RFC 3339 in UTC, e.g. "2026-12-03T14:29:54.123456Z".
std::string monotonic_to_rfc3339(uint64_t monotonic_ns);

}  // namespace sixguard
