/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsing. The outer Ethernet/VLAN and IPv6 headers are read in place through a
 * bounds-checked cursor (the fast path: constant offsets, no helper call). Everything after
 * them (extension headers, tunnel headers, inner headers) is read with sg_load at a scalar
 * offset (see sg_load for why). Parsing never loops without a fixed bound. */
#ifndef SIXGUARD_BPF_PARSE_H
#define SIXGUARD_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sixguard_shared.h"
#include "lib/ctx.h"

/* Outcome of parsing one piece of the packet. TRUNCATED (the bytes ran out) is kept apart
 * from MALFORMED so that TC can pull a non-linear skb and try again; both are drop/malformed
 * in the end. */
enum sg_parse_status {
  SG_PARSE_OK = 0,
  SG_PARSE_MALFORMED = 1,
  SG_PARSE_TRUNCATED = 2,
};

/* In-place reads of the outer headers: offsets are small constants on every path. */
struct sg_cursor {
  void *pos;
  void *end;
};

/* Returns a pointer to the next n bytes and advances, or NULL when fewer than n remain. The
 * one comparison with data_end: the verifier learns the range of the returned pointer. */
static __always_inline void *sg_cursor_take(struct sg_cursor *cur, __u32 n) {
  void *start = cur->pos;
  if (start + n > cur->end) return NULL;
  cur->pos = start + n;
  return start;
}

struct sg_vlan_hdr {
  __be16 tci;
  __be16 encapsulated_proto;
};

#define SG_ETH_P_8021Q 0x8100
#define SG_ETH_P_8021AD 0x88a8
#define SG_ETH_P_TEB 0x6558 /* GRE: transparent Ethernet bridging */
#define SG_VLAN_MAX 2       /* 802.1Q and QinQ; a third tag is malformed */

static __always_inline int sg_is_vlan(__be16 proto) {
  return proto == bpf_htons(SG_ETH_P_8021Q) || proto == bpf_htons(SG_ETH_P_8021AD);
}

/* The outer Ethernet header and up to two VLAN tags, in place. VLAN tags are only stepped
 * over: the check runs on whatever they carry. */
static __always_inline int sg_parse_eth(struct sg_cursor *cur, __be16 *proto) {
  struct ethhdr *eth = sg_cursor_take(cur, sizeof(*eth));
  if (!eth) return SG_PARSE_TRUNCATED;
  __be16 type = eth->h_proto;
#pragma unroll
  for (int tag = 0; tag < SG_VLAN_MAX; tag++) {
    if (!sg_is_vlan(type)) break;
    struct sg_vlan_hdr *vlan = sg_cursor_take(cur, sizeof(*vlan));
    if (!vlan) return SG_PARSE_TRUNCATED;
    type = vlan->encapsulated_proto;
  }
  if (sg_is_vlan(type)) return SG_PARSE_MALFORMED;
  *proto = type;
  return SG_PARSE_OK;
}

/* The same for the inner frame of GRE TEB, read with sg_load at *off. */
static __always_inline int sg_load_eth(const struct sg_ctx *c, __u32 *off, __be16 *proto) {
  struct ethhdr eth;
  if (sg_load(c, *off, &eth, sizeof(eth))) return SG_PARSE_TRUNCATED;
  *off += sizeof(eth);
  __be16 type = eth.h_proto;
#pragma unroll
  for (int tag = 0; tag < SG_VLAN_MAX; tag++) {
    if (!sg_is_vlan(type)) break;
    struct sg_vlan_hdr vlan;
    if (sg_load(c, *off, &vlan, sizeof(vlan))) return SG_PARSE_TRUNCATED;
    *off += sizeof(vlan);
    type = vlan.encapsulated_proto;
  }
  if (sg_is_vlan(type)) return SG_PARSE_MALFORMED;
  *proto = type;
  return SG_PARSE_OK;
}

/* Next-header values the walk knows. */
#define SG_NH_HOPOPTS 0
#define SG_NH_IPV4 4
#define SG_NH_IPV6 41
#define SG_NH_ROUTING 43
#define SG_NH_FRAGMENT 44
#define SG_NH_GRE 47
#define SG_NH_ESP 50
#define SG_NH_AH 51
#define SG_NH_NONE 59
#define SG_NH_DSTOPTS 60

struct sg_ext_hdr {
  __u8 nexthdr;
  __u8 hdrlen;
};

struct sg_frag_hdr {
  __u8 nexthdr;
  __u8 reserved;
  __be16 frag_off; /* offset in the upper 13 bits, M flag in bit 0 */
  __be32 identification;
};

#define SG_FRAG_OFFSET_MASK 0xfff8

static __always_inline int sg_is_ext_hdr(__u8 nh) {
  return nh == SG_NH_HOPOPTS || nh == SG_NH_ROUTING || nh == SG_NH_FRAGMENT ||
         nh == SG_NH_DSTOPTS || nh == SG_NH_AH;
}

/* GRE (RFC 2784/2890), accepted exactly as Linux's gre_parse_header accepts it: version 0
 * without routing; checksum, key and sequence number are optional 4-octet fields. */
