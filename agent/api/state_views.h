// The registry as GET /v1/apps and GET /v1/networks show it (DESIGN §5). The control plane
// keeps the state; rendering it for the API is done here, from ControlPlane::read_state (the
// registry as it stands between batches, read under the control plane's lock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/control/control_plane.h"

namespace sixguard {

// {"total_apps": n, "apps": [{"id", "name", "machine_count", "network", "org"}]}: the live
// apps, of one org when org is set.
nlohmann::json apps_json(const ControlPlane &control, const std::optional<std::string> &org);

// {"total_networks": n, "networks": [{"org", "name", "id", "id_text", "mode", "app_count"}]}.
nlohmann::json networks_json(const ControlPlane &control);

// The API's string "id" of an app: its app_id as eight hex digits.
std::string app_public_id(uint32_t app_id);

}  // namespace sixguard
