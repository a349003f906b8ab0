#include "agent/source/etcd_keys.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>
#include <vector>

#include "agent/control/input_limits.h"

namespace sixguard {

namespace {

bool lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Splits on '/', keeping empty segments so that "a//b" is seen as having one.
std::vector<std::string_view> segments(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

Error key_error(std::string_view key, const std::string &why) {
  return make_error("etcd key '" + shown(key, 128) + "': " + why);
}

Result<std::string> name_segment(std::string_view key, std::string_view segment, const char *what) {
  if (!valid_name(segment)) {
    return key_error(key, std::string("bad ") + what + " '" + shown(segment) +
                              "': 1-63 bytes of letters, digits, '-' and '_', starting with a "
                              "letter or digit");
  }
  return std::string(segment);
}

std::string hex8(uint32_t id) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", id);
  return text;
}

// The network id an event's "id" names, or nullopt when it is no valid id (the rules then
// refuse the event with their own 422).
std::optional<uint32_t> event_network_id(const nlohmann::json &id) {
  if (id.is_number_unsigned()) {
    const auto value = id.get<uint64_t>();
    if (value == 0 || value > UINT32_MAX) return std::nullopt;
    return static_cast<uint32_t>(value);
  }
  if (!id.is_string()) return std::nullopt;
  auto parsed = parse_network_id(id.get<std::string>());
  if (!parsed || *parsed == 0) return std::nullopt;
  return *parsed;
}

// The value's one JSON object as an event. parse_events enforces the §3 input limits (UTF-8,
// control characters, depth, duplicate keys, names) before anything else reads the value.
Result<Event> single_event(std::string_view key, std::string_view value) {
  const std::size_t first = value.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || value[first] != '{') {
    return key_error(key, "value is not one JSON object");
  }
  ParsedEvents parsed = parse_events(value);
  if (parsed.error) return key_error(key, "value: " + parsed.error->message);
  if (parsed.events.size() != 1) return key_error(key, "value is not one JSON object");
  return std::move(parsed.events.front());
}

Status disagree(std::string_view key, const char *field, std::string_view in_value,
                std::string_view in_key) {
  return key_error(key, std::string("value's ") + field + " '" + shown(in_value) +
                            "' disagrees with the key's '" + shown(in_key) + "'");
}

// The value's fields against the key's: the object is where its key says it is.
Status check_agreement(std::string_view key_text, const EtcdKey &key, const Event &event,
                       std::string_view value) {
  // The event type each kind of key holds (network-ids/ keys hold a binding, no event).
  static constexpr std::pair<EtcdKeyKind, EventType> kHeld[] = {
      {EtcdKeyKind::kNetwork, EventType::kNetworkCreated},
      {EtcdKeyKind::kApp, EventType::kAppCreated},
      {EtcdKeyKind::kMode, EventType::kNetworkMode},
      {EtcdKeyKind::kFlycast, EventType::kFlycastAllocated},
      {EtcdKeyKind::kMachine, EventType::kMachineStarted},
  };
  const auto *held = std::find_if(std::begin(kHeld), std::end(kHeld),
                                  [&](const auto &pair) { return pair.first == key.kind; });
  if (held == std::end(kHeld)) return make_error("network-ids keys hold no event");
  const EventType expected = held->second;
  if (event.type != expected) {
    return key_error(key_text, "value is a " + std::string(event_type_name(event.type)) +
                                   " event; this key holds " +
                                   std::string(event_type_name(expected)));
  }
  switch (key.kind) {
    case EtcdKeyKind::kNetwork:
    case EtcdKeyKind::kMode:
      if (event.org != key.org) return disagree(key_text, "org", event.org, key.org);
      if (event.network != key.network) {
        return disagree(key_text, "network", event.network, key.network);
      }
      break;
    case EtcdKeyKind::kApp:
      if (event.app != key.app) return disagree(key_text, "app", event.app, key.app);
      break;
    case EtcdKeyKind::kFlycast: {
      auto address = parse_ipv6(event.address);
      if (!address || *address != key.address) {
        return disagree(key_text, "address", event.address, key.address.str());
      }
      break;
    }
    case EtcdKeyKind::kMachine: {
      if (event.machine != key.machine) {
        return disagree(key_text, "machine", event.machine, key.machine);
      }
      // The limits were checked by parse_events: a plain parse is now safe.
      const auto object = nlohmann::json::parse(value, nullptr, false);
      if (object.is_object() && object.contains("host")) {
        const auto &host = object["host"];
        if (!host.is_string()) return key_error(key_text, "value's host must be a string");
        if (host.get<std::string>() != key.host) {
          return disagree(key_text, "host", host.get<std::string>(), key.host);
        }
      }
      break;
    }
    case EtcdKeyKind::kNetworkId:
      break;
  }
  return {};
}

Result<EtcdEntry> network_id_entry(std::string_view key_text, EtcdKey key, std::string_view value) {
  // Same limits as an event (UTF-8, depth, duplicate keys) through the events parser: the
  // binding is read as an object with "org" and "network" and no "type".
  const std::size_t first = value.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || value[first] != '{') {
    return key_error(key_text, "value is not one JSON object");
  }
  const auto object = nlohmann::json::parse(value, nullptr, false);
  if (!object.is_object()) return key_error(key_text, "value is not one JSON object");
  for (const char *field : {"org", "network"}) {
    if (!object.contains(field) || !object[field].is_string()) {
      return key_error(key_text, std::string("value's ") + field + " is missing or not a string");
    }
    if (!valid_name(object[field].get<std::string>())) {
      return key_error(key_text, std::string("value's ") + field + " '" +
                                     shown(object[field].get<std::string>()) +
                                     "' is not a valid name");
    }
  }
  EtcdEntry entry;
  entry.key = std::move(key);
  entry.bound_org = object["org"].get<std::string>();
  entry.bound_network = object["network"].get<std::string>();
  return entry;
}

}  // namespace

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostBytes) return false;
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(host.front())) return false;
  for (char c : host) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return host.find("..") == std::string_view::npos;
}

