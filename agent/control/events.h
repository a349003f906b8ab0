// Control-plane events (DESIGN §3) as the platform sends them, parsed from JSON: one object,
// an array of objects, or NDJSON. Parsing checks the shape (known type, required fields
// present with the right JSON type) and the input limits of DESIGN §3 (input_limits.h:
// nesting, duplicate keys, UTF-8 and control characters in every string, names, interface
// names), all 400; whether the values make sense against what is bound is the registry's
// job (state_rules.h). It needs no lock: the control plane parses before taking its own.
#pragma once

#include <cstddef>
#include <deque>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sixguard {

enum class EventType {
  kNetworkCreated,
  kAppCreated,
  kAppDestroyed,
  kMachineStarted,
  kMachineStopped,
  kFlycastAllocated,
  kFlycastReleased,
  kNetworkMode,
};

std::string_view event_type_name(EventType type);  // "network.created", ...
std::optional<EventType> parse_event_type(std::string_view name);

// One event with the fields its type uses, as given. Unused fields stay empty.
struct Event {
  EventType type = EventType::kNetworkCreated;
  std::string org;
  std::string network;         // a network name (network.created, app.created, flycast.*, mode)
  bool network_given = false;  // app.created: false means the org's "default" network
  std::string app;
  std::string machine;
  std::string interface_name;
  std::string address;  // text; checked against the state (malformed is 422)
  std::string mode;     // network.mode: "audit" | "enforce"
  // network.created "id": a JSON integer or a string ("2:45b", "132187", "0x2045b"); kept
  // as given so that range and syntax are reported as invalid values (422), not shape.
  nlohmann::json id;
};

// Why a batch was refused. status is the HTTP status of the answer; index/type/field name
// the offending event when there is one.
struct EventError {
  int status = 400;  // 400 malformed, 409 conflict, 422 invalid, 507 map full, 500 internal
  std::string message;
  std::optional<std::size_t> index;
  std::string type;   // the event's type when known
  std::string field;  // the offending field when there is one

  // The ControlObserver result class: "malformed", "conflict", "invalid", "map_full",
  // "internal".
  std::string_view result_class() const;
  // {"error": message, "index": i, "type": t, "field": f} (absent parts omitted).
  nlohmann::json to_json() const;
};

struct ParsedEvents {
  std::deque<Event> events;         // a deque: growing never copies the events already read
  std::optional<EventError> error;  // set: nothing in events is to be applied
};

// Accepts one JSON object, a JSON array of objects, or NDJSON (one object per line). Streams
// the body through the parser (no JSON document is built): memory follows the body, and
// nesting costs nothing but a counter. Fields other than an event's own are allowed and
// ignored, under the same limits.
ParsedEvents parse_events(std::string_view body);

}  // namespace sixguard
