// What every typed view over a BPF map (hash_map.h, array_map.h) is built on: a MapHandle
// checked once, at open(), to be the map type with the key and value sizes the view copies.
// View is the derived view (CRTP), so open() returns it and it has no other way in.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <type_traits>
#include <utility>

#include "agent/core/result.h"
#include "maps/map_handle.h"

namespace sixguard::maps {

template <typename View, bpf_map_type kMapType, typename K, typename V>
class TypedMap {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>,
                "map keys and values are copied as bytes");

 public:
  // The error names the map and what differs ("sg_machines: value size is 20, expected 24").
  static Result<View> open(MapHandle handle) {
    if (auto status = handle.expect(kMapType, sizeof(K), sizeof(V)); !status) {
      return status.error();
    }
    return View(std::move(handle));
  }

  const MapHandle &handle() const { return handle_; }
  const std::string &name() const { return handle_.name(); }

 protected:
  explicit TypedMap(MapHandle handle) : handle_(std::move(handle)) {}

  MapHandle handle_;
};

}  // namespace sixguard::maps