Status check_etcd_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() != '/') {
    return make_error("etcd prefix '" + shown(prefix) + "' must start with '/'");
  }
  if (prefix.size() > 256) return make_error("etcd prefix is longer than 256 bytes");
  if (prefix.back() == '/') {
    return make_error("etcd prefix '" + shown(prefix) + "' must not end with '/'");
  }
  for (char c : prefix) {
    if (c <= 0x20 || c >= 0x7f) {
      return make_error("etcd prefix '" + shown(prefix) +
                        "' must be printable ASCII without spaces");
    }
  }
  const auto parts = segments(prefix.substr(1));
  for (const auto part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return make_error("etcd prefix '" + shown(prefix) + "' has an empty, '.' or '..' segment");
    }
  }
  return {};
}

std::string etcd_hosts_prefix(std::string_view prefix) {
  return std::string(prefix) + "/hosts/";
}

std::string etcd_host_prefix(std::string_view prefix, std::string_view host) {
  return etcd_hosts_prefix(prefix) + std::string(host) + "/machines/";
}

std::string etcd_key_text(std::string_view prefix, const EtcdKey &key) {
  const std::string base(prefix);
  switch (key.kind) {
    case EtcdKeyKind::kNetwork:
      return base + "/networks/" + key.org + "/" + key.network;
    case EtcdKeyKind::kNetworkId:
      return base + "/network-ids/" + hex8(key.network_id);
    case EtcdKeyKind::kApp:
      return base + "/apps/" + key.app;
    case EtcdKeyKind::kMode:
      return base + "/modes/" + key.org + "/" + key.network;
    case EtcdKeyKind::kFlycast:
      return base + "/flycast/" + key.address.str();
    case EtcdKeyKind::kMachine:
      return etcd_host_prefix(prefix, key.host) + key.machine;
  }
  return base;
}

