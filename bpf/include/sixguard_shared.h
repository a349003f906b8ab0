/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one definition of everything the kernel and user space share: map keys and values,
 * verdict/reason/hook ids, the drop-event record and the map names. Included by the BPF
 * programs (clang -target bpf) and by C++ (which static_asserts the sizes in
 * agent/core/layout_asserts.h). Fixed-width types and explicit padding only: the layout must
 * not depend on the compiler.
 */
#ifndef SIXGUARD_SHARED_H
#define SIXGUARD_SHARED_H

#include <linux/types.h>

/* fdaa::/16: the 6PN prefix, first two octets of every private address. */
#define SG_6PN_OCTET0 0xfd
#define SG_6PN_OCTET1 0xaa

/* DESIGN §2: at most 8 extension headers are walked; a chain needing more is malformed. */
#define SG_EXT_HDR_LIMIT 8
/* DESIGN §2 Encapsulation: at most this many IP headers (levels, IPv4 or IPv6, the outermost
 * is level 1) are walked; a packet whose walk reaches another one cannot be checked and is
 * therefore malformed (fail closed). */
#define SG_LEVEL_LIMIT 3
/* The UDP destination ports that always carry an encapsulation (DESIGN §2). */
#define SG_UDP_PORT_VXLAN 4789
#define SG_UDP_PORT_GENEVE 6081
/* A machine owns a /112: the first 14 octets of its address. */
#define SG_MACHINE_PREFIX_OCTETS 14

enum sg_hook {
  SG_HOOK_MACHINE_EGRESS = 0,  /* XDP on the host side of a machine interface */
  SG_HOOK_MACHINE_INGRESS = 1, /* TC clsact egress on the same interface */
  SG_HOOK_UPLINK = 2,          /* TC ingress on interfaces to other hosts */
  SG_HOOK_COUNT = 3,
};

enum sg_verdict {
  SG_VERDICT_PASS = 0,
  SG_VERDICT_DROP = 1,
  SG_VERDICT_AUDIT = 2, /* would have been dropped; passed because of audit mode */
  SG_VERDICT_COUNT = 3,
};

enum sg_reason {
  SG_REASON_NOT_6PN = 0,
  SG_REASON_MALFORMED = 1,
  SG_REASON_SPOOFED_SOURCE = 2,
  SG_REASON_NOT_FOR_MACHINE = 3,
  SG_REASON_INFRA = 4,
  SG_REASON_FLYCAST = 5,
  SG_REASON_SAME_NETWORK = 6,
  SG_REASON_CROSS_NETWORK = 7,
  SG_REASON_COUNT = 8,
};

/* Index into sg_counters (a per-CPU array of SG_COUNTER_SLOTS entries). */
#define SG_COUNTER_SLOTS ((__u32)SG_HOOK_COUNT * (__u32)SG_VERDICT_COUNT * (__u32)SG_REASON_COUNT)
#define SG_COUNTER_INDEX(hook, verdict, reason) \
  (((__u32)(hook)*SG_VERDICT_COUNT + (__u32)(verdict)) * SG_REASON_COUNT + (__u32)(reason))

/* An IPv6 address in network byte order. */
struct sg_in6 {
  __u8 octets[16];
};

/* sg_machine.flags: some Flycast address targets the machine's app. Only then do the machine
 * hooks look the peer address up in sg_flycast: rules 6 of machine_egress and machine_ingress
 * can only match a Flycast entry whose target is the machine's app, so without one the lookup
 * (a hash, as costly as the whole rest of the same-network path) cannot change the verdict.
 * A superset is always correct: the flag set on a machine whose app no Flycast address
 * targets only costs the lookup. The agent sets it before it writes an app's first Flycast
 * entry and clears it after it deletes the last one (write_difference). */
#define SG_MACHINE_FLYCAST_TARGET (1u << 0)

/* sg_machines value; key: __u32 ifindex of the host-side machine interface. */
struct sg_machine {
  struct sg_in6 prefix; /* the machine's /112; the last two octets are zero */
  __u32 app_id;         /* agent-assigned, stable for the app's life */
  __u32 network_id;     /* the 32 bits after fdaa in the machine's address */
  __u32 flags;          /* SG_MACHINE_* */
};

