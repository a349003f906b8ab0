// The input limits of DESIGN §3 that do not depend on the state: how deep JSON may nest,
// which strings are acceptable, and what a name or an interface name may look like. Shared
// by the events parser (events.cpp), the explain request (agent/api) and the CLI.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sixguard {

// JSON nested deeper than this many arrays and objects is refused (400). The body's own
// array or object is level 1.
inline constexpr std::size_t kMaxJsonDepth = 32;

// Names (org, network, app, machine): 1-63 bytes of letters, digits, '-' and '_', starting
// with a letter or a digit.
inline constexpr std::size_t kMaxNameBytes = 63;
bool valid_name(std::string_view name);

// A Linux interface name: 1-15 bytes (IFNAMSIZ with its NUL), no '/', ':' or whitespace,
// not "." or "..". Control characters are refused with every other string.
bool valid_interface_name(std::string_view name);

// Why a JSON string is not acceptable, or nullopt: it must be valid UTF-8 (no overlongs,
// surrogates or code points past U+10FFFF) and hold no control character (C0 including NUL,
// DEL, C1), since names end up in logs, terminals and C strings.
std::optional<std::string> string_problem(std::string_view text);

// text made safe to print on a terminal or in a log: control characters (C0, DEL, C1) and
// bytes that are not UTF-8 become \xNN escapes, one per byte; backslashes are doubled so
// that an escape cannot be forged.
std::string printable(std::string_view text);

// A value quoted back in an error message: printable, and cut after max_bytes so that a
// huge value cannot make a huge answer.
std::string shown(std::string_view text, std::size_t max_bytes = 64);

}  // namespace sixguard
