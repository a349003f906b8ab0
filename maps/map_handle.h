// A BPF map as user space holds it: an owned fd plus what the kernel says about the map
// (name, type, sizes, capacity, id). The typed views (hash_map.h, array_map.h,
// ring_buffer.h) are built on a MapHandle and check its type and sizes once, up front.
#pragma once

#include <cstdint>
#include <string>

#include "agent/core/fd.h"
#include "agent/core/result.h"

struct bpf_map;  // libbpf

namespace sixguard::maps {

struct MapInfo {
  std::string name;   // as the kernel knows it (at most 15 characters)
  uint32_t type = 0;  // enum bpf_map_type
  uint32_t id = 0;    // kernel map id: equal ids are the same map object
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t map_flags = 0;
};

class MapHandle {
 public:
  // A pinned map, by its bpffs path (bpf_obj_get).
  static Result<MapHandle> open_pinned(const std::string &path);
  // A map of a loaded libbpf object (e.g. a skeleton's). The fd is duplicated, so the handle
  // stays valid after the object is closed and never closes libbpf's own fd.
  static Result<MapHandle> from_bpf_map(const struct bpf_map *map);
  // Takes ownership of a map fd (e.g. from bpf_map_create).
  static Result<MapHandle> adopt(Fd fd);

  MapHandle(MapHandle &&) noexcept = default;
  MapHandle &operator=(MapHandle &&) noexcept = default;

  int fd() const { return fd_.get(); }
  const MapInfo &info() const { return info_; }
  const std::string &name() const { return info_.name; }
  uint32_t max_entries() const { return info_.max_entries; }
  uint32_t id() const { return info_.id; }

  // A second owner of the same map (dup'd fd).
  Result<MapHandle> duplicate() const;

  // Checks the kernel's view of the map against what a typed view expects; the error names
  // the map and what differs ("sg_machines: value size is 20, expected 24").
  Status expect(uint32_t type, uint32_t key_size, uint32_t value_size) const;

 private:
  MapHandle(Fd fd, MapInfo info) : fd_(std::move(fd)), info_(std::move(info)) {}
  Fd fd_;
  MapInfo info_;
};

// The kernel's description of the map behind fd (bpf_obj_get_info_by_fd).
Result<MapInfo> query_map_info(int fd);
// A readable name for enum bpf_map_type ("hash", "lpm_trie", ...), for error messages.
std::string map_type_name(uint32_t type);

}  // namespace sixguard::maps
