#include "agent/datapath/datapath_skeleton.h"

#include <cerrno>

#include "agent/datapath/object_setup.h"
#include "sg_datapath.skel.h"

namespace sixguard {

void DestroySkeleton::operator()(sg_datapath *skeleton) const {
  sg_datapath__destroy(skeleton);
}

Result<DatapathSkeleton> open_datapath_skeleton(const std::string &pin_dir,
                                                const char *object_name) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name,
              .pin_root_path = pin_dir.empty() ? nullptr : pin_dir.c_str());
  DatapathSkeleton skeleton(sg_datapath__open_opts(&opts));
  if (!skeleton) return make_error("open BPF object " + std::string(object_name), errno);
  if (auto status = set_kernel_constants(skeleton->obj); !status) return status.error();
  return skeleton;
}

std::span<const std::byte> datapath_object_elf() {
  std::size_t size = 0;
  const void *bytes = sg_datapath__elf_bytes(&size);
  return {static_cast<const std::byte *>(bytes), size};
}

}  // namespace sixguard