struct sg_gre_hdr {
  __be16 flags;
  __be16 protocol;
};

#define SG_GRE_CSUM 0x8000
#define SG_GRE_ROUTING 0x4000
#define SG_GRE_KEY 0x2000
#define SG_GRE_SEQ 0x1000
#define SG_GRE_VERSION 0x0007

/* What follows one IPv6 header once its chain is walked. */
enum sg_payload {
  SG_PAYLOAD_END = 0,  /* transport, ESP, no-next-header, IPv4 inner, non-first fragment */
  SG_PAYLOAD_IPV6 = 1, /* another IPv6 header at the offset: check it too */
};

/* The GRE header at *off: sets *payload to IPV6 when an inner IPv6 header follows. GRE that
 * cannot be parsed is malformed, never skipped. */
static __always_inline int sg_load_gre(const struct sg_ctx *c, __u32 *off, __u8 *payload) {
  struct sg_gre_hdr gre;
  if (sg_load(c, *off, &gre, sizeof(gre))) return SG_PARSE_TRUNCATED;
  __u16 flags = bpf_ntohs(gre.flags);
  if (flags & (SG_GRE_VERSION | SG_GRE_ROUTING)) return SG_PARSE_MALFORMED;
  __u32 options = ((flags & SG_GRE_CSUM) ? 4 : 0) + ((flags & SG_GRE_KEY) ? 4 : 0) +
                  ((flags & SG_GRE_SEQ) ? 4 : 0);
  *off += sizeof(gre) + options;
  /* The optional fields must be there even when nothing after them is read (IPv4 inner). */
  __u8 last;
  if (options && sg_load(c, *off - 1, &last, sizeof(last))) return SG_PARSE_TRUNCATED;
  if (gre.protocol == bpf_htons(ETH_P_IPV6)) {
    *payload = SG_PAYLOAD_IPV6;
    return SG_PARSE_OK;
  }
  if (gre.protocol == bpf_htons(ETH_P_IP)) return SG_PARSE_OK; /* IPv4 inner: outer check */
  if (gre.protocol == bpf_htons(SG_ETH_P_TEB)) {
    __be16 inner = 0;
    int status = sg_load_eth(c, off, &inner);
    if (status != SG_PARSE_OK) return status;
    if (inner == bpf_htons(ETH_P_IPV6)) *payload = SG_PAYLOAD_IPV6;
    return SG_PARSE_OK; /* a bridged non-IPv6 frame: outer check only */
  }
  return SG_PARSE_MALFORMED;
}

/* Walks the extension-header chain that starts with next header `nh` at *off (at most
 * SG_EXT_HDR_LIMIT headers) and the tunnel header that may follow. On SG_PARSE_OK, *payload
 * says whether an inner IPv6 header is at *off. A header cut by the end of the packet is
 * SG_PARSE_TRUNCATED, inner or not: the chain of a first fragment must be complete (RFC 8200). */
static __always_inline int sg_walk_chain(const struct sg_ctx *c, __u32 *off, __u8 nh,
                                         __u8 *payload) {
  *payload = SG_PAYLOAD_END;
#pragma unroll
  for (int i = 0; i < SG_EXT_HDR_LIMIT; i++) {
    if (!sg_is_ext_hdr(nh)) break;
    if (nh == SG_NH_FRAGMENT) {
      struct sg_frag_hdr frag;
      if (sg_load(c, *off, &frag, sizeof(frag))) return SG_PARSE_TRUNCATED;
      /* Only the first fragment (offset 0, atomic fragments included) carries the rest of
       * the chain; a later fragment's payload is opaque: outer check only. */
      if (frag.frag_off & bpf_htons(SG_FRAG_OFFSET_MASK)) return SG_PARSE_OK;
      *off += sizeof(frag);
      nh = frag.nexthdr;
      continue;
    }
    struct sg_ext_hdr ext;
    if (sg_load(c, *off, &ext, sizeof(ext))) return SG_PARSE_TRUNCATED;
    /* AH counts its length in 4-octet units minus 2, the others in 8-octet units minus 1. */
    __u32 len = nh == SG_NH_AH ? ((__u32)ext.hdrlen + 2) * 4 : ((__u32)ext.hdrlen + 1) * 8;
    /* A declared length running past the packet is a truncated header: probe its last
     * byte. */
    __u8 last;
    if (sg_load(c, *off + len - 1, &last, sizeof(last))) return SG_PARSE_TRUNCATED;
    *off += len;
    nh = ext.nexthdr;
  }
  if (sg_is_ext_hdr(nh)) return SG_PARSE_MALFORMED; /* chain longer than the walk limit */

  if (nh == SG_NH_IPV6) {
    *payload = SG_PAYLOAD_IPV6;
    return SG_PARSE_OK;
  }
  if (nh == SG_NH_GRE) return sg_load_gre(c, off, payload);
  return SG_PARSE_OK; /* transport, ESP (ends the walk), 59, IPv4-in-IPv6: nothing more */
}

#endif /* SIXGUARD_BPF_PARSE_H */
