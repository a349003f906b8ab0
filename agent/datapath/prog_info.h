// What the kernel says about a loaded BPF program, for recognising our own programs on an
// interface (by name) and deciding whether one already attached may be kept (adopted) or must
// be replaced: it is kept only when it runs the same instructions (tag) on exactly the maps
// our new program uses (map IDs), which are the maps pinned under <bpffs>/sixguard. A program
// with the right tag on a map that is no longer pinned (a pin deleted, a map resized or
// migrated) enforces a state nobody updates: it must be replaced (issue 12, fault 1).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace sixguard {

struct ProgramInfo {
  uint32_t id = 0;
  uint32_t type = 0;             // enum bpf_prog_type
  std::string name;              // kernel name, at most 15 characters
  std::array<uint8_t, 8> tag{};  // hash of the instructions: equal tags, same program
  // IDs of the named maps the program uses, sorted. libbpf's internal maps (.rodata, .bss:
  // names with a dot) are left out: every load makes its own, they hold no state.
  std::vector<uint32_t> map_ids;
};

Result<ProgramInfo> program_info_by_fd(int fd);
Result<ProgramInfo> program_info_by_id(uint32_t id);

// True for the kernel name of any of our entry points (they all start "sg_").
bool is_our_program_name(const std::string &kernel_name);

// Whether a program of ours found attached may stay in place of the one we would attach, and
// why (for the log): "identical program on the pinned maps", or what differs.
struct AdoptionDecision {
  bool adopt = false;
  std::string why;
};
AdoptionDecision decide_adoption(const ProgramInfo &attached, const ProgramInfo &ours);

// "12,13,14" (for log lines).
std::string format_map_ids(const std::vector<uint32_t> &ids);

}  // namespace sixguard
