#include "tests/bpf/datapath_harness.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "agent/datapath/egress_hook.h"
#include "agent/datapath/object_setup.h"
#include "sg_datapath.skel.h"

namespace sixguard::bpftest {

namespace {

Error libbpf_error(const std::string &what, int err) {
  return make_error(what, err < 0 ? -err : err);
}

// Deletes every key of a map (keys collected first: deleting while iterating skips keys).
template <typename Key>
Status clear_map(int fd, const char *name) {
  std::vector<Key> keys;
  Key key{};
  Key next{};
  const Key *cursor = nullptr;
  while (bpf_map_get_next_key(fd, cursor, &next) == 0) {
    keys.push_back(next);
    key = next;
    cursor = &key;
  }
  for (const auto &k : keys) {
    if (bpf_map_delete_elem(fd, &k) != 0) return errno_error(std::string("clear ") + name);
  }
  return {};
}

template <typename Value, std::size_t N>
Status sum_percpu(int fd, const char *name, std::array<Value, N> &out) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return libbpf_error("libbpf_num_possible_cpus", cpus);
  std::vector<Value> values(static_cast<std::size_t>(cpus));
  for (uint32_t slot = 0; slot < N; ++slot) {
    if (bpf_map_lookup_elem(fd, &slot, values.data()) != 0) {
      return errno_error(std::string("read ") + name + " slot " + std::to_string(slot));
    }
    out[slot] = Value{};
    for (const auto &v : values) {
      if constexpr (std::is_same_v<Value, sg_counter>) {
        out[slot].packets += v.packets;
        out[slot].bytes += v.bytes;
      } else {
        out[slot] += v;
      }
    }
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Datapath>> Datapath::load(const MapSizes &sizes, XdpEgress xdp) {
  // pin_dir "": libbpf's default pin root, cleared from every map below.
  auto opened = open_datapath_skeleton("", "sixguard");
  if (!opened) return opened.error();
  bpf_object *obj = (*opened)->obj;
  std::unique_ptr<Datapath> datapath(new Datapath(std::move(*opened)));
  // Tests never share maps with a running agent: no pinning at all.
  bpf_map *map = nullptr;
  bpf_object__for_each_map(map, obj) {
    if (int err = bpf_map__set_pin_path(map, nullptr); err) {
      return libbpf_error(std::string("unpin ") + bpf_map__name(map), err);
    }
  }
  const std::pair<const char *, uint32_t> overrides[] = {{SG_MAP_MACHINES, sizes.machines},
                                                         {SG_MAP_FLYCAST, sizes.flycast},
                                                         {SG_MAP_INFRA, sizes.infra},
                                                         {SG_MAP_NET_FLAGS, sizes.net_flags}};
  for (const auto &[name, entries] : overrides) {
    if (entries == 0) continue;
    bpf_map *target = bpf_object__find_map_by_name(obj, name);
    if (!target) return make_error(std::string("no map ") + name, ENOENT);
    if (int err = bpf_map__set_max_entries(target, entries); err) {
      return libbpf_error(std::string("size ") + name, err);
    }
  }
  // The owner slots follow sg_machines' size as the agent sizes them (MapSizes::owner_slots):
  // a benchmark with 64k machines needs as many slots as a host with 64k machines has.
  if (sizes.machines != 0) {
    sixguard::MapSizes agent_sizes;
    agent_sizes.machines = sizes.machines;
    if (auto sized = size_owner_slots(obj, agent_sizes.owner_slots()); !sized) {
      return sized.error();
    }
  }
  // The agent's own decision (agent/datapath/egress_hook.h), so the tests follow it.
  auto has_helper = kernel_has_xdp_load_bytes();
  if (!has_helper) return has_helper.error();
  if (!*has_helper && xdp == XdpEgress::kWhereSupported) {
    if (int err = bpf_program__set_autoload(datapath->skeleton_->progs.sg_machine_egress, false);
        err) {
      return libbpf_error("skip sg_machine_egress", err);
    }
  }
  if (int err = sg_datapath__load(datapath->skeleton_.get()); err) {
    return libbpf_error("load the sixguard object", err);
  }
  auto handle = maps::MapHandle::from_bpf_map(datapath->skeleton_->maps.sg_owner_slots);
  if (!handle) return handle.error();
  auto slots = maps::OwnerSlots::open(std::move(*handle));
  if (!slots) return slots.error();
  datapath->slots_.emplace(std::move(*slots));
  return datapath;
}

int Datapath::map_fd(const char *name) const {
  bpf_map *map = bpf_object__find_map_by_name(skeleton_->obj, name);
  return map ? bpf_map__fd(map) : -1;
}

Datapath::~Datapath() = default;

bpf_object *Datapath::object() const {
  return skeleton_->obj;
}

Status Datapath::put_machine(uint32_t ifindex, const sg_machine &machine) {
  if (auto s = put_machine_hash_only(ifindex, machine); !s) return s;
  slots_->write(ifindex, machine);
  return {};
}

Status Datapath::put_machine_hash_only(uint32_t ifindex, const sg_machine &machine) {
  if (bpf_map_update_elem(map_fd(SG_MAP_MACHINES), &ifindex, &machine, BPF_ANY)) {
    return errno_error("put sg_machines");
  }
  return {};
}

Status Datapath::delete_machine(uint32_t ifindex) {
  slots_->clear(ifindex);
  if (bpf_map_delete_elem(map_fd(SG_MAP_MACHINES), &ifindex) != 0 && errno != ENOENT) {
    return errno_error("delete from sg_machines");
  }
  return {};
}

Result<std::optional<sg_machine>> Datapath::machine_of(uint32_t ifindex) const {
  sg_machine machine{};
  if (bpf_map_lookup_elem(map_fd(SG_MAP_MACHINES), &ifindex, &machine) == 0) return {machine};
  if (errno == ENOENT) return std::optional<sg_machine>();
  return errno_error("look up sg_machines");
}

Status Datapath::put_flycast(const Ipv6 &address, const sg_flycast &flycast) {
  const sg_in6 key = address.raw();
  if (bpf_map_update_elem(map_fd(SG_MAP_FLYCAST), &key, &flycast, BPF_ANY)) {
    return errno_error("put sg_flycast");
  }
  return {};
}

Status Datapath::put_infra(const Ipv6Prefix &prefix) {
  const sg_lpm_key key = prefix.lpm_key();
  const uint32_t one = 1;
  if (bpf_map_update_elem(map_fd(SG_MAP_INFRA), &key, &one, BPF_ANY)) {
    return errno_error("put sg_infra");
  }
  return {};
}

Status Datapath::put_net_flags(uint32_t network_id, uint32_t flags) {
  if (bpf_map_update_elem(map_fd(SG_MAP_NET_FLAGS), &network_id, &flags, BPF_ANY)) {
    return errno_error("put sg_net_flags");
  }
  return {};
}

Status Datapath::write_config(const sg_config &config) {
  const uint32_t zero = 0;
  if (bpf_map_update_elem(map_fd(SG_MAP_CONFIG), &zero, &config, BPF_ANY)) {
    return errno_error("write sg_config");
  }
  return {};
}

Status Datapath::clear_policy() {
  for (uint32_t index = 0; index < slots_->size(); ++index) slots_->clear_index(index);
  if (auto s = clear_map<uint32_t>(map_fd(SG_MAP_MACHINES), "sg_machines"); !s) {
    return s;
  }
  if (auto s = clear_map<sg_in6>(map_fd(SG_MAP_FLYCAST), "sg_flycast"); !s) return s;
  if (auto s = clear_map<sg_lpm_key>(map_fd(SG_MAP_INFRA), "sg_infra"); !s) return s;
  return clear_map<uint32_t>(map_fd(SG_MAP_NET_FLAGS), "sg_net_flags");
}

Status Datapath::reset_ratelimit() {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return libbpf_error("libbpf_num_possible_cpus", cpus);
  std::vector<sg_ratelimit> zeros(static_cast<std::size_t>(cpus));
  const uint32_t zero = 0;
  if (bpf_map_update_elem(map_fd(SG_MAP_RATELIMIT), &zero, zeros.data(), BPF_ANY)) {
    return errno_error("reset sg_ratelimit");
  }
  return {};
}

Result<Counters> Datapath::counters() const {
  Counters out{};
  if (auto s = sum_percpu(map_fd(SG_MAP_COUNTERS), "sg_counters", out); !s) {
    return s.error();
  }
  return out;
}

Result<EventStats> Datapath::event_stats() const {
  EventStats out{};
  if (auto s = sum_percpu(map_fd(SG_MAP_EVENT_STATS), "sg_event_stats", out); !s) {
    return s.error();
  }
  return out;
}

bpf_program *Datapath::program(Program program) const {
  const auto &progs = skeleton_->progs;
  switch (program) {
    case Program::kMachineEgress:
      return progs.sg_machine_egress;
    case Program::kMachineEgressTc:
      return progs.sg_egress_tc;
    case Program::kMachineIngress:
      return progs.sg_machine_ingress;
    case Program::kUplink:
      return progs.sg_uplink;
    case Program::kUplinkL3:
      return progs.sg_uplink_l3;
    case Program::kExplain:
      return progs.sg_explain;
  }
  return nullptr;
}

int Datapath::program_fd(Program which) const {
  bpf_program *found = program(which);
  const int fd = found != nullptr ? bpf_program__fd(found) : -1;
  return fd >= 0 ? fd : -1;  // not loaded: libbpf answers a negative errno
}

Result<std::vector<sg_drop_event>> Datapath::drain_events() const {
  std::vector<sg_drop_event> events;
  const auto on_record = [](void *context, void *data, size_t size) -> int {
    auto *out = static_cast<std::vector<sg_drop_event> *>(context);
    sg_drop_event event{};
    std::memcpy(&event, data, std::min(size, sizeof(event)));
    out->push_back(event);
    return 0;
  };
  ring_buffer *ring = ring_buffer__new(events_fd(), on_record, &events, nullptr);
  if (!ring) return errno_error("ring_buffer__new sg_events");
  const int consumed = ring_buffer__consume(ring);
  ring_buffer__free(ring);
  if (consumed < 0) return libbpf_error("consume sg_events", consumed);
  return events;
}

uint32_t Datapath::map_max_entries(const char *name) const {
  bpf_map *map = bpf_object__find_map_by_name(skeleton_->obj, name);
  return map ? bpf_map__max_entries(map) : 0;
}

int Datapath::events_fd() const {
  return map_fd(SG_MAP_EVENTS);
}

Result<RunResult> Datapath::run(Program which, const std::vector<uint8_t> &packet, uint32_t ifindex,
                                uint32_t repeat, std::optional<std::array<uint32_t, 2>> cb) const {
  TestRun test_run(which == Program::kMachineEgress ? HookType::kXdp : HookType::kTc, packet,
                   ifindex, repeat, cb);
  auto result = test_run.run(program_fd(which));
  if (!result) {
    return make_error("BPF_PROG_TEST_RUN " + std::string(bpf_program__name(program(which))),
                      result.error().code);
  }
  return result;
}

Counters counter_delta(const Counters &before, const Counters &after) {
  Counters delta{};
  for (std::size_t i = 0; i < delta.size(); ++i) {
    delta[i].packets = after[i].packets - before[i].packets;
    delta[i].bytes = after[i].bytes - before[i].bytes;
  }
  return delta;
}

}  // namespace sixguard::bpftest
