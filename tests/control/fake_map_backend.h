// An in-memory MapBackend for control-plane tests: records every write, enforces
// capacities like the kernel (E2BIG when a new key does not fit) and can be told to fail.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/control/interface_resolver.h"
#include "agent/control/map_backend.h"
#include "agent/control/observer.h"

namespace sixguard::testing {

class FakeMapBackend : public MapBackend {
 public:
  std::map<uint32_t, sg_machine> machines;
  std::map<Ipv6, sg_flycast> flycast;
  std::set<Ipv6Prefix> infra;
  std::map<uint32_t, uint32_t> net_flags;
  sg_config config{};

  std::size_t machines_capacity = 16, flycast_capacity = 16, infra_capacity = 16,
              net_flags_capacity = 16;
  std::vector<std::string> writes;  // "put_machine 7", "delete_flycast fdaa::1", ...
  bool fail_writes = false;         // every write fails with EIO
  bool fail_dumps = false;
  std::function<void()> before_write;  // runs before every write

  void clear_log() {
    writes.clear();
    ordered.clear();
  }

  std::size_t capacity(PolicyMap map) const override {
    switch (map) {
      case PolicyMap::kMachines:
        return machines_capacity;
      case PolicyMap::kFlycast:
        return flycast_capacity;
      case PolicyMap::kInfra:
        return infra_capacity;
      case PolicyMap::kNetFlags:
        return net_flags_capacity;
    }
    return 0;
  }

  Result<std::map<uint32_t, sg_machine>> dump_machines() override {
    if (fail_dumps) return make_error("dump sg_machines", EIO);
    return machines;
  }
  Status put_machine(uint32_t ifindex, const sg_machine &value) override {
    ordered.push_back("put_machine " + std::to_string(ifindex));
    return put(machines, ifindex, value, machines_capacity,
               "put_machine " + std::to_string(ifindex));
  }
  Status delete_machine(uint32_t ifindex) override {
    ordered.push_back("delete_machine " + std::to_string(ifindex));
    Status status = erase(machines, ifindex, "delete_machine " + std::to_string(ifindex));
    check_slots("delete_machine " + std::to_string(ifindex));
    return status;
  }

  // sg_owner_slots as the kernel would hold them, by index (empty slots absent); slot_count
  // a power of two. Slot writes go to `ordered` only (with the machine writes), so the tests
  // of the other maps' writes keep their logs.
  std::map<uint32_t, sg_owner_slot> owner_slots;
  uint32_t slot_count = 8;
  std::vector<std::string>
      ordered;  // machine and slot writes in order: "put_machine 7", "put_slot 7"

  uint32_t owner_slot_count() const override { return slot_count; }
  Status put_owner_slot(uint32_t ifindex, const sg_machine &value) override {
    ordered.push_back("put_slot " + std::to_string(ifindex));
    if (fail_writes) return make_error("put_slot (injected failure)", EIO);
    sg_owner_slot slot{};
    slot.ifindex = ifindex;
    slot.machine = value;
    owner_slots[owner_slot_index(ifindex, slot_count)] = slot;
    check_slots("put_slot " + std::to_string(ifindex));
    return {};
  }
  Status clear_owner_slot(uint32_t ifindex) override {
    ordered.push_back("clear_slot " + std::to_string(ifindex));
    if (fail_writes) return make_error("clear_slot (injected failure)", EIO);
    const auto it = owner_slots.find(owner_slot_index(ifindex, slot_count));
    if (it != owner_slots.end() && it->second.ifindex == ifindex) owner_slots.erase(it);
    return {};
  }
  Status clear_owner_slot_index(uint32_t index) override {
    ordered.push_back("clear_slot_index " + std::to_string(index));
    if (fail_writes) return make_error("clear_slot_index (injected failure)", EIO);
    owner_slots.erase(index);
    return {};
  }
  // After every machine or slot write: a slot naming an interface the hash has no entry for
  // (the programs would keep a removed owner). Recorded, for the tests to assert none.
  std::vector<std::string> slot_violations;
  void check_slots(const std::string &after) {
    for (const auto &[index, slot] : owner_slots) {
      if (slot.ifindex != 0 && !machines.contains(slot.ifindex)) {
        slot_violations.push_back(after + ": slot " + std::to_string(index) + " names ifindex " +
                                  std::to_string(slot.ifindex) + ", absent from the hash");
      }
    }
  }

