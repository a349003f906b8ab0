#include "prog_info.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd.h"
#include "program_names.h"

namespace sixguard {

Result<ProgramInfo> program_info_by_fd(int fd) {
  bpf_prog_info raw{};
  __u32 length = sizeof(raw);
  if (int err = bpf_obj_get_info_by_fd(fd, &raw, &length); err != 0) {
    return make_error("bpf_obj_get_info_by_fd(program)", -err);
  }
  ProgramInfo info;
  info.id = raw.id;
  info.type = raw.type;
  info.name = raw.name;
  std::memcpy(info.tag.data(), raw.tag, info.tag.size());
  return info;
}

Result<ProgramInfo> program_info_by_id(uint32_t id) {
  Fd fd(bpf_prog_get_fd_by_id(id));
  if (!fd.valid()) return errno_error("bpf_prog_get_fd_by_id(" + std::to_string(id) + ")");
  return program_info_by_fd(fd.get());
}

bool is_our_program_name(const std::string &kernel_name) {
  for (auto name : {kProgMachineEgress, kProgMachineEgressTc, kProgMachineIngress, kProgUplink,
                    kProgUplinkL3, kProgExplain}) {
    if (kernel_name_matches(kernel_name, name)) return true;
  }
  return false;
}

}  // namespace sixguard
