#include "agent/cli/decode.h"

#include <cstdio>

#include "agent/core/address.h"

namespace sixguard {

namespace {
std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}
}  // namespace

Result<nlohmann::json> decode_address(std::string_view text) {
  auto address = parse_ipv6(text);
  if (!address) return address.error();
  nlohmann::json out = {{"address", address->str()}, {"is_6pn", is_6pn(*address)}};
  if (!is_6pn(*address)) return out;
  const uint32_t network = network_id(*address);
  out["network_id"] = network;
  out["network_id_text"] = format_network_id(network);
  out["host_id"] = host_id(*address);
  out["host_id_hex"] = hex32(host_id(*address));
  out["machine_id"] = machine_id(*address);
  out["machine_id_hex"] = hex32(machine_id(*address));
  out["machine_prefix"] = Ipv6Prefix{machine_prefix(*address), 112}.str();
  return out;
}

std::string format_decoded(const nlohmann::json &decoded) {
  std::string out = decoded["address"].get<std::string>() + "\n";
  if (!decoded["is_6pn"].get<bool>()) {
    return out + "  6PN:           no (not in fdaa::/16)\n";
  }
  out += "  6PN:           yes\n";
  out += "  network id:    " + decoded["network_id_text"].get<std::string>() + " (" +
         std::to_string(decoded["network_id"].get<uint32_t>()) + ", " +
         hex32(decoded["network_id"].get<uint32_t>()) + ")" +
         (decoded["network_id"].get<uint32_t>() == 0 ? " — the platform's own network" : "") + "\n";
  out += "  host id:       " + decoded["host_id_hex"].get<std::string>() + "\n";
  out += "  machine id:    " + decoded["machine_id_hex"].get<std::string>() + "\n";
  out += "  machine /112:  " + decoded["machine_prefix"].get<std::string>() + "\n";
  return out;
}

}  // namespace sixguard
