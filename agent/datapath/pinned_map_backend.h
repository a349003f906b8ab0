// MapBackend (agent/control/map_backend.h) over the real maps: what the control plane's
// reconciliation reads and writes in the daemon. A full map fails the put with ENOSPC
// ("sg_flycast: update: map full (65536 entries)"); nothing is written partially.
#pragma once

#include "agent/control/map_backend.h"
#include "agent/datapath/pinned_maps.h"

namespace sixguard {

class PinnedMapBackend final : public MapBackend {
 public:
  // maps must outlive the backend (normally Datapath::maps()).
  explicit PinnedMapBackend(PinnedMaps &maps) : maps_(maps) {}

  std::size_t capacity(PolicyMap map) const override;

  Result<std::map<uint32_t, sg_machine>> dump_machines() override;
  Status put_machine(uint32_t ifindex, const sg_machine &value) override;
  Status delete_machine(uint32_t ifindex) override;

  uint32_t owner_slot_count() const override { return maps_.owner_slots.size(); }
  Status put_owner_slot(uint32_t ifindex, const sg_machine &value) override;
  Status clear_owner_slot(uint32_t ifindex) override;
  Status clear_owner_slot_index(uint32_t index) override;
  Result<std::map<uint32_t, sg_owner_slot>> dump_owner_slots() override;

  Result<std::map<Ipv6, sg_flycast>> dump_flycast() override;
  Status put_flycast(const Ipv6 &address, const sg_flycast &value) override;
  Status delete_flycast(const Ipv6 &address) override;

  Result<std::set<Ipv6Prefix>> dump_infra() override;
  Status put_infra(const Ipv6Prefix &prefix) override;
  Status delete_infra(const Ipv6Prefix &prefix) override;

  Result<std::map<uint32_t, uint32_t>> dump_net_flags() override;
  Status put_net_flags(uint32_t network_id, uint32_t flags) override;
  Status delete_net_flags(uint32_t network_id) override;

  Result<sg_config> read_config() override;
  Status write_config(const sg_config &config) override;

  Result<std::optional<sg_machine>> lookup_machine(uint32_t ifindex) override {
    return maps_.machines.lookup(ifindex);
  }
  Result<std::optional<sg_flycast>> lookup_flycast(const Ipv6 &address) override {
    return maps_.flycast.lookup(address.raw());
  }
  Result<std::optional<uint32_t>> lookup_net_flags(uint32_t network_id) override {
    return maps_.net_flags.lookup(network_id);
  }

 private:
  PinnedMaps &maps_;
};

}  // namespace sixguard
