// The datapath's policy maps as the control plane sees them. The daemon implements this over
// the pinned maps (agent/datapath); unit tests implement it in memory. Reconciliation reads
// what is there (dump_*) and writes only the difference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "agent/core/address.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard {

enum class PolicyMap { kMachines, kFlycast, kInfra, kNetFlags };

inline uint32_t owner_slot_index(uint32_t ifindex, uint32_t slot_count) {
  return ifindex & (slot_count - 1);
}

class MapBackend {
 public:
  virtual ~MapBackend() = default;

  // max_entries of a map, for refusing a batch that would not fit before anything changes.
  virtual std::size_t capacity(PolicyMap map) const = 0;

  virtual Result<std::map<uint32_t, sg_machine>> dump_machines() = 0;  // by ifindex
  virtual Status put_machine(uint32_t ifindex, const sg_machine &value) = 0;
  virtual Status delete_machine(uint32_t ifindex) = 0;

  // sg_owner_slots (sixguard_shared.h, struct sg_owner_slot): a cache of sg_machines the
  // machine hooks read first. write_difference keeps it behind the hash: put after
  // put_machine, cleared before delete_machine.
  // Its entries, a power of two: ifindex's slot is ifindex & (count - 1) (owner_slot_index).
  virtual uint32_t owner_slot_count() const = 0;
  // Makes the slot of ifindex hold (ifindex, value) whatever it held.
  virtual Status put_owner_slot(uint32_t ifindex, const sg_machine &value) = 0;
  // Empties the slot of ifindex if it holds ifindex.
  virtual Status clear_owner_slot(uint32_t ifindex) = 0;
  // Empties slot index whatever it holds (a check found it wrong).
  virtual Status clear_owner_slot_index(uint32_t index) = 0;
  // Every slot that is not empty (ifindex 0, seq even), by index; a slot left mid-write has
  // an odd seq.
  virtual Result<std::map<uint32_t, sg_owner_slot>> dump_owner_slots() = 0;

  virtual Result<std::map<Ipv6, sg_flycast>> dump_flycast() = 0;
  virtual Status put_flycast(const Ipv6 &address, const sg_flycast &value) = 0;
  virtual Status delete_flycast(const Ipv6 &address) = 0;

  virtual Result<std::set<Ipv6Prefix>> dump_infra() = 0;
  virtual Status put_infra(const Ipv6Prefix &prefix) = 0;
  virtual Status delete_infra(const Ipv6Prefix &prefix) = 0;

  virtual Result<std::map<uint32_t, uint32_t>> dump_net_flags() = 0;  // network id -> SG_NET_*
  virtual Status put_net_flags(uint32_t network_id, uint32_t flags) = 0;
  virtual Status delete_net_flags(uint32_t network_id) = 0;

  virtual Result<sg_config> read_config() = 0;
  virtual Status write_config(const sg_config &config) = 0;

  // One entry (nullopt: absent), for re-reading the few keys a drift repair is about. These
  // defaults read the whole map; a backend over real maps looks the key up.
  virtual Result<std::optional<sg_machine>> lookup_machine(uint32_t ifindex) {
    return lookup_in(dump_machines(), ifindex);
  }
  virtual Result<std::optional<sg_flycast>> lookup_flycast(const Ipv6 &address) {
    return lookup_in(dump_flycast(), address);
  }
  virtual Result<std::optional<uint32_t>> lookup_net_flags(uint32_t network_id) {
    return lookup_in(dump_net_flags(), network_id);
  }

 private:
  template <typename Map, typename Key>
  static Result<std::optional<typename Map::mapped_type>> lookup_in(Result<Map> dumped,
                                                                    const Key &key) {
    if (!dumped) return dumped.error();
    const auto found = dumped->find(key);
    if (found == dumped->end()) return std::optional<typename Map::mapped_type>();
    return std::optional<typename Map::mapped_type>(found->second);
  }
};

}  // namespace sixguard
