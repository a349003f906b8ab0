#include "api_routes.h"

#include <chrono>

#include "drop_event_json.h"
#include "names.h"  // agent/datapath

namespace sixguard {

namespace {

nlohmann::json counts_json(const ControlPlane &control) {
  const StateCounts counts = control.counts();
  return {{"networks", counts.networks},
          {"apps", counts.apps},
          {"machines", counts.machines},
          {"machines_with_interface", counts.machines_attached},
          {"flycast", counts.flycast},
          {"audit_networks", counts.audit_networks},
          {"maps_in_sync", control.maps_in_sync()}};
}

HttpResponse explain(Explainer *explainer, const HttpRequest &request) {
  auto parsed = parse_explain_request(request.body);
  if (!parsed) return json_error(400, parsed.error().message);
  if (!explainer) return json_error(503, "explain is not available: the datapath is not loaded");
  auto result = explainer->explain(parsed->src, parsed->dst, parsed->interface_name);
  if (!result) {
    const int code = result.error().code;
    const unsigned status = (code == ENODEV || code == ENOENT) ? 404 : code == EINVAL ? 400 : 500;
    return json_error(status, result.error().describe());
  }
  nlohmann::json body = {{"hook", hook_name(result->hook)},
                         {"verdict", verdict_name(result->verdict)},
                         {"reason", reason_name(result->reason)},
                         {"src", parsed->src.str()},
                         {"dst", parsed->dst.str()}};
  if (parsed->interface_name) body["interface"] = *parsed->interface_name;
  return json_response(200, body);
}

void monitor(MonitorSource &source, ResponseStream &stream) {
  auto subscription = source.subscribe();
  if (!subscription) return;
  // Short waits so that a client that left, or a stopping server, is noticed promptly.
  while (stream.open()) {
    const auto event = subscription->next(std::chrono::milliseconds(250));
    if (event && !stream.write(drop_event_json(*event).dump() + "\n")) return;
  }
}

}  // namespace

Result<ExplainRequest> parse_explain_request(const std::string &body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error("the body must be a JSON object {\"src\", \"dst\", \"interface\"?}", EINVAL);
  }
  ExplainRequest request;
  for (const char *field : {"src", "dst"}) {
    const auto it = json.find(field);
    if (it == json.end() || !it->is_string()) {
      return make_error(std::string("field '") + field + "' is missing or not a string", EINVAL);
    }
    auto address = parse_ipv6(it->get<std::string>());
    if (!address) {
      return make_error(std::string("field '") + field + "': " + address.error().message, EINVAL);
    }
    (std::string_view(field) == "src" ? request.src : request.dst) = *address;
  }
  if (const auto it = json.find("interface"); it != json.end() && !it->is_null()) {
    if (!it->is_string() || !valid_interface_name(it->get<std::string>())) {
      return make_error("field 'interface' must be an interface name (1-15 bytes)", EINVAL);
    }
    request.interface_name = it->get<std::string>();
  }
  return request;
}

void register_api_routes(Router &router, ControlPlane &control, ApiProviders providers) {
  router.add("POST", "/v1/events", [&control](const HttpRequest &request) {
    const ApplyResult result = control.apply(request.body);
    return json_response(static_cast<unsigned>(result.status), result.body);
  });
  router.add("GET", "/v1/apps", [&control](const HttpRequest &request) {
    std::optional<std::string> org;
    if (const auto it = request.query.find("org_slug");
        it != request.query.end() && !it->second.empty()) {
      org = it->second;
    }
    return json_response(200, control.apps_json(org));
  });
  router.add("GET", "/v1/networks", [&control](const HttpRequest &) {
    return json_response(200, control.networks_json());
  });
  router.add("GET", "/v1/status", [&control, status = providers.status](const HttpRequest &) {
    nlohmann::json body = status ? status->status() : nlohmann::json::object();
    if (!body.is_object()) body = nlohmann::json{{"daemon", body}};
    body["state"] = counts_json(control);
    return json_response(200, body);
  });
  router.add("POST", "/v1/explain", [explainer = providers.explainer](const HttpRequest &request) {
    return explain(explainer, request);
  });
  if (providers.monitor) {
    router.add_stream("GET", "/v1/monitor", "application/x-ndjson",
                      [source = providers.monitor](const HttpRequest &, ResponseStream &stream) {
                        monitor(*source, stream);
                      });
  } else {
    router.add("GET", "/v1/monitor", [](const HttpRequest &) {
      return json_error(503, "monitor is not available: the datapath is not loaded");
    });
  }
}

}  // namespace sixguard
