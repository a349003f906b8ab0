// What the kernel says about a loaded BPF program, for recognising our own programs on an
// interface (by name) and deciding whether a replacement is needed (by tag).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "result.h"

namespace sixguard {

struct ProgramInfo {
  uint32_t id = 0;
  uint32_t type = 0;             // enum bpf_prog_type
  std::string name;              // kernel name, at most 15 characters
  std::array<uint8_t, 8> tag{};  // hash of the instructions: equal tags, same program
};

Result<ProgramInfo> program_info_by_fd(int fd);
Result<ProgramInfo> program_info_by_id(uint32_t id);

// True for the kernel name of any of our entry points (they all start "sg_").
bool is_our_program_name(const std::string &kernel_name);

}  // namespace sixguard
