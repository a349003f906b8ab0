#include "agent/datapath/pinned_map_backend.h"

#include <cerrno>

namespace sixguard {
namespace {

// Deleting what is already gone is what reconciliation wants: not an error.
Status ignore_missing(Status status) {
  if (!status && status.error().code == ENOENT) return {};
  return status;
}

}  // namespace

std::size_t PinnedMapBackend::capacity(PolicyMap map) const {
  switch (map) {
    case PolicyMap::kMachines:
      return maps_.machines.max_entries();
    case PolicyMap::kFlycast:
      return maps_.flycast.max_entries();
    case PolicyMap::kInfra:
      return maps_.infra.max_entries();
    case PolicyMap::kNetFlags:
      return maps_.net_flags.max_entries();
  }
  return 0;
}

Result<std::map<uint32_t, sg_machine>> PinnedMapBackend::dump_machines() {
  std::map<uint32_t, sg_machine> out;
  auto status =
      maps_.machines.for_each([&](const uint32_t &k, const sg_machine &v) { out[k] = v; });
  if (!status) return status.error();
  return out;
}

Status PinnedMapBackend::put_machine(uint32_t ifindex, const sg_machine &value) {
  return maps_.machines.update(ifindex, value);
}

Status PinnedMapBackend::delete_machine(uint32_t ifindex) {
  return ignore_missing(maps_.machines.remove(ifindex));
}

// Writes through the mapping cannot fail once it is mapped (PinnedMaps checked the map).
Status PinnedMapBackend::put_owner_slot(uint32_t ifindex, const sg_machine &value) {
  maps_.owner_slots.write(ifindex, value);
  return {};
}

Status PinnedMapBackend::clear_owner_slot(uint32_t ifindex) {
  maps_.owner_slots.clear(ifindex);
  return {};
}

Status PinnedMapBackend::clear_owner_slot_index(uint32_t index) {
  if (index >= maps_.owner_slots.size()) {
    return make_error("sg_owner_slots: no slot " + std::to_string(index), EINVAL);
  }
  maps_.owner_slots.clear_index(index);
  return {};
}

Result<std::map<uint32_t, sg_owner_slot>> PinnedMapBackend::dump_owner_slots() {
  std::map<uint32_t, sg_owner_slot> out;
  for (uint32_t index = 0; index < maps_.owner_slots.size(); ++index) {
    const sg_owner_slot slot = maps_.owner_slots.read_slot(index);
    if (slot.ifindex != 0 || (slot.seq & 1u)) out.emplace(index, slot);
  }
  return out;
}

Result<std::map<Ipv6, sg_flycast>> PinnedMapBackend::dump_flycast() {
  std::map<Ipv6, sg_flycast> out;
  auto status =
      maps_.flycast.for_each([&](const sg_in6 &k, const sg_flycast &v) { out[Ipv6::from(k)] = v; });
  if (!status) return status.error();
  return out;
}

Status PinnedMapBackend::put_flycast(const Ipv6 &address, const sg_flycast &value) {
  return maps_.flycast.update(address.raw(), value);
}

Status PinnedMapBackend::delete_flycast(const Ipv6 &address) {
  return ignore_missing(maps_.flycast.remove(address.raw()));
}

Result<std::set<Ipv6Prefix>> PinnedMapBackend::dump_infra() {
  std::set<Ipv6Prefix> out;
  auto status = maps_.infra.for_each([&](const sg_lpm_key &k, const uint32_t &) {
    out.insert(Ipv6Prefix{Ipv6::from(k.addr), static_cast<uint8_t>(k.prefixlen)});
  });
  if (!status) return status.error();
  return out;
}

Status PinnedMapBackend::put_infra(const Ipv6Prefix &prefix) {
  return maps_.infra.update(prefix.lpm_key(), 1u);
}

Status PinnedMapBackend::delete_infra(const Ipv6Prefix &prefix) {
  return ignore_missing(maps_.infra.remove(prefix.lpm_key()));
}

Result<std::map<uint32_t, uint32_t>> PinnedMapBackend::dump_net_flags() {
  std::map<uint32_t, uint32_t> out;
  auto status = maps_.net_flags.for_each([&](const uint32_t &k, const uint32_t &v) { out[k] = v; });
  if (!status) return status.error();
  return out;
}

Status PinnedMapBackend::put_net_flags(uint32_t network_id, uint32_t flags) {
  return maps_.net_flags.update(network_id, flags);
}

Status PinnedMapBackend::delete_net_flags(uint32_t network_id) {
  return ignore_missing(maps_.net_flags.remove(network_id));
}

Result<sg_config> PinnedMapBackend::read_config() {
  return maps_.config.get(0);
}

Status PinnedMapBackend::write_config(const sg_config &config) {
  return maps_.config.set(0, config);
}

}  // namespace sixguard
