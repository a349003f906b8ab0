// The 6PN address model of DESIGN §1: fdaa::/16, then a 32-bit network id, a 32-bit host
// id, a 32-bit machine id and the machine's free 16 bits.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard {

struct Ipv6 {
  std::array<uint8_t, 16> octets{};

  static Ipv6 from(const sg_in6 &raw);
  sg_in6 raw() const;
  std::string str() const;  // RFC 5952 text (inet_ntop)
  auto operator<=>(const Ipv6 &) const = default;
};

struct Ipv6Prefix {
  Ipv6 address;  // host bits beyond length are zero
  uint8_t length = 128;

  std::string str() const;
  bool contains(const Ipv6 &address) const;
  // Some address is in both (for prefixes: one contains the other).
  bool overlaps(const Ipv6Prefix &other) const;
  sg_lpm_key lpm_key() const;
  auto operator<=>(const Ipv6Prefix &) const = default;
};

// Text forms accepted: any inet_pton IPv6 form ("fdaa:2:45b::2", "::ffff:1.2.3.4").
Result<Ipv6> parse_ipv6(std::string_view text);
// "fdaa::3/128", or a bare address meaning /128. Host bits beyond the length are an error,
// so that "fdaa::3/64" is not silently read as fdaa::/64.
Result<Ipv6Prefix> parse_ipv6_prefix(std::string_view text);

// The 6PN fields of an address.
bool is_6pn(const Ipv6 &address);
uint32_t network_id(const Ipv6 &address);  // bits 16-47
uint32_t host_id(const Ipv6 &address);     // bits 48-79
uint32_t machine_id(const Ipv6 &address);  // bits 80-111
uint16_t free_bits(const Ipv6 &address);   // bits 112-127
Ipv6 machine_prefix(const Ipv6 &address);  // the /112: free bits zeroed

// Network ids in address notation: 0x0002045b is "2:45b", 3 is "0:3" (always two 16-bit
// groups in lower-case hex without leading zeros, as they appear in an address).
std::string format_network_id(uint32_t id);
// Accepts "2:45b" (one or two hex groups of at most 4 digits), a decimal integer, or 0x-hex.
Result<uint32_t> parse_network_id(std::string_view text);

}  // namespace sixguard
