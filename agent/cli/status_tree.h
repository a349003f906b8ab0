// `sixguard status` for a person: GET /v1/status as an indented tree, the important facts
// first (version, readiness and why not, mode), nested objects as indented blocks, lists of
// objects titled by their name. Generic over the keys, so a field the agent adds later is
// shown without a CLI change. ASCII only: every text goes through printable().
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sixguard {

std::string render_status_tree(const nlohmann::json &status);

}  // namespace sixguard
