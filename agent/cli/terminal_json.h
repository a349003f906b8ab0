// JSON for the terminal, the one way the CLI prints what the agent or etcd answered: names
// and messages reach a terminal, and an escape sequence in them must not drive it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sixguard {

// Non-ASCII as \uXXXX, bytes that are not UTF-8 replaced (never throws on them).
inline std::string terminal_json(const nlohmann::json &value, int indent = -1) {
  return value.dump(indent, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

}  // namespace sixguard
