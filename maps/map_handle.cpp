#include "maps/map_handle.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <cerrno>

#include "maps/map_error.h"

namespace sixguard::maps {

Result<MapInfo> query_map_info(int fd) {
  bpf_map_info raw{};
  __u32 length = sizeof(raw);
  if (int err = bpf_obj_get_info_by_fd(fd, &raw, &length); err != 0) {
    return make_error("bpf_obj_get_info_by_fd(map fd " + std::to_string(fd) + ")", -err);
  }
  MapInfo info;
  info.name = raw.name;
  info.type = raw.type;
  info.id = raw.id;
  info.key_size = raw.key_size;
  info.value_size = raw.value_size;
  info.max_entries = raw.max_entries;
  info.map_flags = raw.map_flags;
  return info;
}

std::string map_type_name(uint32_t type) {
  const char *name = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(type));
  return name != nullptr ? name : "type " + std::to_string(type);
}

Result<MapHandle> MapHandle::adopt(Fd fd) {
  auto info = query_map_info(fd.get());
  if (!info) return info.error();
  return MapHandle(std::move(fd), std::move(*info));
}

Result<MapHandle> MapHandle::open_pinned(const std::string &path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return make_error("open pinned map " + path, errno);
  return adopt(Fd(fd));
}

Result<MapHandle> MapHandle::from_bpf_map(const struct bpf_map *map) {
  const char *name = bpf_map__name(map);
  int fd = bpf_map__fd(map);
  if (fd < 0) return map_error(name, "not loaded (no fd)", EBADF);
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return map_error(name, "dup fd", errno);
  return adopt(Fd(copy));
}

Result<MapHandle> MapHandle::duplicate() const {
  int copy = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return map_error(info_.name, "dup fd", errno);
  return MapHandle(Fd(copy), info_);
}

Status MapHandle::expect(uint32_t type, uint32_t key_size, uint32_t value_size) const {
  if (info_.type != type) {
    return map_error(info_.name,
                     "is a " + map_type_name(info_.type) + " map, expected " + map_type_name(type),
                     EINVAL);
  }
  if (info_.key_size != key_size) {
    return map_error(
        info_.name,
        "key size is " + std::to_string(info_.key_size) + ", expected " + std::to_string(key_size),
        EINVAL);
  }
  if (info_.value_size != value_size) {
    return map_error(info_.name,
                     "value size is " + std::to_string(info_.value_size) + ", expected " +
                         std::to_string(value_size),
                     EINVAL);
  }
  return {};
}

}  // namespace sixguard::maps
