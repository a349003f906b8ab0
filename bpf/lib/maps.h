/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The datapath's maps. Every map is pinned by name under <bpffs>/sixguard so a restarted
 * agent and the programs still attached share the same map objects. Capacities here are the
 * defaults; the agent sets max_entries before load from config map_sizes. */
#ifndef SIXGUARD_BPF_MAPS_H
#define SIXGUARD_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"

/* Machine interfaces on this host: ifindex -> owning app, network and /112. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SG_DEFAULT_MACHINES);
  __type(key, __u32);
  __type(value, struct sg_machine);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_machines SEC(".maps");

/* The interfaces' owners again, as a cache the machine hooks read without hashing
 * (sixguard_shared.h, struct sg_owner_slot): index ifindex & sg_owner_slot_mask. Mmapable so
 * the agent writes it as a seqlock writer, which a syscall update (a plain memcpy in the
 * kernel) could not be. BPF_F_MMAPABLE arrays exist since 5.5. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, SG_DEFAULT_OWNER_SLOTS);
  __type(key, __u32);
  __type(value, struct sg_owner_slot);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_owner_slots SEC(".maps");

/* Flycast addresses: address -> target app and the target app's network. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SG_DEFAULT_FLYCAST);
  __type(key, struct sg_in6);
  __type(value, struct sg_flycast);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_flycast SEC(".maps");

/* Infrastructure prefixes (DNS, proxy, admin tunnels): may talk to every network. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, SG_DEFAULT_INFRA);
  __type(key, struct sg_lpm_key);
  __type(value, __u32);
  __uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_infra SEC(".maps");

/* Per-network flags (SG_NET_AUDIT); networks without flags have no entry. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SG_DEFAULT_NET_FLAGS);
  __type(key, __u32);
  __type(value, __u32);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_net_flags SEC(".maps");

/* Global settings: one element. An array so the verifier inlines the lookup. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sg_config);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_config SEC(".maps");

/* Packets and bytes per hook x verdict x reason, per CPU; summed by the exporter at scrape. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SG_COUNTER_SLOTS);
  __type(key, __u32);
  __type(value, struct sg_counter);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_counters SEC(".maps");

/* Drop and audit events for `sixguard monitor`, rate-limited per CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, SG_DEFAULT_EVENTS_BYTES);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_events SEC(".maps");

/* What happened to drop events: sent, rate-limited, lost to a full ring (enum sg_event_stat). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SG_EVSTAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_event_stats SEC(".maps");

/* The per-CPU token bucket that rate-limits drop events. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sg_ratelimit);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ratelimit SEC(".maps");

/* The layout version of every map (sixguard_shared.h, enum sg_meta_slot). Never read by the
 * programs: written by the agent once the maps it describes are the pinned ones. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, SG_META_SLOTS);
  __type(key, __u32);
  __type(value, __u32);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_meta SEC(".maps");

/* Set by the agent before load (SG_RODATA_CLOCK, agent/datapath/object_setup.cpp): 1 when
 * the kernel has bpf_ktime_get_coarse_ns (5.11). A frozen read-only value, so the verifier
 * never walks the branch a kernel without the helper would refuse. Its own section keeps the
 * agent from having to know the layout of .rodata. */
const volatile __u32 sg_coarse_clock SEC(SG_RODATA_CLOCK) = 0;

/* sg_owner_slots' max_entries - 1, set by the agent before load with the map's size
 * (SG_RODATA_OWNER_SLOTS, agent/datapath/object_setup.cpp). Frozen, so the verifier and the
 * JIT see a constant mask. The default matches the map's default size. */
const volatile __u32 sg_owner_slot_mask SEC(SG_RODATA_OWNER_SLOTS) = SG_DEFAULT_OWNER_SLOTS - 1;

#endif /* SIXGUARD_BPF_MAPS_H */
