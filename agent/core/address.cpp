#include "agent/core/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace sixguard {

Ipv6 Ipv6::from(const sg_in6 &raw) {
  Ipv6 address;
  std::memcpy(address.octets.data(), raw.octets, 16);
  return address;
}

sg_in6 Ipv6::raw() const {
  sg_in6 raw{};
  std::memcpy(raw.octets, octets.data(), 16);
  return raw;
}

std::string Ipv6::str() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, octets.data(), text, sizeof(text));
  return text;
}

std::string Ipv6Prefix::str() const {
  return address.str() + "/" + std::to_string(length);
}

bool Ipv6Prefix::overlaps(const Ipv6Prefix &other) const {
  return length <= other.length ? contains(other.address) : other.contains(address);
}

bool Ipv6Prefix::contains(const Ipv6 &other) const {
  for (int bit = 0; bit < length; bit += 8) {
    const int bits = std::min(8, length - bit);
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
    if ((address.octets[bit / 8] & mask) != (other.octets[bit / 8] & mask)) return false;
  }
  return true;
}

sg_lpm_key Ipv6Prefix::lpm_key() const {
  sg_lpm_key key{};
  key.prefixlen = length;
  key.addr = address.raw();
  return key;
}

Result<Ipv6> parse_ipv6(std::string_view text) {
  // inet_pton needs a NUL-terminated string; bound the copy so junk cannot grow it.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return make_error("malformed IPv6 address '" + std::string(text) + "'", EINVAL);
  }
  std::string copy(text);
  Ipv6 address;
  if (::inet_pton(AF_INET6, copy.c_str(), address.octets.data()) != 1) {
    return make_error("malformed IPv6 address '" + copy + "'", EINVAL);
  }
  return address;
}

Result<Ipv6Prefix> parse_ipv6_prefix(std::string_view text) {
  const auto slash = text.find('/');
  auto address = parse_ipv6(text.substr(0, slash));
  if (!address) return address.error();
  Ipv6Prefix prefix{*address, 128};
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    unsigned length = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
        length > 128) {
      return make_error("malformed prefix length in '" + std::string(text) + "'", EINVAL);
    }
    prefix.length = static_cast<uint8_t>(length);
  }
  Ipv6Prefix masked{Ipv6{}, prefix.length};
  for (int i = 0; i < 16; ++i) {
    const int bits = std::clamp(prefix.length - i * 8, 0, 8);
    masked.address.octets[i] = prefix.address.octets[i] & static_cast<uint8_t>(0xff00 >> bits);
  }
  if (masked.address != prefix.address) {
    return make_error("prefix '" + std::string(text) + "' has bits set beyond its length", EINVAL);
  }
  return prefix;
}

namespace {
uint32_t be32_at(const Ipv6 &address, int offset) {
  return (uint32_t{address.octets[offset]} << 24) | (uint32_t{address.octets[offset + 1]} << 16) |
         (uint32_t{address.octets[offset + 2]} << 8) | uint32_t{address.octets[offset + 3]};
}

Result<uint32_t> parse_hex_group(std::string_view group, std::string_view whole) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), value, 16);
  if (group.empty() || group.size() > 4 || ec != std::errc() ||
      end != group.data() + group.size()) {
    return make_error("malformed network id '" + std::string(whole) + "'", EINVAL);
  }
  return value;
}
}  // namespace

bool is_6pn(const Ipv6 &address) {
  return address.octets[0] == SG_6PN_OCTET0 && address.octets[1] == SG_6PN_OCTET1;
}
uint32_t network_id(const Ipv6 &address) {
  return be32_at(address, 2);
}
uint32_t host_id(const Ipv6 &address) {
  return be32_at(address, 6);
}
uint32_t machine_id(const Ipv6 &address) {
  return be32_at(address, 10);
}
uint16_t free_bits(const Ipv6 &address) {
  return static_cast<uint16_t>((address.octets[14] << 8) | address.octets[15]);
}
Ipv6 machine_prefix(const Ipv6 &address) {
  Ipv6 prefix = address;
  prefix.octets[14] = 0;
  prefix.octets[15] = 0;
  return prefix;
}

std::string format_network_id(uint32_t id) {
  char text[16];
  std::snprintf(text, sizeof(text), "%x:%x", id >> 16, id & 0xffff);
  return text;
}

Result<uint32_t> parse_network_id(std::string_view text) {
  if (text.empty()) return make_error("empty network id", EINVAL);
  if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    auto high = parse_hex_group(text.substr(0, colon), text);
    if (!high) return high.error();
    auto low = parse_hex_group(text.substr(colon + 1), text);
    if (!low) return low.error();
    return (*high << 16) | *low;
  }
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const auto digits = hex ? text.substr(2) : text;
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > UINT32_MAX) {
    return make_error("malformed network id '" + std::string(text) + "'", EINVAL);
  }
  return static_cast<uint32_t>(value);
}

}  // namespace sixguard
