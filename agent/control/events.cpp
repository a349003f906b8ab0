#include "agent/control/events.h"

#include <array>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "agent/control/input_limits.h"

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

EventError malformed(std::optional<std::size_t> index, std::string type, std::string field,
                     const std::string &what) {
  return event_error(ControlErrorKind::kMalformed, index, std::move(type), std::move(field), what);
}

// The fields an event may carry. Any other key is allowed (and ignored) so that the platform
// can add fields, but it is parsed under the same limits.
enum Field : std::size_t {
  kType,
  kOrg,
  kNetwork,
  kApp,
  kMachine,
  kAddress,
  kInterface,
  kMode,
  kId
};
constexpr std::array<std::string_view, 9> kFieldNames{
    "type", "org", "network", "app", "machine", "address", "interface", "mode", "id"};

std::optional<Field> field_of(std::string_view key) {
  for (std::size_t i = 0; i < kFieldNames.size(); ++i) {
    if (kFieldNames[i] == key) return static_cast<Field>(i);
  }
  return std::nullopt;
}

// One field's value as the parser saw it: only scalars are kept, a container is just kOther.
struct FieldValue {
  enum Kind { kAbsent, kNull, kString, kInteger, kOther } kind = kAbsent;
  std::string text;
  nlohmann::json number;  // kInteger: an integer scalar (signed or unsigned)
};
using EventFields = std::array<FieldValue, kFieldNames.size()>;

// A required string field: present, a string, not empty; a name field must be a name.
std::optional<EventError> take_string(EventFields &fields, Field field, std::size_t index,
                                      const std::string &type, std::string &out) {
  FieldValue &value = fields[field];
  const std::string name(kFieldNames[field]);
  if (value.kind == FieldValue::kAbsent || value.kind == FieldValue::kNull) {
    return malformed(index, type, name, "is missing");
  }
  if (value.kind != FieldValue::kString) return malformed(index, type, name, "must be a string");
  if (value.text.empty()) return malformed(index, type, name, "must not be empty");
  const bool is_name = field == kOrg || field == kNetwork || field == kApp || field == kMachine;
  if (is_name && !valid_name(value.text)) {
    return malformed(index, type, name,
                     "bad name '" + shown(value.text) +
                         "': 1-63 bytes of letters, digits, '-' and '_', starting with a letter "
                         "or digit");
  }
  if (field == kNetwork && !valid_network_name(value.text)) {
    return malformed(index, type, name,
                     "bad network name '" + shown(value.text) +
                         "': letters, digits and dashes, starting with a letter");
  }
  if (field == kInterface && !valid_interface_name(value.text)) {
    return malformed(index, type, name,
                     "bad interface name '" + shown(value.text) +
                         "': 1-15 bytes, no '/', ':' or whitespace, not '.' or '..'");
  }
  out = std::move(value.text);
  return std::nullopt;
}

// The string fields each type requires, in the order they are checked (network.created's
// id and app.created's optional network are checked on their own).
const std::vector<std::pair<Field, std::string Event::*>> &required_fields(EventType type) {
  using Fields = std::vector<std::pair<Field, std::string Event::*>>;
  static const std::map<EventType, Fields> kRequired{
      {EventType::kNetworkCreated, {{kOrg, &Event::org}, {kNetwork, &Event::network}}},
      {EventType::kAppCreated, {{kOrg, &Event::org}, {kApp, &Event::app}}},
      {EventType::kAppDestroyed, {{kApp, &Event::app}}},
      {EventType::kMachineStarted,
       {{kApp, &Event::app},
        {kMachine, &Event::machine},
        {kAddress, &Event::address},
        {kInterface, &Event::interface_name}}},
      {EventType::kMachineStopped, {{kMachine, &Event::machine}}},
      {EventType::kFlycastAllocated,
       {{kApp, &Event::app}, {kAddress, &Event::address}, {kNetwork, &Event::network}}},
      {EventType::kFlycastReleased, {{kAddress, &Event::address}}},
      {EventType::kNetworkMode,
       {{kOrg, &Event::org}, {kNetwork, &Event::network}, {kMode, &Event::mode}}},
  };
  return kRequired.at(type);
}

