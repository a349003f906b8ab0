// Typed views over array maps: ArrayMap<V> (BPF_MAP_TYPE_ARRAY) and PerCpuArray<V>
// (BPF_MAP_TYPE_PERCPU_ARRAY, one value per possible CPU, summed on read the way the
// exporter wants counters: pull at scrape time, no copies kept in user space).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "maps/map_error.h"
#include "maps/map_handle.h"
#include "maps/typed_map.h"
#include "bpf/include/sixguard_shared.h"

// Counter slots add field by field (used by PerCpuArray<sg_counter>::read_sum). In the global
// namespace, next to the struct, so that std::plus<> finds it.
inline sg_counter operator+(const sg_counter &a, const sg_counter &b) {
  return sg_counter{a.packets + b.packets, a.bytes + b.bytes};
}

namespace sixguard::maps {

// BPF_MAP_TYPE_ARRAY: every index in [0, max_entries) exists (zeroed until written).
template <typename V>
class ArrayMap : public TypedMap<ArrayMap<V>, BPF_MAP_TYPE_ARRAY, uint32_t, V> {
  using Base = TypedMap<ArrayMap<V>, BPF_MAP_TYPE_ARRAY, uint32_t, V>;
  using Base::handle_;
  friend Base;  // open() is the only way in

 public:
  using Base::name;
  uint32_t size() const { return handle_.max_entries(); }

  Result<V> get(uint32_t index) const {
    V value{};
    if (bpf_map_lookup_elem(handle_.fd(), &index, &value) != 0) {
      return map_error(name(), "lookup [" + std::to_string(index) + "]", errno);
    }
    return value;
  }

  Status set(uint32_t index, const V &value) {
    if (bpf_map_update_elem(handle_.fd(), &index, &value, BPF_ANY) != 0) {
      return map_error(name(), "update [" + std::to_string(index) + "]", errno);
    }
    return {};
  }

 private:
  explicit ArrayMap(MapHandle handle) : Base(std::move(handle)) {}
};

// BPF_MAP_TYPE_PERCPU_ARRAY. The kernel hands out one value per *possible* CPU
// (libbpf_num_possible_cpus()), each padded to 8 bytes.
template <typename V>
class PerCpuArray : public TypedMap<PerCpuArray<V>, BPF_MAP_TYPE_PERCPU_ARRAY, uint32_t, V> {
  using Base = TypedMap<PerCpuArray<V>, BPF_MAP_TYPE_PERCPU_ARRAY, uint32_t, V>;
  using Base::handle_;
  friend Base;

 public:
  static Result<PerCpuArray> open(MapHandle handle) {
    auto view = Base::open(std::move(handle));
    if (!view) return view.error();
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return map_error(view->name(), "libbpf_num_possible_cpus", -cpus);
    view->cpus_ = static_cast<uint32_t>(cpus);
    return view;
  }

  using Base::name;
  uint32_t size() const { return handle_.max_entries(); }
  uint32_t possible_cpus() const { return cpus_; }

  // One value per possible CPU.
  Result<std::vector<V>> read_per_cpu(uint32_t index) const {
    std::vector<unsigned char> raw(static_cast<std::size_t>(cpus_) * kStride);
    if (bpf_map_lookup_elem(handle_.fd(), &index, raw.data()) != 0) {
      return map_error(name(), "lookup [" + std::to_string(index) + "]", errno);
    }
    std::vector<V> values(cpus_);
    for (uint32_t cpu = 0; cpu < cpus_; ++cpu) {
      std::memcpy(&values[cpu], raw.data() + cpu * kStride, sizeof(V));
    }
    return values;
  }

  // The CPUs' values of one slot folded with add (operator+ by default).
  template <typename Add = std::plus<>>
  Result<V> read_sum(uint32_t index, Add add = Add{}) const {
    auto values = read_per_cpu(index);
    if (!values) return values.error();
    V total{};
    for (const V &value : *values) total = add(total, value);
    return total;
  }

  // Every slot, each summed over CPUs; index i of the result is slot i.
  template <typename Add = std::plus<>>
  Result<std::vector<V>> read_all_summed(Add add = Add{}) const {
    std::vector<V> totals;
    totals.reserve(size());
    for (uint32_t index = 0; index < size(); ++index) {
      auto total = read_sum(index, add);
      if (!total) return total.error();
      totals.push_back(*total);
    }
    return totals;
  }

  // Sets a slot to value on every CPU (tests; resetting a slot).
  Status write_all_cpus(uint32_t index, const V &value) {
    std::vector<unsigned char> raw(static_cast<std::size_t>(cpus_) * kStride, 0);
    for (uint32_t cpu = 0; cpu < cpus_; ++cpu) {
      std::memcpy(raw.data() + cpu * kStride, &value, sizeof(V));
    }
    if (bpf_map_update_elem(handle_.fd(), &index, raw.data(), BPF_ANY) != 0) {
      return map_error(name(), "update [" + std::to_string(index) + "]", errno);
    }
    return {};
  }

 private:
  static constexpr std::size_t kStride = (sizeof(V) + 7) / 8 * 8;
  explicit PerCpuArray(MapHandle handle) : Base(std::move(handle)) {}
  uint32_t cpus_ = 0;  // set by open()
};

}  // namespace sixguard::maps
