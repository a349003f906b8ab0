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

#include "agent/control/control_error.h"

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

// A refusal in the rules' own wording: "event I (TYPE): field 'F': what", or "request body:
// what" when no event is at fault (parts not known are left out).
EventError event_error(ControlErrorKind kind, std::optional<std::size_t> index, std::string type,
                       std::string field, const std::string &what);
// The same for an event of the batch.
EventError event_error(ControlErrorKind kind, std::size_t index, const Event &event,
                       std::string field, const std::string &what);

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
