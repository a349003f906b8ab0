#include "agent/datapath/map_sizes.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace sixguard {

Status MapSizes::validate() const {
  auto positive = [](const char *name, uint32_t value) -> Status {
    if (value == 0) return make_error(std::string("map_sizes.") + name + " must be > 0", EINVAL);
    return {};
  };
  for (auto status : {positive("machines", machines), positive("flycast", flycast),
                      positive("infra", infra), positive("net_flags", net_flags)}) {
    if (!status) return status;
  }
  const auto page = static_cast<uint32_t>(::sysconf(_SC_PAGESIZE));
  if (events_bytes < page || (events_bytes & (events_bytes - 1)) != 0) {
    return make_error("map_sizes.events_bytes must be a power of two of at least " +
                          std::to_string(page) + " (got " + std::to_string(events_bytes) + ")",
                      EINVAL);
  }
  return {};
}

uint32_t MapSizes::owner_slots() const {
  uint32_t slots = 1;
  while (slots < machines && slots < kMaxOwnerSlots) slots <<= 1;
  return slots;
}

}  // namespace sixguard
