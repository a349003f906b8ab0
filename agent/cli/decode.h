// `sixguard decode ADDR...`: the 6PN fields of an address (DESIGN §1), without an agent.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/core/result.h"

namespace sixguard {

// {"address","is_6pn"} and, for 6PN addresses, "network_id" (integer), "network_id_text"
// ("2:45b"), "host_id", "machine_id" (integers), "host_id_hex", "machine_id_hex",
// "machine_prefix" ("fdaa:...:0/112"). Malformed text is an error.
Result<nlohmann::json> decode_address(std::string_view text);

// The human form of decode_address's result, several lines ending with a newline.
std::string format_decoded(const nlohmann::json &decoded);

}  // namespace sixguard
