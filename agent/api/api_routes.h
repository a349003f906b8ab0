// The agent's API (DESIGN §4) on a Router:
// - POST /v1/events: ControlPlane::apply (200, 400, 409, 422, 507, 500); 409 naming the
//   source when the desired state comes from elsewhere (DESIGN §6, etcd).
// - GET /v1/apps?org_slug=ORG:
//   {"total_apps", "apps": [{"id", "name", "machine_count", "network", "org"}]}.
// - GET /v1/networks:
//   {"total_networks", "networks": [{"org", "name", "id", "id_text", "mode", "app_count"}]}.
// - GET /v1/status: the StatusProvider's object plus "state" (the registry's counts) and
//   "source" ({"kind": "api"}, or the etcd source's status).
// - POST /v1/explain {"src", "dst", "interface"?}:
//   {"hook", "verdict", "reason", "src", "dst", "interface"?}.
// - GET /v1/monitor: NDJSON stream of drop events (drop_event_json.h), chunked.
#pragma once

#include <functional>
#include <string>

#include "agent/control/control_plane.h"
#include "agent/api/providers.h"
#include "agent/api/router.h"

namespace sixguard {

struct ApiProviders {
  StatusProvider *status = nullptr;  // absent: /v1/status has only "state"
  Explainer *explainer = nullptr;    // absent: /v1/explain answers 503
  MonitorSource *monitor = nullptr;  // absent: /v1/monitor answers 503
  // Set when another source owns the desired state: POST /v1/events answers 409 with this
  // message, and /v1/status shows source_status() as "source".
  std::string events_owned_by;
  std::function<nlohmann::json()> source_status;
};

// control and the providers must outlive the router's use.
void register_api_routes(Router &router, ControlPlane &control, ApiProviders providers);

// The explain request's checks, shared with the CLI: {"src","dst","interface"?}.
struct ExplainRequest {
  Ipv6 src;
  Ipv6 dst;
  std::optional<std::string> interface_name;
};
Result<ExplainRequest> parse_explain_request(const std::string &body);

}  // namespace sixguard