// The shape checks of one event object, on the fields the parser collected.
std::optional<EventError> make_event(EventFields &fields, std::size_t index, Event &event) {
  const FieldValue &type_value = fields[kType];
  if (type_value.kind == FieldValue::kAbsent) return malformed(index, "", "type", "is missing");
  if (type_value.kind != FieldValue::kString) {
    return malformed(index, "", "type", "must be a string");
  }
  const auto type = parse_event_type(type_value.text);
  if (!type) {
    const std::string name = shown(type_value.text);
    return malformed(index, name, "type", "unknown event type '" + name + "'");
  }
  event.type = *type;
  const std::string type_name(event_type_name(*type));

  const auto &required = required_fields(*type);
  for (const auto &[field, member] : required) {
    if (auto error = take_string(fields, field, index, type_name, event.*member)) return error;
  }
  if (*type == EventType::kNetworkCreated) {
    FieldValue &id = fields[kId];
    if (id.kind == FieldValue::kAbsent || id.kind == FieldValue::kNull) {
      return malformed(index, type_name, "id", "is missing");
    }
    if (id.kind == FieldValue::kInteger) {
      event.id = std::move(id.number);
    } else if (id.kind == FieldValue::kString) {
      event.id = std::move(id.text);
    } else {
      return malformed(index, type_name, "id", "must be an integer or a string such as \"2:45b\"");
    }
  }
  if (*type == EventType::kAppCreated) {
    const auto kind = fields[kNetwork].kind;
    if (kind != FieldValue::kAbsent && kind != FieldValue::kNull) {
      if (auto error = take_string(fields, kNetwork, index, type_name, event.network)) {
        return error;
      }
      event.network_given = true;
    } else {
      event.network = "default";
    }
  }
  return std::nullopt;
}

// Builds events straight from the parser's SAX callbacks: no JSON document is ever built
// (a copy of one recursed on nesting and crashed the agent), memory follows the body, and
// the limits (depth, duplicate keys, strings) are checked as the bytes are read. Where the
// events are: the body's own object (an event), the elements of the body's array, or (line
// mode, NDJSON) each line's object.
class EventsReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  EventsReader(std::deque<Event> &events, bool line_mode)
      : events_(events), line_mode_(line_mode) {}

  std::optional<EventError> error;  // a refusal (limits, shape): final
  std::string syntax_error;         // the parser's complaint: maybe NDJSON, maybe garbage
  bool value_complete = false;      // the body's first value (object or array) ended
  std::size_t line = 0;             // line mode: for syntax error messages

  bool null() override { return scalar(FieldValue{FieldValue::kNull, {}, {}}); }
  bool boolean(bool) override { return scalar(FieldValue{FieldValue::kOther, {}, {}}); }
  bool number_integer(number_integer_t value) override {
    return scalar(FieldValue{FieldValue::kInteger, {}, value});
  }
  bool number_unsigned(number_unsigned_t value) override {
    return scalar(FieldValue{FieldValue::kInteger, {}, value});
  }
  bool number_float(number_float_t, const string_t &) override {
    return scalar(FieldValue{FieldValue::kOther, {}, {}});
  }
  bool binary(binary_t &) override { return scalar(FieldValue{FieldValue::kOther, {}, {}}); }
  bool string(string_t &value) override {
    if (auto problem = string_problem(value)) {
      return refuse_at_end(current_field_name(), "string " + *problem);
    }
    return scalar(FieldValue{FieldValue::kString, std::move(value), {}});
  }

  bool start_object(std::size_t) override {
    if (!open_container(true)) return false;
    keys_.emplace_back();
    if (depth_ == event_depth()) {
      in_event_ = true;
      fields_ = EventFields{};
      field_.reset();
      key_.clear();
    }
    return true;
  }

  bool key(string_t &key) override {
    if (auto problem = string_problem(key)) return refuse_at_end("", "a key " + *problem);
    if (!keys_.back().insert(key).second) {
      return refuse_at_end(shown(key), "duplicate key '" + shown(key) + "' in one object");
    }
    if (in_event_ && depth_ == event_depth()) {
      field_ = field_of(key);
      key_ = shown(key);
    }
    return true;
  }

  bool end_object() override {
    keys_.pop_back();
    if (in_event_ && depth_ == event_depth()) {
      if (pending_) return refuse("", "");
      in_event_ = false;
      Event event;
      if (auto refusal = make_event(fields_, events_.size(), event)) {
        error = std::move(refusal);
        return false;
      }
      events_.push_back(std::move(event));
    }
    return close_container();
  }

  bool start_array(std::size_t) override { return open_container(false); }
  bool end_array() override { return close_container(); }

  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &problem) override {
    if (pending_) return refuse("", "");  // found first
    std::string what = problem.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    if (const auto start = what.find("] "); start != std::string::npos) what.erase(0, start + 2);
    syntax_error = shown(what, 200);
    return false;
  }

 private:
  // Where event objects open: the body's object, or its array's elements.
  std::size_t event_depth() const { return !line_mode_ && top_is_array_ ? 2 : 1; }

  std::string current_field_name() const { return in_event_ ? key_ : std::string(); }

  // Refusals found inside an event wait for its end, so that they can name its type when
  // "type" comes after the offending field; the first one found is the one reported.
  bool refuse_at_end(std::string field, std::string what) {
    if (!pending_) pending_.emplace(std::move(field), std::move(what));
    return true;
  }

  bool refuse(std::string field, std::string what) {
    if (pending_) std::tie(field, what) = *pending_;
    const std::optional<std::size_t> index =
        in_event_ || depth_ > 0 ? std::optional<std::size_t>(events_.size()) : std::nullopt;
    std::string type;
    if (in_event_ && fields_[kType].kind == FieldValue::kString &&
        parse_event_type(fields_[kType].text)) {
      type = fields_[kType].text;
    }
    error = malformed(index, std::move(type), std::move(field), std::move(what));
    return false;
  }

  bool not_an_object() {
    error = malformed(events_.size(), "", "", "is not a JSON object");
    return false;
  }

  bool open_container(bool object) {
    ++depth_;
    if (depth_ > kMaxJsonDepth) {
      return refuse(current_field_name(),
                    "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    if (depth_ == 1 && !object) {
      if (line_mode_) return not_an_object();
      top_is_array_ = true;
    } else if (depth_ == event_depth() && !object) {
      return not_an_object();
    } else if (in_event_ && depth_ == event_depth() + 1 && field_) {
      fields_[*field_].kind = FieldValue::kOther;  // a container where a scalar belongs
    }
    return true;
  }

  bool close_container() {
    if (--depth_ == 0) value_complete = true;
    return true;
  }

  bool scalar(FieldValue value) {
    if (depth_ < event_depth()) return not_an_object();  // the body or an array element
    if (in_event_ && depth_ == event_depth() && field_) fields_[*field_] = std::move(value);
    return true;  // inside an ignored field, or a known field's container
  }

  std::deque<Event> &events_;
  const bool line_mode_;
  bool top_is_array_ = false;
  std::size_t depth_ = 0;
  std::vector<std::set<std::string>> keys_;  // the keys of each open object, for duplicates
  bool in_event_ = false;
  EventFields fields_;
  std::optional<Field> field_;  // the event key being read, when it is a known field
  std::string key_;             // its name, printable, for error messages
  std::optional<std::pair<std::string, std::string>> pending_;  // (field, what)
};