Result<EtcdKey> parse_etcd_key(std::string_view prefix, std::string_view key) {
  if (key.size() > kMaxEtcdKeyBytes) {
    return key_error(key, "longer than " + std::to_string(kMaxEtcdKeyBytes) + " bytes");
  }
  if (key.size() <= prefix.size() + 1 || key.substr(0, prefix.size()) != prefix ||
      key[prefix.size()] != '/') {
    return key_error(key, "not under the prefix '" + shown(prefix) + "'");
  }
  const auto parts = segments(key.substr(prefix.size() + 1));
  const std::string_view kind = parts[0];
  EtcdKey parsed;
  const auto expect = [&](std::size_t count, const char *layout) -> Status {
    if (parts.size() != count) {
      return key_error(key, std::string("expected ") + layout);
    }
    return {};
  };
  if (kind == "networks" || kind == "modes") {
    const char *layout = kind == "networks" ? "networks/<org>/<network>" : "modes/<org>/<network>";
    if (auto ok = expect(3, layout); !ok) return ok.error();
    parsed.kind = kind == "networks" ? EtcdKeyKind::kNetwork : EtcdKeyKind::kMode;
    auto org = name_segment(key, parts[1], "org");
    if (!org) return org.error();
    auto network = name_segment(key, parts[2], "network");
    if (!network) return network.error();
    parsed.org = *org;
    parsed.network = *network;
  } else if (kind == "network-ids") {
    if (auto ok = expect(2, "network-ids/<id, 8 hex digits>"); !ok) return ok.error();
    const auto id = parts[1];
    bool hex = id.size() == 8;
    for (char c : id) hex = hex && lower_hex(c);
    if (!hex) {
      return key_error(key, "network id '" + shown(id) + "' is not 8 lower-case hex digits");
    }
    parsed.kind = EtcdKeyKind::kNetworkId;
    parsed.network_id = static_cast<uint32_t>(std::stoul(std::string(id), nullptr, 16));
    if (parsed.network_id == 0) return key_error(key, "network id 0 is never a tenant's");
  } else if (kind == "apps") {
    if (auto ok = expect(2, "apps/<app>"); !ok) return ok.error();
    auto app = name_segment(key, parts[1], "app");
    if (!app) return app.error();
    parsed.kind = EtcdKeyKind::kApp;
    parsed.app = *app;
  } else if (kind == "flycast") {
    if (auto ok = expect(2, "flycast/<address>"); !ok) return ok.error();
    auto address = parse_ipv6(parts[1]);
    if (!address) return key_error(key, "malformed address '" + shown(parts[1]) + "'");
    if (address->str() != parts[1]) {
      return key_error(key, "address '" + shown(parts[1]) + "' is not in its RFC 5952 form '" +
                                address->str() + "'");
    }
    parsed.kind = EtcdKeyKind::kFlycast;
    parsed.address = *address;
  } else if (kind == "hosts") {
    if (auto ok = expect(4, "hosts/<host>/machines/<machine>"); !ok) return ok.error();
    if (parts[2] != "machines") return key_error(key, "expected hosts/<host>/machines/<machine>");
    if (!valid_host_name(parts[1])) {
      return key_error(key, "bad host '" + shown(parts[1]) +
                                "': 1-253 bytes of letters, digits, '-', '_' and '.', starting "
                                "with a letter or digit, without '..'");
    }
    auto machine = name_segment(key, parts[3], "machine");
    if (!machine) return machine.error();
    parsed.kind = EtcdKeyKind::kMachine;
    parsed.host = std::string(parts[1]);
    parsed.machine = *machine;
  } else {
    return key_error(key, "unknown kind '" + shown(kind) + "'");
  }
  return parsed;
}

Result<EtcdEntry> parse_etcd_entry(std::string_view prefix, std::string_view key_text,
                                   std::string_view value) {
  auto key = parse_etcd_key(prefix, key_text);
  if (!key) return key.error();
  if (key->kind == EtcdKeyKind::kNetworkId) {
    // The limits of §3 apply to the binding too: refuse what parse_events would.
    if (auto problem = string_problem(value)) return key_error(key_text, "value: " + *problem);
    return network_id_entry(key_text, std::move(*key), value);
  }
  auto event = single_event(key_text, value);
  if (!event) return event.error();
  if (auto agrees = check_agreement(key_text, *key, *event, value); !agrees) {
    return agrees.error();
  }
  EtcdEntry entry;
  entry.key = std::move(*key);
  entry.event = std::move(*event);
  return entry;
}

std::optional<Event> etcd_deletion_event(const EtcdKey &key) {
  Event event;
  switch (key.kind) {
    case EtcdKeyKind::kNetwork:
    case EtcdKeyKind::kNetworkId:
      return std::nullopt;
    case EtcdKeyKind::kApp:
      event.type = EventType::kAppDestroyed;
      event.app = key.app;
      return event;
    case EtcdKeyKind::kMode:
      event.type = EventType::kNetworkMode;
      event.org = key.org;
      event.network = key.network;
      event.mode = "enforce";
      return event;
    case EtcdKeyKind::kFlycast:
      event.type = EventType::kFlycastReleased;
      event.address = key.address.str();
      return event;
    case EtcdKeyKind::kMachine:
      event.type = EventType::kMachineStopped;
      event.machine = key.machine;
      return event;
  }
  return std::nullopt;
}

// Member by member, not by designated initializers: g++ 12 -Wextra warns about every member
// a designated initializer leaves to its default.
EtcdKey etcd_network_key(std::string_view org, std::string_view network) {
  EtcdKey key;
  key.kind = EtcdKeyKind::kNetwork;
  key.org = org;
  key.network = network;
  return key;
}

EtcdKey etcd_app_key(std::string_view app) {
  EtcdKey key;
  key.kind = EtcdKeyKind::kApp;
  key.app = app;
  return key;
}

EtcdKey etcd_machine_key(std::string_view host, std::string_view machine) {
  EtcdKey key;
  key.kind = EtcdKeyKind::kMachine;
  key.host = host;
  key.machine = machine;
  return key;
}

