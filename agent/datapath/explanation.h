// What sg_explain decided for one packet: the contract's {hook, verdict, reason} as the shared
// enums (names.h spells them). One definition for the datapath that computes it, the daemon
// that asks for it and the API that renders it.
#pragma once

#include <cstdint>

#include "bpf/include/sixguard_shared.h"

namespace sixguard {

struct Explanation {
  sg_hook hook = SG_HOOK_UPLINK;
  sg_verdict verdict = SG_VERDICT_PASS;
  sg_reason reason = SG_REASON_NOT_6PN;
  uint32_t raw = 0;  // the program's return value (SG_EXPLAIN_ENCODE); 0 where not run
};

}  // namespace sixguard
