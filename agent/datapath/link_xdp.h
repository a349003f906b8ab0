// The XDP program one interface runs, asked of the kernel for that interface alone: one
// RTM_GETLINK request for its ifindex. libbpf's bpf_xdp_query, which every libxdp query goes
// through, dumps every link of the namespace and keeps one. With 1,000 machines (2,000 links)
// those dumps were a third of the agent's CPU time, and attaching one more machine took
// 50 ms at p50 and seconds at p99 (issue 14).
#pragma once

#include <linux/if_link.h>

#include <cstdint>

#include "agent/core/result.h"

namespace sixguard {

struct LinkXdp {
  uint8_t attach_mode = 0;  // XDP_ATTACHED_NONE (nothing), _DRV, _SKB, _HW or _MULTI
  uint32_t prog_id = 0;     // the program in the single-program modes (DRV, SKB, HW); else 0
};

// ENODEV when there is no interface ifindex.
Result<LinkXdp> query_link_xdp(int ifindex);

}  // namespace sixguard