EtcdKey etcd_flycast_key(const Ipv6 &address) {
  EtcdKey key;
  key.kind = EtcdKeyKind::kFlycast;
  key.address = address;
  return key;
}

EtcdKey etcd_network_id_key(uint32_t id) {
  EtcdKey key;
  key.kind = EtcdKeyKind::kNetworkId;
  key.network_id = id;
  return key;
}

namespace {

// The opposites of app.created, flycast.allocated and machine.started: they delete its key.
bool deletes_a_key(EventType type) {
  return type == EventType::kAppDestroyed || type == EventType::kFlycastReleased ||
         type == EventType::kMachineStopped;
}

// The key of the app, Flycast address or (host's) machine an event names: the key
// app.created, flycast.allocated, machine.started write and their opposites delete.
Result<EtcdKey> named_object_key(const Event &event, std::string_view host) {
  switch (event.type) {
    case EventType::kAppCreated:
    case EventType::kAppDestroyed:
      return etcd_app_key(event.app);
    case EventType::kFlycastAllocated:
    case EventType::kFlycastReleased: {
      auto address = parse_ipv6(event.address);
      if (!address) return make_error("malformed address '" + shown(event.address) + "'");
      return etcd_flycast_key(*address);
    }
    case EventType::kMachineStarted:
    case EventType::kMachineStopped:
      if (!valid_host_name(host)) {
        return make_error(std::string(event_type_name(event.type)) +
                          " needs a valid host (--host or a 'host' field)");
      }
      return etcd_machine_key(host, event.machine);
    default:
      return make_error(std::string(event_type_name(event.type)) +
                        " names no app, address or machine");
  }
}

}  // namespace

Result<EtcdKey> etcd_key_for_event(const Event &event, std::string_view host) {
  if (deletes_a_key(event.type)) {
    return make_error(std::string(event_type_name(event.type)) + " deletes a key, it has none");
  }
  if (event.type == EventType::kNetworkCreated) return etcd_network_key(event.org, event.network);
  if (event.type == EventType::kNetworkMode) {
    EtcdKey key = etcd_network_key(event.org, event.network);
    key.kind = EtcdKeyKind::kMode;
    return key;
  }
  return named_object_key(event, host);
}

Result<EtcdKey> etcd_key_deleted_by(const Event &event, std::string_view host) {
  if (!deletes_a_key(event.type)) {
    return make_error(std::string(event_type_name(event.type)) + " deletes no key");
  }
  return named_object_key(event, host);
}

std::string etcd_network_id_value(std::string_view org, std::string_view network) {
  return nlohmann::json{{"org", org}, {"network", network}}.dump();
}

namespace {

constexpr uint32_t type_bit(EventType type) {
  return 1u << static_cast<unsigned>(type);
}

// The text fields of an event's value, each with the event types that carry it.
struct ValueField {
  const char *name;
  std::string Event::*member;
  uint32_t types;  // type_bit()s
};

using enum EventType;
constexpr ValueField kValueFields[] = {
    {"org", &Event::org,
     type_bit(kNetworkCreated) | type_bit(kAppCreated) | type_bit(kNetworkMode)},
    {"network", &Event::network,
     type_bit(kNetworkCreated) | type_bit(kFlycastAllocated) | type_bit(kNetworkMode)},
    {"app", &Event::app,
     type_bit(kAppCreated) | type_bit(kAppDestroyed) | type_bit(kMachineStarted) |
         type_bit(kFlycastAllocated)},
    {"machine", &Event::machine, type_bit(kMachineStarted) | type_bit(kMachineStopped)},
    {"address", &Event::address,
     type_bit(kMachineStarted) | type_bit(kFlycastAllocated) | type_bit(kFlycastReleased)},
    {"interface", &Event::interface_name, type_bit(kMachineStarted)},
    {"mode", &Event::mode, type_bit(kNetworkMode)},
};

}  // namespace

std::string etcd_value_for_event(const Event &event, std::string_view host) {
  nlohmann::json value{{"type", event_type_name(event.type)}};
  for (const auto &field : kValueFields) {
    if (field.types & type_bit(event.type)) value[field.name] = event.*field.member;
  }
  // What depends on more than the type.
  if (event.type == EventType::kNetworkCreated) value["id"] = event.id;
  if (event.type == EventType::kAppCreated && event.network_given) value["network"] = event.network;
  if (event.type == EventType::kMachineStarted && !host.empty()) value["host"] = host;
  return value.dump();
}

// Used by the source to check a network.created against its network-ids binding.
std::optional<uint32_t> etcd_event_network_id(const Event &event) {
  return event_network_id(event.id);
}

}  // namespace sixguard