  Result<std::map<uint32_t, sg_owner_slot>> dump_owner_slots() override {
    if (fail_dumps) return make_error("dump sg_owner_slots", EIO);
    return owner_slots;
  }

  Result<std::map<Ipv6, sg_flycast>> dump_flycast() override {
    if (fail_dumps) return make_error("dump sg_flycast", EIO);
    return flycast;
  }
  Status put_flycast(const Ipv6 &address, const sg_flycast &value) override {
    return put(flycast, address, value, flycast_capacity, "put_flycast " + address.str());
  }
  Status delete_flycast(const Ipv6 &address) override {
    return erase(flycast, address, "delete_flycast " + address.str());
  }

  Result<std::set<Ipv6Prefix>> dump_infra() override {
    if (fail_dumps) return make_error("dump sg_infra", EIO);
    return infra;
  }
  Status put_infra(const Ipv6Prefix &prefix) override {
    if (auto status = begin_write("put_infra " + prefix.str()); !status) return status;
    if (!infra.contains(prefix) && infra.size() >= infra_capacity) {
      return make_error("sg_infra full", E2BIG);
    }
    infra.insert(prefix);
    return {};
  }
  Status delete_infra(const Ipv6Prefix &prefix) override {
    if (auto status = begin_write("delete_infra " + prefix.str()); !status) return status;
    if (!infra.erase(prefix)) return make_error("delete_infra", ENOENT);
    return {};
  }

  Result<std::map<uint32_t, uint32_t>> dump_net_flags() override {
    if (fail_dumps) return make_error("dump sg_net_flags", EIO);
    return net_flags;
  }
  Status put_net_flags(uint32_t network_id, uint32_t flags) override {
    return put(net_flags, network_id, flags, net_flags_capacity,
               "put_net_flags " + std::to_string(network_id));
  }
  Status delete_net_flags(uint32_t network_id) override {
    return erase(net_flags, network_id, "delete_net_flags " + std::to_string(network_id));
  }

  Result<sg_config> read_config() override {
    if (fail_dumps) return make_error("read sg_config", EIO);
    return config;
  }
  Status write_config(const sg_config &value) override {
    if (auto status = begin_write("write_config"); !status) return status;
    config = value;
    return {};
  }

 private:
  Status begin_write(std::string what) {
    if (before_write) before_write();
    writes.push_back(what);
    if (fail_writes) return make_error(what + " (injected failure)", EIO);
    return {};
  }
  template <typename Map, typename Key, typename Value>
  Status put(Map &map, const Key &key, const Value &value, std::size_t capacity, std::string what) {
    if (auto status = begin_write(what); !status) return status;
    if (!map.contains(key) && map.size() >= capacity) return make_error(what + ": map full", E2BIG);
    map[key] = value;
    return {};
  }
  template <typename Map, typename Key>
  Status erase(Map &map, const Key &key, std::string what) {
    if (auto status = begin_write(what); !status) return status;
    if (!map.erase(key)) return make_error(what, ENOENT);
    return {};
  }
};

// Records what the control plane reports.
class RecordingObserver : public ControlObserver {
 public:
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<bool> reconciles;
  int durations = 0;
  void event_result(std::string_view type, std::string_view result) override {
    events.emplace_back(type, result);
  }
  void apply_duration(double) override { ++durations; }
  void reconciled(bool ok) override { reconciles.push_back(ok); }
};

class FakeResolver : public InterfaceResolver {
 public:
  std::map<std::string, uint32_t> interfaces;
  int calls = 0;
  std::optional<uint32_t> ifindex(const std::string &name) override {
    ++calls;
    const auto it = interfaces.find(name);
    if (it == interfaces.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace sixguard::testing
