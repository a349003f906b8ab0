#include "agent/api/api_routes.h"

#include <chrono>
#include <set>
#include <tuple>

#include "agent/api/control_answer.h"
#include "agent/api/drop_event_json.h"
#include "agent/api/state_views.h"
#include "agent/control/input_limits.h"
#include "agent/datapath/names.h"  // agent/datapath

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

// GET /v1/monitor?hook=H&reason=R&network=N: only the events that match every filter given.
struct MonitorFilter {
  std::optional<uint32_t> hook;
  std::optional<uint32_t> reason;
  std::optional<uint32_t> network_id;  // either end on this network
};

// Unknown keys and values are refused (400) rather than ignored: a misspelt filter would
// otherwise look like a quiet network.
Result<MonitorFilter> parse_monitor_filter(const HttpRequest &request,
                                           const ControlPlane &control) {
  MonitorFilter filter;
  for (const auto &[key, value] : request.query) {
    if (key == "hook") {
      auto hook = parse_hook(value);
      if (!hook) return make_error("unknown hook '" + shown(value) + "'", EINVAL);
      filter.hook = *hook;
    } else if (key == "reason") {
      auto reason = parse_reason(value);
      if (!reason) return make_error("unknown reason '" + shown(value) + "'", EINVAL);
      filter.reason = *reason;
    } else if (key == "network") {
      if (auto problem = string_problem(value)) {
        return make_error("network: string " + *problem, EINVAL);
      }
      auto id = control.find_network(value);
      if (!id) return make_error(shown(id.error().message), EINVAL);
      filter.network_id = *id;
    } else {
      return make_error("unknown parameter '" + shown(key) + "' (expected hook, reason, network)",
                        EINVAL);
    }
  }
  return filter;
}

void monitor(MonitorSource &source, const ControlPlane &control, const MonitorFilter &filter,
             ResponseStream &stream) {
  auto subscription = source.subscribe();
  if (!subscription) return;
  // Short waits so that a client that left, or a stopping server, is noticed promptly.
  while (stream.open()) {
    const auto event = subscription->next(std::chrono::milliseconds(250));
    if (!event) continue;
    if (filter.hook && event->hook != *filter.hook) continue;
    if (filter.reason && event->reason != *filter.reason) continue;
    const AddressNames src = control.names_of(Ipv6::from(event->src));
    const AddressNames dst = control.names_of(Ipv6::from(event->dst));
    if (filter.network_id) {
      // A Flycast address belongs to the network it was allocated into (names_of says so).
      const auto on = [&](const AddressNames &names, const sg_in6 &raw) {
        return names.network_known
                   ? names.network_id == *filter.network_id
                   : is_6pn(Ipv6::from(raw)) && network_id(Ipv6::from(raw)) == *filter.network_id;
      };
      if (!on(src, event->src) && !on(dst, event->dst)) continue;
    }
    if (!stream.write(drop_event_json(*event, src, dst).dump() + "\n")) return;
  }
}

}  // namespace

namespace {

// Reads {"src", "dst", "interface"?} straight from the parser's SAX callbacks: anything else
// (another key, a nested value, a duplicate key, a bad string) stops the parse at once, so a
// huge body costs no more than reading it (no JSON document is built).
class ExplainReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::string> src, dst, interface_name;
  std::string error;

  bool null() override {
    if (field_ == "interface") return true;  // as if absent
    return wrong_type();
  }
  bool boolean(bool) override { return wrong_type(); }
  bool number_integer(number_integer_t) override { return wrong_type(); }
  bool number_unsigned(number_unsigned_t) override { return wrong_type(); }
  bool number_float(number_float_t, const string_t &) override { return wrong_type(); }
  bool binary(binary_t &) override { return wrong_type(); }
  bool string(string_t &value) override {
    if (depth_ == 0) return refuse("the body must be a JSON object");
    if (auto problem = string_problem(value)) return refuse(field_text() + ": string " + *problem);
    (field_ == "src" ? src : field_ == "dst" ? dst : interface_name) = std::move(value);
    return true;
  }
  bool start_object(std::size_t) override {
    if (depth_++ > 0) return wrong_type();
    return true;
  }
  bool key(string_t &key) override {
    if (key != "src" && key != "dst" && key != "interface") {
      return refuse("unknown field '" + shown(key) + "' (expected src, dst, interface)");
    }
    if (!seen_.insert(key).second) return refuse("duplicate key '" + key + "'");
    field_ = key;
    return true;
  }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override {
    return depth_ == 0 ? refuse("the body must be a JSON object") : wrong_type();
  }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &problem) override {
    std::string what = problem.what();
    if (const auto start = what.find("] "); start != std::string::npos) what.erase(0, start + 2);
    error = "malformed JSON: " + shown(what, 200);
    return false;
  }

 private:
  std::string field_text() const { return "field '" + field_ + "'"; }
  bool refuse(std::string why) {
    if (error.empty()) error = std::move(why);
    return false;
  }
  bool wrong_type() {
    if (depth_ == 0) return refuse("the body must be a JSON object");
    return refuse(field_text() + " must be a string");
  }

  std::size_t depth_ = 0;
  std::set<std::string> seen_;
  std::string field_;
};

}  // namespace

