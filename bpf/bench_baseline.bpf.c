/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The floors the datapath benchmark compares against: programs that do nothing but return.
 * Measured in the same run as the datapath, they absorb what BPF_PROG_TEST_RUN itself costs
 * per packet, so the ratio shows what sixguard adds.
 *
 * And the references: programs that do only part of what a same-network pass must do, as
 * cheaply as it can be done (the machine's addresses compiled in as constants, as a
 * per-endpoint program would have them, and no map but the counter DESIGN §4 asks for every
 * packet). Whatever they cost above the floor, the real path cannot go below: they show how
 * far a ratio target is from what the work itself costs. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"

SEC("xdp")
int bench_xdp_pass(struct xdp_md *ctx) {
  return XDP_PASS;
}

SEC("xdp")
int bench_xdp_drop(struct xdp_md *ctx) {
  return XDP_DROP;
}

SEC("tc")
int bench_tc_ok(struct __sk_buff *skb) {
  return TC_ACT_OK;
}

/* The same per-CPU counter layout as the datapath's sg_counters. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sg_counter);
} bench_counters SEC(".maps");

/* The machine the reference programs stand for, set before load: its address as two
 * network-order 64-bit words, as a per-endpoint program would have it in .rodata. */
const volatile __u64 bench_self_hi = 0;
const volatile __u64 bench_self_lo = 0;

/* Bytes 0-5 of an address (fdaa and the network ID, DESIGN §1) and bytes 8-13 of its low
 * word (host and machine ID: the /112), as masks of words loaded in host (little-endian)
 * order from network-order memory. */
#define BENCH_NET_MASK 0x0000ffffffffffffull
#define BENCH_112_MASK 0x0000ffffffffffffull

static __always_inline void bench_count(__u32 len) {
  __u32 zero = 0;
  struct sg_counter *counter = bpf_map_lookup_elem(&bench_counters, &zero);
  if (counter) {
    counter->packets += 1;
    counter->bytes += len;
  }
}

static __always_inline __u64 bench_word(const struct in6_addr *a, int i) {
  return ((const __u64 *)a)[i];
}

static __always_inline int bench_in_self_112(const struct in6_addr *a) {
  return bench_word(a, 0) == bench_self_hi &&
         (bench_word(a, 1) & BENCH_112_MASK) == (bench_self_lo & BENCH_112_MASK);
}

static __always_inline int bench_on_network(const struct in6_addr *a, __u64 hi) {
  return (bench_word(a, 0) & BENCH_NET_MASK) == (hi & BENCH_NET_MASK);
}

/* Part of the work of a pass: count the packet, nothing else. */
SEC("xdp")
int bench_xdp_count(struct xdp_md *ctx) {
  bench_count(ctx->data_end - ctx->data);
  return XDP_PASS;
}

SEC("tc")
int bench_tc_count(struct __sk_buff *skb) {
  bench_count(skb->len);
  return TC_ACT_OK;
}

enum bench_side { BENCH_EGRESS, BENCH_INGRESS, BENCH_UPLINK };

/* The least a same-network pass does (DESIGN §2 rules 1, 3, 4 and 7, with no infrastructure
 * or Flycast address to rule out): Ethernet and IPv6 headers in bounds, then at the machine
 * hooks the machine's end in its /112 and the other end on its network; at the uplink both
 * ends in fdaa::/16 on one network. side is a constant at each call, so each program keeps
 * only its own checks. The programs drop whatever fails, so a pass proves the checks ran. */
static __always_inline int bench_same_network(void *data, void *end, enum bench_side side) {
  struct ethhdr *eth = data;
  struct ipv6hdr *ip6 = (void *)(eth + 1);
  if ((void *)(ip6 + 1) > end || eth->h_proto != bpf_htons(ETH_P_IPV6)) return 0;
  if (side == BENCH_UPLINK) {
    __u64 src = bench_word(&ip6->saddr, 0);
    return (__u16)src == bpf_htons(0xfdaa) && bench_on_network(&ip6->daddr, src);
  }
  const struct in6_addr *own = side == BENCH_EGRESS ? &ip6->saddr : &ip6->daddr;
  const struct in6_addr *peer = side == BENCH_EGRESS ? &ip6->daddr : &ip6->saddr;
  return bench_in_self_112(own) && bench_on_network(peer, bench_self_hi);
}

SEC("xdp")
int bench_xdp_same_network(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (!bench_same_network(data, end, BENCH_EGRESS)) return XDP_DROP;
  bench_count(end - data);
  return XDP_PASS;
}

static __always_inline int bench_tc_same_network_on(struct __sk_buff *skb, enum bench_side side) {
  if (!bench_same_network((void *)(long)skb->data, (void *)(long)skb->data_end, side))
    return TC_ACT_SHOT;
  bench_count(skb->len);
  return TC_ACT_OK;
}

SEC("tc")
int bench_tc_same_network(struct __sk_buff *skb) {
  return bench_tc_same_network_on(skb, BENCH_INGRESS);
}

SEC("tc")
int bench_tc_uplink_same_network(struct __sk_buff *skb) {
  return bench_tc_same_network_on(skb, BENCH_UPLINK);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
