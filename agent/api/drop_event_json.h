// One monitor record as JSON, with the contract's names for hook, verdict and reason
// (agent/datapath/names.h, the one place they are spelled).
#pragma once

#include <nlohmann/json.hpp>

#include "sixguard_shared.h"

namespace sixguard {

// {"timestamp_ns","hook","verdict","reason","src","dst","ifindex","interface" (when the
// ifindex still names an interface),"packet_len"}.
nlohmann::json drop_event_json(const sg_drop_event &event);

}  // namespace sixguard
