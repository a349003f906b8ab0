#include "events.h"

#include <array>
#include <utility>

namespace sixguard {

namespace {

constexpr std::array<std::pair<EventType, std::string_view>, 8> kTypeNames{{
    {EventType::kNetworkCreated, "network.created"},
    {EventType::kAppCreated, "app.created"},
    {EventType::kAppDestroyed, "app.destroyed"},
    {EventType::kMachineStarted, "machine.started"},
    {EventType::kMachineStopped, "machine.stopped"},
    {EventType::kFlycastAllocated, "flycast.allocated"},
    {EventType::kFlycastReleased, "flycast.released"},
    {EventType::kNetworkMode, "network.mode"},
}};

EventError malformed(std::size_t index, std::string type, std::string field, std::string what) {
  std::string message = "event " + std::to_string(index);
  if (!type.empty()) message += " (" + type + ")";
  if (!field.empty()) message += ": field '" + field + "'";
  message += ": " + what;
  return EventError{400, std::move(message), index, std::move(type), std::move(field)};
}

// A required string field: present, a JSON string, not empty.
std::optional<EventError> take_string(const nlohmann::json &object, std::size_t index,
                                      const std::string &type, const char *field,
                                      std::string &out) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    return malformed(index, type, field, "is missing");
  }
  if (!it->is_string()) return malformed(index, type, field, "must be a string");
  out = it->get<std::string>();
  if (out.empty()) return malformed(index, type, field, "must not be empty");
  return std::nullopt;
}

struct FieldSpec {
  const char *name;
  std::string Event::*member;
};

std::optional<EventError> parse_one(const nlohmann::json &object, std::size_t index, Event &event) {
  if (!object.is_object()) return malformed(index, "", "", "is not a JSON object");
  const auto type_it = object.find("type");
  if (type_it == object.end()) return malformed(index, "", "type", "is missing");
  if (!type_it->is_string()) return malformed(index, "", "type", "must be a string");
  const std::string type_name = type_it->get<std::string>();
  const auto type = parse_event_type(type_name);
  if (!type) {
    return malformed(index, type_name, "type", "unknown event type '" + type_name + "'");
  }
  event.type = *type;

  std::vector<FieldSpec> required;
  switch (*type) {
    case EventType::kNetworkCreated:
      required = {{"org", &Event::org}, {"network", &Event::network}};
      break;
    case EventType::kAppCreated:
      required = {{"org", &Event::org}, {"app", &Event::app}};
      break;
    case EventType::kAppDestroyed:
      required = {{"app", &Event::app}};
      break;
    case EventType::kMachineStarted:
      required = {{"app", &Event::app},
                  {"machine", &Event::machine},
                  {"address", &Event::address},
                  {"interface", &Event::interface_name}};
      break;
    case EventType::kMachineStopped:
      required = {{"machine", &Event::machine}};
      break;
    case EventType::kFlycastAllocated:
      required = {{"app", &Event::app}, {"address", &Event::address}, {"network", &Event::network}};
      break;
    case EventType::kFlycastReleased:
      required = {{"address", &Event::address}};
      break;
    case EventType::kNetworkMode:
      required = {{"org", &Event::org}, {"network", &Event::network}, {"mode", &Event::mode}};
      break;
  }
  for (const auto &spec : required) {
    if (auto error = take_string(object, index, type_name, spec.name, event.*(spec.member))) {
      return error;
    }
  }
  if (*type == EventType::kNetworkCreated) {
    const auto id = object.find("id");
    if (id == object.end() || id->is_null()) return malformed(index, type_name, "id", "is missing");
    if (!id->is_number_integer() && !id->is_string()) {
      return malformed(index, type_name, "id", "must be an integer or a string such as \"2:45b\"");
    }
    event.id = *id;
  }
  if (*type == EventType::kAppCreated) {
    const auto network = object.find("network");
    if (network != object.end() && !network->is_null()) {
      if (auto error = take_string(object, index, type_name, "network", event.network)) {
        return error;
      }
      event.network_given = true;
    } else {
      event.network = "default";
    }
  }
  return std::nullopt;
}

bool only_whitespace(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

std::string_view event_type_name(EventType type) {
  for (const auto &[value, name] : kTypeNames) {
    if (value == type) return name;
  }
  return "unknown";
}

std::optional<EventType> parse_event_type(std::string_view name) {
  for (const auto &[value, text] : kTypeNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

std::string_view EventError::result_class() const {
  switch (status) {
    case 400:
      return "malformed";
    case 409:
      return "conflict";
    case 422:
      return "invalid";
    case 507:
      return "map_full";
    default:
      return "internal";
  }
}

nlohmann::json EventError::to_json() const {
  nlohmann::json body = {{"error", message}};
  if (index) body["index"] = *index;
  if (!type.empty()) body["type"] = type;
  if (!field.empty()) body["field"] = field;
  return body;
}

ParsedEvents parse_events(std::string_view body) {
  ParsedEvents parsed;
  if (only_whitespace(body)) {
    parsed.error = EventError{400, "empty request body: expected a JSON event, array or NDJSON",
                              std::nullopt, "", ""};
    return parsed;
  }
  std::vector<nlohmann::json> objects;
  auto whole = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!whole.is_discarded()) {
    if (whole.is_array()) {
      objects.assign(whole.begin(), whole.end());
    } else {
      objects.push_back(std::move(whole));
    }
  } else {
    // Not one JSON document: NDJSON, one event per non-empty line.
    std::size_t start = 0;
    std::size_t line_number = 0;
    while (start <= body.size()) {
      const std::size_t end = std::min(body.find('\n', start), body.size());
      const std::string_view line = body.substr(start, end - start);
      ++line_number;
      if (!only_whitespace(line)) {
        auto object = nlohmann::json::parse(line, nullptr, false);
        if (object.is_discarded()) {
          const std::size_t index = objects.size();
          parsed.error = EventError{400,
                                    "malformed JSON: event " + std::to_string(index) + " (line " +
                                        std::to_string(line_number) + ") is not valid JSON",
                                    index, "", ""};
          return parsed;
        }
        objects.push_back(std::move(object));
      }
      if (end == body.size()) break;
      start = end + 1;
    }
    if (objects.size() < 2) {
      // A single line that does not parse is plain malformed JSON, not NDJSON.
      parsed.error =
          EventError{400, "malformed JSON: the body is not a JSON object, array or NDJSON",
                     std::nullopt, "", ""};
      return parsed;
    }
  }
  parsed.events.resize(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (auto error = parse_one(objects[i], i, parsed.events[i])) {
      parsed.error = std::move(error);
      parsed.events.clear();
      return parsed;
    }
  }
  return parsed;
}

}  // namespace sixguard
