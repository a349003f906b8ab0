// Compile-time proof that the C++ view of the shared structures matches the layout the BPF
// programs were compiled with (bpf/include/sixguard_shared.h is the one definition).
// One assert per size and per field offset, repeated on purpose: a failing line names the one
// structure or field that moved, which a loop over a table or a macro would hide.
#pragma once

#include <cstddef>

#include "bpf/include/sixguard_shared.h"

static_assert(sizeof(sg_in6) == 16);
static_assert(sizeof(sg_machine) == 28);
static_assert(offsetof(sg_machine, app_id) == 16);
static_assert(offsetof(sg_machine, flags) == 24);
static_assert(sizeof(sg_owner_slot) == 40);
static_assert(offsetof(sg_owner_slot, ifindex) == 4);
static_assert(offsetof(sg_owner_slot, machine) == 8);
static_assert(sizeof(sg_owner_slot) % 4 == 0);  // written word by word (maps/owner_slots.h)
static_assert((SG_DEFAULT_OWNER_SLOTS & (SG_DEFAULT_OWNER_SLOTS - 1)) == 0);
static_assert(sizeof(sg_flycast) == 8);
static_assert(sizeof(sg_lpm_key) == 20);
static_assert(sizeof(sg_config) == 68);
static_assert(offsetof(sg_config, encap_udp_port_count) == 48);
static_assert(offsetof(sg_config, encap_udp_ports) == 52);
static_assert(SG_CFG_ENCAP_PORTS == 8);
static_assert(sizeof(sg_counter) == 16);
static_assert(sizeof(sg_ratelimit) == 16);
static_assert(sizeof(sg_drop_event) == 56);
static_assert(offsetof(sg_drop_event, ifindex) == 40);
static_assert(offsetof(sg_drop_event, hook) == 48);
static_assert(SG_COUNTER_SLOTS == 72);
