// The control plane's outcomes as the API answers them (DESIGN §5): the one place where a
// ControlErrorKind becomes an HTTP status and an error a JSON body. POST /v1/events, the
// agent's batch log and `sixguard publish` (which prints the status the agent would answer,
// issue 10) all render through here.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/control/control_error.h"
#include "agent/control/control_plane.h"

namespace sixguard {

// malformed 400, conflict 409, invalid 422, capacity 507, unavailable 503, internal 500.
unsigned http_status(ControlErrorKind kind);

// {"error": message, "index": i, "type": t, "field": f}, the parts not known left out.
nlohmann::json error_body(const EventError &error);

struct ControlAnswer {
  unsigned status = 200;
  nlohmann::json body;
};

// 200 {"applied", "unchanged"}; a refusal: its status and error_body; a batch committed
// whose map write failed: 500, the counts and the error.
ControlAnswer answer_of(const ApplyResult &result);

}  // namespace sixguard