/* sg_owner_slots value (issue 14): a cache of one sg_machines entry in an mmap'd array
 * indexed by ifindex & (slots - 1), so the machine hooks find the interface's owner with an
 * inlined array access instead of a hash lookup. sg_machines stays the authority: the
 * programs use a slot only when it is stable (seq even and unchanged across the read) and
 * names the packet's interface, and look the hash up otherwise (an empty slot, another
 * interface colliding on it, a write in progress). The agent is the only writer, as a
 * seqlock writer through the mmap'd array: seq odd, fields, seq even. It writes a new or
 * changed owner to the hash first and the slot after; a removed one leaves the slot first
 * (cleared: ifindex 0) and the hash after. So a slot never says more than the hash said. */
struct sg_owner_slot {
  __u32 seq;     /* even: stable; odd: being written */
  __u32 ifindex; /* the interface the copy is for; 0: empty */
  struct sg_machine machine;
  __u32 pad;
};

/* sg_flycast value; key: struct sg_in6 (the Flycast address). The address's own network
 * (the one it was allocated into) is in its bits; what is stored is its target. */
struct sg_flycast {
  __u32 target_app_id;
  __u32 target_network_id; /* the network of the target app (not of the address) */
};

/* sg_infra key (LPM trie); value: __u32, unused (1). */
struct sg_lpm_key {
  __u32 prefixlen;
  struct sg_in6 addr;
};

/* sg_net_flags value; key: __u32 network id. Only networks with a flag set have an entry. */
#define SG_NET_AUDIT (1u << 0)

/* sg_config: a one-element array holding the global settings. */
#define SG_CFG_AUDIT (1u << 0) /* global audit mode */
/* Some infrastructure prefix spans more than one network id (prefix shorter than /48), or
 * more networks hold infrastructure prefixes than infra_nets has room for: every 6PN
 * address must then be looked up in sg_infra. */
#define SG_CFG_INFRA_ANY_NET (1u << 1)
/* Some network is in audit mode (has SG_NET_AUDIT in sg_net_flags). Only then does a drop
 * look sg_net_flags up, which keeps a hash lookup off the drop path of a fully enforcing
 * host. Whatever the order of the writes, a flag or an entry that is missing can only mean
 * enforce: no window opens. */
#define SG_CFG_NET_AUDIT_ANY (1u << 2)
#define SG_CFG_INFRA_NETS 8
/* At most this many configured encap_udp_ports (config validation refuses more). */
#define SG_CFG_ENCAP_PORTS 8

struct sg_config {
  __u32 flags;           /* SG_CFG_* */
  __u32 infra_net_count; /* valid entries in infra_nets */
  /* The networks that hold an infrastructure prefix. An address on any other network
   * cannot match sg_infra, which lets the same-network fast path skip the LPM lookup. */
  __u32 infra_nets[SG_CFG_INFRA_NETS];
  __u32 events_per_sec; /* drop events sent to sg_events per second per CPU; 0: none */
  __u32 events_burst;   /* token-bucket depth for drop events */
  /* Config encap_udp_ports: UDP destination ports, besides 4789 and 6081, whose payload is
   * read as VXLAN framing (8-byte header, then Ethernet). Host byte order; the first
   * encap_udp_port_count entries are valid, the rest are zero. */
  __u32 encap_udp_port_count;
  __u16 encap_udp_ports[SG_CFG_ENCAP_PORTS];
};

/* sg_counters value (per-CPU): what one hook/verdict/reason slot has seen. */
struct sg_counter {
  __u64 packets;
  __u64 bytes;
};

/* sg_ratelimit value (per-CPU, one element): the drop-event token bucket. */
struct sg_ratelimit {
  __u64 tokens_milli; /* tokens x 1000, so refill needs no division per packet */
  __u64 last_ns;
};

/* sg_event_stats index (per-CPU __u64 counters about the drop-event stream). */
enum sg_event_stat {
  SG_EVSTAT_SENT = 0,
  SG_EVSTAT_RATE_LIMITED = 1,
  SG_EVSTAT_RINGBUF_FULL = 2,
  SG_EVSTAT_COUNT = 3,
};

/* One record in the sg_events ring buffer: a drop or audit verdict. */
struct sg_drop_event {
  __u64 timestamp_ns; /* bpf_ktime_get_ns() */
  struct sg_in6 src;  /* the addresses the verdict was taken on (inner, for tunnels) */
  struct sg_in6 dst;
  __u32 ifindex;
  __u32 packet_len;
  __u8 hook;    /* enum sg_hook */
  __u8 verdict; /* SG_VERDICT_DROP or SG_VERDICT_AUDIT */
  __u8 reason;  /* enum sg_reason */
  __u8 pad[5];
};

