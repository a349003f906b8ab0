/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The glue between a program type and the shared classification: build the context, decide,
 * account, and translate the verdict into the program type's return code. */
#ifndef SIXGUARD_BPF_RUN_H
#define SIXGUARD_BPF_RUN_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"
#include "bpf/lib/account.h"
#include "bpf/lib/classify.h"
#include "bpf/lib/ctx.h"

static __always_inline int sg_run_xdp(struct xdp_md *xdp, __u8 hook) {
  struct sg_ctx c;
  struct sg_outer o;
  struct sg_decision d;
  sg_ctx_from_xdp(&c, xdp, hook);
  if (!sg_decide_common(&c, &d)) {
    sg_parse_outer(&c, &o);
    sg_decide(&c, &o, &d);
  }
  return sg_account(&c, &d) == SG_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

/* Headers read in place (Ethernet, VLAN, outer IPv6 or IPv4) are at most this long. */
#define SG_OUTER_MAX \
  (sizeof(struct ethhdr) + SG_VLAN_MAX * sizeof(struct sg_vlan_hdr) + sizeof(struct ipv6hdr))

/* Decides on an skb. The outer headers are read in place and may lie beyond the linear area
 * (skb->len > data_end - data): when their parse runs out of bytes there, pull once and parse
 * again; what still cannot be parsed is malformed (never passed). Everything after the outer
 * IPv6 header is read with bpf_skb_load_bytes, which sees the whole skb. */
static __always_inline void sg_decide_skb(struct sg_ctx *c, struct sg_decision *d,
                                          struct __sk_buff *skb, __u8 hook, __u32 ifindex,
                                          __u8 l3) {
  struct sg_outer o;
  sg_ctx_from_skb(c, skb, hook, ifindex, l3);
  if (sg_decide_common(c, d)) return;
  sg_parse_outer(c, &o);
  if (o.status == SG_PARSE_TRUNCATED && skb->len > (__u32)(c->data_end - c->data)) {
    __u32 want = skb->len < SG_OUTER_MAX ? skb->len : SG_OUTER_MAX;
    /* Whether or not the pull works, packet pointers must be re-read after it. */
    bpf_skb_pull_data(skb, want);
    sg_ctx_from_skb(c, skb, hook, ifindex, l3);
    sg_parse_outer(c, &o);
  }
  sg_decide(c, &o, d);
}

static __always_inline int sg_run_tc(struct __sk_buff *skb, __u8 hook, __u8 l3) {
  struct sg_ctx c;
  struct sg_decision d;
  sg_decide_skb(&c, &d, skb, hook, skb->ifindex, l3);
  /* TC_ACT_UNSPEC, not TC_ACT_OK: a pass lets the rest of the tc chain run (coexistence). */
  return sg_account(&c, &d) == SG_VERDICT_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

/* sg_explain: hook in cb[0], ifindex in cb[1], an Ethernet frame. Same decision and audit
 * lookup as the hook, no counters, no events. An unknown hook returns -1. */
static __always_inline int sg_run_explain(struct __sk_buff *skb) {
  __u32 hook = skb->cb[SG_EXPLAIN_CB_HOOK];
  if (hook >= SG_HOOK_COUNT) return -1;
  struct sg_ctx c;
  struct sg_decision d;
  sg_decide_skb(&c, &d, skb, (__u8)hook, skb->cb[SG_EXPLAIN_CB_IFINDEX], 0);
  return SG_EXPLAIN_ENCODE(d.verdict, d.reason);
}

#endif /* SIXGUARD_BPF_RUN_H */
