#include "agent/datapath/prog_info.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/core/fd.h"
#include "agent/datapath/program_names.h"

namespace sixguard {
namespace {

// True for libbpf's per-load internal maps (<object>.rodata, .bss, .data, .kconfig).
bool is_internal_map(uint32_t map_id) {
  Fd fd(bpf_map_get_fd_by_id(map_id));
  if (!fd.valid()) return false;  // gone or not ours to see: counted, so it cannot match
  bpf_map_info info{};
  __u32 length = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &length) != 0) return false;
  return std::strchr(info.name, '.') != nullptr;
}

}  // namespace

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
  // Second call for the map IDs, now that their number is known.
  std::vector<uint32_t> ids(raw.nr_map_ids);
  if (!ids.empty()) {
    bpf_prog_info with_maps{};
    with_maps.nr_map_ids = static_cast<__u32>(ids.size());
    with_maps.map_ids = reinterpret_cast<__u64>(ids.data());
    __u32 size = sizeof(with_maps);
    if (int err = bpf_obj_get_info_by_fd(fd, &with_maps, &size); err != 0) {
      return make_error("bpf_obj_get_info_by_fd(program map ids)", -err);
    }
    ids.resize(std::min<std::size_t>(ids.size(), with_maps.nr_map_ids));
  }
  for (uint32_t id : ids) {
    if (!is_internal_map(id)) info.map_ids.push_back(id);
  }
  std::sort(info.map_ids.begin(), info.map_ids.end());
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

std::string format_map_ids(const std::vector<uint32_t> &ids) {
  std::string out;
  for (uint32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out.empty() ? "none" : out;
}

AdoptionDecision decide_adoption(const ProgramInfo &attached, const ProgramInfo &ours) {
  if (attached.tag != ours.tag) {
    return {false, "program " + std::to_string(attached.id) + " differs from this build's " +
                       "(another tag)"};
  }
  if (attached.map_ids != ours.map_ids) {
    return {false, "program " + std::to_string(attached.id) + " uses maps " +
                       format_map_ids(attached.map_ids) + ", not the pinned maps " +
                       format_map_ids(ours.map_ids)};
  }
  return {true, "program " + std::to_string(attached.id) +
                    " is identical and uses the pinned maps " + format_map_ids(ours.map_ids)};
}

}  // namespace sixguard
