// One table per enum of its values and their spellings (a config value, a log field), read
// both ways: naming a value and parsing a name come from the same rows, so they cannot drift
// apart the way a switch for one and an if-chain for the other can.
//
//   inline constexpr EnumName<Mode> kModeNames[] = {{Mode::kEnforce, "enforce"}, ...};
//   name_of(kModeNames, Mode::kAudit)   -> "audit"
//   value_named(kModeNames, "enforce")  -> Mode::kEnforce; nullopt for an unknown name
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sixguard {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

// "?" for a value missing from the table (a table that lags its enum, caught by its tests).
template <typename Enum, std::size_t N>
constexpr std::string_view name_of(const EnumName<Enum> (&table)[N], Enum value) {
  for (const auto &row : table) {
    if (row.value == value) return row.name;
  }
  return "?";
}

template <typename Enum, std::size_t N>
constexpr std::optional<Enum> value_named(const EnumName<Enum> (&table)[N], std::string_view name) {
  for (const auto &row : table) {
    if (row.name == name) return row.value;
  }
  return std::nullopt;
}

}  // namespace sixguard
