#include "agent/control/input_limits.h"

#include <cstdint>
#include <cstdio>

namespace sixguard {

namespace {

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Length of the UTF-8 sequence at text[i] and its code point, or 0 when it is not valid
// UTF-8 (RFC 3629: shortest form only, no surrogates, at most U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t i, uint32_t &code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  std::size_t length = 0;
  uint32_t min = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, code_point = lead & 0x1f, min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, code_point = lead & 0x0f, min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, code_point = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3f);
  }
  if (code_point < min || code_point > 0x10ffff) return 0;
  if (code_point >= 0xd800 && code_point <= 0xdfff) return 0;
  return length;
}

bool control_code_point(uint32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f);
}

std::string hex_byte(uint8_t value) {
  char text[8];
  std::snprintf(text, sizeof(text), "\\x%02x", value);
  return text;
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !ascii_alnum(name[0])) return false;
  for (const char c : name) {
    if (!ascii_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool valid_network_name(std::string_view name) {
  const char first = name.empty() ? '\0' : name[0];
  const bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
  if (!valid_name(name) || !letter) return false;
  return name.find('_') == std::string_view::npos;
}

bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || c == ' ' || (byte >= '\t' && byte <= '\r') || byte < 0x20 ||
        byte == 0x7f) {
      return false;
    }
  }
  return string_problem(name) == std::nullopt;
}

std::optional<std::string> string_problem(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    uint32_t code_point = 0;
    const std::size_t length = utf8_sequence(text, i, code_point);
    if (length == 0) {
      return "is not valid UTF-8 (byte " + std::to_string(i) + ")";
    }
    if (control_code_point(code_point)) {
      char text_code[16];
      std::snprintf(text_code, sizeof(text_code), "U+%04X", code_point);
      return "holds a control character (" + std::string(text_code) + " at byte " +
             std::to_string(i) + ")";
    }
    i += length;
  }
  return std::nullopt;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    uint32_t code_point = 0;
    const std::size_t length = utf8_sequence(text, i, code_point);
    if (length == 0 || control_code_point(code_point)) {
      // A C1 character is two bytes in UTF-8: both are escaped.
      const std::size_t bytes = length == 0 ? 1 : length;
      for (std::size_t k = 0; k < bytes; ++k) out += hex_byte(static_cast<uint8_t>(text[i + k]));
      i += bytes;
      continue;
    }
    if (text[i] == '\\') {
      out += "\\\\";
    } else {
      out.append(text, i, length);
    }
    i += length;
  }
  return out;
}

std::string shown(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return printable(text);
  return printable(text.substr(0, max_bytes)) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace sixguard