bool only_whitespace(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// NDJSON: one event object per non-empty line.
ParsedEvents parse_lines(std::string_view body) {
  ParsedEvents parsed;
  std::size_t start = 0;
  std::size_t line_number = 0;
  while (start <= body.size()) {
    const std::size_t end = std::min(body.find('\n', start), body.size());
    const std::string_view line = body.substr(start, end - start);
    ++line_number;
    if (!only_whitespace(line)) {
      EventsReader reader(parsed.events, /*line_mode=*/true);
      const std::size_t index = parsed.events.size();
      if (!nlohmann::json::sax_parse(line, &reader)) {
        parsed.error = reader.error ? std::move(reader.error)
                                    : EventError{ControlErrorKind::kMalformed,
                                                 "malformed JSON: event " + std::to_string(index) +
                                                     " (line " + std::to_string(line_number) +
                                                     ") is not valid JSON: " + reader.syntax_error,
                                                 index, "", ""};
        parsed.events.clear();
        return parsed;
      }
    }
    if (end == body.size()) break;
    start = end + 1;
  }
  return parsed;
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

std::string_view error_class(ControlErrorKind kind) {
  // In the order of ControlErrorKind.
  static constexpr std::string_view kClasses[] = {"malformed", "conflict",    "invalid",
                                                  "map_full",  "unavailable", "internal"};
  static_assert(std::size(kClasses) == kControlErrorKinds);
  const auto index = static_cast<std::size_t>(kind);
  return index < std::size(kClasses) ? kClasses[index] : "internal";
}

EventError event_error(ControlErrorKind kind, std::optional<std::size_t> index, std::string type,
                       std::string field, const std::string &what) {
  std::string message = index ? "event " + std::to_string(*index) : std::string("request body");
  if (!type.empty()) message += " (" + type + ")";
  if (!field.empty()) message += ": field '" + field + "'";
  message += ": " + what;
  return EventError{kind, std::move(message), index, std::move(type), std::move(field)};
}

EventError event_error(ControlErrorKind kind, std::size_t index, const Event &event,
                       std::string field, const std::string &what) {
  return event_error(kind, index, std::string(event_type_name(event.type)), std::move(field), what);
}

ParsedEvents parse_events(std::string_view body) {
  ParsedEvents parsed;
  if (only_whitespace(body)) {
    parsed.error = EventError{ControlErrorKind::kMalformed,
                              "empty request body: expected a JSON event, array or NDJSON",
                              std::nullopt, "", ""};
    return parsed;
  }
  EventsReader reader(parsed.events, /*line_mode=*/false);
  if (nlohmann::json::sax_parse(body, &reader)) return parsed;
  parsed.events.clear();
  if (reader.error) {
    parsed.error = std::move(reader.error);
    return parsed;
  }
  // A complete first value followed by more: NDJSON, one event per line.
  if (reader.value_complete) return parse_lines(body);
  parsed.error = EventError{
      ControlErrorKind::kMalformed,
      "malformed JSON: the body is not a JSON object, array or NDJSON: " + reader.syntax_error,
      std::nullopt, "", ""};
  return parsed;
}

}  // namespace sixguard