Result<ExplainRequest> parse_explain_request(const std::string &body) {
  ExplainReader reader;
  if (!nlohmann::json::sax_parse(body, &reader)) {
    return make_error(reader.error.empty()
                          ? std::string("the body must be a JSON object {\"src\", \"dst\", "
                                        "\"interface\"?}")
                          : reader.error,
                      EINVAL);
  }
  ExplainRequest request;
  for (const auto &[field, text, out] : {std::tuple{"src", &reader.src, &request.src},
                                         std::tuple{"dst", &reader.dst, &request.dst}}) {
    if (!*text) return make_error(std::string("field '") + field + "' is missing", EINVAL);
    auto address = parse_ipv6(**text);
    if (!address) {
      return make_error(
          std::string("field '") + field + "': malformed IPv6 address '" + shown(**text) + "'",
          EINVAL);
    }
    *out = *address;
  }
  if (reader.interface_name) {
    if (!valid_interface_name(*reader.interface_name)) {
      return make_error(
          "field 'interface' must be an interface name (1-15 bytes, no '/', ':' "
          "or whitespace)",
          EINVAL);
    }
    request.interface_name = std::move(reader.interface_name);
  }
  return request;
}

void register_api_routes(Router &router, ControlPlane &control, ApiProviders providers) {
  router.add("POST", "/v1/events",
             [&control, owner = providers.events_owned_by](const HttpRequest &request) {
               if (!owner.empty()) {
                 return json_error(
                     409, "events are not accepted here: the desired state comes from " + owner +
                              " (DESIGN §6); publish to it instead");
               }
               const ControlAnswer answer = answer_of(control.apply(request.body));
               return json_response(answer.status, answer.body);
             });
  router.add("GET", "/v1/apps", [&control](const HttpRequest &request) {
    std::optional<std::string> org;
    if (const auto it = request.query.find("org_slug");
        it != request.query.end() && !it->second.empty()) {
      org = it->second;
    }
    return json_response(200, apps_json(control, org));
  });
  router.add("GET", "/v1/networks", [&control](const HttpRequest &) {
    return json_response(200, networks_json(control));
  });
  router.add(
      "GET", "/v1/status",
      [&control, status = providers.status, source = providers.source_status](const HttpRequest &) {
        nlohmann::json body = status ? status->status() : nlohmann::json::object();
        if (!body.is_object()) body = nlohmann::json{{"daemon", body}};
        body["state"] = counts_json(control);
        body["source"] = source ? source() : nlohmann::json{{"kind", "api"}};
        return json_response(200, body);
      });
  // The source's part of /v1/status alone, without reading the maps' usage: cheap enough to
  // poll often (the fleet bench polls every agent's revision every 50 ms).
  router.add("GET", "/v1/source", [source = providers.source_status](const HttpRequest &) {
    return json_response(200, source ? source() : nlohmann::json{{"kind", "api"}});
  });
  router.add("POST", "/v1/explain", [explainer = providers.explainer](const HttpRequest &request) {
    return explain(explainer, request);
  });
  if (providers.monitor) {
    router.add_stream(
        "GET", "/v1/monitor", "application/x-ndjson",
        [source = providers.monitor, &control](const HttpRequest &request, ResponseStream &stream) {
          // Checked by the precheck already; networks are never removed.
          auto filter = parse_monitor_filter(request, control);
          if (filter) monitor(*source, control, *filter, stream);
        },
        [&control](const HttpRequest &request) -> std::optional<HttpResponse> {
          auto filter = parse_monitor_filter(request, control);
          if (filter) return std::nullopt;
          return json_error(400, filter.error().message);
        });
  } else {
    router.add("GET", "/v1/monitor", [](const HttpRequest &) {
      return json_error(503, "monitor is not available: the datapath is not loaded");
    });
  }
}

}  // namespace sixguard
