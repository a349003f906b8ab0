/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The small context abstraction shared by the XDP and TC entry points: the classification
 * code only sees a window of packet bytes and a few facts about where it runs, so one inline
 * implementation serves every hook (and sg_explain). */
#ifndef SIXGUARD_BPF_CTX_H
#define SIXGUARD_BPF_CTX_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"

/* A linear XDP frame shorter than this is the whole frame (see sg_ctx_from_xdp). */
#define SG_XDP_LINEAR_IS_WHOLE 2048

#define SG_L3_OTHER 0
#define SG_L3_IPV6 1
#define SG_L3_IPV4 2

struct sg_ctx {
  void *raw;      /* the program's context (xdp_md or __sk_buff), for the load-bytes helpers */
  void *data;     /* first byte the program may read */
  void *data_end; /* one past the last linear byte */
  /* The bytes the program can read (where every bound check ends). XDP:
   * bpf_xdp_get_buff_len (multi-buffer frames included); TC: skb->len. Counters and events
   * use count_len. */
  __u32 pkt_len;
  /* What is counted: pkt_len plus the bytes of a VLAN tag the stack took out of the frame. */
  __u32 count_len;
  /* TC: the receiving stack moves the outer VLAN tag into skb->vlan_tci before TC runs (and
   * a tag may travel there on transmit), so the frame the program reads lacks it. It still
   * counts against the two-tag limit, as XDP, which sees it in the frame, counts it. */
  __u8 vlan_outside;
  /* Interface the hook runs on (machine lookup key; event field): TC only, read it through
   * sg_ctx_ifindex. */
  __u32 ifindex;
  __u8 hook;     /* enum sg_hook */
  __u8 l3;       /* the packet starts at the network header (WireGuard, tun) */
  __u8 l3_proto; /* with l3: SG_L3_* from skb->protocol */
  __u8 is_xdp;   /* which load-bytes helper reads raw */
};

static __always_inline void sg_ctx_from_xdp(struct sg_ctx *c, struct xdp_md *xdp, __u8 hook) {
  c->raw = xdp;
  c->data = (void *)(long)xdp->data;
  c->data_end = (void *)(long)xdp->data_end;
  /* A helper call costs as much as the whole IPv4 path (issue 14): ask for the length of the
   * fragments only when there can be any. sg_machine_egress is not an xdp.frags program, so
   * the kernel hands it single-buffer frames (drivers refuse it on MTUs needing fragments,
   * generic XDP linearizes), except BPF_PROG_TEST_RUN, which fills the linear part to its
   * page-sized maximum (3520 bytes on 4 KiB pages) before it adds any fragment. */
  __u32 linear = (__u32)(c->data_end - c->data);
  c->pkt_len = linear < SG_XDP_LINEAR_IS_WHOLE ? linear : (__u32)bpf_xdp_get_buff_len(xdp);
  c->count_len = c->pkt_len;
  c->vlan_outside = 0;
  c->ifindex = 0; /* read when needed: sg_ctx_ifindex */
  c->hook = hook;
  c->l3 = 0;
  c->l3_proto = SG_L3_OTHER;
  c->is_xdp = 1;
}

/* Re-read after any helper that may move the packet (bpf_skb_pull_data): the verifier
 * invalidates every packet pointer taken before such a call. */
static __always_inline void sg_ctx_from_skb(struct sg_ctx *c, struct __sk_buff *skb, __u8 hook,
                                            __u32 ifindex, __u8 l3) {
  c->raw = skb;
  c->data = (void *)(long)skb->data;
  c->data_end = (void *)(long)skb->data_end;
  c->pkt_len = skb->len;
  c->vlan_outside = skb->vlan_present ? 1 : 0;
  c->count_len = skb->len + (c->vlan_outside ? 4 : 0); /* VLAN_HLEN */
  c->ifindex = ifindex;
  c->hook = hook;
  c->l3 = l3;
  /* Read only on L3 devices (l3 is a constant in every program). */
  c->l3_proto = !l3                                      ? SG_L3_OTHER
                : skb->protocol == bpf_htons(ETH_P_IPV6) ? SG_L3_IPV6
                : skb->protocol == bpf_htons(ETH_P_IP)   ? SG_L3_IPV4
                                                         : SG_L3_OTHER;
  c->is_xdp = 0;
}

/* The interface the hook runs on. XDP reads it only when asked: ingress_ifindex is three
 * dependent loads (rxq, dev, ifindex) that the IPv4 and public paths never need. */
static __always_inline __u32 sg_ctx_ifindex(const struct sg_ctx *c) {
  if (c->is_xdp) return ((struct xdp_md *)c->raw)->ingress_ifindex;
  return c->ifindex;
}

/* Copies n bytes at offset off of the packet into buf (n must be a constant). Returns 0, or
 * non-zero when the packet is shorter. Used for everything after the outer IPv6 header: a
 * scalar offset handed to a helper stays imprecise in the verifier's state, whereas a pointer
 * built from a variable offset makes the verifier track each path's exact offset, so the
 * extension-header walk would never prune and its states would multiply per header. For TC
 * it also reads beyond the linear area. */
static __always_inline long sg_load(const struct sg_ctx *c, __u32 off, void *buf, __u32 n) {
  if (c->is_xdp) return bpf_xdp_load_bytes(c->raw, off, buf, n);
  return bpf_skb_load_bytes(c->raw, off, buf, n);
}

#endif /* SIXGUARD_BPF_CTX_H */
