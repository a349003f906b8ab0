#include "agent/cli/status_tree.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <string_view>

#include "agent/cli/terminal_json.h"
#include "agent/control/input_limits.h"  // agent/control: printable()

namespace sixguard {

namespace {

// Top-level keys in reading order; the others follow in the agent's order.
constexpr std::array<std::string_view, 6> kLeadingKeys = {
    "ready", "mode", "state", "attached_interfaces", "maps", "datapath"};
// The key that names an element of a list of objects ("- tap-web").
constexpr std::array<std::string_view, 5> kTitleKeys = {"interface", "name", "map", "hook", "id"};

std::string scalar_text(const nlohmann::json &value) {
  if (value.is_string()) return printable(value.get<std::string>());
  if (value.is_null()) return "-";
  return terminal_json(value);
}

bool is_scalar(const nlohmann::json &value) {
  return !value.is_object() && !value.is_array();
}

void render_value(std::ostream &out, const std::string &key, const nlohmann::json &value,
                  int indent);

void render_object(std::ostream &out, const nlohmann::json &object, int indent,
                   std::string_view skip = {}) {
  for (const auto &[key, value] : object.items()) {
    if (key == skip) continue;
    render_value(out, printable(key), value, indent);
  }
}

void render_list(std::ostream &out, const nlohmann::json &list, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto &item : list) {
    if (!item.is_object()) {
      out << pad << "- " << (is_scalar(item) ? scalar_text(item) : "") << "\n";
      if (item.is_array()) render_list(out, item, indent + 2);
      continue;
    }
    const auto title = std::find_if(kTitleKeys.begin(), kTitleKeys.end(), [&](auto key) {
      return item.contains(key) && is_scalar(item[std::string(key)]);
    });
    if (title == kTitleKeys.end()) {
      out << pad << "-\n";
      render_object(out, item, indent + 2);
      continue;
    }
    const std::string title_key(*title);
    out << pad << "- " << scalar_text(item[title_key]) << "\n";
    render_object(out, item, indent + 2, title_key);
  }
}

void render_value(std::ostream &out, const std::string &key, const nlohmann::json &value,
                  int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (is_scalar(value)) {
    out << pad << key << ": " << scalar_text(value) << "\n";
  } else if (value.empty()) {
    out << pad << key << ": (none)\n";
  } else if (value.is_array() && std::all_of(value.begin(), value.end(), is_scalar)) {
    std::string joined;
    for (const auto &item : value) joined += (joined.empty() ? "" : ", ") + scalar_text(item);
    out << pad << key << ": " << joined << "\n";
  } else if (value.is_array()) {
    out << pad << key << ":\n";
    render_list(out, value, indent + 2);
  } else {
    out << pad << key << ":\n";
    render_object(out, value, indent + 2);
  }
}

}  // namespace

std::string render_status_tree(const nlohmann::json &status) {
  std::ostringstream out;
  if (!status.is_object()) {
    out << scalar_text(status) << "\n";
    return out.str();
  }
  nlohmann::json rest = status;
  // The first line says what runs where: "sixguard 0.1.0 (revision ...) on kernel ...".
  if (rest.contains("version")) {
    out << "sixguard " << scalar_text(rest["version"]);
    if (rest.contains("revision")) out << " (revision " << scalar_text(rest["revision"]) << ")";
    if (rest.contains("kernel")) out << " on kernel " << scalar_text(rest["kernel"]);
    out << "\n";
    for (const char *key : {"version", "revision", "kernel"}) rest.erase(key);
  }
  // Not ready is the one line an operator must not miss: the reason goes on it.
  if (rest.contains("ready") && rest["ready"].is_boolean()) {
    const bool ready = rest["ready"].get<bool>();
    out << "ready: " << (ready ? "yes" : "NO");
    if (!ready && rest.contains("ready_reason")) {
      out << " (" << scalar_text(rest["ready_reason"]) << ")";
    }
    out << "\n";
    rest.erase("ready");
    rest.erase("ready_reason");
  }
  for (const auto key : kLeadingKeys) {
    const std::string name(key);
    if (!rest.contains(name)) continue;
    render_value(out, printable(name), rest[name], 0);
    rest.erase(name);
  }
  render_object(out, rest, 0);
  return out.str();
}

}  // namespace sixguard