/* sg_explain (a SEC("tc") program run only through BPF_PROG_TEST_RUN by the API's explain):
 * the same classification as the hooks, without counting or events. The caller puts the hook
 * in cb[0] and, for machine hooks, the interface's ifindex in cb[1]; the packet is an
 * Ethernet frame. The return value encodes the verdict and the reason. */
#define SG_EXPLAIN_CB_HOOK 0
#define SG_EXPLAIN_CB_IFINDEX 1
#define SG_EXPLAIN_ENCODE(verdict, reason) (((verdict) << 8) | (reason))
#define SG_EXPLAIN_VERDICT(retval) (((retval) >> 8) & 0xff)
#define SG_EXPLAIN_REASON(retval) ((retval)&0xff)

/* Map names as the kernel and bpffs pins know them (kernel limit: 15 characters). */
#define SG_MAP_MACHINES "sg_machines"
#define SG_MAP_FLYCAST "sg_flycast"
#define SG_MAP_INFRA "sg_infra"
#define SG_MAP_NET_FLAGS "sg_net_flags"
#define SG_MAP_CONFIG "sg_config"
#define SG_MAP_COUNTERS "sg_counters"
#define SG_MAP_EVENTS "sg_events"
#define SG_MAP_EVENT_STATS "sg_event_stats"
#define SG_MAP_RATELIMIT "sg_ratelimit"
#define SG_MAP_META "sg_meta"
#define SG_MAP_OWNER_SLOTS "sg_owner_slots"

/* sg_meta: the layout version of every pinned map, recorded with the pins so that an agent
 * whose layout of a map differs migrates it (new map, filled from the state or copied,
 * programs replaced atomically, pins swapped) instead of misreading it (DESIGN §5, upgrade).
 * An array of __u32 indexed by enum sg_meta_slot. A pin directory without sg_meta was written
 * by a build before it: every map there is layout 1. A slot holding another version (0: not
 * written, a migration cut short) is never read as this build's layout. Bump a map's
 * SG_LAYOUT_* whenever the meaning of its key or value changes, even at the same size. */
enum sg_meta_slot {
  SG_META_MACHINES = 0,
  SG_META_FLYCAST = 1,
  SG_META_INFRA = 2,
  SG_META_NET_FLAGS = 3,
  SG_META_CONFIG = 4,
  SG_META_COUNTERS = 5,
  SG_META_EVENTS = 6,
  SG_META_EVENT_STATS = 7,
  SG_META_RATELIMIT = 8,
  SG_META_OWNER_SLOTS = 9,
  SG_META_SLOTS = 16, /* room for maps to come */
};
/* 2: sg_machine.flags (SG_MACHINE_FLYCAST_TARGET). A layout-1 map is migrated, never read:
 * its entries, lacking the flag, would skip Flycast lookups that can pass. */
#define SG_LAYOUT_MACHINES 2
#define SG_LAYOUT_FLYCAST 1
#define SG_LAYOUT_INFRA 1
#define SG_LAYOUT_NET_FLAGS 1
#define SG_LAYOUT_CONFIG 1
#define SG_LAYOUT_COUNTERS 1
#define SG_LAYOUT_EVENTS 1
#define SG_LAYOUT_EVENT_STATS 1
#define SG_LAYOUT_RATELIMIT 1
#define SG_LAYOUT_OWNER_SLOTS 1

/* The read-only section holding sg_coarse_clock (one __u32), set before load. */
#define SG_RODATA_CLOCK ".rodata.sg_clock"

/* The read-only section holding sg_owner_slot_mask (one __u32: sg_owner_slots' entries - 1, a
 * power of two minus one), set before load with the map's size (agent/datapath/object_setup). */
#define SG_RODATA_OWNER_SLOTS ".rodata.sg_slots"

/* Default capacities; each is settable before load (config map_sizes). */
#define SG_DEFAULT_MACHINES 16384
#define SG_DEFAULT_FLYCAST 65536
#define SG_DEFAULT_INFRA 1024
#define SG_DEFAULT_NET_FLAGS 16384
#define SG_DEFAULT_EVENTS_BYTES (1u << 20)
/* sg_owner_slots: the power of two at or above the machines map's capacity (MapSizes). */
#define SG_DEFAULT_OWNER_SLOTS 16384

#endif /* SIXGUARD_SHARED_H */
